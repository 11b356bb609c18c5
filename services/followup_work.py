"""The scheduled work of follow-ups: the scan, nudges, the morning digest, escalations.

    every 15 minutes (beat)   follow_up_scan(now), for each site-local day:
        scheduled | due, window closed      -> missed, and an escalation to the
                                               site's alumni leads
        scheduled, its due day has come     -> due, and a nudge to the client on
                                               each channel they consented to,
                                               at their next contact hours
        an assignee with due or overdue     -> their digest at 07:00 site time
    attempt_record (3rd failed attempt)     -> on_attempt_recorded: an escalation

Due dates live in the follow-up rows and the work in WorkItem rows
(services/work.py): no Celery ETA is ever days ahead. The scan's moves are
UPDATEs guarded on the status, over rows taken with FOR UPDATE SKIP LOCKED, so
a scan run twice, or two at once, moves each follow-up once; the side effects
are work items unique by key, scheduled in the transaction of the move, so
they happen once too. The scan reads open follow-ups through the partial
indexes on open statuses: its cost does not grow with completed history.

What a client receives never reveals treatment (42 CFR Part 2): a first name,
the configured sender and a number to call. Staff are told in-app (MRN and
milestone, the established minimum) and by email with a link only
(services/notifications.py). docs/aftercare.md, "Scheduled work".
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet

from backend.aftercare.models import (
    ACTIONABLE,
    NUDGE_CHANNELS,
    OPEN_FOLLOW_UP_STATUSES,
    AftercarePlan,
    AttemptResult,
    ContactAttempt,
    FollowUp,
    FollowUpNudge,
    FollowUpStatus,
)
from backend.network.models import Site
from backend.work.models import WorkItem
from services import access
from services.aftercare.courses import is_actionable
from services.aftercare.queue import follow_up_queue
from services.client_contact import client_channels
from services.clock import resolve_now, sites_by_local_day
from services.notifications import notify
from services.work import work_handler, work_schedule

logger = logging.getLogger(__name__)

NUDGE_KIND = "followup.nudge"
DIGEST_KIND = "followup.digest"
ESCALATE_KIND = "followup.escalate"

# Rows moved per transaction: each batch holds its row locks (and schedules
# its work) for one short transaction, so a service waiting on one of them
# waits for at most a batch; 500 moves take well under a second.
SCAN_BATCH = 500
DIGEST_LOCAL_TIME = time(7, 0)
# A digest that could not be sent by the afternoon is dropped: tomorrow's comes.
DIGEST_STALE_AFTER = timedelta(hours=12)

# Nudges go out inside the client's contact hours; without hours in the plan,
# inside these (site time), so that nobody is texted at night.
DEFAULT_CONTACT_HOURS = (time(9, 0), time(20, 0))

FAILED_ATTEMPTS_TO_ESCALATE = 3
REASON_ATTEMPTS = "attempts"
REASON_WINDOW = "window"


# --- who is told ------------------------------------------------------------------


def alumni_leads(site: Site) -> list[AbstractBaseUser]:
    """The site's alumni leads who still hold the alumni coordinator role."""
    return list(
        access.alumni_coordinators().filter(
            alumni_memberships__site=site, alumni_memberships__is_lead=True
        )
    )


def escalation_recipients(site: Site) -> list[AbstractBaseUser]:
    """The site's alumni leads; the organisation admins when it has none."""
    return alumni_leads(site) or access.organisation_admins()


# --- when a client may be contacted -------------------------------------------------


def contact_slot(
    plan: AftercarePlan, zone: ZoneInfo, *, after: datetime, last_day: date
) -> datetime | None:
    """The first instant from `after` inside the client's contact days and
    hours (site time), on or before `last_day`; None if there is none.
    Without hours in the plan, DEFAULT_CONTACT_HOURS."""
    start, end = plan.contact_hours_from, plan.contact_hours_to
    if start is None or end is None:
        start, end = DEFAULT_CONTACT_HOURS
    first_day = after.astimezone(zone).date()
    # Weekdays repeat: a week ahead is as far as a slot can be, if any.
    for offset in range(8):
        day = first_day + timedelta(days=offset)
        if day > last_day:
            return None
        if plan.contact_days and day.isoweekday() not in plan.contact_days:
            continue
        opens = datetime.combine(day, start, tzinfo=zone)
        closes = datetime.combine(day, end, tzinfo=zone)
        candidate = max(after, opens)
        if candidate < closes:
            return candidate.astimezone(UTC)
    return None


