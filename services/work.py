"""Durable work: schedule it as a row, wake a worker, do it once.

    work_schedule(kind=..., key=..., due_at=...)   inside a service's transaction
        -> a WorkItem row (idempotent by key), and, on commit, a wake-up
           through the broker when the item is due now.
    work_sweep(now)                                 every minute (beat)
        -> wake-ups for every pending item that is due and was not woken
           recently: late work, lost messages, a broker that was down.
    work_run(item_id, now)                          the task a wake-up runs
        -> claims the row with SELECT ... FOR UPDATE SKIP LOCKED, runs the
           kind's handler and marks the row done, in one transaction.

Because the handler's writes and "done" commit together, a task delivered
twice acts once (the second finds the row done, or locked and skips it), and
a worker killed mid-task leaves its transaction rolled back and the row
pending for the next sweep. Effects outside the database (an email) are
at-least-once: they are their own work items, so a crash can repeat only
that one delivery.

Handlers are registered per kind with @work_handler; they receive the item
and `now`, and must be safe to call again after a rollback. A kind may have
its own retry schedule (work_retry_policy: webhook deliveries retry for a
day) and a failure hook, which records what a failed attempt leaves behind in
the transaction that schedules the retry (the handler's own writes are rolled
back with its failure).

A kind whose effect is a slow call outside our system (a webhook's POST) is
registered with work_handler_outside instead, so that no transaction and no
row lock is held while the call waits. Its run claims the row with a lease
(`claimed_until`), `prepare`s under the row lock in one short transaction,
`perform`s the call outside any transaction, and `settle`s the result in a
second short transaction, if its claim still holds. No other run takes the
row while the lease lasts; a run that dies leaves the lease to lapse, and the
sweep then wakes the row again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Min, Q

from backend.work.models import WorkItem, WorkStatus
from services.clock import resolve_now

logger = logging.getLogger(__name__)

RUN_TASK = "workers.run_work_item"
# A wake-up not answered within this long is sent again by the sweep.
WAKE_GRACE = timedelta(minutes=2)
# Retries back off: 1, 2, 4, 8... minutes, at most an hour.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# The modules whose handlers must be registered before any item runs.
HANDLER_MODULES = (
    "services.handoffs",
    "services.notifications",
    "services.followup_work",
    "services.referrals.actions",
    "services.referrals.partner",
    "services.webhook_delivery",
)
QUEUES = {"handoff": "handoffs", "notification": "notifications", "followup": "followups"}

Handler = Callable[[WorkItem, datetime], None]
# Called with the item (already marked for retry or failed), the exception,
# `now` and what an outside handler's `prepare` returned (None for other
# handlers, or when the attempt failed before that), inside the transaction
# that records the failure.
FailureHook = Callable[[WorkItem, BaseException | None, datetime, Any], None]


@dataclass(frozen=True)
class OutsideHandler:
    """A kind whose effect happens outside the database and may be slow.

    prepare(item, now): under the item's lock, in a short transaction; checks
        and freezes what to do, returns it, or None when there is nothing to do
        (the item is then done).
    perform(prepared): outside any transaction; does it, returns the result.
    settle(item, prepared, result, now): under the item's lock again, in a
        short transaction; records the result; raises to have it retried.
    lease: how long a run holds its claim. It must outlast any run that is
        still alive, so that no second run starts the same call meanwhile.
    """

    prepare: Callable[[WorkItem, datetime], Any]
    perform: Callable[[Any], Any]
    settle: Callable[[WorkItem, Any, Any, datetime], None]
    lease: timedelta


_handlers: dict[str, Handler | OutsideHandler] = {}
_failure_hooks: dict[str, FailureHook] = {}


@dataclass(frozen=True)
class RetryPolicy:
    """A kind's own retry schedule: `delays[n]` is the wait after the (n+1)th
    failed attempt; after the last delay's attempt fails, the item is failed."""

    delays: tuple[timedelta, ...]

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def delay_after(self, attempts: int) -> timedelta:
        return self.delays[min(attempts, len(self.delays)) - 1]


_policies: dict[str, RetryPolicy] = {}


def work_retry_policy(kind: str, policy: RetryPolicy) -> RetryPolicy:
    """Give `kind` its own schedule. Register it in the module that schedules
    the kind, so that every item of the kind gets the policy's max_attempts."""
    _policies[kind] = policy
    return policy


