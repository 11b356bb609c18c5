"""GET /api/v1/partner/availability/: free places per site and level, de-identified."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from backend.api.filters import QuerySerializer
from backend.api.schema import partner_auth, problem_responses
from backend.network.models import CapacityUnit, LevelCode
from backend.partners.api.base import RETRY_AFTER, PartnerAPIView
from backend.partners.models import Scope
from services.availability import availability


class AvailabilityQuerySerializer(QuerySerializer):
    level = serializers.ChoiceField(choices=LevelCode.choices, required=False)
    site = serializers.UUIDField(required=False)


class AvailabilityRowSerializer(serializers.Serializer):
    site = serializers.UUIDField()
    site_name = serializers.CharField()
    level = serializers.ChoiceField(choices=LevelCode.choices)
    capacity_unit = serializers.ChoiceField(choices=CapacityUnit.choices)
    capacity = serializers.IntegerField()
    available = serializers.IntegerField(help_text="Free places now, never below 0.")
    accepting = serializers.BooleanField(help_text="Whether a place is free now.")


class AvailabilitySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    results = AvailabilityRowSerializer(many=True)


class AvailabilityView(PartnerAPIView):
    required_scope = Scope.AVAILABILITY_READ

    @extend_schema(
        summary="Free beds, slots and caseload per site and level of care, now",
        description=(
            "De-identified and consent-free: counts of places only, for the partner's "
            "sites, computed live by the same rule as the census dashboard."
        ),
        tags=["partner"],
        operation_id="partner_availability_list",
        auth=[partner_auth(Scope.AVAILABILITY_READ)],
        parameters=[
            OpenApiParameter("level", enum=LevelCode.values, required=False),
            OpenApiParameter(
                "site", type=OpenApiTypes.UUID, required=False, description="A site's id."
            ),
            RETRY_AFTER,
        ],
        responses={200: AvailabilitySerializer, **problem_responses(400, 403, 429)},
        examples=[
            OpenApiExample(
                "Detox in Austin",
                response_only=True,
                value={
                    "as_of": "2026-12-07T15:04:05Z",
                    "results": [
                        {
                            "site": "7b0f8f7e-2a43-4c55-9d0e-2b1f4f0f6c11",
                            "site_name": "Austin",
                            "level": "detox",
                            "capacity_unit": "beds",
                            "capacity": 12,
                            "available": 2,
                            "accepting": True,
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request):
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        answer = availability(
            partner=request.partner,
            level=query.validated_data.get("level"),
            site_id=query.validated_data.get("site"),
        )
        return Response(AvailabilitySerializer(answer).data)