def nudge_text(follow_up: FollowUp) -> str:
    """A check-in that names no program, level or treatment: the message may be
    read by anyone holding the client's phone (42 CFR Part 2)."""
    client = follow_up.client
    name = client.preferred_name or client.first_name
    phone = follow_up.site.phone or settings.CLIENT_CONTACT_PHONE
    text = f"Hi {name}, this is {settings.CLIENT_CONTACT_SENDER} checking in."
    return f"{text} Reply or call {phone}." if phone else f"{text} Reply to this message."


# --- scheduling the work ------------------------------------------------------------


def _nudge_key(follow_up_id: UUID, channel: str) -> str:
    return f"followup:{follow_up_id}:nudge:{channel}"


def _escalation_key(follow_up_id: UUID, reason: str) -> str:
    return f"followup:{follow_up_id}:escalate:{reason}"


def _digest_key(user_id, day: date) -> str:
    return f"followup-digest:{user_id}:{day.isoformat()}"


def _nudge_channels(plan: AftercarePlan) -> list[str]:
    """The channels a nudge goes out on: consented, automatable and configured."""
    configured = settings.CLIENT_CONTACT_CHANNELS
    return [c for c in plan.consented_channels if c in NUDGE_CHANNELS and c in configured]


def _nudges_schedule(follow_up: FollowUp, now: datetime) -> int:
    channels = _nudge_channels(follow_up.plan)
    if not channels:
        return 0
    slot = contact_slot(
        follow_up.plan, follow_up.site.zone, after=now, last_day=follow_up.window_ends_on
    )
    if slot is None:
        return 0  # the client's days do not meet the window: the team calls
    for channel in channels:
        work_schedule(
            kind=NUDGE_KIND,
            key=_nudge_key(follow_up.pk, channel),
            due_at=slot,
            payload={"follow_up": str(follow_up.pk), "channel": channel},
            now=now,
        )
    return len(channels)


def _escalation_schedule(follow_up_id: UUID, reason: str, now: datetime) -> WorkItem:
    return work_schedule(
        kind=ESCALATE_KIND,
        key=_escalation_key(follow_up_id, reason),
        due_at=now,
        payload={"follow_up": str(follow_up_id), "reason": reason},
        now=now,
    )


def on_attempt_recorded(*, follow_up: FollowUp, now: datetime) -> None:
    """attempt_record, in its transaction: the third failed attempt (any result
    but reached) escalates the follow-up, once (the work item's key)."""
    failed = (
        ContactAttempt.objects.filter(follow_up=follow_up)
        .exclude(result=AttemptResult.REACHED)
        .count()
    )
    if failed >= FAILED_ATTEMPTS_TO_ESCALATE:
        _escalation_schedule(follow_up.pk, REASON_ATTEMPTS, now)


# --- the scan -----------------------------------------------------------------------


def windows_closed(today: date, site_ids: list[UUID]) -> QuerySet[FollowUp]:
    """Open follow-ups of these sites whose window ended before `today`, oldest
    first: the order lets PostgreSQL walk the partial index
    followup_open_window_ends and stop at the batch's end."""
    return FollowUp.objects.filter(
        site_id__in=site_ids, status__in=OPEN_FOLLOW_UP_STATUSES, window_ends_on__lt=today
    ).order_by("window_ends_on")


def days_come(today: date, site_ids: list[UUID]) -> QuerySet[FollowUp]:
    """Scheduled follow-ups of these sites whose due day has come, oldest first
    (the partial index followup_open_due_on, in its order). No condition on
    the window here: a bound on window_ends_on would tempt the planner into
    reading every future follow-up; _mark_due sorts the rare closed one out."""
    return FollowUp.objects.filter(
        site_id__in=site_ids, status=FollowUpStatus.SCHEDULED, due_on__lte=today
    ).order_by("due_on")


def due_or_overdue_assignees(today: date, site_ids: list[UUID]) -> QuerySet:
    """(assignee, site) pairs with follow-ups due or overdue `today` (served by a
    partial index on actionable follow-ups: _site or _assignee)."""
    return (
        FollowUp.objects.filter(
            ACTIONABLE, site_id__in=site_ids, due_on__lte=today, assignee__isnull=False
        )
        .order_by()
        .values_list("assignee_id", "site_id")
        .distinct()
    )


