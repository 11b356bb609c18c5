"""The partner webhook API, under /api/v1/partner/ (scope webhooks:manage):
a partner's subscriptions, their secrets and their delivery logs, its own only.
Each view parses, calls one service of services/webhooks.py, renders."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from backend.api.pagination import PageNumberPagination
from backend.api.schema import partner_auth, problem_responses
from backend.partners.api.base import IDEMPOTENCY_KEY, RETRY_AFTER, PartnerAPIMixin, idempotent
from backend.partners.models import Scope
from backend.webhooks.api.serializers import (
    WebhookDeliverySerializer,
    WebhookSubscriptionCreateSerializer,
    WebhookSubscriptionSerializer,
    WebhookSubscriptionUpdateSerializer,
    WebhookSubscriptionWithSecretSerializer,
)
from services import webhooks

TAGS = ["webhooks"]
AUTH = [partner_auth(Scope.WEBHOOKS_MANAGE)]
SUBSCRIPTION_ID = "3f0b7c1e-9a55-4d43-8f7e-6c2d1a0b9e21"
SUBSCRIPTION = {
    "id": SUBSCRIPTION_ID,
    "url": "https://hospital.example/hooks/continuum",
    "events": ["referral.status_changed", "client.admitted"],
    "purpose": "treatment",
    "description": "Discharge planning",
    "is_active": True,
    "created_at": "2026-12-07T15:04:05Z",
    "updated_at": "2026-12-07T15:04:05Z",
}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DELIVERY = {
    "id": "a1c4e0de-51f2-4f4b-9b1a-2c9d8e7f6a50",
    "webhook_id": "msg_5b9a0e0c2f8d4c3f9d6a1b2c3d4e5f60",
    "subscription": SUBSCRIPTION_ID,
    "event_type": "referral.status_changed",
    "occurred_at": "2026-12-07T15:04:05Z",
    "status": "delivered",
    "skip_reason": "",
    "attempts": 3,
    "next_attempt_at": None,
    "last_attempt_at": "2026-12-07T15:09:05Z",
    "delivered_at": "2026-12-07T15:09:05Z",
    "created_at": "2026-12-07T15:04:05Z",
    "payload": {
        "type": "referral.status_changed",
        "timestamp": "2026-12-07T15:04:05Z",
        "data": {
            "referral": "0e5c3a1b-7d2f-4e8a-9b6c-1f2e3d4c5b6a",
            "status": "accepted",
            "reason": None,
        },
    },
    "attempt_log": [
        {
            "number": 1,
            "at": "2026-12-07T15:04:05Z",
            "status_code": 500,
            "error": "HTTP 500",
            "latency_ms": 84,
        },
        {
            "number": 2,
            "at": "2026-12-07T15:05:05Z",
            "status_code": None,
            "error": "ConnectTimeout: timed out",
            "latency_ms": 5003,
        },
        {
            "number": 3,
            "at": "2026-12-07T15:09:05Z",
            "status_code": 204,
            "error": "",
            "latency_ms": 41,
        },
    ],
}


def _example(name, value, *, request=False, status_code=None):
    return OpenApiExample(
        name,
        value=value,
        request_only=request,
        response_only=not request,
        status_codes=[str(status_code)] if status_code else None,
    )


class PartnerWebhookView(PartnerAPIMixin, GenericAPIView):
    required_scope = Scope.WEBHOOKS_MANAGE

    def subscription(self, pk):
        return webhooks.subscription_for_partner(partner=self.request.partner, subscription_id=pk)


class WebhookListView(PartnerWebhookView):
    pagination_class = PageNumberPagination
    serializer_class = WebhookSubscriptionSerializer

    def get_queryset(self):
        return webhooks.subscriptions_of(self.request.partner)

    @extend_schema(
        summary="The partner's webhook subscriptions",
        tags=TAGS,
        operation_id="partner_webhooks_list",
        auth=AUTH,
        parameters=[RETRY_AFTER],
        responses={200: WebhookSubscriptionSerializer(many=True), **problem_responses(403, 429)},
        examples=[_example("One subscription", SUBSCRIPTION)],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookSubscriptionSerializer(page, many=True).data)

    @extend_schema(
        summary="Subscribe a URL to events",
        description=(
            "The URL must be https. The answer carries the signing secret, once. Each "
            "event reaches the partner only as far as its scopes, sites and consents allow "
            "at the moment of delivery (docs/webhooks.md)."
        ),
        tags=TAGS,
        operation_id="partner_webhooks_create",
        auth=AUTH,
        parameters=[IDEMPOTENCY_KEY, RETRY_AFTER],
        request=WebhookSubscriptionCreateSerializer,
        responses={
            201: WebhookSubscriptionWithSecretSerializer,
            **problem_responses(400, 403, 429),
        },
        examples=[
            _example(
                "Referrals and admissions",
                {
                    "url": SUBSCRIPTION["url"],
                    "events": SUBSCRIPTION["events"],
                    "purpose": "treatment",
                    "description": "Discharge planning",
                },
                request=True,
            ),
            _example("Created", {**SUBSCRIPTION, "secret": SECRET}),
        ],
    )
    def post(self, request):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        body = WebhookSubscriptionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        subscription = webhooks.subscription_create(partner=request.partner, **body.validated_data)
        return Response(
            WebhookSubscriptionWithSecretSerializer(subscription).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"{request.path}{subscription.pk}/"},
        )


class WebhookDetailView(PartnerWebhookView):
    serializer_class = WebhookSubscriptionSerializer

    @extend_schema(
        summary="One of the partner's subscriptions",
        tags=TAGS,
        operation_id="partner_webhooks_retrieve",
        auth=AUTH,
        parameters=[RETRY_AFTER],
        responses={200: WebhookSubscriptionSerializer, **problem_responses(403, 404, 429)},
        examples=[_example("A subscription", SUBSCRIPTION)],
    )
    def get(self, request, pk):
        return Response(WebhookSubscriptionSerializer(self.subscription(pk)).data)

    @extend_schema(
        summary="Change a subscription's URL, events, purpose, description, or pause it",
        tags=TAGS,
        operation_id="partner_webhooks_partial_update",
        auth=AUTH,
        parameters=[RETRY_AFTER],
        request=WebhookSubscriptionUpdateSerializer,
        responses={200: WebhookSubscriptionSerializer, **problem_responses(400, 403, 404, 429)},
        examples=[
            _example("Pause", {"is_active": False}, request=True),
            _example("Paused", {**SUBSCRIPTION, "is_active": False}),
        ],
    )
    def patch(self, request, pk):
        subscription = self.subscription(pk)
        body = WebhookSubscriptionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        subscription = webhooks.subscription_update(
            subscription=subscription, **body.validated_data
        )
        return Response(WebhookSubscriptionSerializer(subscription).data)

    @extend_schema(
        summary="Delete a subscription: nothing more is sent to it",
        description="Answers the subscription as it ends, inactive; then it is gone (404).",
        tags=TAGS,
        operation_id="partner_webhooks_destroy",
        auth=AUTH,
        parameters=[RETRY_AFTER],
        responses={200: WebhookSubscriptionSerializer, **problem_responses(403, 404, 429)},
        examples=[_example("Deleted", {**SUBSCRIPTION, "is_active": False})],
    )
    def delete(self, request, pk):
        subscription = webhooks.subscription_delete(subscription=self.subscription(pk))
        return Response(WebhookSubscriptionSerializer(subscription).data)


class WebhookRotateSecretView(PartnerWebhookView):
    serializer_class = WebhookSubscriptionWithSecretSerializer

    @extend_schema(
        summary="A new signing secret, shown once",
        description=(
            "For 24 hours the previous secret signs too (a second v1 signature in "
            "webhook-signature), so the receiver can switch without losing a delivery."
        ),
        tags=TAGS,
        operation_id="partner_webhooks_rotate_secret",
        auth=AUTH,
        parameters=[IDEMPOTENCY_KEY, RETRY_AFTER],
        request=None,
        responses={
            200: WebhookSubscriptionWithSecretSerializer,
            **problem_responses(400, 403, 404, 429),
        },
        examples=[_example("Rotated", {**SUBSCRIPTION, "secret": SECRET})],
    )
    def post(self, request, pk):
        def rotate():
            subscription = webhooks.subscription_rotate_secret(subscription=self.subscription(pk))
            return Response(WebhookSubscriptionWithSecretSerializer(subscription).data)

        return idempotent(request, rotate)


class WebhookDeliveriesView(PartnerWebhookView):
    pagination_class = PageNumberPagination
    serializer_class = WebhookDeliverySerializer

    @extend_schema(
        summary="The delivery log of a subscription, newest first, with each attempt",
        tags=TAGS,
        operation_id="partner_webhooks_deliveries_list",
        auth=AUTH,
        parameters=[RETRY_AFTER],
        responses={200: WebhookDeliverySerializer(many=True), **problem_responses(403, 404, 429)},
        examples=[_example("Delivered at the third attempt", DELIVERY)],
    )
    def get(self, request, pk):
        page = self.paginate_queryset(webhooks.deliveries_of(self.subscription(pk)))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookRedeliverView(PartnerWebhookView):
    serializer_class = WebhookDeliverySerializer

    @extend_schema(
        summary="Send a delivered, failed or skipped delivery again, with the same webhook-id",
        description="The checks of scope, site and consent are made again at delivery.",
        tags=TAGS,
        operation_id="partner_webhook_deliveries_redeliver",
        auth=AUTH,
        parameters=[IDEMPOTENCY_KEY, RETRY_AFTER],
        request=None,
        responses={202: WebhookDeliverySerializer, **problem_responses(400, 403, 404, 409, 429)},
        examples=[
            _example(
                "Pending again",
                {
                    **DELIVERY,
                    "status": "pending",
                    "next_attempt_at": "2026-12-08T09:00:00Z",
                    "delivered_at": "2026-12-07T15:09:05Z",
                },
                status_code=202,
            )
        ],
    )
    def post(self, request, pk):
        def redeliver():
            delivery = webhooks.delivery_for_partner(partner=request.partner, delivery_id=pk)
            delivery = webhooks.webhook_redeliver(delivery=delivery)
            delivery = webhooks.deliveries_of(delivery.subscription).get(pk=delivery.pk)
            return Response(
                WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED
            )

        return idempotent(request, redeliver)
