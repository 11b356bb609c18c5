import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from backend.api.filters import BooleanFilter
from backend.api.schema import problem_responses
from backend.notifications.models import Notification
from services.notifications import notification_mark_read


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "subject_type",
            "subject_id",
            "created_at",
            "read_at",
        ]


class NotificationFilter(django_filters.FilterSet):
    unread = BooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="true: unread only."
    )
    kind = django_filters.CharFilter()


NOTIFICATION_EXAMPLE = OpenApiExample(
    "An incoming transfer",
    value={
        "id": "8c0e2a4b-6d8f-4a1c-9e3b-5d7f9a1b3c33",
        "kind": "handoff.created",
        "title": "Incoming transfer: client CN04817263 from Austin Detox to Houston Residential",
        "body": "Hand-off /api/v1/handoffs/1f3e5a7c-9b2d-4f6a-8c0e-2a4b6c8d0e11/ planned for "
        "2026-11-26. Please acknowledge by 2026-11-24 20:05 UTC.",
        "subject_type": "handoff",
        "subject_id": "1f3e5a7c-9b2d-4f6a-8c0e-2a4b6c8d0e11",
        "created_at": "2026-11-24T16:05:02Z",
        "read_at": None,
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="Your notifications, newest first",
        responses={200: NotificationSerializer(many=True), **problem_responses(400)},
        examples=[NOTIFICATION_EXAMPLE],
    ),
    read=extend_schema(
        summary="Mark one of your notifications read",
        request=None,
        responses={200: NotificationSerializer, **problem_responses(404)},
        examples=[NOTIFICATION_EXAMPLE],
    ),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Each user sees only their own notifications."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    queryset = Notification.objects.none()  # for the schema; get_queryset narrows per user

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user)

    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        notification = notification_mark_read(actor=request.user, notification_id=notification.pk)
        return Response(NotificationSerializer(notification).data)