def _in_batches(rows: QuerySet[FollowUp], batch: int, act: Callable[[list], Counter]) -> Counter:
    """Take up to `batch` rows with FOR UPDATE SKIP LOCKED and act on them, one
    transaction per batch, until a batch comes back short. A row a service
    holds (an attempt being recorded) is skipped: the next scan takes it."""
    done: Counter = Counter()
    while True:
        with transaction.atomic():
            ids = list(
                rows.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch]
            )
            if ids:
                done += act(ids)
        if len(ids) < batch:
            return done


def _mark_missed(ids: list[UUID], *, today: date, now: datetime) -> Counter:
    """Those of `ids` (locked) whose window ended before `today` become missed,
    each with its escalation."""
    FollowUp.objects.filter(
        pk__in=ids, status__in=OPEN_FOLLOW_UP_STATUSES, window_ends_on__lt=today
    ).update(status=FollowUpStatus.MISSED, updated_at=now)
    moved = list(
        FollowUp.objects.filter(pk__in=ids, status=FollowUpStatus.MISSED).values_list(
            "pk", flat=True
        )
    )
    for follow_up_id in moved:
        _escalation_schedule(follow_up_id, REASON_WINDOW, now)
    return Counter(missed=len(moved), escalations=len(moved))


def _mark_due(ids: list[UUID], *, today: date, now: datetime) -> Counter:
    """`ids` (locked, scheduled, their day come) become due, each with its nudges.
    One whose window closed too (it was busy during the missed pass) becomes
    missed instead, so that every row taken leaves "scheduled" and the batches end."""
    counts = _mark_missed(ids, today=today, now=now)
    FollowUp.objects.filter(pk__in=ids, status=FollowUpStatus.SCHEDULED).update(
        status=FollowUpStatus.DUE, updated_at=now
    )
    moved = FollowUp.objects.filter(pk__in=ids, status=FollowUpStatus.DUE).select_related(
        "plan", "site"
    )
    for follow_up in moved:
        counts["due"] += 1
        counts["nudges"] += _nudges_schedule(follow_up, now)
    return counts


