"""Delivering webhooks: the handler of `webhook.deliver` work.

An attempt runs in three steps (services/work.py work_handler_outside), so
that no transaction and no row lock is held while the receiver answers:

1. `_prepare`, in a short transaction, under the locks of the delivery's work
   row (claimed for DELIVERY_LEASE) and of the delivery: re-check, now,
   everything that let the partner hear of the event (services/webhooks.py
   why_not: the subscription and the partner active, the event still
   subscribed to, a scope for it, the site one of the partner's, and for
   client events a consent covering the partner, the subscription's purpose
   and the kinds of information). If anything fails the delivery is skipped,
   with the reason, and nothing is sent. Otherwise freeze the body (the first
   attempt stores it: every retry and every redelivery sends the same bytes
   under the same webhook-id) and log the attempt, its answer not yet known.
2. `_send`, outside any transaction: sign the body with the Standard Webhooks
   scheme and POST it with a short timeout.
3. `_settle`, in a second short transaction, if the claim still holds: a 2xx
   gives the attempt its answer, marks the delivery delivered and, for a
   client event, records the disclosure. Anything else raises DeliveryFailed:
   services/work.py schedules the retry by the kind's policy
   (webhooks.DELIVERY_RETRIES) and calls `_attempt_failed`, which records the
   attempt's answer in that same transaction.

A run that dies between the POST and step 3 leaves the attempt logged without
an answer and the claim to lapse; the sweep then wakes the work again, and the
next attempt sends the same body under the same webhook-id.

Above availability (for the figures of availability.changed), at the top of
services/.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import requests
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from backend.partners.models import Consent, DisclosureChannel
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
from services.work import work_handler_outside

USER_AGENT = "Continuum-Webhooks/1"
MAX_ERROR = 500


# Longer than any run may live (the task's hard time limit, 120 s; the POST's
# timeout, 5 s), so a live run never loses its claim; a run that died leaves
# the delivery to the first sweep after it.
DELIVERY_LEASE = timedelta(minutes=3)
# An attempt's error until its answer is recorded: it is in flight, or its run
# died after the POST (the receiver may have it).
ATTEMPT_UNANSWERED = "No answer recorded: in flight, or the sender stopped before recording it."


@dataclass(frozen=True)
class Answer:
    """What the receiver said to one POST."""

    status_code: int | None
    error: str
    latency_ms: int


@dataclass(frozen=True)
class Send:
    """One attempt, frozen under the locks and sent after them."""

    delivery_id: UUID
    attempt: int  # its DeliveryAttempt number
    url: str
    webhook_id: str
    text: str
    keys: tuple[str, ...]
    consent: Consent | None


class DeliveryFailed(Exception):
    """One attempt that did not end in a 2xx, with the receiver's answer."""

    def __init__(self, answer: Answer):
        super().__init__(f"{answer.status_code or 'no response'}: {answer.error}"[:MAX_ERROR])
        self.answer = answer


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


def _text(body: dict) -> str:
    """The bytes sent. Keys sorted: the body is stored as JSON, which PostgreSQL
    (jsonb) keeps in an order of its own, so a retry that reads it back sends
    the first attempt's bytes only if the order is not left to the dict."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def signed_headers(*, webhook_id: str, body: str, keys: list[str], sent_at: datetime) -> dict:
    """The Standard Webhooks headers; one `v1,` signature per key."""
    signatures = [Webhook(key).sign(webhook_id, sent_at, body) for key in keys]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _post(url: str, body: str, headers: dict) -> Answer:
    """The receiver's answer. Redirects are not followed: a receiver answers
    where it was registered."""
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
        return Answer(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR], latency)
    latency = round((time.monotonic() - started) * 1000)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Answer(response.status_code, error, latency)


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


def _prepare(item: WorkItem, now: datetime) -> Send | None:
    """Step 1, under the locks: the checks, the frozen body, the attempt logged.
    None when there is nothing to send (done already, or skipped)."""
    delivery = _lock(item.payload["delivery"])
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
        return None
    delivery.payload = delivery.payload or _body(delivery, consent, now)
    _log_attempt(delivery, now=now, status_code=None, error=ATTEMPT_UNANSWERED, latency_ms=0)
    delivery.save(update_fields=["payload", "attempts", "last_attempt_at"])
    return Send(
        delivery_id=delivery.pk,
        attempt=delivery.attempts,
        url=subscription.url,
        webhook_id=delivery.webhook_id,
        text=_text(delivery.payload),
        keys=tuple(signing_secrets(subscription, now=now)),
        consent=consent,
    )


def _send(send: Send) -> Answer:
    """Step 2, outside any transaction. The signature's timestamp is the wall
    clock (what a receiver compares with its own clock), not the run's `now`."""
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signed_headers(
            webhook_id=send.webhook_id,
            body=send.text,
            keys=list(send.keys),
            sent_at=resolve_now(None),
        ),
    }
    if send.consent is not None:
        headers[PART2_NOTICE_HEADER] = PART2_NOTICE
    return _post(send.url, send.text, headers)


def _settle(item: WorkItem, send: Send, answer: Answer, now: datetime) -> None:
    """Step 3, under the locks again: a 2xx delivers (and discloses); anything
    else raises DeliveryFailed, and `_attempt_failed` records it."""
    if answer.error:
        raise DeliveryFailed(answer)
    delivery = _lock(send.delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    _answer_attempt(delivery, send.attempt, answer)
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = now
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    consent = send.consent
    if consent is None:
        return
    partner = delivery.subscription.partner
    event = delivery.event
    resources = [{"kind": "client", "id": str(event.client_id)}]
    if event.episode_id:
        resources.append({"kind": "episode", "id": str(event.episode_id)})
    disclosure_record(
        partner=partner,
        client_id=event.client_id,
        consent=consent,
        purpose=delivery.subscription.purpose,
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


def _answer_attempt(delivery: WebhookDelivery, number: int, answer: Answer) -> None:
    DeliveryAttempt.objects.filter(delivery=delivery, number=number).update(
        status_code=answer.status_code, error=answer.error, latency_ms=answer.latency_ms
    )


def _attempt_failed(
    item: WorkItem, exc: BaseException | None, now: datetime, send: Send | None
) -> None:
    """services/work.py, in the transaction that schedules the retry (or gives
    up): the attempt's answer in the log, and the delivery's next due time or
    failure."""
    delivery = _lock(item.payload.get("delivery"))
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    if exc is not None:
        if isinstance(exc, DeliveryFailed):
            answer = exc.answer
        else:
            answer = Answer(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR], 0)
        if send is not None:
            _answer_attempt(delivery, send.attempt, answer)
        else:  # it failed before its attempt was logged
            _log_attempt(
                delivery,
                now=now,
                status_code=answer.status_code,
                error=answer.error,
                latency_ms=answer.latency_ms,
            )
    if item.status == WorkStatus.FAILED:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = item.due_at
    delivery.save()


work_handler_outside(
    DELIVER_KIND,
    prepare=_prepare,
    perform=_send,
    settle=_settle,
    lease=DELIVERY_LEASE,
    on_failure=_attempt_failed,
)