def work_handler(
    kind: str, *, on_failure: FailureHook | None = None
) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _handlers[kind] = func
        if on_failure is not None:
            _failure_hooks[kind] = on_failure
        return func

    return register


def work_handler_outside(
    kind: str,
    *,
    prepare: Callable[[WorkItem, datetime], Any],
    perform: Callable[[Any], Any],
    settle: Callable[[WorkItem, Any, Any, datetime], None],
    lease: timedelta,
    on_failure: FailureHook | None = None,
) -> OutsideHandler:
    """Register `kind` to run in three steps, its call outside any transaction
    (OutsideHandler)."""
    handler = OutsideHandler(prepare=prepare, perform=perform, settle=settle, lease=lease)
    _handlers[kind] = handler
    if on_failure is not None:
        _failure_hooks[kind] = on_failure
    return handler


def _unclaimed(now: datetime) -> Q:
    """No run holds the item: never claimed, or its claim has lapsed."""
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def _retry_delay(kind: str, attempts: int) -> timedelta:
    policy = _policies.get(kind)
    if policy is not None:
        return policy.delay_after(attempts)
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_MAX)


def _after_failure(
    item: WorkItem, exc: BaseException | None, now: datetime, prepared: Any = None
) -> None:
    hook = _failure_hooks.get(item.kind)
    if hook is None and item.kind not in _handlers:
        _handler_for(item.kind)  # registers the kind's module, and its hook with it
        hook = _failure_hooks.get(item.kind)
    if hook is not None:
        hook(item, exc, now, prepared)


def _handler_for(kind: str) -> Handler | OutsideHandler:
    if kind not in _handlers:
        for module in HANDLER_MODULES:
            import_module(module)
    return _handlers[kind]


# --- scheduling --------------------------------------------------------------


def work_schedule(
    *, kind: str, key: str, due_at: datetime, payload: dict | None = None, now: datetime
) -> WorkItem:
    """Add a pending item (or return the one with this key), waking a worker on
    commit when it is due already. Call it inside the transaction of the change
    that creates the work, so the two commit or roll back together."""
    defaults = {"kind": kind, "due_at": due_at, "payload": payload or {}}
    if kind in _policies:
        defaults["max_attempts"] = _policies[kind].max_attempts
    item, created = WorkItem.objects.get_or_create(key=key, defaults=defaults)
    if created and due_at <= now:
        transaction.on_commit(lambda: work_wake([(item.pk, item.kind)], now=now))
    return item


def work_cancel(*, key_prefix: str, now: datetime) -> int:
    """Cancel pending items whose key starts with `key_prefix` (no longer needed).

    An item a worker is running right now is locked, or claimed, and left
    alone (SKIP LOCKED): waiting for it could deadlock with its handler, which
    waits for the row our caller holds (a hand-off, say). Handlers re-check the
    state they act on, so that item finds nothing to do once our change commits.
    """
    cancellable = (
        WorkItem.objects.select_for_update(skip_locked=True)
        .filter(key__startswith=key_prefix, status=WorkStatus.PENDING)
        .filter(_unclaimed(now))
        .values_list("pk", flat=True)
    )
    return WorkItem.objects.filter(pk__in=list(cancellable)).update(
        status=WorkStatus.CANCELLED, finished_at=now, updated_at=now
    )


def queue_for(kind: str) -> str:
    """Each family of work has its queue, so each can get its own workers."""
    family = kind.split(".", 1)[0]
    return QUEUES.get(family, "default")


