"""Transfers between programs: the hand-off of a client from one care team to another.

States and who may move them (the sending side is the care team of the
client's current program, the receiving side that of the destination):

    requested --approve (receiving)--> approved --complete (receiving)--> completed
    requested --decline (receiving)--> declined
    approved  --decline (receiving)--> declined   (the reservation is released)
    requested | approved --cancel (sending)--> cancelled

Approval reserves a place in the destination (it counts against capacity
until the client arrives); completion closes the old placement and opens the
new one at the same instant, in one transaction (HL7 ADT A02).
"""

from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from backend.audit.models import AuditAction
from backend.care.models import (
    Client,
    Placement,
    Transfer,
    TransferEvent,
    TransferStatus,
)
from backend.network.models import Program
from services import access, handoffs, reactions, webhooks
from services.audit import audit_record
from services.capacity import capacity_claim
from services.census_history import census_history_changed, census_history_lock
from services.clock import check_not_future, resolve_now
from services.errors import (
    MSG_ARRIVAL_BEFORE_APPROVAL,
    MSG_BEFORE_PLACEMENT,
    MSG_PLANNED_IN_PAST,
    MSG_PROGRAM_INACTIVE,
    MSG_REASON_REQUIRED,
    MSG_SAME_PROGRAM,
    ClientNotInCare,
    InvalidInput,
    TransferAlreadyActive,
    illegal_transition,
)
from services.locks import client_lock, program_lock, transfer_lock

# Which states each action may start from.
ALLOWED_FROM = {
    "approved": {TransferStatus.REQUESTED},
    "declined": {TransferStatus.REQUESTED, TransferStatus.APPROVED},
    "cancelled": {TransferStatus.REQUESTED, TransferStatus.APPROVED},
    "completed": {TransferStatus.APPROVED},
}

AUDIT_ACTIONS = {
    TransferStatus.REQUESTED: AuditAction.TRANSFER_REQUEST,
    TransferStatus.APPROVED: AuditAction.TRANSFER_APPROVE,
    TransferStatus.DECLINED: AuditAction.TRANSFER_DECLINE,
    TransferStatus.CANCELLED: AuditAction.TRANSFER_CANCEL,
    TransferStatus.COMPLETED: AuditAction.TRANSFER_COMPLETE,
}


def record_transition(
    *,
    transfer: Transfer,
    to_status: TransferStatus,
    actor: AbstractBaseUser,
    reason: str = "",
    now: datetime,
    detail: dict | None = None,
) -> TransferEvent:
    """Move a locked transfer to `to_status`, writing its event and audit rows."""
    from_status = transfer.status
    transfer.status = to_status
    transfer.updated_at = now
    transfer.save(
        update_fields=["status", "updated_at", "to_placement", "capacity_override_reason"]
    )
    # The destination's holds changed at `now` (reserved from approval to the end).
    census_history_changed(programs=[transfer.to_program], since=now)
    event = TransferEvent.objects.create(
        transfer=transfer,
        number=transfer.events.count() + 1,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        at=now,
        reason=reason,
    )
    if to_status in (TransferStatus.DECLINED, TransferStatus.CANCELLED):
        handoffs.handoff_cancel_for(transfer=transfer, now=now)
        reactions.after_transfer_end(transfer=transfer, actor=actor, now=now)
    audit_record(
        actor=actor,
        action=AUDIT_ACTIONS[to_status],
        object_type="transfer",
        object_id=transfer.pk,
        client_id=transfer.client_id,
        detail=detail,
        now=now,
    )
    return event


def _check_can_move(transfer: Transfer, action: str) -> None:
    if transfer.status not in ALLOWED_FROM[action]:
        raise illegal_transition(transfer.status, action)


def _require_reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise InvalidInput(MSG_REASON_REQUIRED, field="reason")
    return reason.strip()


