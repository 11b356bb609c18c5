"""Signed webhooks to partner systems: subscriptions, events, deliveries, attempts.

A WebhookSubscription is a partner's URL and the event types it wants. When
something happens (an admission, a referral accepted), services/webhooks.py
writes one WebhookEvent and, for each subscription that may hear of it, one
WebhookDelivery with a stable `webhook_id` (the Standard Webhooks message id,
the same on every retry), pending as a work row (backend/work). Each POST is a
DeliveryAttempt: its number, when, the response code or the error, the
latency. docs/webhooks.md describes the whole.
"""

import uuid

from django.db import models
from django.db.models import Q

from backend.partners.models import Purpose


class WebhookEventType(models.TextChoices):
    REFERRAL_STATUS_CHANGED = "referral.status_changed", "A partner's referral changed status"
    CLIENT_ADMITTED = "client.admitted", "A consented client was admitted"
    CLIENT_TRANSFERRED = "client.transferred", "A consented client moved to another program"
    CLIENT_DISCHARGED = "client.discharged", "A consented client was discharged"
    AVAILABILITY_CHANGED = "availability.changed", "Free places changed at a site and level"


# The purposes a subscription may state (a TPO consent covers each of them).
PURPOSE_CHOICES = [(p.value, p.label) for p in Purpose if p != Purpose.TPO]


class WebhookSubscription(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="webhook_subscriptions"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    # The purpose the partner receives client events for: the consent must cover it.
    purpose = models.CharField(max_length=30, choices=PURPOSE_CHOICES)
    description = models.CharField(max_length=200, blank=True)
    # "whsec_<base64>": kept in the clear because signing needs it; shown to the
    # partner once, at creation and at each rotation.
    secret = models.CharField(max_length=100)
    # After a rotation the previous secret signs too, until it expires, so the
    # partner can switch its verifier without losing a delivery.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # Deleted subscriptions are kept for their delivery log; the partner no longer sees them.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["partner", "created_at"], name="webhook_sub_partner")]

    def __str__(self) -> str:
        return f"{self.partner} -> {self.url}"


class WebhookEvent(models.Model):
    """Something that happened, once, whoever hears of it. The references say
    whom and where it concerns, for the checks made at each delivery; they are
    not sent as such (the payload carries ids and levels only)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    occurred_at = models.DateTimeField()
    client = models.ForeignKey(
        "care.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey(
        "care.Episode", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referral = models.ForeignKey(
        "aftercare.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        "network.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A transfer's origin, when it was another site.
    from_site = models.ForeignKey(
        "network.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=WebhookEventType.values), name="webhook_event_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up after 24 hours of retries)"
    SKIPPED = "skipped", "Skipped (not allowed at delivery time: never sent)"


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries"
    )
    # The Standard Webhooks message id ("msg_..."): the same on every attempt and
    # redelivery, so a receiver can drop what it has seen.
    webhook_id = models.CharField(max_length=40, unique=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # Why a delivery was skipped (a code, see services/webhooks.py SKIP_*).
    skip_reason = models.CharField(max_length=40, blank=True)
    # The body exactly as first sent, so every retry sends the same bytes.
    payload = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    redeliveries = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_sub"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="webhook_delivery_once_per_subscription"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status"
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="webhook_delivered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} ({self.status})"


class DeliveryAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    # The receiver's HTTP status, or null when no response came (see `error`).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error}"