def work_wake(items: list[tuple[UUID, str]], *, now: datetime | None = None) -> int:
    """Send one wake-up per (id, kind) through Celery; returns how many were sent.

    A broker that is down is not an error here: the rows are safe in the
    database and the sweep sends their wake-ups again once it is back.
    """
    from celery import current_app

    now = resolve_now(now)
    eager = current_app.conf.task_always_eager
    if eager and RUN_TASK not in current_app.tasks:
        # A web or command process has not imported the task modules yet.
        current_app.loader.import_default_modules()
    # Mark the wake-ups first, skipping rows a worker holds right now (it is
    # running them: no wake-up needed, and waiting could block this caller).
    kinds = dict(items)
    with transaction.atomic():
        free = list(
            WorkItem.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(kinds), status=WorkStatus.PENDING)
            .values_list("pk", flat=True)
        )
        WorkItem.objects.filter(pk__in=free).update(woken_at=now)
    sent = []
    for item_id, kind in ((pk, kinds[pk]) for pk in free):
        try:
            if eager:
                # No broker (the embedded demo): run in this process, now.
                current_app.tasks[RUN_TASK].apply(args=[str(item_id)])
            else:
                current_app.send_task(
                    RUN_TASK, args=[str(item_id)], queue=queue_for(kind), retry=False
                )
            sent.append(item_id)
        except Exception:
            logger.warning("Could not wake a worker for work item %s", item_id, exc_info=True)
            if not eager:
                break  # the broker is unreachable: the next sweep sends the rest
            # In-process, one item's failure says nothing about the others.
    unsent = [pk for pk in free if pk not in sent]
    if unsent:  # so that the next sweep sends them without waiting for the grace
        WorkItem.objects.filter(pk__in=unsent, woken_at=now).update(woken_at=None)
    return len(sent)


def work_due(*, now: datetime, limit: int = 500) -> list[tuple[UUID, str]]:
    """Pending items that are due, not claimed by a run, and whose last wake-up
    is older than the grace."""
    stale = now - WAKE_GRACE
    return list(
        WorkItem.objects.filter(status=WorkStatus.PENDING, due_at__lte=now)
        .filter(_unclaimed(now))
        .filter(Q(woken_at__isnull=True) | Q(woken_at__lt=stale))
        .order_by("due_at")
        .values_list("pk", "kind")[:limit]
    )


