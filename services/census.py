"""Census: who is where, against capacity, at an instant (issue 4, first part).

Census of a program at an instant `at`: its placements open at `at`
(started_at <= at < ended_at, or not ended). Reserved at `at`: transfers into
the program approved at or before `at` and neither completed, declined nor
cancelled by then, read from the transfers' event history so that a past
instant is answered as it was. Everything is one query, whatever the number
of sites and programs.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from backend.care.models import Placement, Transfer, TransferEvent, TransferStatus
from backend.network.models import LevelCode, Program
from services import access
from services.capacity import count_subquery
from services.clock import resolve_now

ENDED = (TransferStatus.COMPLETED, TransferStatus.DECLINED, TransferStatus.CANCELLED)


def programs_visible_for_census(user) -> QuerySet[Program]:
    """The programs whose census the user may read: those of their sites
    (alumni coordinators: alumni programs everywhere; org admins: all)."""
    scope = access.access_scope(user)
    if scope.is_org_admin:
        return Program.objects.all()
    visible = Q(site_id__in=list(scope.care_site_ids))
    if scope.is_alumni_coordinator:
        visible |= Q(level_id=LevelCode.ALUMNI)
    return Program.objects.filter(visible)


def census_at(*, user, at: datetime | None = None, site_id=None) -> list[dict]:
    """One row per visible program (of `site_id`, if given) with its census at `at`."""
    at = resolve_now(at)
    open_then = Placement.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at),
        program_id=OuterRef("pk"),
        started_at__lte=at,
    )
    approved_by_then = TransferEvent.objects.filter(
        transfer_id=OuterRef("pk"), to_status=TransferStatus.APPROVED, at__lte=at
    )
    ended_by_then = TransferEvent.objects.filter(
        transfer_id=OuterRef("pk"), to_status__in=ENDED, at__lte=at
    )
    reserved_then = Transfer.objects.filter(to_program_id=OuterRef("pk")).filter(
        Exists(approved_by_then), ~Exists(ended_by_then)
    )

    programs = programs_visible_for_census(user).filter(is_active=True)
    if site_id is not None:
        programs = programs.filter(site_id=site_id)
    rows = (
        programs.annotate(
            occupied=count_subquery(open_then, "program_id"),
            reserved=count_subquery(reserved_then, "to_program_id"),
        )
        .annotate(available=F("capacity") - F("occupied") - F("reserved"))
        .order_by("site__name", "level__position", "name", "id")
        .values(
            "id",
            "name",
            "site_id",
            "site__name",
            "level_id",
            "level__capacity_unit",
            "capacity",
            "occupied",
            "reserved",
            "available",
        )
    )
    out = []
    for row in rows:
        capacity = row["capacity"]
        out.append(
            {
                "program": row["id"],
                "program_name": row["name"],
                "site": row["site_id"],
                "site_name": row["site__name"],
                "level": row["level_id"],
                "capacity_unit": row["level__capacity_unit"],
                "capacity": capacity,
                "occupied": row["occupied"],
                "reserved": row["reserved"],
                "available": row["available"],
                "occupancy_percent": round(100 * row["occupied"] / capacity, 1)
                if capacity
                else None,
                "over_capacity": row["occupied"] + row["reserved"] > capacity,
            }
        )
    return out
