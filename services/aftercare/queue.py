"""The alumni team's queue: the follow-ups a user may see, due today, overdue,
upcoming or completed, where "today" is the calendar day at each follow-up's
site.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Q, QuerySet, Value, When
from django.db.models.fields import DateField

from backend.aftercare.models import (
    OPEN_FOLLOW_UP_STATUSES,
    FollowUp,
    FollowUpStatus,
)
from services import access
from services.clock import resolve_now, sites_by_local_day
from services.errors import (
    InvalidInput,
)


class QueueBucket(enum.StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"
    COMPLETED = "completed"


def _per_site_day(days: dict[date, list[UUID]], condition) -> Q:
    """OR over the local days: `condition(today)` for the sites living on that day.

    Comparing due_on with a constant per group, rather than with a computed
    column, keeps the partial indexes on due_on and window_ends_on usable."""
    combined = Q(pk__in=[])
    for today, site_ids in days.items():
        combined |= Q(site_id__in=site_ids) & condition(today)
    return combined


def follow_up_queue(
    user: AbstractBaseUser,
    *,
    bucket: str,
    assignee: AbstractBaseUser | None = None,
    site_id: UUID | None = None,
    now: datetime | None = None,
) -> QuerySet[FollowUp]:
    """A coordinator's queue: the follow-ups the user may see, in one bucket.

    "Today" is the calendar day at each follow-up's site:

    - due: open (scheduled or due), and due_on <= today <= window_ends_on;
    - overdue: open with window_ends_on < today, or missed and not ended;
    - upcoming: open, and today < due_on;
    - completed: completed, newest first.

    Each row carries `site_today`. Reads are audited by the caller per page
    (the API's base viewset, `audit_object_type = "follow_up"`).
    """
    now = resolve_now(now)
    try:
        bucket = QueueBucket(bucket)
    except ValueError as exc:
        # The API takes the bucket as its `status` query parameter.
        raise InvalidInput(f'"{bucket}" is not a queue bucket.', field="status") from exc
    follow_ups = access.follow_ups_visible_to(user)
    if assignee is not None:
        follow_ups = follow_ups.filter(assignee=assignee)
    if site_id is not None:
        follow_ups = follow_ups.filter(site_id=site_id)
    follow_ups = follow_ups.select_related("client", "site", "assignee")
    if bucket == QueueBucket.COMPLETED:
        return follow_ups.filter(status=FollowUpStatus.COMPLETED).order_by("-completed_at", "id")

    days = sites_by_local_day(now)
    follow_ups = follow_ups.annotate(
        site_today=Case(
            *(When(site_id__in=ids, then=Value(today)) for today, ids in days.items()),
            default=Value(None),
            output_field=DateField(),
        )
    )
    is_open = Q(status__in=OPEN_FOLLOW_UP_STATUSES)
    if bucket == QueueBucket.DUE:
        window_open = _per_site_day(
            days, lambda today: Q(due_on__lte=today, window_ends_on__gte=today)
        )
        return follow_ups.filter(is_open & window_open).order_by("window_ends_on", "due_on", "id")
    if bucket == QueueBucket.OVERDUE:
        window_closed = _per_site_day(days, lambda today: Q(window_ends_on__lt=today))
        missed = Q(status=FollowUpStatus.MISSED, ended_at__isnull=True)
        return follow_ups.filter((is_open & window_closed) | missed).order_by("due_on", "id")
    not_yet = _per_site_day(days, lambda today: Q(due_on__gt=today))
    return follow_ups.filter(is_open & not_yet).order_by("due_on", "id")
