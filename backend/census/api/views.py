"""Census figures over HTTP: JSON, or CSV with `Accept: text/csv` or `?format=csv`.

Each view parses its query and calls services/census.py: to check that a named
site is one of the caller's (else 404, as if it did not exist), to settle the
range of days, and for the figures.
"""

import datetime as dt
from collections.abc import Callable

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.filters import QuerySerializer
from backend.api.renderers import CSVRenderer, JSONRenderer
from backend.api.schema import problem_responses
from backend.care.models import DischargeType
from backend.network.models import LevelCode
from services import census, census_flow

MAX_DAYS = census.MAX_DAYS
# Days outside these are surely mistakes (and beyond them date arithmetic overflows).
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def _plausible(day: dt.date) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise serializers.ValidationError(f"Must be between {FIRST_DAY} and {LAST_DAY}.")
    return day


SITE = OpenApiParameter("site", OpenApiTypes.UUID, description="Site id: only its programs.")
LEVEL = OpenApiParameter("level", str, enum=LevelCode.values, description="Only this level.")
FROM = OpenApiParameter(
    "from", dt.date, description="First site-local day (YYYY-MM-DD), inclusive."
)
TO = OpenApiParameter("to", dt.date, description="Last site-local day (YYYY-MM-DD), inclusive.")
FORMAT = OpenApiParameter(
    "format", str, enum=["json", "csv"], description="csv: the same rows as CSV."
)


class SiteLevelQuery(QuerySerializer):
    site = serializers.UUIDField(required=False, help_text="Only this site's programs.")
    level = serializers.ChoiceField(choices=LevelCode.choices, required=False)


class RangeQuery(SiteLevelQuery):
    """`from` and `to`: site-local calendar days, inclusive (defaults per view)."""

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: the fields are named as in the query string.
        fields["from"] = serializers.DateField(required=False, source="date_from")
        fields["to"] = serializers.DateField(required=False, source="date_to")
        return fields

    def validate_from(self, value):
        return _plausible(value)

    def validate_to(self, value):
        return _plausible(value)


class CensusBaseView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]
    query_class = SiteLevelQuery
    default_days = 30

    def query(self, request) -> dict:
        query = self.query_class(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = dict(query.validated_data)
        census.census_site_require(request.user, values.get("site"))
        if isinstance(query, RangeQuery):
            self._default_range(values)
        return values

    def answer_range(self, request, service, *options: str) -> Response:
        """Parse the query and answer with `service` over its range of days
        (and the query's `options`, by name)."""
        q = self.query(request)
        rows = service(
            user=request.user,
            date_from=q["date_from"],
            date_to=q["date_to"],
            site_id=q.get("site"),
            level=q.get("level"),
            **{name: q[name] for name in options},
        )
        return Response(rows)

    def _default_range(self, values: dict) -> None:
        default_range(
            values,
            default_days=self.default_days,
            zones=lambda: census.census_zones(self.request.user, site_id=values.get("site")),
            now=timezone.now(),
        )


def default_range(values: dict, *, default_days: int, zones: Callable[[], set[str]], now) -> None:
    """Put the days of the query's range (census.census_range) into `values`."""
    values["date_from"], values["date_to"] = census.census_range(
        date_from=values.get("date_from"),
        date_to=values.get("date_to"),
        default_days=default_days,
        zones=zones,
        now=now,
    )


class CensusQuerySerializer(SiteLevelQuery):
    at = serializers.DateTimeField(
        required=False,
        help_text="The instant (ISO 8601; without an offset, UTC); default now. Not in the future.",
    )
    totals = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: each site's totals and each level's across the sites, beside the rows.",
    )


class ProgramColumns(serializers.Serializer):
    program = serializers.UUIDField(allow_null=True)
    program_name = serializers.CharField()
    site = serializers.UUIDField()
    site_name = serializers.CharField()
    level = serializers.CharField()
    capacity_unit = serializers.CharField()


class CensusRowSerializer(ProgramColumns):
    capacity = serializers.IntegerField()
    occupied = serializers.IntegerField(help_text="Placements open at the instant.")
    reserved = serializers.IntegerField(
        help_text="Transfers into the program approved and not yet ended at the instant."
    )
    available = serializers.IntegerField(help_text="capacity - occupied - reserved.")
    occupancy_percent = serializers.FloatField(allow_null=True)
    over_capacity = serializers.BooleanField(help_text="occupied + reserved > capacity.")


class FiguresSerializer(serializers.Serializer):
    capacity = serializers.IntegerField()
    occupied = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    occupancy_percent = serializers.FloatField(allow_null=True)
    over_capacity = serializers.BooleanField()


class SiteTotalSerializer(FiguresSerializer):
    site = serializers.UUIDField()
    site_name = serializers.CharField()


class LevelTotalSerializer(FiguresSerializer):
    level = serializers.CharField()
    capacity_unit = serializers.CharField()


