"""Delivering webhooks: the handler of `webhook.deliver` work.

At each attempt, under the lock of the delivery's work row and of the
delivery itself:

1. Re-check, now, everything that let the partner hear of the event
   (services/webhooks.py why_not: the subscription and the partner active,
   the event still subscribed to, a scope for it, the site one of the
   partner's, and for client events a consent covering the partner, the
   subscription's purpose and the kinds of information). If anything fails the
   delivery is skipped, with the reason, and nothing is sent.
2. Build the body once (the first attempt freezes it: every retry and every
   redelivery sends the same bytes under the same webhook-id), sign it with the
   Standard Webhooks scheme and POST it with a short timeout.
3. A 2xx: the attempt is logged, the delivery marked delivered and, for a
   client event, the disclosure recorded, all in this transaction. Anything
   else raises DeliveryFailed: services/work.py rolls the handler back,
   schedules the retry by the kind's policy (webhooks.DELIVERY_RETRIES) and
   calls `_attempt_failed`, which logs the attempt in that same transaction.

Above availability (for the figures of availability.changed), at the top of
services/.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from backend.partners.models import DisclosureChannel
from backend.webhooks.models import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookEventType,
)
from backend.work.models import WorkItem, WorkStatus
from services.audit import audit_reads
from services.availability import availability
from services.clock import resolve_now
from services.consent import (
    PART2_NOTICE,
    PART2_NOTICE_HEADER,
    disclosure_record,
    episodes_disclosable,
)
from services.webhooks import (
    CLIENT_EVENTS,
    DELIVER_KIND,
    KINDS_FOR_EVENT,
    SKIP_NO_CONSENT,
    Audience,
    signing_secrets,
    why_not,
)
from services.work import work_handler

USER_AGENT = "Continuum-Webhooks/1"
MAX_ERROR = 500


class DeliveryFailed(Exception):
    """One attempt that did not end in a 2xx: what the log records of it."""

    def __init__(self, *, status_code: int | None, error: str, latency_ms: int, body: dict):
        super().__init__(f"{status_code or 'no response'}: {error}"[:MAX_ERROR])
        self.status_code = status_code
        self.error = error[:MAX_ERROR]
        self.latency_ms = latency_ms
        self.body = body


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _body(delivery: WebhookDelivery, consent, now: datetime) -> dict:
    event = delivery.event
    body = {"type": event.type, "timestamp": _iso(event.occurred_at), "data": dict(event.data)}
    if event.type == WebhookEventType.AVAILABILITY_CHANGED:
        answer = availability(
            partner=delivery.subscription.partner,
            level=event.level,
            site_id=event.site_id,
            now=now,
        )
        rows = answer["results"]
        row = rows[0] if rows else None
        body["data"] = {
            "site": str(event.site_id),
            "level": event.level,
            "capacity_unit": row["capacity_unit"] if row else None,
            "capacity": row["capacity"] if row else 0,
            "available": row["available"] if row else 0,
            "accepting": row["accepting"] if row else False,
            "as_of": _iso(answer["as_of"]),
        }
    if event.type in CLIENT_EVENTS:
        body["meta"] = {"part2_notice": PART2_NOTICE, "consent": str(consent.pk)}
    return body


def signed_headers(*, webhook_id: str, body: str, keys: list[str], sent_at: datetime) -> dict:
    """The Standard Webhooks headers; one `v1,` signature per key."""
    signatures = [Webhook(key).sign(webhook_id, sent_at, body) for key in keys]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _post(url: str, body: str, headers: dict) -> tuple[int | None, str, int]:
    """(status code or None, error, latency in ms). Redirects are not followed:
    a receiver answers where it was registered."""
    started = time.monotonic()
    try:
        response = requests.post(
            url,
            data=body.encode(),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        latency = round((time.monotonic() - started) * 1000)
        return None, f"{type(exc).__name__}: {exc}", latency
    latency = round((time.monotonic() - started) * 1000)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return response.status_code, error, latency


def _skip(delivery: WebhookDelivery, reason: str) -> None:
    delivery.status = DeliveryStatus.SKIPPED
    delivery.skip_reason = reason
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "skip_reason", "next_attempt_at"])


def _lock(delivery_id) -> WebhookDelivery | None:
    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("event", "subscription__partner", "event__referral__partner_details")
        .filter(pk=delivery_id)
        .first()
    )
    return delivery


def webhook_deliver(*, delivery_id, now: datetime | None = None):
    """One attempt at one delivery (the work handler's body). The signature's
    timestamp is the wall clock (what a receiver compares with its own clock);
    `now` is the instant the work runs at, for the log and the checks."""
    now = resolve_now(now)
    delivery = _lock(delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None  # done already (a duplicate run), or gone: nothing to send
    subscription = delivery.subscription
    partner = subscription.partner
    event: WebhookEvent = delivery.event
    reason, consent = why_not(
        subscription,
        Audience.of(event),
        site_ids=set(partner.sites.values_list("pk", flat=True)),
        now=now,
    )
    # A consent by one program discloses only the episodes with a stay there.
    if (
        reason is None
        and consent is not None
        and event.episode_id is not None
        and not episodes_disclosable(consent).filter(pk=event.episode_id).exists()
    ):
        reason = SKIP_NO_CONSENT
    if reason is not None:
        _skip(delivery, reason)
        return delivery
    body = delivery.payload or _body(delivery, consent, now)
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signed_headers(
            webhook_id=delivery.webhook_id,
            body=text,
            keys=signing_secrets(subscription, now=now),
            sent_at=resolve_now(None),
        ),
    }
    if consent is not None:
        headers[PART2_NOTICE_HEADER] = PART2_NOTICE
    status_code, error, latency = _post(subscription.url, text, headers)
    if error:
        raise DeliveryFailed(status_code=status_code, error=error, latency_ms=latency, body=body)
    _log_attempt(delivery, now=now, status_code=status_code, error="", latency_ms=latency)
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = now
    delivery.payload = body
    delivery.next_attempt_at = None
    delivery.save()
    if consent is not None:
        resources = [{"kind": "client", "id": str(event.client_id)}]
        if event.episode_id:
            resources.append({"kind": "episode", "id": str(event.episode_id)})
        disclosure_record(
            partner=partner,
            client_id=event.client_id,
            consent=consent,
            purpose=subscription.purpose,
            kinds=KINDS_FOR_EVENT[event.type],
            resources=resources,
            channel=DisclosureChannel.WEBHOOK,
            now=now,
            description=f"Webhook {event.type} ({delivery.webhook_id})",
        )
        audit_reads(
            actor=partner.user,
            object_type="episode",
            records=[(event.episode_id, event.client_id)],
            detail={"channel": "webhook", "webhook_id": delivery.webhook_id},
            now=now,
        )
    return delivery


def _log_attempt(delivery: WebhookDelivery, *, now, status_code, error, latency_ms) -> None:
    delivery.attempts += 1
    delivery.last_attempt_at = now
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        at=now,
        status_code=status_code,
        error=error,
        latency_ms=latency_ms,
    )


def _attempt_failed(item: WorkItem, exc: BaseException | None, now: datetime) -> None:
    """services/work.py, in the transaction that schedules the retry (or gives
    up): the attempt's log entry, and the delivery's next due time or failure."""
    delivery = _lock(item.payload.get("delivery"))
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    if exc is not None:
        if isinstance(exc, DeliveryFailed):
            code, error, latency = exc.status_code, exc.error, exc.latency_ms
            delivery.payload = delivery.payload or exc.body
        else:
            code, error, latency = None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR], 0
        _log_attempt(delivery, now=now, status_code=code, error=error, latency_ms=latency)
    if item.status == WorkStatus.FAILED:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = item.due_at
    delivery.save()


@work_handler(DELIVER_KIND, on_failure=_attempt_failed)
def _deliver(item: WorkItem, now: datetime) -> None:
    with transaction.atomic():
        webhook_deliver(delivery_id=item.payload["delivery"], now=now)
