"""Shapes of the partner webhook API: input checked for type only (the rules,
https and event names among them, are services/webhooks.py's)."""

from rest_framework import serializers

from backend.partners.models import Purpose
from backend.webhooks.models import PURPOSE_CHOICES, DeliveryStatus, WebhookEventType
from services.webhooks import payload_shown_to_partner


class WebhookSubscriptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEventType.choices))
    purpose = serializers.ChoiceField(
        choices=PURPOSE_CHOICES,
        help_text="The purpose client events are received for; a consent must cover it.",
    )
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (whsec_...). Shown only now: store it."
    )


class WebhookSubscriptionCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="An https URL.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), allow_empty=False
    )
    purpose = serializers.ChoiceField(choices=PURPOSE_CHOICES, default=Purpose.TREATMENT)
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookSubscriptionUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices),
        allow_empty=False,
        required=False,
    )
    purpose = serializers.ChoiceField(choices=PURPOSE_CHOICES, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class DeliveryAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The receiver's HTTP status; null when it did not answer."
    )
    error = serializers.CharField(help_text="Why the attempt failed; empty on a 2xx.")
    latency_ms = serializers.IntegerField()


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    webhook_id = serializers.CharField(help_text="The webhook-id header: the same on every try.")
    subscription = serializers.UUIDField(source="subscription_id")
    event_type = serializers.ChoiceField(choices=WebhookEventType.choices, source="event.type")
    occurred_at = serializers.DateTimeField(source="event.occurred_at")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    skip_reason = serializers.CharField(help_text="Why it was skipped; empty otherwise.")
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    payload = serializers.SerializerMethodField(
        help_text=(
            "The body as sent, for referral and availability events; null before the "
            "first attempt, and always null for client events (42 CFR Part 2 data goes "
            "out only by delivery, under the consent checked then: redeliver it)."
        )
    )
    attempt_log = DeliveryAttemptSerializer(many=True)

    def get_payload(self, delivery) -> dict | None:
        return payload_shown_to_partner(delivery)