class CensusTotalsSerializer(serializers.Serializer):
    programs = CensusRowSerializer(many=True)
    sites = SiteTotalSerializer(many=True, help_text="Each site's programs added up.")
    levels = LevelTotalSerializer(
        many=True, help_text="Each level's programs added up across the sites asked for."
    )
    all = FiguresSerializer(help_text="Every program asked for.")


# The CSV of `?totals=true`: the program rows, then a row per site and one per
# level, told apart by `total` ("", "site", "level"); a total leaves the
# columns it adds over empty.
TOTALS_CSV_COLUMNS = ("total", *census.CENSUS_COLUMNS)


def totals_csv_rows(answer: dict) -> list[dict]:
    rows = [{"total": "", **row} for row in answer["programs"]]
    rows += [{"total": "site", **row} for row in answer["sites"]]
    rows += [{"total": "level", **row} for row in answer["levels"]]
    return rows


class DailyRowSerializer(CensusRowSerializer):
    day = serializers.DateField(help_text="The site-local day; its midnight census.")
    stored = serializers.BooleanField(
        help_text="True: the figure recorded after that midnight; false: computed now."
    )


def range_fields() -> dict:
    """The period columns of a row, named as in the query: `from` and `to`."""
    return {"from": serializers.DateField(), "to": serializers.DateField()}


class MovementRowSerializer(ProgramColumns):
    admissions = serializers.IntegerField(help_text="Episodes admitted into the program.")
    discharges = serializers.IntegerField(help_text="Episodes discharged from the program.")
    transfers_in = serializers.IntegerField(help_text="Completed transfers that arrived.")
    transfers_out = serializers.IntegerField(help_text="Completed transfers that left.")
    step_downs = serializers.IntegerField(help_text="Transfers out to a less intensive level.")
    step_ups = serializers.IntegerField(help_text="Transfers out to a more intensive level.")
    lateral = serializers.IntegerField(help_text="Transfers out to the same level, same site.")
    site_changes = serializers.IntegerField(
        help_text="Transfers out to the same level at another site."
    )

    def get_fields(self):
        fields = {**range_fields(), **super().get_fields()}
        for kind in DischargeType:
            fields[f"discharges_{kind.value}"] = serializers.IntegerField(
                help_text=f"Discharges of type {kind.label!r}."
            )
        return fields


class StayRowSerializer(ProgramColumns):
    completed_count = serializers.IntegerField(help_text="Placements that ended in the range.")
    completed_avg_days = serializers.FloatField(allow_null=True)
    completed_median_days = serializers.FloatField(allow_null=True)
    open_count = serializers.IntegerField(help_text="Placements open now.")
    open_avg_days = serializers.FloatField(
        allow_null=True, help_text="Their length of stay so far."
    )
    open_median_days = serializers.FloatField(allow_null=True)

    def get_fields(self):
        return {**range_fields(), **super().get_fields()}


# The census answers are arrays; each example is one row of one, as drf-spectacular
# shows a list's example inside the array.
AUSTIN = {
    "program": "0b8d7c2e-5f3a-4e61-8d2b-3c9e7a1f4d55",
    "program_name": "Austin Detox",
    "site": "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10",
    "site_name": "Austin",
    "level": "detox",
    "capacity_unit": "beds",
}
FIGURES = {
    "capacity": 12,
    "occupied": 11,
    "reserved": 1,
    "available": 0,
    "occupancy_percent": 91.7,
    "over_capacity": False,
}


