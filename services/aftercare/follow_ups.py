"""The alumni team's work on a follow-up: attempts to reach the client, the
outcome (with a referral back into care when the client needs it), and
reassignment, one at a time or in bulk.

Statuses: scheduled -> due -> completed, or -> missed when the window closes
without an outcome (services/followup_work.py moves them). A missed follow-up
may still be completed late. Every writer locks the client's row before any of
its follow-ups.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from backend.aftercare.models import (
    AttemptResult,
    ContactAttempt,
    ContactChannel,
    FollowUp,
    FollowUpStatus,
    SelfReportedStatus,
)
from backend.audit.models import AuditAction
from backend.network.models import Program
from services import access, followup_work
from services.aftercare.courses import REASON_DECEASED, aftercare_course_end, is_actionable
from services.audit import audit_reads, audit_record, audit_record_bulk
from services.clock import check_not_future, resolve_now, site_today
from services.errors import (
    MSG_NOT_ALUMNI_TEAM,
    IllegalTransition,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from services.locks import client_lock, clients_lock
from services.referrals.actions import referral_open, referral_target_check

# One transaction locks every follow-up of a bulk reassignment, and its clients.
BULK_REASSIGN_MAX = 500

MSG_NOT_YET_DUE = "This follow-up is not due yet."

MSG_FOLLOW_UP_CLOSED = "A {status} follow-up cannot be changed."

MSG_NOT_REASSIGNER = "Only the alumni team, the site's managers and organisation admins reassign."

MSG_ASSIGNEE_NOT_ALUMNI = "Must be an active alumni coordinator."

MSG_NO_CONSENT = "The client has not consented to be contacted by {channel}."

MSG_BEFORE_ANCHOR = "Must not be before the client left treatment."

MSG_STATUS_REQUIRED = "Required when the client was reached."

MSG_NOT_REACHED_NO_OUTCOME = "Only possible when the client was reached."

MSG_PROGRAM_REQUIRED = "Choose the program to refer the client to."

MSG_PROGRAM_WITHOUT_NEED = "Only with needs_readmission."

MSG_TOO_MANY = f"At most {BULK_REASSIGN_MAX} follow-ups at once."


def _locked(follow_up: FollowUp) -> FollowUp:
    """Client first, then the follow-up: the order every writer takes."""
    client_lock(follow_up.client_id)
    return (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("site", "plan", "client")
        .get(pk=follow_up.pk)
    )


def _require_actionable(follow_up: FollowUp, now: datetime) -> None:
    """Actionable, and its due day (site-local) has come."""
    if not is_actionable(follow_up):
        raise IllegalTransition(MSG_FOLLOW_UP_CLOSED.format(status=follow_up.status))
    if site_today(follow_up.site, now) < follow_up.due_on:
        raise IllegalTransition(MSG_NOT_YET_DUE)


def _require_actor(actor: AbstractBaseUser, follow_up: FollowUp) -> None:
    if not access.can_act_on_follow_up(actor, follow_up):
        raise NotPermitted(MSG_NOT_ALUMNI_TEAM)


@transaction.atomic
def attempt_record(
    *,
    actor: AbstractBaseUser,
    follow_up: FollowUp,
    channel: str,
    result: str,
    at: datetime | None = None,
    notes: str = "",
    now: datetime | None = None,
) -> ContactAttempt:
    """One try to reach the client (from the follow-up's due day on). Phone,
    SMS and email need the client's consent on that channel; in person does not."""
    now = resolve_now(now)
    at = at or now
    check_not_future(at, now, "at")
    if channel not in ContactChannel.values:
        raise InvalidInput(f'"{channel}" is not a contact channel.', field="channel")
    if result not in AttemptResult.values:
        raise InvalidInput(f'"{result}" is not an attempt result.', field="result")
    follow_up = _locked(follow_up)
    _require_actor(actor, follow_up)
    _require_actionable(follow_up, now)
    if at < follow_up.anchor_at:
        raise InvalidInput(MSG_BEFORE_ANCHOR, field="at")
    if channel != ContactChannel.IN_PERSON and channel not in follow_up.plan.consented_channels:
        raise InvalidInput(
            MSG_NO_CONSENT.format(channel=ContactChannel(channel).label), field="channel"
        )
    attempt = ContactAttempt.objects.create(
        follow_up=follow_up,
        channel=channel,
        at=at,
        result=result,
        notes=notes,
        by=actor,
        recorded_at=now,
    )
    followup_work.on_attempt_recorded(follow_up=follow_up, now=now)
    follow_up.updated_at = now
    follow_up.save(update_fields=["updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="contact_attempt",
        object_id=attempt.pk,
        client_id=follow_up.client_id,
        detail={"follow_up": str(follow_up.pk), "channel": channel, "result": result},
        now=now,
    )
    return attempt


@transaction.atomic
def follow_up_complete(
    *,
    actor: AbstractBaseUser,
    follow_up: FollowUp,
    reached: bool,
    self_reported_status: str = "",
    engaged_meetings: bool = False,
    engaged_therapy: bool = False,
    engaged_medication: bool = False,
    needs_housing: bool = False,
    needs_employment: bool = False,
    needs_readmission: bool = False,
    notes: str = "",
    refer_to_program: Program | None = None,
    referral_notes: str = "",
    now: datetime | None = None,
) -> FollowUp:
    """Record the outcome (from the due day on; a missed follow-up late).

    Reached: the self-reported status is required. Not reached: no status
    (except deceased, learned from someone else), engagement or needs.
    "Needs readmission" requires `refer_to_program` and opens a Referral to it
    (see referral_open): the client is referred, not admitted. "Deceased"
    ends the client's other follow-ups.
    """
    now = resolve_now(now)
    outcome = {
        "engaged_meetings": engaged_meetings,
        "engaged_therapy": engaged_therapy,
        "engaged_medication": engaged_medication,
        "needs_housing": needs_housing,
        "needs_employment": needs_employment,
        "needs_readmission": needs_readmission,
    }
    if self_reported_status and self_reported_status not in SelfReportedStatus.values:
        raise InvalidInput(
            f'"{self_reported_status}" is not a self-reported status.', field="self_reported_status"
        )
    if reached and not self_reported_status:
        raise InvalidInput(MSG_STATUS_REQUIRED, field="self_reported_status")
    if not reached:
        if self_reported_status not in ("", SelfReportedStatus.DECEASED):
            raise InvalidInput(MSG_NOT_REACHED_NO_OUTCOME, field="self_reported_status")
        for name, value in outcome.items():
            if value:
                raise InvalidInput(MSG_NOT_REACHED_NO_OUTCOME, field=name)
    if needs_readmission and refer_to_program is None:
        raise InvalidInput(MSG_PROGRAM_REQUIRED, field="refer_to_program")
    if refer_to_program is not None:
        if not needs_readmission:
            raise InvalidInput(MSG_PROGRAM_WITHOUT_NEED, field="refer_to_program")
        referral_target_check(refer_to_program)

    follow_up = _locked(follow_up)
    _require_actor(actor, follow_up)
    _require_actionable(follow_up, now)
    for name, value in outcome.items():
        setattr(follow_up, name, value)
    follow_up.status = FollowUpStatus.COMPLETED
    follow_up.completed_at, follow_up.completed_by = now, actor
    follow_up.reached = reached
    follow_up.self_reported_status = self_reported_status
    follow_up.notes = notes
    follow_up.updated_at = now
    follow_up.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="follow_up",
        object_id=follow_up.pk,
        client_id=follow_up.client_id,
        detail={"event": "completed", "milestone": follow_up.milestone},
        now=now,
    )
    if self_reported_status == SelfReportedStatus.DECEASED:
        aftercare_course_end(
            client_id=follow_up.client_id, reason=REASON_DECEASED, actor=actor, now=now
        )
    if refer_to_program is not None:
        referral_open(
            actor=actor,
            follow_up=follow_up,
            to_program=refer_to_program,
            notes=referral_notes,
            now=now,
        )
    return follow_up


def _require_assignable(assignee: AbstractBaseUser | None) -> None:
    if assignee is not None and not access.alumni_coordinators().filter(pk=assignee.pk).exists():
        raise InvalidInput(MSG_ASSIGNEE_NOT_ALUMNI, field="assignee")


def _check_reassign(actor: AbstractBaseUser, follow_up: FollowUp) -> None:
    if not access.can_reassign_follow_up(actor, follow_up):
        raise NotPermitted(MSG_NOT_REASSIGNER)
    if not is_actionable(follow_up):
        raise IllegalTransition(MSG_FOLLOW_UP_CLOSED.format(status=follow_up.status))


def follow_up_reassign_check(
    *, actor: AbstractBaseUser, follow_up: FollowUp, assignee: AbstractBaseUser | None
) -> None:
    """The rules of a reassignment, without writing (the admin's form runs them)."""
    _require_assignable(assignee)
    _check_reassign(actor, follow_up)


def _reassigned_detail(previous_id: int | None, assignee: AbstractBaseUser | None) -> dict:
    """The audit detail of a reassignment: user ids, "" for nobody."""
    return {
        "event": "reassigned",
        "from": str(previous_id) if previous_id else "",
        "to": str(assignee.pk) if assignee else "",
    }


def _reassign(follow_up: FollowUp, assignee, *, actor, now: datetime) -> None:
    _check_reassign(actor, follow_up)
    previous = follow_up.assignee_id
    if previous == (assignee.pk if assignee else None):
        # Nothing moves, but the caller gets the follow-up back: that is a read.
        audit_reads(
            actor=actor,
            object_type="follow_up",
            records=[(follow_up.pk, follow_up.client_id)],
            now=now,
        )
        return
    follow_up.assignee = assignee
    follow_up.updated_at = now
    follow_up.save(update_fields=["assignee", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="follow_up",
        object_id=follow_up.pk,
        client_id=follow_up.client_id,
        detail=_reassigned_detail(previous, assignee),
        now=now,
    )


@transaction.atomic
def follow_up_reassign(
    *,
    actor: AbstractBaseUser,
    follow_up: FollowUp,
    assignee: AbstractBaseUser | None,
    now: datetime | None = None,
) -> FollowUp:
    """Give a follow-up that is still work to another alumni coordinator (None:
    unassign). To whoever has it already: nothing changes, and it is audited
    as read (the caller gets it back)."""
    now = resolve_now(now)
    _require_assignable(assignee)
    follow_up = _locked(follow_up)
    _reassign(follow_up, assignee, actor=actor, now=now)
    return follow_up


@transaction.atomic
def follow_ups_reassign_bulk(
    *,
    actor: AbstractBaseUser,
    follow_up_ids: Iterable[UUID | str],
    assignee: AbstractBaseUser | None,
    now: datetime | None = None,
) -> list[FollowUp]:
    """Reassign several follow-ups at once, all or none: an id the caller cannot
    see is NotFound (field `follow_ups`), as if it did not exist. Those already
    the assignee's stay as they are; all are returned, so those are audited
    as read and the others as changed."""
    now = resolve_now(now)
    ids = list(dict.fromkeys(str(pk) for pk in follow_up_ids))
    if len(ids) > BULK_REASSIGN_MAX:
        raise InvalidInput(MSG_TOO_MANY, field="follow_ups")
    _require_assignable(assignee)
    try:
        visible = dict(
            access.follow_ups_visible_to(actor).filter(pk__in=ids).values_list("pk", "client_id")
        )
    except (ValidationError, ValueError, TypeError) as exc:  # malformed: as if unknown
        raise NotFound(field="follow_ups") from exc
    if len(visible) != len(ids):
        raise NotFound(field="follow_ups")
    # The clients, then their follow-ups, each locked in one query in id order:
    # no two bulk reassignments (or a bulk and a single change) can wait on
    # each other in a circle. Then one UPDATE and two audit inserts (the
    # reads, the moves): the cost does not grow with the number of follow-ups.
    clients_lock(set(visible.values()))
    rows = list(
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("site")
        .filter(pk__in=list(visible))
        .order_by("pk")
    )
    for follow_up in rows:
        _check_reassign(actor, follow_up)  # all are checked before any moves
    new_id = assignee.pk if assignee else None
    moving = [follow_up for follow_up in rows if follow_up.assignee_id != new_id]
    # Those already the assignee's do not move, but the caller gets them back:
    # that is a read.
    audit_reads(
        actor=actor,
        object_type="follow_up",
        records=[(f.pk, f.client_id) for f in rows if f.assignee_id == new_id],
        now=now,
    )
    if not moving:
        return rows
    FollowUp.objects.filter(pk__in=[f.pk for f in moving]).update(assignee=assignee, updated_at=now)
    audit_record_bulk(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="follow_up",
        records=[(f.pk, f.client_id, _reassigned_detail(f.assignee_id, assignee)) for f in moving],
        now=now,
    )
    for follow_up in moving:
        follow_up.assignee, follow_up.updated_at = assignee, now
    return rows
