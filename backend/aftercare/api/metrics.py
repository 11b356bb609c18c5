"""GET /api/v1/aftercare/metrics/: the outcomes of aftercare per site and level of care.

JSON, or the same rows as CSV with `Accept: text/csv` or `?format=csv` (one
flat row per site and level: every per-milestone figure is a column of its
own). The view parses the query as the census views do and calls
services.aftercare_metrics, which answers "not found" for a site that is not
the caller's and defines every figure (docs/aftercare.md, "Metrics").

Included from backend/api/urls.py (`urlpatterns` below), so that the route
is one line there.
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.renderers import CSVRenderer, JSONRenderer
from backend.api.schema import problem_responses
from backend.census.api.views import FORMAT, FROM, LEVEL, MAX_DAYS, TO, RangeQuery, default_range
from services import aftercare_metrics as metrics

DEFAULT_DAYS = 365

SITE = OpenApiParameter(
    "site", OpenApiTypes.UUID, description="Site id: only the courses it is responsible for."
)


class MetricsQuery(RangeQuery):
    """`site`, `level` (of the program left), and `from`/`to`: the site-local
    days in which the courses began (the discharge or step-down)."""


PERCENT_HELP = "The share in percent, one decimal; null when the denominator is 0."


def _ratio_fields(figure: metrics.Figure) -> dict:
    """A figure's three columns: its numerator, its denominator, its percent."""
    return {
        figure.numerator_column: serializers.IntegerField(help_text=figure.numerator_help),
        figure.denominator_column: serializers.IntegerField(help_text=figure.denominator_help),
        figure.percent_column: serializers.FloatField(allow_null=True, help_text=PERCENT_HELP),
    }


class AftercareMetricsRowSerializer(serializers.Serializer):
    """One site and level of care: every figure with its numerator and denominator."""

    site = serializers.UUIDField(help_text="The site responsible for the follow-ups.")
    site_name = serializers.CharField()
    level = serializers.CharField(help_text="The level of care of the program left.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        fields["courses"] = serializers.IntegerField(
            help_text="Courses (a discharge, or a step-down to alumni) that began in the range."
        )
        for figure in metrics.FIGURES:
            fields |= _ratio_fields(figure)
        return fields


# The example's (numerator, denominator) of each figure.
EXAMPLE_FIGURES = {
    "followup_7d": (31, 44),
    "followup_30d": (36, 40),
    "readmission_30d": (4, 43),
    "readmission_90d": (7, 37),
    "reach_48h": (30, 46),
    "reach_7d": (29, 44),
    "reach_30d": (27, 40),
    "reach_60d": (22, 36),
    "reach_90d": (20, 33),
    "reach_180d": (11, 19),
    "reach_365d": (0, 0),
    "recovery_30d": (21, 27),
    "recovery_90d": (15, 20),
    "recovery_180d": (8, 11),
    "recovery_365d": (0, 0),
}


def _example_row() -> dict:
    """Austin residential over a year, as the alumni lead would read it."""
    row = {
        "site": "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10",
        "site_name": "Austin",
        "level": "residential",
        "from": "2025-11-20",
        "to": "2026-11-19",
        "courses": 48,
    }
    for figure in metrics.FIGURES:
        row |= figure.values(*EXAMPLE_FIGURES[figure.name])
    return {name: row[name] for name in metrics.METRICS_COLUMNS}


class AftercareMetricsView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]
    csv_columns = metrics.METRICS_COLUMNS

    @extend_schema(
        summary="Aftercare outcomes per site and level: follow-up, reach, recovery, readmission",
        description=(
            "For the courses of aftercare (a discharge, or a step-down to alumni) that began in "
            "the site-local days `from`..`to` at the site responsible for their follow-ups, per "
            "site and level of the program left: the share followed up (a completed follow-up, "
            "client reached) within 7 and 30 days, the reach rate of each milestone, "
            "self-reported recovery at 30, 90, 180 and 365 days, and the return to treatment "
            "within 30 and 90 days. Each figure has its numerator, its denominator and a "
            "percent (null when the denominator is 0); a window is counted only once its last "
            'day has ended. Definitions: docs/aftercare.md, "Metrics". Alumni coordinators '
            "and organisation admins read every site, site staff their own sites. `to` defaults "
            f"to today, `from` to {DEFAULT_DAYS - 1} days before `to`; at most {MAX_DAYS} days."
        ),
        parameters=[SITE, LEVEL, FROM, TO, FORMAT],
        responses={200: AftercareMetricsRowSerializer(many=True), **problem_responses(400, 404)},
        # One row: drf-spectacular shows it inside the array the view answers.
        examples=[OpenApiExample("Austin residential", value=_example_row(), response_only=True)],
    )
    def get(self, request):
        query = MetricsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = dict(query.validated_data)
        # NotFound (404) for a site that is not the caller's.
        zones = metrics.aftercare_metrics_zones(request.user, site_id=values.get("site"))
        now = timezone.now()
        default_range(values, default_days=DEFAULT_DAYS, zones=lambda: zones, now=now)
        return Response(
            metrics.aftercare_metrics(
                user=request.user,
                date_from=values["date_from"],
                date_to=values["date_to"],
                site_id=values.get("site"),
                level=values.get("level"),
                now=now,
            )
        )


urlpatterns = [path("", AftercareMetricsView.as_view(), name="aftercare-metrics")]
