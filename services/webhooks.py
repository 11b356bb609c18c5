"""Webhook subscriptions, and the events that services emit for them.

    subscription_create / _update / _delete / _rotate_secret   a partner's own
    webhook_emit(event, now=..., ...)     inside the transaction of the change:
        -> one WebhookEvent, and for each subscription that may hear of it one
           WebhookDelivery, pending as a `webhook.deliver` work row
    webhook_redeliver(delivery, now=...)  a new run of a finished delivery

Who may hear of an event is decided twice: here, so that a partner's log holds
no delivery about a client it never had consent for, and again at the moment
of delivery (services/webhook_delivery.py), because scopes, sites, consents
and subscriptions change in between. This module sits below admissions,
transfers and referrals, which call `webhook_emit`; the delivery, which needs
the availability figures above them, sits at the top of services/.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from backend.aftercare.models import Referral, ReferralOrigin
from backend.network.models import LevelCode
from backend.partners.models import InformationKind, Partner, Purpose, Scope
from backend.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)
from services.clock import resolve_now
from services.consent import READ_PURPOSES, consent_covering
from services.errors import Conflict, InvalidInput, NotFound
from services.work import RetryPolicy, work_retry_policy, work_schedule

DELIVER_KIND = "webhook.deliver"
# Exponential (x4) from a minute to four hours, then every six: nine attempts,
# the last 23 h 21 min after the first; then the delivery is failed.
DELIVERY_RETRIES = work_retry_policy(
    DELIVER_KIND,
    RetryPolicy(
        delays=(
            timedelta(minutes=1),
            timedelta(minutes=4),
            timedelta(minutes=16),
            timedelta(hours=1),
            timedelta(hours=4),
            timedelta(hours=6),
            timedelta(hours=6),
            timedelta(hours=6),
        )
    ),
)
# The status a partner's referral is told it has once a coordinator matched the
# person to a client: the referral stays open until the admission.
REFERRAL_ACCEPTED = "accepted"
# After a rotation the previous secret keeps signing (a second signature) this long.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)

MSG_URL_SCHEME = "A webhook URL must be https (http only for 127.0.0.1 or localhost in tests)."
MSG_URL_INVALID = "Not a URL."
MSG_UNKNOWN_EVENT = "Unknown event type {event}; the types are: {known}."
MSG_NO_EVENTS = "Subscribe to at least one event type."
MSG_PURPOSE = "The purpose must be one of: {known}."
MSG_ALREADY_PENDING = "This delivery is still being attempted."
MSG_SUBSCRIPTION_INACTIVE = "The subscription is paused or deleted."

# Why a delivery was skipped (WebhookDelivery.skip_reason).
SKIP_SUBSCRIPTION_INACTIVE = "subscription_inactive"
SKIP_PARTNER_INACTIVE = "partner_inactive"
SKIP_EVENT_UNSUBSCRIBED = "event_unsubscribed"
SKIP_SCOPE_MISSING = "scope_missing"
SKIP_SITE_NOT_PARTNERS = "site_not_partners"
SKIP_NOT_PARTNERS_REFERRAL = "not_partners_referral"
SKIP_NO_CONSENT = "no_consent"

CLIENT_EVENTS = (
    WebhookEventType.CLIENT_ADMITTED,
    WebhookEventType.CLIENT_TRANSFERRED,
    WebhookEventType.CLIENT_DISCHARGED,
)
# Any one of these scopes lets a partner hear of the event.
SCOPES_FOR_EVENT = {
    WebhookEventType.REFERRAL_STATUS_CHANGED: (Scope.REFERRALS_READ,),
    WebhookEventType.CLIENT_ADMITTED: (Scope.CLIENTS_READ, Scope.EPISODES_READ),
    WebhookEventType.CLIENT_TRANSFERRED: (Scope.CLIENTS_READ, Scope.EPISODES_READ),
    WebhookEventType.CLIENT_DISCHARGED: (Scope.CLIENTS_READ, Scope.EPISODES_READ),
    WebhookEventType.AVAILABILITY_CHANGED: (Scope.AVAILABILITY_READ,),
}
# What a client event discloses, which the consent must cover.
KINDS_FOR_EVENT = {
    WebhookEventType.CLIENT_ADMITTED: [InformationKind.EPISODES.value],
    WebhookEventType.CLIENT_DISCHARGED: [InformationKind.EPISODES.value],
    WebhookEventType.CLIENT_TRANSFERRED: [
        InformationKind.EPISODES.value,
        InformationKind.TRANSFERS.value,
    ],
}


# --- subscriptions -------------------------------------------------------------


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _allow_http_localhost() -> bool:
    return bool(settings.DEBUG or getattr(settings, "WEBHOOKS_ALLOW_HTTP_LOCALHOST", False))


def url_check(url: str) -> str:
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise InvalidInput(MSG_URL_INVALID, field="url") from exc
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise InvalidInput(MSG_URL_INVALID if not parts.hostname else MSG_URL_SCHEME, field="url")
    if parts.scheme == "http" and not (
        _allow_http_localhost() and parts.hostname in ("127.0.0.1", "localhost")
    ):
        raise InvalidInput(MSG_URL_SCHEME, field="url")
    if len(url) > WebhookSubscription._meta.get_field("url").max_length:
        raise InvalidInput("At most 2000 characters.", field="url")
    return url


def events_check(events: list[str]) -> list[str]:
    if not events:
        raise InvalidInput(MSG_NO_EVENTS, field="events")
    for event in events:
        if event not in WebhookEventType.values:
            raise InvalidInput(
                MSG_UNKNOWN_EVENT.format(event=event, known=", ".join(WebhookEventType.values)),
                field="events",
            )
    return [e for e in WebhookEventType.values if e in set(events)]


def purpose_check(purpose: str) -> str:
    if purpose not in READ_PURPOSES:
        raise InvalidInput(MSG_PURPOSE.format(known=", ".join(READ_PURPOSES)), field="purpose")
    return purpose


def subscriptions_of(partner: Partner) -> QuerySet[WebhookSubscription]:
    """A partner's own subscriptions, and nobody else's."""
    return WebhookSubscription.objects.filter(partner=partner, deleted_at__isnull=True)


def subscription_for_partner(*, partner: Partner, subscription_id) -> WebhookSubscription:
    subscription = subscriptions_of(partner).filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound()
    return subscription


def deliveries_of(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "id")
    )


def payload_shown_to_partner(delivery: WebhookDelivery) -> dict | None:
    """The body as sent, in the partner's log; never for client events: Part 2
    data goes out only by delivery, under the consent checked at that moment."""
    if delivery.event.type in CLIENT_EVENTS:
        return None
    return delivery.payload


def delivery_for_partner(*, partner: Partner, delivery_id) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, subscription__partner=partner, subscription__deleted_at__isnull=True
        )
        .select_related("event", "subscription")
        .first()
    )
    if delivery is None:
        raise NotFound()
    return delivery


@transaction.atomic
def subscription_create(
    *,
    partner: Partner,
    url: str,
    events: list[str],
    purpose: str = Purpose.TREATMENT,
    description: str = "",
    is_active: bool = True,
    now: datetime | None = None,
) -> WebhookSubscription:
    """A new subscription with its own secret (the caller shows it once)."""
    now = resolve_now(now)
    return WebhookSubscription.objects.create(
        partner=partner,
        url=url_check(url),
        events=events_check(events),
        purpose=purpose_check(purpose),
        description=description.strip(),
        secret=_new_secret(),
        is_active=is_active,
        created_at=now,
        updated_at=now,
    )


@transaction.atomic
def subscription_update(
    *, subscription: WebhookSubscription, now: datetime | None = None, **changes
) -> WebhookSubscription:
    """Change the url, events, purpose, description or is_active."""
    now = resolve_now(now)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    checks = {
        "url": url_check,
        "events": events_check,
        "purpose": purpose_check,
        "description": lambda v: (v or "").strip(),
        "is_active": bool,
    }
    for field, value in changes.items():
        if field not in checks:
            raise InvalidInput("Not a field of a subscription.", field=field)
        setattr(subscription, field, checks[field](value))
    subscription.updated_at = now
    subscription.save()
    return subscription


@transaction.atomic
def subscription_delete(
    *, subscription: WebhookSubscription, now: datetime | None = None
) -> WebhookSubscription:
    """The partner no longer sees it, and nothing more is sent to it; its log is
    kept for the admins. Pending deliveries are skipped when their turn comes."""
    now = resolve_now(now)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.deleted_at = now
    subscription.is_active = False
    subscription.updated_at = now
    subscription.save()
    return subscription


@transaction.atomic
def subscription_rotate_secret(
    *, subscription: WebhookSubscription, now: datetime | None = None
) -> WebhookSubscription:
    """A new secret (shown once); the old one also signs for PREVIOUS_SECRET_GRACE."""
    now = resolve_now(now)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + PREVIOUS_SECRET_GRACE
    subscription.secret = _new_secret()
    subscription.updated_at = now
    subscription.save()
    return subscription


def signing_secrets(subscription: WebhookSubscription, *, now: datetime) -> list[str]:
    """The secrets a delivery is signed with: the current one, and the previous
    one during its grace after a rotation."""
    keys = [subscription.secret]
    if (
        subscription.previous_secret
        and subscription.previous_secret_expires_at
        and now < subscription.previous_secret_expires_at
    ):
        keys.append(subscription.previous_secret)
    return keys


# --- who may hear of an event --------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """What decides whether a subscription may hear of an event: the event's
    type, sites, client and referral (a WebhookEvent, or its values before it is
    written)."""

    type: str
    site_id: object = None
    from_site_id: object = None
    client_id: object = None
    referral_partner_id: object = None

    @classmethod
    def of(cls, event: WebhookEvent) -> Audience:
        partner_id = None
        if event.referral_id is not None:
            details = getattr(event.referral, "partner_details", None)
            partner_id = details.partner_id if details is not None else None
        return cls(
            type=event.type,
            site_id=event.site_id,
            from_site_id=event.from_site_id,
            client_id=event.client_id,
            referral_partner_id=partner_id,
        )


def why_not(subscription: WebhookSubscription, audience: Audience, *, site_ids: set, now: datetime):
    """None when the subscription may receive the event now; else the reason
    (a SKIP_* code) and, for client events, None. Returns (reason, consent)."""
    partner = subscription.partner
    if not subscription.is_active or subscription.deleted_at is not None:
        return SKIP_SUBSCRIPTION_INACTIVE, None
    if not partner.is_active:
        return SKIP_PARTNER_INACTIVE, None
    if audience.type not in subscription.events:
        return SKIP_EVENT_UNSUBSCRIBED, None
    if not any(scope in partner.scopes for scope in SCOPES_FOR_EVENT[audience.type]):
        return SKIP_SCOPE_MISSING, None
    if audience.type == WebhookEventType.REFERRAL_STATUS_CHANGED:
        # Only the partner who sent the referral hears of it; its sites do not matter.
        if audience.referral_partner_id != partner.pk:
            return SKIP_NOT_PARTNERS_REFERRAL, None
        return None, None
    if audience.site_id not in site_ids and audience.from_site_id not in site_ids:
        return SKIP_SITE_NOT_PARTNERS, None
    if audience.type in CLIENT_EVENTS:
        consent = consent_covering(
            partner=partner,
            client=audience.client_id,
            purpose=subscription.purpose,
            kinds=KINDS_FOR_EVENT[audience.type],
            now=now,
        )
        if consent is None:
            return SKIP_NO_CONSENT, None
        return None, consent
    return None, None


def _listening(event_type: str) -> list[WebhookSubscription]:
    """Active subscriptions of active partners to this event type (one query,
    two when there are any: the partners' sites)."""
    subscriptions = (
        WebhookSubscription.objects.filter(
            is_active=True, deleted_at__isnull=True, partner__is_active=True
        )
        .select_related("partner")
        .prefetch_related("partner__sites")
    )
    # JSON containment differs between PostgreSQL and SQLite: filtered here.
    return [s for s in subscriptions if event_type in s.events]


# --- emitting -------------------------------------------------------------------


def webhook_emit(
    event: str,
    *,
    now: datetime,
    referral: Referral | None = None,
    client_id=None,
    episode_id=None,
    site_id=None,
    from_site_id=None,
    level: str = "",
    occurred_at: datetime | None = None,
    data: dict | None = None,
) -> WebhookEvent | None:
    """Record that `event` happened and schedule its deliveries, in the
    caller's transaction (the work rows commit with the change, or not at all).
    `data` holds ids and levels only. Nothing is written when nobody may hear."""
    if event not in WebhookEventType.values:
        raise ValueError(f"Unknown webhook event {event}")
    referral_partner_id = None
    if referral is not None:
        details = (
            getattr(referral, "partner_details", None)
            if referral.source == ReferralOrigin.PARTNER
            else None
        )
        if details is None:
            return None  # not a partner's referral: no partner to tell
        referral_partner_id = details.partner_id
    subscriptions = _listening(event)
    if not subscriptions:
        return None
    audience = Audience(
        type=event,
        site_id=site_id,
        from_site_id=from_site_id,
        client_id=client_id,
        referral_partner_id=referral_partner_id,
    )
    hearing = [
        s
        for s in subscriptions
        if why_not(s, audience, site_ids={x.pk for x in s.partner.sites.all()}, now=now)[0] is None
    ]
    if not hearing:
        return None
    webhook_event = WebhookEvent.objects.create(
        type=event,
        occurred_at=occurred_at or now,
        client_id=client_id,
        episode_id=episode_id,
        referral=referral,
        site_id=site_id,
        from_site_id=from_site_id,
        level=level,
        data=data or {},
    )
    for subscription in hearing:
        delivery = WebhookDelivery.objects.create(
            event=webhook_event,
            subscription=subscription,
            webhook_id=_new_webhook_id(),
            next_attempt_at=now,
            created_at=now,
        )
        _schedule(delivery, key=f"webhook:{delivery.pk}:deliver", now=now)
    return webhook_event


def _schedule(delivery: WebhookDelivery, *, key: str, now: datetime) -> None:
    work_schedule(
        kind=DELIVER_KIND, key=key, due_at=now, payload={"delivery": str(delivery.pk)}, now=now
    )


def availability_changed(*, program, now: datetime) -> None:
    """Places at the program's site and level changed (an admission, a
    discharge, a move). Alumni programs take no referrals: no availability."""
    if program.level_id == LevelCode.ALUMNI:
        return
    webhook_emit(
        WebhookEventType.AVAILABILITY_CHANGED,
        now=now,
        site_id=program.site_id,
        level=program.level_id,
        data={"site": str(program.site_id), "level": program.level_id},
    )


def client_event_data(*, client_id, episode_id, program, at: datetime, **more) -> dict:
    """A client event's data: ids and levels, nothing else about the person."""
    return {
        "client": str(client_id),
        "episode": str(episode_id),
        "program": str(program.pk),
        "site": str(program.site_id),
        "level": program.level_id,
        "at": at.isoformat().replace("+00:00", "Z"),
        **more,
    }


# --- redelivery -----------------------------------------------------------------


@transaction.atomic
def webhook_redeliver(*, delivery: WebhookDelivery, now: datetime | None = None):
    """Send a finished delivery again, with the same webhook-id (the receiver
    may drop it if it has it), after the same checks as the first time."""
    now = resolve_now(now)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict(MSG_ALREADY_PENDING, field="status")
    subscription = delivery.subscription
    if not subscription.is_active or subscription.deleted_at is not None:
        raise Conflict(MSG_SUBSCRIPTION_INACTIVE, field="subscription")
    delivery.redeliveries += 1
    delivery.status = DeliveryStatus.PENDING
    delivery.skip_reason = ""
    delivery.next_attempt_at = now
    delivery.save(update_fields=["redeliveries", "status", "skip_reason", "next_attempt_at"])
    _schedule(delivery, key=f"webhook:{delivery.pk}:redeliver:{delivery.redeliveries}", now=now)
    return delivery
