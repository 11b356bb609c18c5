"""Hand-offs between care teams, and the scheduled work that follows them.

    transfer approved  -> handoff_open: checklist from the templates, and
                          durable work: tell the receiving team now; escalate
                          at the acknowledgement deadline (to the receiving
                          site's managers) and at a second deadline one SLA
                          later (to the organisation admins); remind both
                          sides at 09:00 site time the day before the move
    acknowledged       -> the escalations still pending are cancelled
    transfer completed -> handoff closed (open mandatory items need an override)
    declined/cancelled -> handoff cancelled with its pending work

Each escalation happens at most once: the handler records the level on the
hand-off under a row lock, and both the work item and the notification are
unique by key.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from backend.audit.models import AuditAction
from backend.care.models import Transfer
from backend.handoffs.models import (
    ChecklistTemplateItem,
    Handoff,
    HandoffItem,
    HandoffStatus,
)
from backend.work.models import WorkItem
from services import access
from services.audit import audit_record
from services.clock import resolve_now
from services.errors import Conflict, IllegalTransition, NotFound
from services.notifications import notify
from services.work import work_cancel, work_handler, work_schedule

NOTIFY_KIND = "handoff.notify"
ESCALATE_KIND = "handoff.escalate"
REMIND_KIND = "handoff.remind"
REMINDER_LOCAL_TIME = time(9, 0)

MSG_OPEN_MANDATORY_ITEMS = (
    "The hand-off has open mandatory items; complete them or give handoff_override_reason."
)


class HandoffIncomplete(Conflict):
    code = "handoff_incomplete"
    default_message = MSG_OPEN_MANDATORY_ITEMS


def checklist_for(transfer: Transfer) -> list[tuple[str, bool]]:
    """(label, mandatory) of every active template matching the move, in
    template then position order; a label that two templates share appears once."""
    items = (
        ChecklistTemplateItem.objects.filter(template__is_active=True)
        .filter(
            Q(template__from_level__isnull=True)
            | Q(template__from_level_id=transfer.from_program.level_id),
            Q(template__to_level__isnull=True)
            | Q(template__to_level_id=transfer.to_program.level_id),
        )
        .order_by("template__name", "position", "id")
        .values_list("label", "mandatory")
    )
    seen: dict[str, bool] = {}
    for label, mandatory in items:
        seen[label] = seen.get(label, False) or mandatory
    return list(seen.items())


def _work_key(handoff: Handoff, what: str) -> str:
    return f"handoff:{handoff.pk}:{what}"


def handoff_open(*, transfer: Transfer, now: datetime) -> Handoff:
    """Open the hand-off of an approved transfer (inside transfer_approve's transaction)."""
    to_program, from_program = transfer.to_program, transfer.from_program
    sla = timedelta(minutes=to_program.handoff_ack_minutes)
    handoff = Handoff.objects.create(
        transfer=transfer,
        sending_site_id=from_program.site_id,
        receiving_site_id=to_program.site_id,
        clinical_notes=transfer.handoff_notes,
        created_at=now,
        acknowledge_due_at=now + sla,
    )
    HandoffItem.objects.bulk_create(
        HandoffItem(handoff=handoff, position=index, label=label, mandatory=mandatory)
        for index, (label, mandatory) in enumerate(checklist_for(transfer), start=1)
    )
    payload = {"handoff": str(handoff.pk)}
    work_schedule(
        kind=NOTIFY_KIND, key=_work_key(handoff, "created"), due_at=now, payload=payload, now=now
    )
    for level, due_at in ((1, handoff.acknowledge_due_at), (2, handoff.acknowledge_due_at + sla)):
        work_schedule(
            kind=ESCALATE_KIND,
            key=_work_key(handoff, f"escalate:{level}"),
            due_at=due_at,
            payload={**payload, "level": level},
            now=now,
        )
    if transfer.planned_for is not None:
        zone = to_program.site.zone
        day_before = transfer.planned_for - timedelta(days=1)
        remind_at = datetime.combine(day_before, REMINDER_LOCAL_TIME, tzinfo=zone)
        if remind_at > now:
            work_schedule(
                kind=REMIND_KIND,
                key=_work_key(handoff, "remind"),
                due_at=remind_at,
                payload=payload,
                now=now,
            )
    return handoff


def _locked(handoff_id) -> Handoff:
    return (
        Handoff.objects.select_for_update(of=("self",))
        .select_related("transfer__to_program__site", "transfer__from_program__site")
        .get(pk=handoff_id)
    )


@transaction.atomic
def handoff_acknowledge(
    *, actor: AbstractBaseUser, handoff: Handoff, now: datetime | None = None
) -> Handoff:
    """The receiving team has seen it: the pending escalations are called off."""
    now = resolve_now(now)
    handoff = _locked(handoff.pk)
    access.require_program_team(actor, handoff.transfer.to_program)
    if handoff.status != HandoffStatus.OPEN:
        raise IllegalTransition(f"A hand-off that is {handoff.status} cannot be acknowledged.")
    handoff.status = HandoffStatus.ACKNOWLEDGED
    handoff.acknowledged_at = now
    handoff.acknowledged_by = actor
    handoff.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    work_cancel(key_prefix=_work_key(handoff, "escalate:"), now=now)
    audit_record(
        actor=actor,
        action=AuditAction.HANDOFF_ACKNOWLEDGE,
        object_type="handoff",
        object_id=handoff.pk,
        client_id=handoff.transfer.client_id,
        now=now,
    )
    return handoff


@transaction.atomic
def handoff_item_complete(
    *,
    actor: AbstractBaseUser,
    handoff: Handoff,
    item_id,
    note: str = "",
    now: datetime | None = None,
) -> HandoffItem:
    """Tick one checklist item (the receiving team); ticking twice keeps the first tick."""
    now = resolve_now(now)
    handoff = _locked(handoff.pk)
    access.require_program_team(actor, handoff.transfer.to_program)
    if handoff.status not in (HandoffStatus.OPEN, HandoffStatus.ACKNOWLEDGED):
        raise IllegalTransition(f"A hand-off that is {handoff.status} cannot be changed.")
    try:
        item = handoff.items.select_for_update().get(pk=item_id)
    except (HandoffItem.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFound() from exc
    if item.completed_at is None:
        item.completed_at = now
        item.completed_by = actor
        item.note = note
        item.save(update_fields=["completed_at", "completed_by", "note"])
        audit_record(
            actor=actor,
            action=AuditAction.HANDOFF_ITEM_COMPLETE,
            object_type="handoff",
            object_id=handoff.pk,
            client_id=handoff.transfer.client_id,
            detail={"item": str(item.pk)},
            now=now,
        )
    return item


def handoff_close_for(
    *, transfer: Transfer, actor: AbstractBaseUser, override_reason: str, now: datetime
) -> None:
    """On arrival (inside transfer_complete): close the hand-off, refusing while
    mandatory items are open unless an override reason is given."""
    handoff = Handoff.objects.select_for_update().filter(transfer=transfer).first()
    if handoff is None:
        return
    open_items = list(
        handoff.items.filter(mandatory=True, completed_at__isnull=True).values_list(
            "label", flat=True
        )
    )
    if open_items and not override_reason.strip():
        raise HandoffIncomplete(
            f"{MSG_OPEN_MANDATORY_ITEMS} Open: {', '.join(open_items)}.",
            field="handoff_override_reason",
        )
    if not open_items and override_reason:
        override_reason = ""  # nothing was overridden
    handoff.status = HandoffStatus.CLOSED
    handoff.closed_at = now
    handoff.closed_by = actor
    handoff.override_reason = override_reason
    handoff.save(update_fields=["status", "closed_at", "closed_by", "override_reason"])
    work_cancel(key_prefix=_work_key(handoff, ""), now=now)


def handoff_cancel_for(*, transfer: Transfer, now: datetime) -> None:
    """The transfer was declined or cancelled: nothing more to hand off."""
    handoff = Handoff.objects.select_for_update().filter(transfer=transfer).first()
    if handoff is None or handoff.status in (HandoffStatus.CLOSED, HandoffStatus.CANCELLED):
        return
    handoff.status = HandoffStatus.CANCELLED
    handoff.closed_at = now
    handoff.save(update_fields=["status", "closed_at"])
    work_cancel(key_prefix=_work_key(handoff, ""), now=now)


# --- scheduled work ------------------------------------------------------------


def _describe(handoff: Handoff) -> tuple[str, str]:
    # Minimum necessary: the programs and the link, never the client's name or MRN nor
    # clinical notes (docs/security.md, "Logs"); the link shows who, to those who may see.
    transfer = handoff.transfer
    when = f" planned for {transfer.planned_for:%Y-%m-%d}" if transfer.planned_for else ""
    subject = f"from {transfer.from_program} to {transfer.to_program}"
    return subject, f"Hand-off /api/v1/handoffs/{handoff.pk}/{when}."


def _for_work(item: WorkItem) -> Handoff:
    return (
        Handoff.objects.select_for_update(of=("self",))
        .select_related(
            "transfer__client", "transfer__to_program__site", "transfer__from_program__site"
        )
        .get(pk=item.payload["handoff"])
    )


def _notify_about(handoff: Handoff, *, recipients, kind: str, title: str, body: str, key: str, now):
    notify(
        recipients=recipients,
        kind=kind,
        title=title,
        body=body,
        key=_work_key(handoff, key),
        subject_type="handoff",
        subject_id=handoff.pk,
        now=now,
    )


@work_handler(NOTIFY_KIND)
def _notify_receiving_team(item: WorkItem, now: datetime) -> None:
    handoff = _for_work(item)
    if handoff.status in (HandoffStatus.CLOSED, HandoffStatus.CANCELLED):
        return
    subject, body = _describe(handoff)
    _notify_about(
        handoff,
        recipients=access.program_team(handoff.transfer.to_program),
        kind="handoff.created",
        title=f"Incoming transfer: {subject}",
        body=f"{body} Please acknowledge by {handoff.acknowledge_due_at:%Y-%m-%d %H:%M} UTC.",
        key="created",
        now=now,
    )


@work_handler(ESCALATE_KIND)
def _escalate(item: WorkItem, now: datetime) -> None:
    handoff = _for_work(item)
    level = int(item.payload["level"])
    if handoff.status != HandoffStatus.OPEN or handoff.escalation_level >= level:
        return  # acknowledged in time, closed, or escalated already
    # Every level not yet reached is alerted now: if level 1 was still being
    # retried when level 2 came due, the site's managers still hear of it.
    skipped_levels = range(handoff.escalation_level + 1, level + 1)
    handoff.escalation_level = level
    handoff.save(update_fields=["escalation_level"])
    subject, body = _describe(handoff)
    for reached in skipped_levels:
        if reached == 1:
            recipients = access.site_managers(handoff.transfer.to_program.site)
        else:
            recipients = access.organisation_admins()
        _notify_about(
            handoff,
            recipients=recipients,
            kind="handoff.escalated",
            title=f"Hand-off not acknowledged: {subject}",
            body=f"{body} It was due by {handoff.acknowledge_due_at:%Y-%m-%d %H:%M} UTC.",
            key=f"escalated:{reached}",
            now=now,
        )


@work_handler(REMIND_KIND)
def _remind_both_sides(item: WorkItem, now: datetime) -> None:
    handoff = _for_work(item)
    if handoff.status in (HandoffStatus.CLOSED, HandoffStatus.CANCELLED):
        return
    subject, body = _describe(handoff)
    transfer = handoff.transfer
    _notify_about(
        handoff,
        recipients=access.program_team(transfer.from_program)
        + access.program_team(transfer.to_program),
        kind="handoff.reminder",
        title=f"Transfer tomorrow: {subject}",
        body=body,
        key="reminder",
        now=now,
    )