class CensusView(CensusBaseView):
    query_class = CensusQuerySerializer
    csv_columns = census.CENSUS_COLUMNS

    @extend_schema(
        # A list of rows, or with totals=true an object: still the census list.
        operation_id="census_list",
        summary="Census at an instant, per program of your sites",
        description=(
            "One row per program. With `totals=true`, an object instead: the rows as "
            "`programs`, each site's totals as `sites`, each level's across the sites asked "
            "for as `levels`, and `all`; as CSV, the program rows then one row per site "
            "and per level, told apart by the `total` column."
        ),
        parameters=[
            SITE,
            LEVEL,
            OpenApiParameter(
                "at", OpenApiTypes.DATETIME, description="ISO 8601 instant; default now."
            ),
            OpenApiParameter("totals", bool, description="true: totals beside the rows."),
            FORMAT,
        ],
        responses={
            200: PolymorphicProxySerializer(
                component_name="CensusAnswer",
                serializers=[CensusRowSerializer(many=True), CensusTotalsSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            **problem_responses(400, 404),
        },
        examples=[
            OpenApiExample("Austin detox", value=[{**AUSTIN, **FIGURES}], response_only=True)
        ],
    )
    def get(self, request):
        q = self.query(request)
        rows = census.census_at(
            user=request.user, at=q.get("at"), site_id=q.get("site"), level=q.get("level")
        )
        if not q["totals"]:
            return Response(rows)
        answer = {"programs": rows, **census.census_totals(rows)}
        if request.accepted_renderer.format == "csv":
            self.csv_columns = TOTALS_CSV_COLUMNS
            return Response(totals_csv_rows(answer))
        return Response(answer)


class CensusDailyView(CensusBaseView):
    query_class = RangeQuery
    csv_columns = census.DAILY_COLUMNS

    @extend_schema(
        summary="Midnight census per site-local day, per program of your sites",
        description=(
            "The census at the end of each day in the site's time zone. Only days whose "
            "midnight has passed at the site are listed; `to` defaults to today, `from` to "
            f"29 days before `to`; at most {MAX_DAYS} days."
        ),
        parameters=[SITE, LEVEL, FROM, TO, FORMAT],
        responses={200: DailyRowSerializer(many=True), **problem_responses(400, 404)},
        examples=[
            OpenApiExample(
                "One day of Austin detox",
                value={"day": "2026-11-19", **AUSTIN, **FIGURES, "stored": True},
                response_only=True,
            )
        ],
    )
    def get(self, request):
        return self.answer_range(request, census.census_daily)


DAYS = OpenApiParameter(
    "days",
    {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
    description=(
        f"1 to {MAX_DAYS}: the last `days` site-local days up to and including today at each "
        "program's site (`days=1`: today at each site). Instead of `from`/`to`."
    ),
)


class MovementQuery(RangeQuery):
    """`from`/`to` (the same days at every site), or `days` (each site's own last days)."""

    days = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DAYS)

    def validate(self, attrs):
        if "days" in attrs and ("date_from" in attrs or "date_to" in attrs):
            raise serializers.ValidationError({"days": "Give either `days` or `from`/`to`."})
        return super().validate(attrs)


class CensusMovementView(CensusBaseView):
    query_class = MovementQuery
    csv_columns = census_flow.MOVEMENT_COLUMNS
    default_days = 1

    @extend_schema(
        summary="Admissions, discharges and transfers per program over site-local days",
        description=(
            "The range is `from`..`to` (the same days at every site) or `days` (each site's "
            "last `days` days up to its own today), not both. With neither, `days=1`: today "
            "at each program's site. With `from` alone, `to` is today (at the named site, or "
            "at the caller's sites when they keep one time zone, else UTC); with `to` alone, "
            "`from` is `to`. Each row's `from` and `to` are the days counted at its site."
        ),
        parameters=[SITE, LEVEL, FROM, TO, DAYS, FORMAT],
        responses={200: MovementRowSerializer(many=True), **problem_responses(400, 404)},
        examples=[
            OpenApiExample(
                "Austin detox, one week",
                value={
                    **AUSTIN,
                    "from": "2026-11-13",
                    "to": "2026-11-19",
                    "admissions": 6,
                    "discharges": 2,
                    **{f"discharges_{t}": 0 for t in DischargeType.values},
                    "discharges_completed": 1,
                    "discharges_against_medical_advice": 1,
                    "transfers_in": 0,
                    "transfers_out": 4,
                    "step_downs": 4,
                    "step_ups": 0,
                    "lateral": 0,
                    "site_changes": 0,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        q = self.query(request)
        if "days" in q:
            span = {"days": q["days"], "now": timezone.now()}
        else:
            span = {"date_from": q["date_from"], "date_to": q["date_to"]}
        rows = census_flow.census_movement(
            user=request.user, site_id=q.get("site"), level=q.get("level"), **span
        )
        return Response(rows)

    def _default_range(self, values: dict) -> None:
        if "days" in values:
            return
        if "date_from" not in values and "date_to" not in values:
            values["days"] = 1  # today at each program's site
            return
        super()._default_range(values)


class StayQuery(RangeQuery):
    by = serializers.ChoiceField(
        choices=["program", "level"], default="program", help_text="Group by program or level."
    )


class LengthOfStayView(CensusBaseView):
    query_class = StayQuery
    csv_columns = census.STAY_COLUMNS
    default_days = 90

    @extend_schema(
        summary="Length of stay per program (or level): completed in the range, and open now",
        description="`to` defaults to today, `from` to 89 days before `to`.",
        parameters=[
            SITE,
            LEVEL,
            FROM,
            TO,
            OpenApiParameter(
                "by", str, enum=["program", "level"], description="Group by program (default)."
            ),
            FORMAT,
        ],
        responses={200: StayRowSerializer(many=True), **problem_responses(400, 404)},
        examples=[
            OpenApiExample(
                "Austin detox",
                value={
                    **AUSTIN,
                    "from": "2026-08-22",
                    "to": "2026-11-19",
                    "completed_count": 41,
                    "completed_avg_days": 5.2,
                    "completed_median_days": 4.9,
                    "open_count": 11,
                    "open_avg_days": 2.7,
                    "open_median_days": 2.5,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        return self.answer_range(request, census_flow.length_of_stay, "by")
