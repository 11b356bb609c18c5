"""A course of follow-ups: opened when a client steps down to alumni or leaves
the continuum, ended when they come back into care or die.

    step-down to alumni  -> aftercare_on_transfer_complete -> aftercare_open
    discharge            -> aftercare_on_discharge         -> aftercare_open
                            (deceased: no follow-ups; pending ones end)
    admission            -> aftercare_on_admit: pending follow-ups end ("readmitted")
    step-up from alumni  -> aftercare_on_transfer_complete: the same, within the episode

This module sits below admissions and transfers: services/reactions.py calls
its hooks from inside their transactions, with the client's row locked, and it
imports nothing above it. aftercare_open makes sure the episode has a plan and
schedules one follow-up per milestone of the protocol of the program the client
left, given to the least-loaded member of the site's alumni team.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, F, Value, When

from backend.aftercare.models import (
    ACTIONABLE,
    OPEN_FOLLOW_UP_STATUSES,
    FollowUp,
    FollowUpStatus,
)
from backend.audit.models import AuditAction
from backend.care.models import (
    DischargeType,
    Episode,
    Placement,
    Transfer,
)
from backend.network.models import LevelCode, Program, Site
from services.aftercare.plans import aftercare_plan_ensure
from services.aftercare.protocol import follow_up_assignee_pick, follow_up_dates, protocol_for
from services.audit import audit_record_bulk

# Why a course ended early (FollowUp.ended_reason).
REASON_READMITTED = "readmitted"

REASON_DECEASED = "deceased"


def is_actionable(follow_up: FollowUp) -> bool:
    """Still work: open, or missed and its course not ended (models.ACTIONABLE)."""
    return follow_up.status in OPEN_FOLLOW_UP_STATUSES or (
        follow_up.status == FollowUpStatus.MISSED and follow_up.ended_at is None
    )


def _course_running(episode: Episode) -> bool:
    """Has the episode a course of follow-ups that its client has not left by
    returning to treatment (a step-up from alumni) since it began?"""
    latest = (
        FollowUp.objects.filter(episode=episode)
        .order_by("-anchor_at")
        .values_list("anchor_at", flat=True)
        .first()
    )
    if latest is None:
        return False
    back_in_treatment = (
        Placement.objects.filter(episode=episode, started_at__gt=latest)
        .exclude(program__level_id=LevelCode.ALUMNI)
        .exists()
    )
    return not back_in_treatment


def aftercare_open(
    *,
    episode: Episode,
    anchor_at: datetime,
    from_program: Program,
    site: Site,
    actor: AbstractBaseUser,
    now: datetime,
) -> list[FollowUp]:
    """The client stepped down to alumni or left the continuum at `anchor_at`.

    Runs inside the caller's transaction with the client locked. Makes sure the
    episode has a plan, and schedules the protocol's follow-ups unless the
    episode already has a course running: calling it twice, or discharging
    from the alumni program after a step-down, schedules nothing new. Returns
    the follow-ups it created.
    """
    plan = aftercare_plan_ensure(episode, actor, now)
    if _course_running(episode):
        return []
    protocol = protocol_for(from_program)
    if protocol is None:
        return []
    assignee = follow_up_assignee_pick(site)
    follow_ups = []
    for milestone in protocol.milestones.order_by("position", "id"):
        due_on, window_ends_on = follow_up_dates(milestone, anchor_at, site)
        follow_ups.append(
            FollowUp(
                client_id=episode.client_id,
                episode=episode,
                plan=plan,
                protocol=protocol,
                milestone=milestone.code,
                milestone_name=milestone.name,
                from_program=from_program,
                site=site,
                anchor_at=anchor_at,
                due_on=due_on,
                window_ends_on=window_ends_on,
                assignee=assignee,
                created_at=now,
                updated_at=now,
            )
        )
    FollowUp.objects.bulk_create(follow_ups)
    audit_record_bulk(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="follow_up",
        records=[
            (f.pk, episode.client_id, {"milestone": f.milestone, "due_on": f.due_on.isoformat()})
            for f in follow_ups
        ],
        now=now,
    )
    return follow_ups


def aftercare_course_end(
    *, client_id: UUID, reason: str, actor: AbstractBaseUser, now: datetime
) -> int:
    """Readmission or death: the client's scheduled and due follow-ups are
    cancelled, the missed ones leave the queue. The client is locked already.

    Three queries however many follow-ups end: their locks, one UPDATE (whose
    CASE cancels only the open ones) and one insert of their audit rows."""
    rows = list(
        FollowUp.objects.select_for_update()
        .filter(ACTIONABLE, client_id=client_id)
        .order_by("pk")
        .values_list("pk", "status")
    )
    if not rows:
        return 0
    FollowUp.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        status=Case(
            When(status__in=OPEN_FOLLOW_UP_STATUSES, then=Value(FollowUpStatus.CANCELLED)),
            default=F("status"),
        ),
        ended_at=now,
        ended_reason=reason,
        updated_at=now,
    )
    # The status each one ended with, as the UPDATE's CASE set it.
    ended = [
        (pk, FollowUpStatus.CANCELLED if status in OPEN_FOLLOW_UP_STATUSES else status)
        for pk, status in rows
    ]
    audit_record_bulk(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="follow_up",
        records=[
            (pk, client_id, {"event": "ended", "reason": reason, "status": status})
            for pk, status in ended
        ],
        now=now,
    )
    return len(rows)


def aftercare_on_discharge(
    *, episode: Episode, placement: Placement, actor: AbstractBaseUser, now: datetime
) -> list[FollowUp]:
    """episode_discharge, after the discharge is written (`placement` is the one
    it closed). A client who died gets no follow-ups, and any still pending
    end; every other discharge, including out of network and against medical
    advice, starts aftercare at the site of the program the client left."""
    program = placement.program
    if episode.discharge_type == DischargeType.DECEASED:
        aftercare_course_end(
            client_id=episode.client_id, reason=REASON_DECEASED, actor=actor, now=now
        )
        return []
    return aftercare_open(
        episode=episode,
        anchor_at=episode.discharged_at,
        from_program=program,
        site=program.site,
        actor=actor,
        now=now,
    )


def aftercare_on_transfer_complete(
    *, transfer: Transfer, actor: AbstractBaseUser, now: datetime
) -> None:
    """transfer_complete, after the new placement is written. A step-down into
    alumni starts aftercare at the alumni program's site; a step-up out of
    alumni into treatment is a readmission within the episode: the course ends."""
    into_alumni = transfer.to_program.level_id == LevelCode.ALUMNI
    from_alumni = transfer.from_program.level_id == LevelCode.ALUMNI
    if into_alumni and not from_alumni:
        aftercare_open(
            episode=transfer.episode,
            anchor_at=transfer.to_placement.started_at,
            from_program=transfer.from_program,
            site=transfer.to_program.site,
            actor=actor,
            now=now,
        )
    elif from_alumni and not into_alumni:
        aftercare_course_end(
            client_id=transfer.client_id, reason=REASON_READMITTED, actor=actor, now=now
        )


def aftercare_on_admit(*, episode: Episode, actor: AbstractBaseUser, now: datetime) -> None:
    """episode_admit, after the episode is written: the client is back in care,
    and the follow-ups of earlier episodes end."""
    aftercare_course_end(
        client_id=episode.client_id, reason=REASON_READMITTED, actor=actor, now=now
    )
