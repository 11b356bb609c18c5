"""Aftercare: the plan a client leaves with, a year of follow-ups, and the way back in.

    step-down to alumni  -> aftercare_on_transfer_complete -> aftercare_open
    discharge            -> aftercare_on_discharge         -> aftercare_open
                            (deceased: no follow-ups; pending ones end)
    aftercare_open       -> the episode's plan (an empty one if none was
                            written), and one follow-up per milestone of the
                            protocol of the program the client left, all given
                            to the least-loaded member of the site's alumni team
    each follow-up       -> attempt_record (any number), then follow_up_complete
                            with the outcome; "needs readmission" with a program
                            opens a Referral
    admission            -> aftercare_on_admit: the client's pending follow-ups
                            end ("readmitted"), and an open referral is linked
                            to the new episode
    step-up from alumni  -> aftercare_on_transfer_complete: the same, within the
                            episode (the referral's transfer arrived)

Statuses: scheduled -> due -> completed, or -> missed when the window closes
without an outcome (the beat scan moves them; the queue computes the same from
dates, so it is right before the scan runs). A missed follow-up may still be
completed late. Readmission and death end a course: scheduled and due
follow-ups become cancelled, missed ones stay missed and leave the queue.

Every function here runs in the caller's transaction or its own, takes the
acting user, writes its audit rows, and locks the client's row before any of
its follow-ups (the hooks run with the client already locked by the care
services). Hour offsets are elapsed time; day offsets are calendar days at the
site responsible for the follow-up. docs/aftercare.md has the whole story.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.db.models.fields import DateField

from backend.aftercare.models import (
    ACTIONABLE,
    OPEN_FOLLOW_UP_STATUSES,
    AftercarePlan,
    AlumniTeamMembership,
    AttemptResult,
    ContactAttempt,
    ContactChannel,
    FollowUp,
    FollowUpMilestone,
    FollowUpProtocol,
    FollowUpStatus,
    OffsetUnit,
    Referral,
    ReferralStatus,
    SelfReportedStatus,
)
from backend.audit.models import AuditAction
from backend.care.models import (
    Client,
    DischargeType,
    Episode,
    Placement,
    ReferralSource,
    Transfer,
)
from backend.network.models import LevelCode, Program, Site
from services import access, followup_work
from services.audit import audit_reads, audit_record, audit_record_bulk
from services.clock import check_not_future, local_today, resolve_now, site_today
from services.errors import (
    MSG_PROGRAM_INACTIVE,
    MSG_REASON_REQUIRED,
    ClientNotInCare,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from services.locks import client_lock, clients_lock

# Why a course ended early (FollowUp.ended_reason).
REASON_READMITTED = "readmitted"
REASON_DECEASED = "deceased"
# The episode's referral source when admitted from a referral: the list has no
# "our own alumni team"; the Referral row says exactly where it came from.
REFERRAL_SOURCE = ReferralSource.OTHER

# One transaction locks every follow-up of a bulk reassignment, and its clients.
BULK_REASSIGN_MAX = 500

MSG_NOT_YET_DUE = "This follow-up is not due yet."
MSG_FOLLOW_UP_CLOSED = "A {status} follow-up cannot be changed."
MSG_NOT_ALUMNI_TEAM = "Only the alumni team, the site's staff and organisation admins may do this."
MSG_NOT_REASSIGNER = "Only the alumni team, the site's managers and organisation admins reassign."
MSG_NOT_PLAN_TEAM = (
    "Only the care team of the client's program (after discharge also the alumni team) "
    "may change the aftercare plan."
)
MSG_ASSIGNEE_NOT_ALUMNI = "Must be an active alumni coordinator."
MSG_NO_CONSENT = "The client has not consented to be contacted by {channel}."
MSG_BEFORE_ANCHOR = "Must not be before the client left treatment."
MSG_STATUS_REQUIRED = "Required when the client was reached."
MSG_NOT_REACHED_NO_OUTCOME = "Only possible when the client was reached."
MSG_PROGRAM_REQUIRED = "Choose the program to refer the client to."
MSG_PROGRAM_WITHOUT_NEED = "Only with needs_readmission."
MSG_REFER_TO_TREATMENT = "Choose a treatment program, not an alumni program."
MSG_REFERRAL_OPEN = "The client already has an open referral back into care."
MSG_NO_EPISODE = "The client has no episode of care."
MSG_UNKNOWN_PLAN_FIELD = "Not a field of the aftercare plan."
MSG_CHANNEL_WITHOUT_CONSENT = "Needs consent_to_contact."
MSG_CONSENT_NEEDS_CHANNEL = "Choose at least one channel: phone, SMS or email."
MSG_HOURS_RANGE = "Give both times, the first before the second, or neither."
MSG_CONTACT_DAYS = "A list of ISO weekdays, 1 (Monday) to 7 (Sunday)."
MSG_TOO_MANY = f"At most {BULK_REASSIGN_MAX} follow-ups at once."
MSG_REFERRAL_VIA_TRANSFER = "This referral moves by its transfer; decline or cancel that instead."


class ReferralAlreadyOpen(Conflict):
    code = "referral_open"
    default_message = MSG_REFERRAL_OPEN


# --- the plan -----------------------------------------------------------------

SUPPORT_FIELDS = (
    "outpatient_therapist",
    "mutual_help_meetings",
    "medication_for_addiction_treatment",
    "sober_living",
)
CHANNEL_FIELDS = ("consent_phone", "consent_sms", "consent_email")
PLAN_FIELDS = frozenset(
    {
        *SUPPORT_FIELDS,
        *(f"{name}_details" for name in SUPPORT_FIELDS),
        "other_supports",
        "relapse_prevention_notes",
        "emergency_contact_name",
        "emergency_contact_phone",
        "emergency_contact_relationship",
        "consent_to_contact",
        *CHANNEL_FIELDS,
        "contact_hours_from",
        "contact_hours_to",
        "contact_days",
    }
)


def aftercare_episode_of(client: Client) -> Episode | None:
    """The episode whose plan the client's plan is: the open one, else the latest."""
    current = Episode.objects.filter(client=client, discharged_at__isnull=True).first()
    return current or Episode.objects.filter(client=client).order_by("-admitted_at", "-id").first()