def _digests_schedule(
    today: date, site_ids: list[UUID], zones: dict[UUID, str], now: datetime
) -> int:
    """Each assignee with work due or overdue at these sites gets the day's digest
    at 07:00 at the first of their sites to reach the day. One per assignee and
    day (the key): the sites of other zones reaching the same day add nothing."""
    first_morning: dict = {}
    for user_id, site_id in due_or_overdue_assignees(today, site_ids):
        morning = datetime.combine(today, DIGEST_LOCAL_TIME, tzinfo=ZoneInfo(zones[site_id]))
        first_morning[user_id] = min(morning, first_morning.get(user_id, morning))
    # A day whose morning is long past (the first scan after a long outage)
    # gets no digest: the handler would drop it anyway.
    first_morning = {
        user_id: at for user_id, at in first_morning.items() if now - at <= DIGEST_STALE_AFTER
    }
    keys = {user_id: _digest_key(user_id, today) for user_id in first_morning}
    existing = set(WorkItem.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    scheduled = 0
    # In key order: two scans at once create the same keys in the same order,
    # so neither waits on the other in a circle.
    for user_id, key in sorted(keys.items(), key=lambda pair: pair[1]):
        if key in existing:
            continue
        at = first_morning[user_id].astimezone(UTC)
        work_schedule(
            kind=DIGEST_KIND,
            key=key,
            due_at=at,
            payload={"user": str(user_id), "day": today.isoformat(), "at": at.isoformat()},
            now=now,
        )
        scheduled += 1
    return scheduled


def follow_up_scan(*, now: datetime | None = None, batch: int = SCAN_BATCH) -> dict[str, int]:
    """Move follow-ups to missed and to due at each site's local day, and
    schedule what follows: escalations, nudges, digests. Idempotent: a second
    run at the same time finds nothing to move and nothing to schedule.

    Returns the counts: missed, due, escalations, nudges, digests (scheduled).
    """
    now = resolve_now(now)
    zones = dict(Site.objects.values_list("id", "time_zone"))
    counts: Counter = Counter(missed=0, due=0, escalations=0, nudges=0, digests=0)
    for today, site_ids in sites_by_local_day(now).items():
        # Closed windows first: a follow-up whose whole window passed while
        # the scan was not running goes straight to missed, with no nudge.
        counts += _in_batches(
            windows_closed(today, site_ids), batch, partial(_mark_missed, today=today, now=now)
        )
        counts += _in_batches(
            days_come(today, site_ids), batch, partial(_mark_due, today=today, now=now)
        )
        counts["digests"] += _digests_schedule(today, site_ids, zones, now)
    return {name: counts[name] for name in ("missed", "due", "escalations", "nudges", "digests")}


# --- the handlers (followups queue) -------------------------------------------------


def _follow_up(item: WorkItem) -> FollowUp:
    # Read, not locked: a handler that sends a message must not hold the
    # follow-up's row (and the coordinator recording an attempt) meanwhile.
    return FollowUp.objects.select_related("client", "plan", "site", "assignee").get(
        pk=item.payload["follow_up"]
    )


@work_handler(NUDGE_KIND)
def _nudge(item: WorkItem, now: datetime) -> None:
    """Send one nudge, if it is still wanted, inside the client's hours."""
    follow_up = _follow_up(item)
    channel = item.payload["channel"]
    if follow_up.status not in OPEN_FOLLOW_UP_STATUSES:
        return  # done, missed or ended meanwhile
    if channel not in _nudge_channels(follow_up.plan):
        return  # consent withdrawn, or the channel taken out of the settings
    if FollowUpNudge.objects.filter(follow_up=follow_up, channel=channel).exists():
        return
    zone = follow_up.site.zone
    slot = contact_slot(follow_up.plan, zone, after=now, last_day=follow_up.window_ends_on)
    if slot is None:
        return  # the window closes before the client's next hours
    if slot > now:
        # Late (the system was down, a retry backed off) and outside the
        # client's hours now: never text at night; wait for their next hours.
        work_schedule(
            kind=NUDGE_KIND,
            key=f"{_nudge_key(follow_up.pk, channel)}:{slot.astimezone(zone).date().isoformat()}",
            due_at=slot,
            payload=item.payload,
            now=now,
        )
        return
    sender = client_channels()[channel]
    address = getattr(follow_up.client, sender.address_field, "")
    if not address:
        logger.info("Follow-up %s: no %s address for the client; no nudge.", follow_up.pk, channel)
        return
    # Sent before the row is written: if the commit then fails, the work is
    # retried and the message may go twice (at least once, as email is).
    reference = sender.send(address, nudge_text(follow_up))
    FollowUpNudge.objects.create(
        follow_up=follow_up, channel=channel, sent_at=now, reference=(reference or "")[:200]
    )


@work_handler(ESCALATE_KIND)
def _escalate(item: WorkItem, now: datetime) -> None:
    follow_up = _follow_up(item)
    reason = item.payload["reason"]
    missed_and_open = follow_up.status == FollowUpStatus.MISSED and follow_up.ended_at is None
    if reason == REASON_WINDOW:
        wanted = missed_and_open
        what = f"Its window closed on {follow_up.window_ends_on:%Y-%m-%d} without an outcome."
    else:
        wanted = is_actionable(follow_up)
        what = (
            f"{FAILED_ATTEMPTS_TO_ESCALATE} contact attempts have not reached the client; "
            f"the window closes on {follow_up.window_ends_on:%Y-%m-%d}."
        )
    if not wanted:
        return  # completed, or its course ended, meanwhile
    assignee = follow_up.assignee.get_username() if follow_up.assignee else "nobody"
    notify(
        recipients=escalation_recipients(follow_up.site),
        kind="followup.escalated",
        # No identifier of the client: the link shows who, to those who may see them.
        title=f"Follow-up needs attention: {follow_up.milestone_name}",
        body=f"{what} Assigned to {assignee}. Follow-up /api/v1/follow-ups/{follow_up.pk}/.",
        key=f"followup:{follow_up.pk}:escalated:{reason}",
        subject_type="follow_up",
        subject_id=follow_up.pk,
        now=now,
    )


@work_handler(DIGEST_KIND)
def _digest(item: WorkItem, now: datetime) -> None:
    """The assignee's morning counts, in-app (and a link by email)."""
    if now - datetime.fromisoformat(item.payload["at"]) > DIGEST_STALE_AFTER:
        return  # a morning digest in the evening is noise: tomorrow's comes
    user = get_user_model().objects.filter(pk=item.payload["user"], is_active=True).first()
    if user is None:
        return

    def count(bucket: str) -> int:
        return follow_up_queue(user, bucket=bucket, assignee=user, now=now).count()

    due, overdue = count("due"), count("overdue")
    if not (due or overdue):
        return  # all done before 07:00
    notify(
        recipients=[user],
        kind="followup.digest",
        title=f"Your follow-ups today: {due} due, {overdue} overdue",
        body="Your queue: /api/v1/follow-ups/?assignee=me&status=due",
        key=item.key,
        now=now,
    )