def work_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Wake a worker for every due, pending item (late, lost or never sent)."""
    now = resolve_now(now)
    return work_wake(work_due(now=now, limit=limit), now=now)


# --- running -----------------------------------------------------------------


def work_run(item_id: UUID | str, *, now: datetime | None = None) -> str:
    """Claim one item, run its handler and mark it done, once.

    Two transactions. The first counts the attempt and commits, so that a run
    which kills its worker (out of memory, the hard time limit) still counts,
    and an item that keeps doing so ends as "failed" instead of looping. The
    second runs the handler and marks the row done under the row lock, so its
    effects and "done" commit together or not at all. An outside handler's
    kind runs in three steps instead (_run_outside), and its first transaction
    also takes the lease.

    Returns what happened: "done", "skipped" (done already, not due, claimed
    or held by another run), "retry" or "failed".
    """
    now = resolve_now(now)
    with transaction.atomic():
        item = (
            WorkItem.objects.select_for_update(skip_locked=True)
            .filter(pk=item_id, status=WorkStatus.PENDING, due_at__lte=now)
            .filter(_unclaimed(now))
            .first()
        )
        if item is None:
            return "skipped"
        if item.attempts >= item.max_attempts:
            item.status = WorkStatus.FAILED
            item.finished_at = now
            item.claimed_until = None
            item.last_error = item.last_error or "Gave up: every attempt ended its worker."
            item.save(
                update_fields=["status", "finished_at", "claimed_until", "last_error", "updated_at"]
            )
            _after_failure(item, None, now)
            return "failed"
        item.attempts += 1
        handler = _outside_handler(item.kind)
        if handler is not None:
            item.claimed_until = now + handler.lease
        item.save(update_fields=["attempts", "claimed_until", "updated_at"])
    if handler is not None:
        return _run_outside(item_id, handler, claim=item.attempts, now=now)
    try:
        with transaction.atomic():
            item = (
                WorkItem.objects.select_for_update(skip_locked=True)
                .filter(pk=item_id, status=WorkStatus.PENDING)
                .first()
            )
            if item is None:
                return "skipped"
            _handler_for(item.kind)(item, now)
            _mark_done(item, now)
            _test_delay_before_commit()
            return "done"
    except Exception as exc:
        logger.exception("Work item %s failed", item_id)
        return _record_failure(item_id, exc, now)


def _run_outside(item_id, handler: OutsideHandler, *, claim: int, now: datetime) -> str:
    """prepare, perform, settle: the call in the middle holds no transaction and
    no lock. `claim` is the attempt this run counted: a later run that took
    the item after our lease lapsed has counted another, and ours then records
    nothing (its call was made, which the receiver's idempotency covers)."""
    prepared = None
    try:
        with transaction.atomic():
            item = _claimed(item_id, claim)
            if item is None:
                return "skipped"
            prepared = handler.prepare(item, now)
            if prepared is None:
                _mark_done(item, now)
                return "done"
        result = handler.perform(prepared)
        with transaction.atomic():
            item = _claimed(item_id, claim)
            if item is None:
                return "skipped"
            handler.settle(item, prepared, result, now)
            _mark_done(item, now)
            return "done"
    except Exception as exc:
        logger.exception("Work item %s failed", item_id)
        return _record_failure(item_id, exc, now, claim=claim, prepared=prepared)


def _outside_handler(kind: str) -> OutsideHandler | None:
    try:
        handler = _handler_for(kind)
    except KeyError:
        return None  # an unknown kind fails in the handler's step, where it is recorded
    return handler if isinstance(handler, OutsideHandler) else None


def _claimed(item_id, claim: int) -> WorkItem | None:
    """The item, locked, if it is pending and still claimed by the run that
    counted attempt `claim`. Its lock is only ever held for short
    transactions, so this waits, briefly, rather than skipping."""
    return (
        WorkItem.objects.select_for_update()
        .filter(pk=item_id, status=WorkStatus.PENDING, attempts=claim)
        .first()
    )


def _mark_done(item: WorkItem, now: datetime) -> None:
    item.status = WorkStatus.DONE
    item.finished_at = now
    item.last_error = ""
    item.claimed_until = None
    item.save(update_fields=["status", "finished_at", "last_error", "claimed_until", "updated_at"])


# Test-only (tests/workers): seconds to hold a finished but uncommitted run
# open, so that a test can kill a worker in the middle of a task or make two
# workers race for one item. Never set outside those tests; unset, it is inert.
TEST_DELAY_ENV = "CONTINUUM_WORK_TEST_DELAY_SECONDS"


def _test_delay_before_commit() -> None:
    delay = os.environ.get(TEST_DELAY_ENV)
    if delay:
        time.sleep(float(delay))


def _record_failure(
    item_id, exc: Exception, now: datetime, *, claim: int | None = None, prepared: Any = None
) -> str:
    with transaction.atomic():
        item = WorkItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None or item.status != WorkStatus.PENDING:
            return "skipped"
        if claim is not None and item.attempts != claim:
            return "skipped"  # another run claimed it since: that run decides
        # The attempt was counted when it was claimed.
        item.claimed_until = None
        item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if item.attempts >= item.max_attempts:
            item.status = WorkStatus.FAILED
            item.finished_at = now
            outcome = "failed"
        else:
            item.due_at = now + _retry_delay(item.kind, item.attempts)
            item.woken_at = None
            outcome = "retry"
        item.save()
        _after_failure(item, exc, now, prepared)
        return outcome


# --- observing -----------------------------------------------------------------


def work_status(*, now: datetime | None = None) -> dict:
    """Counts per kind and status, and the oldest pending item.

    `overdue`: pending items due longer ago than the wake-up grace, i.e. work
    that a healthy system would have done by now.
    """
    now = resolve_now(now)
    late = now - WAKE_GRACE
    kinds: dict[str, dict] = {}
    rows = WorkItem.objects.values("kind").annotate(
        pending=Count("pk", filter=Q(status=WorkStatus.PENDING)),
        overdue=Count("pk", filter=Q(status=WorkStatus.PENDING, due_at__lte=late)),
        failed=Count("pk", filter=Q(status=WorkStatus.FAILED)),
        done=Count("pk", filter=Q(status=WorkStatus.DONE)),
        cancelled=Count("pk", filter=Q(status=WorkStatus.CANCELLED)),
        oldest_pending_due_at=Min("due_at", filter=Q(status=WorkStatus.PENDING)),
    )
    for row in rows.order_by("kind"):
        kinds[row.pop("kind")] = row
    oldest = (
        WorkItem.objects.filter(status=WorkStatus.PENDING)
        .order_by("due_at", "created_at")
        .values("id", "kind", "key", "due_at", "attempts", "last_error", "created_at")
        .first()
    )
    return {"at": now, "kinds": kinds, "oldest_pending": oldest}
