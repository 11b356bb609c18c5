import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from backend.api.filters import BooleanFilter
from backend.api.schema import problem_responses
from backend.network.api.serializers import (
    LevelOfCareSerializer,
    ProgramSerializer,
    SiteSerializer,
)
from backend.network.models import LevelCode, LevelOfCare, Program, Site
from services.capacity import programs_with_occupancy

# The network itself (levels, sites, programs and their occupancy) is not a
# client's record: every signed-in member of staff sees it, so that a
# coordinator can pick a destination at another site.

LIST_ERRORS = problem_responses(400)
DETAIL_ERRORS = problem_responses(404)


LEVEL_EXAMPLE = OpenApiExample(
    "Detox",
    value={
        "id": "detox",
        "code": "detox",
        "name": "Detox",
        "position": 2,
        "intensity": 6,
        "asam_reference": "3.7-WM, 4-WM",
        "capacity_unit": "beds",
        "description": "Medically managed or monitored withdrawal, 24-hour.",
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List the levels of care",
        description="The seven levels of the continuum, in continuum order.",
        responses={200: LevelOfCareSerializer(many=True), **LIST_ERRORS},
        examples=[LEVEL_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="One level of care",
        responses={200: LevelOfCareSerializer, **DETAIL_ERRORS},
        examples=[LEVEL_EXAMPLE],
    ),
)
class LevelOfCareViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = LevelOfCare.objects.all()
    serializer_class = LevelOfCareSerializer
    # Level codes are lower-case words: anything else (a NUL byte, say) is a plain 404.
    lookup_value_regex = "[a-z_]+"


SITE_EXAMPLE = OpenApiExample(
    "Austin",
    value={
        "id": "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10",
        "code": "austin",
        "name": "Austin",
        "time_zone": "America/Chicago",
        "address_line": "1200 Lakeshore Drive",
        "city": "Austin",
        "region": "TX",
        "postal_code": "78701",
        "phone": "512-555-0100",
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List the sites of the network",
        responses={200: SiteSerializer(many=True), **LIST_ERRORS},
        examples=[SITE_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="One site",
        responses={200: SiteSerializer, **DETAIL_ERRORS},
        examples=[SITE_EXAMPLE],
    ),
)
class SiteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Site.objects.all()
    serializer_class = SiteSerializer
    filterset_fields = ["code"]


class ProgramFilter(django_filters.FilterSet):
    site = django_filters.UUIDFilter(field_name="site_id", help_text="Site id.")
    # The codes are fixed (LevelCode), so the schema can list them.
    level = django_filters.ChoiceFilter(
        field_name="level_id",
        choices=LevelCode.choices,
        help_text="Level code (detox, residential, ...).",
    )
    is_active = BooleanFilter()
    has_availability = BooleanFilter(
        method="filter_has_availability", help_text="true: only programs with a free place."
    )

    class Meta:
        model = Program
        fields = ["site", "level", "is_active"]

    def filter_has_availability(self, queryset, name, value):
        return queryset.filter(available__gt=0) if value else queryset.filter(available__lte=0)


PROGRAM_EXAMPLE = OpenApiExample(
    "Austin Detox",
    value={
        "id": "0b8d7c2e-5f3a-4e61-8d2b-3c9e7a1f4d55",
        "name": "Austin Detox",
        "site": "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10",
        "site_name": "Austin",
        "level": "detox",
        "capacity_unit": "beds",
        "capacity": 12,
        "occupied": 9,
        "reserved": 1,
        "available": 2,
        "occupancy_percent": 75.0,
        "is_active": True,
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List programs with their occupancy",
        description="`occupied`, `reserved` and `available` are computed in SQL at request time.",
        responses={200: ProgramSerializer(many=True), **LIST_ERRORS},
        examples=[PROGRAM_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="One program with its occupancy",
        responses={200: ProgramSerializer, **DETAIL_ERRORS},
        examples=[PROGRAM_EXAMPLE],
    ),
)
class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProgramSerializer
    filterset_class = ProgramFilter

    def get_queryset(self):
        return programs_with_occupancy(Program.objects.select_related("site", "level"))
