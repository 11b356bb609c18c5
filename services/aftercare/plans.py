"""The aftercare plan a client leaves with: supports, relapse prevention,
emergency contact, and consent to be contacted (by channel, days and hours).

One plan per episode, written by the care team before discharge and by the
alumni team after it (access.can_edit_aftercare_plan). Every read and write is
audited; a write's audit row names the fields, never their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from backend.aftercare.models import (
    AftercarePlan,
)
from backend.audit.models import AuditAction
from backend.care.models import (
    Client,
    Episode,
)
from services import access
from services.audit import audit_reads, audit_record
from services.clock import resolve_now
from services.errors import (
    ClientNotInCare,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from services.locks import client_lock

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

MSG_NOT_PLAN_TEAM = (
    "Only the care team of the client's program (after discharge also the alumni team) "
    "may change the aftercare plan."
)

MSG_NO_EPISODE = "The client has no episode of care."

MSG_UNKNOWN_PLAN_FIELD = "Not a field of the aftercare plan."

MSG_CHANNEL_WITHOUT_CONSENT = "Needs consent_to_contact."

MSG_CONSENT_NEEDS_CHANNEL = "Choose at least one channel: phone, SMS or email."

MSG_HOURS_RANGE = "Give both times, the first before the second, or neither."

MSG_CONTACT_DAYS = "A list of ISO weekdays, 1 (Monday) to 7 (Sunday)."


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


def aftercare_plan_ensure(
    episode: Episode, actor: AbstractBaseUser, now: datetime
) -> AftercarePlan:
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