@transaction.atomic
def transfer_request(
    *,
    actor: AbstractBaseUser,
    client: Client,
    to_program: Program,
    planned_for: date | None = None,
    reason: str = "",
    handoff_notes: str = "",
    now: datetime | None = None,
) -> Transfer:
    """The sending side asks to move the client from their current program to `to_program`."""
    now = resolve_now(now)
    client = client_lock(client.pk)
    placement = (
        Placement.objects.select_related("program__level", "program__site", "episode")
        .filter(client=client, ended_at__isnull=True)
        .first()
    )
    if placement is None:
        raise ClientNotInCare()
    access.require_program_team(actor, placement.program)
    if to_program.pk == placement.program_id:
        raise InvalidInput(MSG_SAME_PROGRAM, field="to_program")
    if not to_program.is_active:
        raise InvalidInput(MSG_PROGRAM_INACTIVE, field="to_program")
    if planned_for is not None:
        today_there = now.astimezone(to_program.site.zone).date()
        if planned_for < today_there:
            raise InvalidInput(MSG_PLANNED_IN_PAST, field="planned_for")
    if Transfer.objects.filter(client=client, status__in=ALLOWED_FROM["cancelled"]).exists():
        raise TransferAlreadyActive()

    try:
        with transaction.atomic():
            transfer = Transfer.objects.create(
                client=client,
                episode=placement.episode,
                from_placement=placement,
                from_program=placement.program,
                to_program=to_program,
                planned_for=planned_for,
                reason=reason,
                handoff_notes=handoff_notes,
                requested_at=now,
                requested_by=actor,
                updated_at=now,
            )
    except IntegrityError as exc:
        raise TransferAlreadyActive() from exc
    TransferEvent.objects.create(
        transfer=transfer,
        number=1,
        to_status=TransferStatus.REQUESTED,
        actor=actor,
        at=now,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action=AuditAction.TRANSFER_REQUEST,
        object_type="transfer",
        object_id=transfer.pk,
        client_id=client.pk,
        detail={"to_program": str(to_program.pk), "direction": transfer.direction},
        now=now,
    )
    return transfer


@transaction.atomic
def transfer_approve(
    *,
    actor: AbstractBaseUser,
    transfer: Transfer,
    reason: str = "",
    capacity_override_reason: str = "",
    now: datetime | None = None,
) -> Transfer:
    """The receiving side accepts; this reserves a place in the destination program."""
    now = resolve_now(now)
    client_lock(transfer.client_id)
    transfer = transfer_lock(transfer.pk)
    access.require_program_team(actor, transfer.to_program)
    _check_can_move(transfer, "approved")
    program = program_lock(transfer.to_program_id)
    if capacity_claim(actor=actor, program=program, override_reason=capacity_override_reason):
        transfer.capacity_override_reason = capacity_override_reason
    record_transition(
        transfer=transfer,
        to_status=TransferStatus.APPROVED,
        actor=actor,
        reason=reason,
        now=now,
        detail={"capacity_override_reason": transfer.capacity_override_reason}
        if transfer.capacity_override_reason
        else None,
    )
    handoffs.handoff_open(transfer=transfer, now=now)
    return transfer


def _end_without_move(
    *, actor, transfer: Transfer, to_status: TransferStatus, side: str, reason: str, now
) -> Transfer:
    """Decline or cancel: a reason is required, and nobody moves."""
    now = resolve_now(now)
    client_lock(transfer.client_id)
    transfer = transfer_lock(transfer.pk)
    access.require_program_team(actor, getattr(transfer, side))
    _check_can_move(transfer, to_status)
    record_transition(
        transfer=transfer,
        to_status=to_status,
        actor=actor,
        reason=_require_reason(reason),
        now=now,
    )
    return transfer


@transaction.atomic
def transfer_decline(
    *, actor: AbstractBaseUser, transfer: Transfer, reason: str, now: datetime | None = None
) -> Transfer:
    """The receiving side refuses (before or after approving); a reason is required."""
    return _end_without_move(
        actor=actor,
        transfer=transfer,
        to_status=TransferStatus.DECLINED,
        side="to_program",
        reason=reason,
        now=now,
    )


