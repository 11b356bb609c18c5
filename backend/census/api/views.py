"""Census figures over HTTP: JSON, or CSV with `Accept: text/csv` or `?format=csv`."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.renderers import CSVRenderer
from backend.api.schema import problem_responses
from services.census import census_at, programs_visible_for_census


class CensusQuerySerializer(serializers.Serializer):
    site = serializers.UUIDField(required=False, help_text="Only this site's programs.")
    at = serializers.DateTimeField(required=False, help_text="The instant; default now.")


class CensusRowSerializer(serializers.Serializer):
    program = serializers.UUIDField()
    program_name = serializers.CharField()
    site = serializers.UUIDField()
    site_name = serializers.CharField()
    level = serializers.CharField()
    capacity_unit = serializers.CharField()
    capacity = serializers.IntegerField()
    occupied = serializers.IntegerField(help_text="Placements open at the instant.")
    reserved = serializers.IntegerField(
        help_text="Transfers into the program approved and not yet ended at the instant."
    )
    available = serializers.IntegerField()
    occupancy_percent = serializers.FloatField(allow_null=True)
    over_capacity = serializers.BooleanField()


class CensusView(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="Census at an instant, per program of your sites",
        parameters=[
            OpenApiParameter("site", str, description="Site id: only its programs."),
            OpenApiParameter("at", str, description="ISO 8601 instant; default now."),
        ],
        responses={200: CensusRowSerializer(many=True), **problem_responses(400, 404)},
        examples=[
            OpenApiExample(
                "Austin detox",
                value=[
                    {
                        "program": "0b8d7c2e-5f3a-4e61-8d2b-3c9e7a1f4d55",
                        "program_name": "Austin Detox",
                        "site": "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10",
                        "site_name": "Austin",
                        "level": "detox",
                        "capacity_unit": "beds",
                        "capacity": 12,
                        "occupied": 11,
                        "reserved": 1,
                        "available": 0,
                        "occupancy_percent": 91.7,
                        "over_capacity": False,
                    }
                ],
                response_only=True,
            )
        ],
    )
    def get(self, request):
        query = CensusQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        site = query.validated_data.get("site")
        if (
            site is not None
            and not programs_visible_for_census(request.user).filter(site_id=site).exists()
        ):
            raise NotFound()  # a site that is not yours does not exist for you
        rows = census_at(user=request.user, at=query.validated_data.get("at"), site_id=site)
        return Response(rows)
