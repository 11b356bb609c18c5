"""Occupancy and reservations of programs, and the capacity rule.

occupied: the program's open placements; reserved: approved transfers into
it that have not arrived yet; available: capacity - occupied - reserved
(negative when a manager overrode the limit).
"""

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from backend.care.models import Placement, Transfer, TransferStatus
from backend.network.models import Program
from services import access
from services.errors import CapacityExceeded


def count_subquery(qs: QuerySet, grouped_by: str) -> Coalesce:
    """A correlated COUNT(*) subquery: `qs` is filtered on OuterRef, grouped by that column."""
    counted = qs.order_by().values(grouped_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def programs_with_occupancy(qs: QuerySet[Program] | None = None) -> QuerySet[Program]:
    """Annotate `occupied`, `reserved` and `available`, computed in SQL."""
    qs = Program.objects.all() if qs is None else qs
    occupied = Placement.objects.filter(program_id=OuterRef("pk"), ended_at__isnull=True)
    reserved = Transfer.objects.filter(to_program_id=OuterRef("pk"), status=TransferStatus.APPROVED)
    return qs.annotate(
        occupied=count_subquery(occupied, "program_id"),
        reserved=count_subquery(reserved, "to_program_id"),
    ).annotate(available=F("capacity") - F("occupied") - F("reserved"))


def capacity_claim(*, actor, program: Program, override_reason: str = "") -> bool:
    """Check that one more place fits; the caller holds the program's row lock.

    Over capacity, a site manager of the program's site may go ahead with a
    recorded reason; anyone else gets CapacityExceeded. Returns whether the
    override was used, so that the reason is recorded only when it was.
    """
    occupied = Placement.objects.filter(program=program, ended_at__isnull=True).count()
    reserved = Transfer.objects.filter(to_program=program, status=TransferStatus.APPROVED).count()
    if occupied + reserved < program.capacity:
        return False
    if not override_reason or not override_reason.strip():
        raise CapacityExceeded(
            f"{program} is full: {occupied} occupied and {reserved} reserved of {program.capacity}."
        )
    access.require_capacity_override(actor, program)
    return True
