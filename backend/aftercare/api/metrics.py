"""GET /api/v1/aftercare/metrics/: the outcomes of aftercare per site and level of care.

JSON, or the same rows as CSV with `Accept: text/csv` or `?format=csv` (one
flat row per site and level: every per-milestone figure is a column of its
own). The view parses the query as the census views do, answers 404 for a
site that is not the caller's, and calls services.aftercare_metrics, where
every figure is defined (docs/aftercare.md, "Metrics").

Included from backend/api/urls.py (`urlpatterns` below), so that the route
is one line there.
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.renderers import CSVRenderer, JSONRenderer
from backend.api.schema import problem_responses
from backend.census.api.views import FORMAT, FROM, LEVEL, MAX_DAYS, TO, RangeQuery, default_range
from services import aftercare_metrics as metrics

DEFAULT_DAYS = 365

SITE = OpenApiParameter("site", str, description="Site id: only the courses it is responsible for.")


class MetricsQuery(RangeQuery):
    """`site`, `level` (of the program left), and `from`/`to`: the site-local
    days in which the courses began (the discharge or step-down)."""


PERCENT_HELP = "The share in percent, one decimal; null when the denominator is 0."


def _ratio_fields(name: str, numerator: tuple[str, str], denominator: tuple[str, str]) -> dict:
    """A figure's three columns: its numerator, its denominator, its percent."""
    return {
        f"{name}_{numerator[0]}": serializers.IntegerField(help_text=numerator[1]),
        f"{name}_{denominator[0]}": serializers.IntegerField(help_text=denominator[1]),
        f"{name}_percent": serializers.FloatField(allow_null=True, help_text=PERCENT_HELP),
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
        for days in metrics.FOLLOW_UP_DAYS:
            fields |= _ratio_fields(
                f"followup_{days}d",
                ("reached", f"Courses with a follow-up completed, client reached, by day {days}."),
                ("eligible", f"Courses whose day {days} has ended, not back in treatment by then."),
            )
        for days in metrics.READMISSION_DAYS:
            fields |= _ratio_fields(
                f"readmission_{days}d",
                ("readmitted", f"Courses whose client returned to treatment by day {days}."),
                ("eligible", f"Courses whose day {days} has ended."),
            )
        for code in metrics.MILESTONES:
            fields |= _ratio_fields(
                f"reach_{code}",
                ("reached", f"{code} follow-ups completed with the client reached."),
                ("eligible", f"{code} follow-ups completed, or whose window has closed."),
            )
        for code in metrics.RECOVERY_MILESTONES:
            fields |= _ratio_fields(
                f"recovery_{code}",
                ("in_recovery", f"{code} follow-ups where the client said they were in recovery."),
                ("reached", f"{code} follow-ups completed with the client reached."),
            )
        return fields


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
    figures = {
        "followup_7d": ("reached", 31, 44),
        "followup_30d": ("reached", 36, 40),
        "readmission_30d": ("readmitted", 4, 43),
        "readmission_90d": ("readmitted", 7, 37),
        "reach_48h": ("reached", 30, 46),
        "reach_7d": ("reached", 29, 44),
        "reach_30d": ("reached", 27, 40),
        "reach_60d": ("reached", 22, 36),
        "reach_90d": ("reached", 20, 33),
        "reach_180d": ("reached", 11, 19),
        "reach_365d": ("reached", 0, 0),
    }
    for name, (numerator, n, d) in figures.items():
        row |= {
            f"{name}_{numerator}": n,
            f"{name}_eligible": d,
            f"{name}_percent": metrics.percent(n, d),
        }
    recovery = {"30d": (21, 27), "90d": (15, 20), "180d": (8, 11), "365d": (0, 0)}
    for code, (n, d) in recovery.items():
        row |= {
            f"recovery_{code}_in_recovery": n,
            f"recovery_{code}_reached": d,
            f"recovery_{code}_percent": metrics.percent(n, d),
        }
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
        examples=[OpenApiExample("Austin residential", value=[_example_row()], response_only=True)],
    )
    def get(self, request):
        query = MetricsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = dict(query.validated_data)
        sites = metrics.aftercare_metrics_sites(request.user)
        if values.get("site") is not None:
            sites = sites.filter(pk=values["site"])
        zones = set(sites.order_by().values_list("time_zone", flat=True).distinct())
        if values.get("site") is not None and not zones:
            raise NotFound()  # a site that is not yours does not exist for you
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