@transaction.atomic
def transfer_cancel(
    *, actor: AbstractBaseUser, transfer: Transfer, reason: str, now: datetime | None = None
) -> Transfer:
    """The sending side withdraws its request; a reason is required."""
    return _end_without_move(
        actor=actor,
        transfer=transfer,
        to_status=TransferStatus.CANCELLED,
        side="from_program",
        reason=reason,
        now=now,
    )


@transaction.atomic
def transfer_complete(
    *,
    actor: AbstractBaseUser,
    transfer: Transfer,
    arrived_at: datetime | None = None,
    reason: str = "",
    handoff_override_reason: str = "",
    now: datetime | None = None,
) -> Transfer:
    """The client arrived: close the old placement and open the new one at `arrived_at`.

    The hand-off closes with it; while mandatory checklist items are open,
    completion needs `handoff_override_reason` (recorded on the hand-off)."""
    now = resolve_now(now)
    arrived_at = arrived_at or now
    check_not_future(arrived_at, now, "arrived_at")
    census_history_lock(at=arrived_at, now=now)
    client_lock(transfer.client_id)
    transfer = transfer_lock(transfer.pk)
    access.require_program_team(actor, transfer.to_program)
    _check_can_move(transfer, "completed")
    old = transfer.from_placement
    if arrived_at <= old.started_at:
        raise InvalidInput(MSG_BEFORE_PLACEMENT, field="arrived_at")
    approved_at = (
        transfer.events.filter(to_status=TransferStatus.APPROVED)
        .values_list("at", flat=True)
        .last()
    )
    if approved_at is not None and arrived_at < approved_at:
        # The place was reserved at approval: an arrival before it would
        # rewrite past census without any capacity check.
        raise InvalidInput(MSG_ARRIVAL_BEFORE_APPROVAL, field="arrived_at")

    handoffs.handoff_close_for(
        transfer=transfer, actor=actor, override_reason=handoff_override_reason, now=now
    )
    # The approval's reservation becomes the new placement: no capacity check here.
    old.ended_at = arrived_at
    old.save(update_fields=["ended_at"])
    transfer.to_placement = Placement.objects.create(
        episode_id=transfer.episode_id,
        client_id=transfer.client_id,
        program_id=transfer.to_program_id,
        started_at=arrived_at,
    )
    census_history_changed(programs=[transfer.from_program, transfer.to_program], since=arrived_at)
    record_transition(
        transfer=transfer,
        to_status=TransferStatus.COMPLETED,
        actor=actor,
        reason=reason,
        now=now,
        detail={"arrived_at": arrived_at.isoformat()},
    )
    _emit_moved(transfer, arrived_at=arrived_at, now=now)
    reactions.after_transfer_complete(transfer=transfer, actor=actor, now=now)
    return transfer


def _emit_moved(transfer: Transfer, *, arrived_at: datetime, now: datetime) -> None:
    """Webhooks: the client moved (to partners of either site), and places
    changed at both ends (once when both are the same site and level)."""
    origin, destination = transfer.from_program, transfer.to_program
    webhooks.webhook_emit(
        webhooks.WebhookEventType.CLIENT_TRANSFERRED,
        now=now,
        client_id=transfer.client_id,
        episode_id=transfer.episode_id,
        site_id=destination.site_id,
        from_site_id=origin.site_id if origin.site_id != destination.site_id else None,
        level=destination.level_id,
        occurred_at=arrived_at,
        data=webhooks.client_event_data(
            client_id=transfer.client_id,
            episode_id=transfer.episode_id,
            program=destination,
            at=arrived_at,
            from_program=str(origin.pk),
            from_site=str(origin.site_id),
            from_level=origin.level_id,
        ),
    )
    webhooks.availability_changed(program=destination, now=now)
    if (origin.site_id, origin.level_id) != (destination.site_id, destination.level_id):
        webhooks.availability_changed(program=origin, now=now)