def _require_aftercare_visible(actor: AbstractBaseUser, client: Client) -> None:
    if not access.aftercare_clients_visible_to(actor).filter(pk=client.pk).exists():
        raise NotFound()


def aftercare_plan_get(
    *, actor: AbstractBaseUser, client: Client, now: datetime | None = None
) -> AftercarePlan | None:
    """The plan of the client's current (else latest) episode, or None when none
    was written yet; the read is audited. NotFound when the caller may not see
    the client's aftercare."""
    _require_aftercare_visible(actor, client)
    episode = aftercare_episode_of(client)
    plan = AftercarePlan.objects.filter(episode=episode).first() if episode else None
    if plan is not None:
        audit_record(
            actor=actor,
            action=AuditAction.VIEW,
            object_type="aftercare_plan",
            object_id=plan.pk,
            client_id=client.pk,
            now=now,
        )
    return plan


def _clean_plan(plan: AftercarePlan, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Apply `changes` to `plan` in memory, checking the rules; returns what changed."""
    for name in changes:
        if name not in PLAN_FIELDS:
            raise InvalidInput(MSG_UNKNOWN_PLAN_FIELD, field=name)
    changes = dict(changes)
    if "contact_days" in changes:
        days = changes["contact_days"]
        if not isinstance(days, list | tuple) or any(
            not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 7 for day in days
        ):
            raise InvalidInput(MSG_CONTACT_DAYS, field="contact_days")
        changes["contact_days"] = sorted(set(days))
    if changes.get("consent_to_contact") is False:
        # Withdrawing consent withdraws it on every channel.
        for name in CHANNEL_FIELDS:
            if changes.get(name):
                raise InvalidInput(MSG_CHANNEL_WITHOUT_CONSENT, field=name)
            changes[name] = False
    changed = {}
    for name, value in changes.items():
        if getattr(plan, name) != value:
            setattr(plan, name, value)
            changed[name] = value
    if not plan.consent_to_contact:
        for name in CHANNEL_FIELDS:
            if getattr(plan, name):
                raise InvalidInput(MSG_CHANNEL_WITHOUT_CONSENT, field=name)
    elif not plan.consented_channels:
        raise InvalidInput(MSG_CONSENT_NEEDS_CHANNEL, field="consent_to_contact")
    start, end = plan.contact_hours_from, plan.contact_hours_to
    if (start is None) != (end is None) or (start is not None and start >= end):
        raise InvalidInput(MSG_HOURS_RANGE, field="contact_hours_to")
    return changed


def _empty_plan_fields() -> dict[str, Any]:
    """Each plan field at its empty value (no, blank, null, no days)."""
    return {name: AftercarePlan._meta.get_field(name).get_default() for name in PLAN_FIELDS}


@transaction.atomic
def aftercare_plan_upsert(
    *,
    actor: AbstractBaseUser,
    client: Client,
    changes: Mapping[str, Any],
    replace: bool = False,
    now: datetime | None = None,
) -> AftercarePlan:
    """Write the plan of the client's current (else latest) episode, creating it
    if needed. `changes` maps plan fields (PLAN_FIELDS) to new values; the rest
    is kept, or with `replace` reset to its empty value: the plan becomes
    `changes` alone (an HTTP PUT), so withdrawing consent is leaving it out.
    Before discharge the care team of the client's program writes it, after
    discharge also the alumni team (access.can_edit_aftercare_plan)."""
    now = resolve_now(now)
    if replace:
        changes = {**_empty_plan_fields(), **changes}
    _require_aftercare_visible(actor, client)
    client_lock(client.pk)
    episode = aftercare_episode_of(client)
    if episode is None:
        raise ClientNotInCare(MSG_NO_EPISODE)
    if not access.can_edit_aftercare_plan(actor, episode):
        raise NotPermitted(MSG_NOT_PLAN_TEAM)
    plan = AftercarePlan.objects.select_for_update().filter(episode=episode).first()
    created = plan is None
    if created:
        plan = _new_plan(episode, actor, now)
    changed = _clean_plan(plan, changes)
    if not created and not changed:
        # Nothing to write, but the caller gets the plan back: that is a read.
        audit_reads(
            actor=actor, object_type="aftercare_plan", records=[(plan.pk, client.pk)], now=now
        )
        return plan
    plan.updated_at, plan.updated_by = now, actor
    plan.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type="aftercare_plan",
        object_id=plan.pk,
        client_id=client.pk,
        detail={"fields": sorted(changed)},  # names only, never values
        now=now,
    )
    return plan


def _new_plan(episode: Episode, actor: AbstractBaseUser, now: datetime) -> AftercarePlan:
    return AftercarePlan(
        client_id=episode.client_id,
        episode=episode,
        created_at=now,
        created_by=actor,
        updated_at=now,
        updated_by=actor,
    )


def _plan_ensure(episode: Episode, actor: AbstractBaseUser, now: datetime) -> AftercarePlan:
    plan = AftercarePlan.objects.filter(episode=episode).first()
    if plan is None:
        plan = _new_plan(episode, actor, now)
        plan.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="aftercare_plan",
            object_id=plan.pk,
            client_id=episode.client_id,
            detail={"fields": []},
            now=now,
        )
    return plan


# --- scheduling --------------------------------------------------------------------


def protocol_for(program: Program) -> FollowUpProtocol | None:
    """The active protocol of the program the client leaves: the program's own,
    else its level's, else the default; None if the admin deactivated them all."""
    candidates = FollowUpProtocol.objects.filter(is_active=True).filter(
        Q(program=program)
        | Q(program__isnull=True, level_id=program.level_id)
        | Q(program__isnull=True, level__isnull=True)
    )
    by_scope = {(p.program_id is not None, p.level_id is not None): p for p in candidates}
    return (
        by_scope.get((True, False)) or by_scope.get((False, True)) or by_scope.get((False, False))
    )


def follow_up_dates(
    milestone: FollowUpMilestone, anchor_at: datetime, site: Site
) -> tuple[date, date]:
    """(due_on, window_ends_on), calendar days at `site`.

    Hours are elapsed time: 48 hours after 23:30 on the evening before the
    clocks spring forward is 00:30 on the third day by the wall clock, not
    23:30 on the second. Days are calendar days from the anchor's local day.
    """
    zone = site.zone
    if milestone.offset_unit == OffsetUnit.HOURS:
        due_on = (anchor_at + timedelta(hours=milestone.offset)).astimezone(zone).date()
    else:
        due_on = anchor_at.astimezone(zone).date() + timedelta(days=milestone.offset)
    return due_on, due_on + timedelta(days=milestone.window_days)


def _assignable_users() -> QuerySet:
    """The users a follow-up may be given to: the active alumni coordinators
    (access.alumni_coordinators), as one subquery."""
    return get_user_model().objects.filter(pk__in=access.alumni_coordinators().values("pk"))


def _open_follow_up_count() -> Count:
    """A user's load: their open (scheduled or due) follow-ups, counted in SQL."""
    return Count(
        "assigned_follow_ups",
        filter=Q(assigned_follow_ups__status__in=OPEN_FOLLOW_UP_STATUSES),
        distinct=True,
    )


def follow_up_assignee_pick(site: Site) -> AbstractBaseUser | None:
    """The member of the site's alumni team with the fewest open follow-ups
    (ties: the username), else the least-loaded alumni coordinator of all,
    else nobody. Members who lost the role are skipped.

    Best effort: two discharges at once may pick the same person; nothing is
    locked for a balance that the next assignment corrects anyway.
    """
    users = _assignable_users()
    members = users.filter(alumni_memberships__site=site)
    pool = members if members.exists() else users
    return pool.annotate(load=_open_follow_up_count()).order_by("load", "username", "pk").first()


def follow_up_assignees(user: AbstractBaseUser, *, site_id: UUID | None = None) -> QuerySet:
    """Whom `user` may give follow-ups to, by username: every active alumni
    coordinator (the rule of the reassignment services) when the user may
    reassign some follow-up (access.follow_up_reassign_sites), else nobody.

    Each carries `open_follow_ups` (their scheduled and due follow-ups at
    every site: the load that follow_up_assignee_pick balances) and their
    alumni team memberships, with the site, prefetched. With `site_id`, only
    the members of that site's alumni team; a site whose follow-ups the user
    may not reassign is NotFound (field `site`), as if it did not exist.
    """
    sites = access.follow_up_reassign_sites(user)
    if site_id is not None:
        if not sites.filter(pk=site_id).exists():
            raise NotFound(field="site")
    elif not sites.exists():
        return get_user_model().objects.none()
    users = _assignable_users()
    if site_id is not None:
        users = users.filter(alumni_memberships__site_id=site_id)
    memberships = AlumniTeamMembership.objects.select_related("site").order_by("site__name", "pk")
    return (
        users.only("pk", "username", "first_name", "last_name")
        .annotate(open_follow_ups=_open_follow_up_count())
        .prefetch_related(Prefetch("alumni_memberships", queryset=memberships))
        .order_by("username", "pk")
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
    plan = _plan_ensure(episode, actor, now)
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


def _end_course(*, client_id: UUID, reason: str, actor: AbstractBaseUser, now: datetime) -> int:
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


# --- hooks called by the care services, inside their transactions -----------------


def aftercare_on_discharge(
    *, episode: Episode, placement: Placement, actor: AbstractBaseUser, now: datetime
) -> list[FollowUp]:
    """episode_discharge, after the discharge is written (`placement` is the one
    it closed). A client who died gets no follow-ups, and any still pending
    end; every other discharge, including out of network and against medical
    advice, starts aftercare at the site of the program the client left."""
    program = placement.program
    if episode.discharge_type == DischargeType.DECEASED:
        _end_course(client_id=episode.client_id, reason=REASON_DECEASED, actor=actor, now=now)
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
    alumni into treatment is a readmission within the episode."""
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
        _end_course(client_id=transfer.client_id, reason=REASON_READMITTED, actor=actor, now=now)
        referral = Referral.objects.select_for_update().filter(transfer=transfer).first()
        if referral is not None and referral.status == ReferralStatus.OPEN:
            _referral_close(referral, ReferralStatus.ADMITTED, actor=actor, now=now)


def aftercare_on_admit(*, episode: Episode, actor: AbstractBaseUser, now: datetime) -> None:
    """episode_admit, after the episode is written: the client is back in care.
    Follow-ups of earlier episodes end, and the client's open referral (if any)
    is linked to the new episode, whichever program admitted them."""
    _end_course(client_id=episode.client_id, reason=REASON_READMITTED, actor=actor, now=now)
    referral = (
        Referral.objects.select_for_update()
        .filter(client_id=episode.client_id, status=ReferralStatus.OPEN, transfer__isnull=True)
        .first()
    )
    if referral is not None:
        referral.new_episode = episode
        _referral_close(referral, ReferralStatus.ADMITTED, actor=actor, now=now)


def referral_on_transfer_end(*, transfer: Transfer, actor: AbstractBaseUser, now: datetime) -> None:
    """record_transition, when a transfer is declined or cancelled (a discharge
    cancels them too): a referral that was moving by it is cancelled."""
    referral = Referral.objects.select_for_update().filter(transfer=transfer).first()
    if referral is not None and referral.status == ReferralStatus.OPEN:
        referral.cancelled_reason = f"The transfer was {transfer.status}."
        _referral_close(referral, ReferralStatus.CANCELLED, actor=actor, now=now)


# --- referrals ---------------------------------------------------------------------


def _referral_close(
    referral: Referral, status: ReferralStatus, *, actor: AbstractBaseUser, now: datetime
) -> None:
    referral.status = status
    referral.closed_at = now
    referral.save(update_fields=["status", "closed_at", "new_episode", "cancelled_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="referral",
        object_id=referral.pk,
        client_id=referral.client_id,
        detail={
            "event": status,
            "new_episode": str(referral.new_episode_id) if referral.new_episode_id else "",
            "transfer": str(referral.transfer_id) if referral.transfer_id else "",
        },
        now=now,
    )


def _check_referral_target(program: Program) -> None:
    if not program.is_active:
        raise InvalidInput(MSG_PROGRAM_INACTIVE, field="refer_to_program")
    if program.level_id == LevelCode.ALUMNI:
        raise InvalidInput(MSG_REFER_TO_TREATMENT, field="refer_to_program")


def _referral_open(
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
        # Imported here: services.transfers imports this module for its hooks.
        from services import transfers

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
    followup_work.on_referral_opened(referral=referral, now=now)
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
    # Imported here: services.episodes imports this module for its hooks.
    from services import episodes

    now = resolve_now(now)
    referral = Referral.objects.select_related("client", "to_program").get(pk=referral.pk)
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
    _referral_close(referral, ReferralStatus.CANCELLED, actor=actor, now=now)
    return referral


# --- the alumni team's work on a follow-up -------------------------------------------


def _locked(follow_up: FollowUp) -> FollowUp:
    """Client first, then the follow-up: the order every writer takes."""
    client_lock(follow_up.client_id)
    return (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("site", "plan", "client")
        .get(pk=follow_up.pk)
    )


def is_actionable(follow_up: FollowUp) -> bool:
    """Still work: open, or missed and its course not ended (models.ACTIONABLE)."""
    return follow_up.status in OPEN_FOLLOW_UP_STATUSES or (
        follow_up.status == FollowUpStatus.MISSED and follow_up.ended_at is None
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
    (see _referral_open): the client is referred, not admitted. "Deceased"
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
        _check_referral_target(refer_to_program)

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
        _end_course(client_id=follow_up.client_id, reason=REASON_DECEASED, actor=actor, now=now)
    if refer_to_program is not None:
        _referral_open(
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


# --- the queue ---------------------------------------------------------------------


class QueueBucket(enum.StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"
    COMPLETED = "completed"


def sites_by_local_day(now: datetime) -> dict[date, list[UUID]]:
    """Which sites are on which calendar day at `now` (one small query: sites
    are a handful, and they share fewer zones still)."""
    zones: dict[str, list[UUID]] = defaultdict(list)
    for site_id, zone in Site.objects.values_list("id", "time_zone"):
        zones[zone].append(site_id)
    days: dict[date, list[UUID]] = defaultdict(list)
    for zone, site_ids in zones.items():
        days[local_today(zone, now)] += site_ids
    return dict(days)


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
