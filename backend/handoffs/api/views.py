import django_filters
from django.db.models import Prefetch, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from backend.api.schema import problem_responses
from backend.api.viewsets import AuditedRetrieveMixin, VisibleModelViewSet, concrete_fields
from backend.handoffs.api.serializers import (
    HandoffItemCompleteSerializer,
    HandoffItemSerializer,
    HandoffSerializer,
)
from backend.handoffs.models import Handoff, HandoffItem, HandoffStatus
from services import access, handoffs


class HandoffFilter(django_filters.FilterSet):
    site = django_filters.UUIDFilter(method="filter_site", help_text="Sending or receiving site.")
    receiving_site = django_filters.UUIDFilter(field_name="receiving_site_id")
    status = django_filters.MultipleChoiceFilter(choices=HandoffStatus.choices)

    def filter_site(self, queryset, name, value):
        return queryset.filter(Q(sending_site_id=value) | Q(receiving_site_id=value))


HANDOFF_EXAMPLE = OpenApiExample(
    "An open hand-off, detox to residential",
    value={
        "id": "1f3e5a7c-9b2d-4f6a-8c0e-2a4b6c8d0e11",
        "transfer": "2b4d6f8a-1c3e-4a5b-9d7f-3e5a7c9b1d88",
        "client": "3d2f6a0c-8e4b-4f1a-9c7d-5b6e2a1f0c99",
        "status": "open",
        "sending_site": "6f1c8a9e-2b7d-4c43-9a57-0e5a2f3d9b10",
        "receiving_site": "7a2d9b0f-3c8e-4d54-8b68-1f6b3a4e0c21",
        "from_program": "0b8d7c2e-5f3a-4e61-8d2b-3c9e7a1f4d55",
        "to_program": "9a4e1b7c-2d3f-4a58-8e6b-7c0d1f2a3b44",
        "planned_for": "2026-11-26",
        "clinical_notes": "On buprenorphine taper; see MAR.",
        "created_at": "2026-11-24T16:05:00Z",
        "acknowledge_due_at": "2026-11-24T20:05:00Z",
        "acknowledged_at": None,
        "acknowledged_by": None,
        "escalation_level": 0,
        "closed_at": None,
        "closed_by": None,
        "override_reason": "",
        "items": [
            {
                "id": "5e7a9c1b-3d5f-4a6b-8c0d-2e4f6a8b0c22",
                "position": 1,
                "label": "Medical clearance",
                "mandatory": True,
                "completed_at": None,
                "completed_by": None,
                "note": "",
            }
        ],
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List hand-offs",
        description="Hand-offs of the transfers you may see; filter by site and status.",
        responses={200: HandoffSerializer(many=True), **problem_responses(400)},
        examples=[HANDOFF_EXAMPLE],
    ),
    retrieve=extend_schema(
        summary="One hand-off with its checklist",
        responses={200: HandoffSerializer, **problem_responses(404)},
        examples=[HANDOFF_EXAMPLE],
    ),
    acknowledge=extend_schema(
        summary="Acknowledge a hand-off (the receiving team); calls off its escalations",
        request=None,
        responses={200: HandoffSerializer, **problem_responses(403, 404, 409)},
        examples=[HANDOFF_EXAMPLE],
    ),
    complete_item=extend_schema(
        summary="Tick one checklist item (the receiving team)",
        parameters=[OpenApiParameter("item_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        request=HandoffItemCompleteSerializer,
        responses={200: HandoffItemSerializer, **problem_responses(400, 403, 404, 409)},
        examples=[
            OpenApiExample(
                "With a note", value={"note": "Cleared by Dr. Ortiz."}, request_only=True
            )
        ],
    ),
)
class HandoffViewSet(mixins.ListModelMixin, AuditedRetrieveMixin, VisibleModelViewSet):
    serializer_class = HandoffSerializer
    filterset_class = HandoffFilter
    audit_object_type = "handoff"

    @staticmethod
    def audit_client_id(obj):
        return obj.transfer.client_id

    def visible_queryset(self, user):
        return access.handoffs_visible_to(user)

    def with_relations(self, queryset):
        transfer = [
            f"transfer__{name}"
            for name in ("client_id", "from_program_id", "to_program_id", "planned_for")
        ]
        return (
            queryset.select_related("transfer", "acknowledged_by", "closed_by")
            .only(
                *concrete_fields(Handoff),
                *transfer,
                "acknowledged_by__username",
                "closed_by__username",
            )
            .prefetch_related(
                Prefetch(
                    "items",
                    queryset=HandoffItem.objects.select_related("completed_by").only(
                        *concrete_fields(HandoffItem), "completed_by__username"
                    ),
                )
            )
        )

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        handoff = handoffs.handoff_acknowledge(actor=request.user, handoff=self.get_object())
        return Response(HandoffSerializer(self.get_queryset().get(pk=handoff.pk)).data)

    @action(detail=True, methods=["post"], url_path=r"items/(?P<item_id>[^/.]+)/complete")
    def complete_item(self, request, pk=None, item_id=None):
        handoff = self.get_object()
        serializer = HandoffItemCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = handoffs.handoff_item_complete(
            actor=request.user, handoff=handoff, item_id=item_id, **serializer.validated_data
        )
        return Response(HandoffItemSerializer(item).data)
