"""Referrals back into care, and what coordinators do with them.

A referral has a source (today: a follow-up of the alumni team whose outcome
was "needs readmission"), a target program, and a state: open, then admitted
or cancelled. It ends through the ordinary services: a discharged client is
admitted by episode_admit (referral_admit), a client still in the alumni
program moves by a step-up transfer that referral_open requests; either way
services/referrals/endings.py closes it in that service's transaction.
The receiving team is told once, by scheduled work.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from backend.aftercare.models import (
    FollowUp,
    Referral,
    ReferralOrigin,
    ReferralStatus,
)
from backend.audit.models import AuditAction
from backend.care.models import (
    Episode,
    Placement,
    ReferralSource,
)
from backend.network.models import LevelCode, Program
from backend.work.models import WorkItem
from services import access, episodes, transfers
from services.audit import audit_record
from services.clock import resolve_now
from services.errors import (
    MSG_NOT_ALUMNI_TEAM,
    MSG_PROGRAM_INACTIVE,
    MSG_REASON_REQUIRED,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotPermitted,
)
from services.locks import client_lock
from services.notifications import notify
from services.referrals.endings import referral_close
from services.work import work_handler, work_schedule

# The work that tells the receiving team: a followup.* kind, so on the followups queue.
REFERRAL_KIND = "followup.referral"

# The episode's referral source when admitted from a referral: the list has no
# "our own alumni team"; the Referral row says exactly where it came from.
REFERRAL_SOURCE = ReferralSource.OTHER

MSG_REFER_TO_TREATMENT = "Choose a treatment program, not an alumni program."

MSG_REFERRAL_OPEN = "The client already has an open referral back into care."

MSG_REFERRAL_VIA_TRANSFER = "This referral moves by its transfer; decline or cancel that instead."
MSG_PARTNER_REFERRAL_ADMIT = "A partner's referral is admitted into the program given with it."
MSG_PARTNER_REFERRAL_CANCEL = "A partner's referral is declined with a reason, not cancelled."


class ReferralAlreadyOpen(Conflict):
    code = "referral_open"
    default_message = MSG_REFERRAL_OPEN


def referral_target_check(program: Program) -> None:
    if not program.is_active:
        raise InvalidInput(MSG_PROGRAM_INACTIVE, field="refer_to_program")
    if program.level_id == LevelCode.ALUMNI:
        raise InvalidInput(MSG_REFER_TO_TREATMENT, field="refer_to_program")


def referral_open(
    *,
    actor: AbstractBaseUser,
    follow_up: FollowUp,
    to_program: Program,
    notes: str,
    now: datetime,
) -> Referral:
    """Refer the client back into care. A discharged client waits for the
    receiving team's admission (episode_admit links it). A client still in the
    alumni program moves by a step-up transfer, requested here by the actor as
    the sending side; its completion links it."""
    if Referral.objects.filter(client_id=follow_up.client_id, status=ReferralStatus.OPEN).exists():
        raise ReferralAlreadyOpen(field="refer_to_program")
    referral = Referral(
        source=ReferralOrigin.AFTERCARE,
        client_id=follow_up.client_id,
        from_episode_id=follow_up.episode_id,
        from_follow_up=follow_up,
        to_program=to_program,
        notes=notes,
        created_at=now,
        created_by=actor,
    )
    in_care = Placement.objects.filter(
        client_id=follow_up.client_id, ended_at__isnull=True
    ).exists()
    if in_care:
        try:
            referral.transfer = transfers.transfer_request(
                actor=actor,
                client=follow_up.client,
                to_program=to_program,
                reason=f"Referred back into care from the {follow_up.milestone_name} follow-up.",
                handoff_notes=notes,
                now=now,
            )
        except InvalidInput as exc:
            if exc.field == "to_program":
                raise InvalidInput(exc.message, field="refer_to_program") from exc
            raise
    try:
        with transaction.atomic():
            referral.save()
    except IntegrityError as exc:  # referral_one_open_per_client, behind the check above
        raise ReferralAlreadyOpen(field="refer_to_program") from exc
    on_referral_opened(referral=referral, now=now)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="referral",
        object_id=referral.pk,
        client_id=referral.client_id,
        detail={
            "to_program": str(to_program.pk),
            "follow_up": str(follow_up.pk),
            "transfer": str(referral.transfer_id) if referral.transfer_id else "",
        },
        now=now,
    )
    return referral


@transaction.atomic
def referral_admit(
    *,
    actor: AbstractBaseUser,
    referral: Referral,
    admitted_at: datetime | None = None,
    capacity_override_reason: str = "",
    now: datetime | None = None,
) -> Episode:
    """The receiving team admits a referred, discharged client into the
    referral's program: episode_admit, with all its rules (the program's care
    team, capacity), whose hook links the new episode to the referral.

    The receiving team may never have seen the client (a stay at another
    site); the open referral to its program is what lets it act here.
    """
    now = resolve_now(now)
    referral = Referral.objects.select_related("client", "to_program").get(pk=referral.pk)
    if referral.source == ReferralOrigin.PARTNER:
        raise IllegalTransition(MSG_PARTNER_REFERRAL_ADMIT)
    if referral.status != ReferralStatus.OPEN:
        raise IllegalTransition(f"A {referral.status} referral cannot be admitted.")
    if referral.transfer_id is not None:
        raise IllegalTransition(MSG_REFERRAL_VIA_TRANSFER)
    return episodes.episode_admit(
        actor=actor,
        client=referral.client,
        program=referral.to_program,
        admitted_at=admitted_at,
        referral_source=REFERRAL_SOURCE,
        capacity_override_reason=capacity_override_reason,
        now=now,
    )


@transaction.atomic
def referral_cancel(
    *, actor: AbstractBaseUser, referral: Referral, reason: str, now: datetime | None = None
) -> Referral:
    """Withdraw an open referral of a discharged client (the alumni team), or
    decline it (the receiving program's team). A referral that moves by a
    transfer ends with that transfer instead."""
    now = resolve_now(now)
    if referral.source == ReferralOrigin.PARTNER:
        raise IllegalTransition(MSG_PARTNER_REFERRAL_CANCEL)
    if not reason or not reason.strip():
        raise InvalidInput(MSG_REASON_REQUIRED, field="reason")
    limit = Referral._meta.get_field("cancelled_reason").max_length
    if len(reason.strip()) > limit:
        raise InvalidInput(f"At most {limit} characters.", field="reason")
    client_lock(referral.client_id)
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("to_program", "from_follow_up")
        .get(pk=referral.pk)
    )
    follow_up = referral.from_follow_up
    may = access.can_act_for_program(actor, referral.to_program) or (
        follow_up is not None and access.can_act_on_follow_up(actor, follow_up)
    )
    if not may:
        raise NotPermitted(MSG_NOT_ALUMNI_TEAM)
    if referral.status != ReferralStatus.OPEN:
        raise IllegalTransition(f"A {referral.status} referral cannot be cancelled.")
    if referral.transfer_id is not None:
        raise IllegalTransition(MSG_REFERRAL_VIA_TRANSFER)
    referral.cancelled_reason = reason.strip()
    referral_close(referral, ReferralStatus.CANCELLED, actor=actor, now=now)
    return referral


def on_referral_opened(*, referral: Referral, now: datetime) -> None:
    """referral_open, in its transaction: tell the receiving program's team, once.
    (A referral that moves by a transfer is told through the transfer instead.)"""
    if referral.transfer_id is None:
        work_schedule(
            kind=REFERRAL_KIND,
            key=f"referral:{referral.pk}:opened",
            due_at=now,
            payload={"referral": str(referral.pk)},
            now=now,
        )


@work_handler(REFERRAL_KIND)
def _tell_receiving_team(item: WorkItem, now: datetime) -> None:
    referral = Referral.objects.select_related("client", "to_program").get(
        pk=item.payload["referral"]
    )
    if referral.status != ReferralStatus.OPEN:
        return  # admitted or cancelled meanwhile
    notify(
        recipients=access.program_team(referral.to_program),
        kind="referral.opened",
        # No identifier of the client: the link shows who, to those who may see them.
        title=f"Referral back into care: to {referral.to_program}",
        body=(
            f"The alumni team referred a client to {referral.to_program}. "
            f"Referral /api/v1/referrals/{referral.pk}/."
        ),
        key=f"referral:{referral.pk}:opened",
        subject_type="referral",
        subject_id=referral.pk,
        now=now,
    )
