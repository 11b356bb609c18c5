"""Referrals from partner systems: a person who is not yet our client.

    partner_referral_submit   a partner's system sends a person, a level of care
                              and perhaps a site; it lands in the coordinators'
                              referral queue (source "partner"), and the teams
                              of its sites are told once, by scheduled work.
    partner_referral_match    a coordinator says which of our clients this is
                              (likely duplicates by name and date of birth are
                              shown to them, never merged silently),
    partner_referral_register or registers the person as a new client;
    partner_referral_admit    then admits into a program of their choice through
                              episode_admit, with its capacity rules (the
                              admission closes the referral, as for every referral);
    partner_referral_decline  or declines with a reason the partner reads.

Until a client is matched, the audit rows of the person are keyed by the
referral's id (AuditEvent.client_id), and the partner referral's details are
the only record of them.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q

from backend.aftercare.models import Referral, ReferralOrigin, ReferralStatus
from backend.audit.models import AuditAction
from backend.care.models import Client, Episode, ReferralSource
from backend.network.models import LevelCode, LevelOfCare, Program, Site
from backend.partners.models import Partner, PartnerReferral, PartnerReferralStatus, Urgency
from backend.work.models import WorkItem
from services import access, clients, episodes
from services.audit import audit_reads, audit_record
from services.clock import resolve_now
from services.errors import (
    MSG_REASON_REQUIRED,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from services.locks import client_lock
from services.notifications import notify
from services.referrals import actions
from services.referrals.endings import referral_close, referral_status_emit
from services.webhooks import REFERRAL_ACCEPTED
from services.work import work_handler, work_schedule

PARTNER_REFERRAL_KIND = "followup.partner_referral"

MSG_LEVEL_NOT_TREATMENT = "Refer to a level of treatment, not to alumni."
MSG_SITE_NOT_PARTNERS = "Not one of the sites this partner may refer to."
MSG_NO_SITES = "This partner has no sites to refer to."
MSG_NOT_REFERRAL_TEAM = "Only the care teams of the referral's sites may act on it."
MSG_NOT_PARTNER_REFERRAL = "This is not a partner's referral."
MSG_NOT_MATCHED = "Match the person to a client, or register them, before admitting."
MSG_ALREADY_MATCHED = "The referral is already matched to a client."
MSG_CLIENT_HAS_REFERRAL = "This client already has an open referral."
MSG_PROGRAM_NOT_ON_SITE = "Choose a program of one of the referral's sites."
MSG_PROGRAM_ALUMNI = "Admit into a treatment program, not an alumni program."
MSG_BIRTH_FUTURE = "The date of birth must not be in the future."
MSG_PROGRAM_REQUIRED = "A partner's referral needs the program."


class ReferralClosed(IllegalTransition):
    code = "referral_closed"


def _clean(value: str) -> str:
    return (value or "").strip()


@transaction.atomic
def partner_referral_submit(
    *,
    partner: Partner,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    requested_level: str,
    referrer_name: str,
    requested_site: Site | None = None,
    phone: str = "",
    email: str = "",
    urgency: str = Urgency.ROUTINE,
    payer: str = "",
    clinical_summary: str = "",
    referrer_phone: str = "",
    referrer_email: str = "",
    consent_reference: str = "",
    now: datetime | None = None,
) -> Referral:
    now = resolve_now(now)
    for field, value in (
        ("first_name", first_name),
        ("last_name", last_name),
        ("referrer_name", referrer_name),
    ):
        if not _clean(value):
            raise InvalidInput("This field may not be blank.", field=field)
    if date_of_birth > now.date():
        raise InvalidInput(MSG_BIRTH_FUTURE, field="date_of_birth")
    if requested_level == LevelCode.ALUMNI:
        raise InvalidInput(MSG_LEVEL_NOT_TREATMENT, field="requested_level")
    level = LevelOfCare.objects.filter(pk=requested_level).first()
    if level is None:
        raise InvalidInput("Unknown level of care.", field="requested_level")
    if requested_site is not None:
        if not partner.sites.filter(pk=requested_site.pk).exists():
            raise InvalidInput(MSG_SITE_NOT_PARTNERS, field="site")
    elif not partner.sites.exists():
        raise InvalidInput(MSG_NO_SITES, field="site")
    referral = Referral.objects.create(
        source=ReferralOrigin.PARTNER,
        notes=_clean(clinical_summary),
        created_at=now,
        created_by=partner.user,
    )
    PartnerReferral.objects.create(
        referral=referral,
        partner=partner,
        first_name=_clean(first_name),
        last_name=_clean(last_name),
        date_of_birth=date_of_birth,
        phone=_clean(phone),
        email=_clean(email),
        requested_level=level,
        requested_site=requested_site,
        urgency=urgency,
        payer=_clean(payer),
        clinical_summary=_clean(clinical_summary),
        referrer_name=_clean(referrer_name),
        referrer_phone=_clean(referrer_phone),
        referrer_email=_clean(referrer_email),
        consent_reference=_clean(consent_reference),
    )
    audit_record(
        actor=partner.user,
        action=AuditAction.CREATE,
        object_type="partner_referral",
        object_id=referral.pk,
        client_id=referral.pk,
        detail={"partner": str(partner.pk), "level": level.pk, "urgency": urgency},
        now=now,
    )
    work_schedule(
        kind=PARTNER_REFERRAL_KIND,
        key=f"referral:{referral.pk}:partner-opened",
        due_at=now,
        payload={"referral": str(referral.pk)},
        now=now,
    )
    return referral


@work_handler(PARTNER_REFERRAL_KIND)
def _tell_the_sites(item: WorkItem, now: datetime) -> None:
    referral = Referral.objects.select_related(
        "partner_details__partner", "partner_details__requested_level"
    ).get(pk=item.payload["referral"])
    if referral.status != ReferralStatus.OPEN:
        return
    details = referral.partner_details
    recipients = []
    for site in Site.objects.filter(pk__in=access.partner_referral_sites(referral)):
        for program in Program.objects.filter(site=site, is_active=True)[:1]:
            recipients += access.program_team(program)
    notify(
        recipients=list({u.pk: u for u in recipients}.values()),
        kind="referral.partner",
        # No name in a notification: the person is on the referral's page.
        title=f"{details.get_urgency_display()} referral from {details.partner.name}",
        body=(
            f"{details.partner.name} referred a person for {details.requested_level.name}. "
            f"Referral /api/v1/referrals/{referral.pk}/."
        ),
        key=f"referral:{referral.pk}:partner-opened",
        subject_type="referral",
        subject_id=referral.pk,
        now=now,
    )


def _lock_partner_referral(actor, referral: Referral) -> Referral:
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("partner_details__partner")
        .get(pk=referral.pk)
    )
    if referral.source != ReferralOrigin.PARTNER:
        raise IllegalTransition(MSG_NOT_PARTNER_REFERRAL)
    if not access.can_work_partner_referral(actor, referral):
        raise NotPermitted(MSG_NOT_REFERRAL_TEAM)
    if referral.status != ReferralStatus.OPEN:
        raise ReferralClosed(f"A {referral.status} referral cannot be changed.")
    return referral


def partner_referral_duplicates(*, actor, referral: Referral) -> list[Client]:
    """Clients the actor may see with the referred person's name and date of
    birth: shown to the coordinator before they match or register, never merged."""
    if referral.source != ReferralOrigin.PARTNER:
        raise IllegalTransition(MSG_NOT_PARTNER_REFERRAL)
    if not access.can_work_partner_referral(actor, referral):
        raise NotPermitted(MSG_NOT_REFERRAL_TEAM)
    details = referral.partner_details
    found = clients.client_duplicates(
        actor,
        first_name=details.first_name,
        last_name=details.last_name,
        date_of_birth=details.date_of_birth,
    )
    audit_reads(actor=actor, object_type="client", records=[(c.pk, c.pk) for c in found])
    return found


@transaction.atomic
def partner_referral_match(
    *, actor: AbstractBaseUser, referral: Referral, client: Client, now: datetime | None = None
) -> Referral:
    """This person is our client `client` (one the actor may see)."""
    now = resolve_now(now)
    if not access.clients_visible_to(actor).filter(pk=client.pk).exists():
        raise NotFound(field="client")
    client_lock(client.pk)
    referral = _lock_partner_referral(actor, referral)
    if referral.client_id is not None:
        raise Conflict(MSG_ALREADY_MATCHED, field="client")
    if Referral.objects.filter(client=client, status=ReferralStatus.OPEN).exists():
        raise Conflict(MSG_CLIENT_HAS_REFERRAL, field="client")
    referral.client = client
    try:
        with transaction.atomic():
            referral.save(update_fields=["client"])
    except IntegrityError as exc:  # referral_one_open_per_client, behind the check
        raise Conflict(MSG_CLIENT_HAS_REFERRAL, field="client") from exc
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="referral",
        object_id=referral.pk,
        client_id=client.pk,
        detail={"event": "matched", "fields": ["client"]},
        now=now,
    )
    # The partner hears that its referral was accepted (the row stays open
    # until the admission): a status of the webhook, not of the referral.
    referral_status_emit(referral, REFERRAL_ACCEPTED, now=now)
    return referral


@transaction.atomic
def partner_referral_register(
    *,
    actor: AbstractBaseUser,
    referral: Referral,
    registered_site: Site | None = None,
    now: datetime | None = None,
) -> Referral:
    """Register the referred person as a new client (at the site asked for,
    else `registered_site`), then match the referral to them."""
    now = resolve_now(now)
    referral = _lock_partner_referral(actor, referral)
    if referral.client_id is not None:
        raise Conflict(MSG_ALREADY_MATCHED, field="client")
    details = referral.partner_details
    site = registered_site or details.requested_site
    if site is not None and site.pk not in access.partner_referral_sites(referral):
        raise InvalidInput(MSG_PROGRAM_NOT_ON_SITE, field="registered_site")
    client = clients.client_create(
        actor=actor,
        first_name=details.first_name,
        last_name=details.last_name,
        date_of_birth=details.date_of_birth,
        registered_site=site,
        phone=details.phone,
        email=details.email,
        now=now,
    )
    return partner_referral_match(actor=actor, referral=referral, client=client, now=now)


@transaction.atomic
def partner_referral_admit(
    *,
    actor: AbstractBaseUser,
    referral: Referral,
    program: Program,
    admitted_at: datetime | None = None,
    capacity_override_reason: str = "",
    now: datetime | None = None,
) -> Episode:
    """Admit the matched client into `program` (a treatment program of one of
    the referral's sites) by episode_admit; its hook closes the referral."""
    now = resolve_now(now)
    referral = _lock_partner_referral(actor, referral)
    if referral.client_id is None:
        raise Conflict(MSG_NOT_MATCHED, field="client")
    if program.level_id == LevelCode.ALUMNI:
        raise InvalidInput(MSG_PROGRAM_ALUMNI, field="program")
    if program.site_id not in access.partner_referral_sites(referral):
        raise InvalidInput(MSG_PROGRAM_NOT_ON_SITE, field="program")
    referral.to_program = program
    referral.save(update_fields=["to_program"])
    return episodes.episode_admit(
        actor=actor,
        client=referral.client,
        program=program,
        admitted_at=admitted_at,
        referral_source=ReferralSource.OTHER,
        capacity_override_reason=capacity_override_reason,
        now=now,
    )


def referral_admit_into(
    *,
    actor: AbstractBaseUser,
    referral: Referral,
    program: Program | None = None,
    admitted_at: datetime | None = None,
    capacity_override_reason: str = "",
    now: datetime | None = None,
) -> Episode:
    """Admit from any referral in the queue: a partner's into `program` (which it
    needs), a referral back into care into its own program (`program` unused)."""
    if referral.source != ReferralOrigin.PARTNER:
        return actions.referral_admit(
            actor=actor,
            referral=referral,
            admitted_at=admitted_at,
            capacity_override_reason=capacity_override_reason,
            now=now,
        )
    if program is None:
        raise InvalidInput(MSG_PROGRAM_REQUIRED, field="program")
    return partner_referral_admit(
        actor=actor,
        referral=referral,
        program=program,
        admitted_at=admitted_at,
        capacity_override_reason=capacity_override_reason,
        now=now,
    )


@transaction.atomic
def partner_referral_decline(
    *, actor: AbstractBaseUser, referral: Referral, reason: str, now: datetime | None = None
) -> Referral:
    """Decline with a reason, which the partner reads."""
    now = resolve_now(now)
    reason = _clean(reason)
    if not reason:
        raise InvalidInput(MSG_REASON_REQUIRED, field="reason")
    limit = Referral._meta.get_field("cancelled_reason").max_length
    if len(reason) > limit:
        raise InvalidInput(f"At most {limit} characters.", field="reason")
    referral = _lock_partner_referral(actor, referral)
    referral.cancelled_reason = reason
    referral_close(referral, ReferralStatus.DECLINED, actor=actor, now=now)
    return referral


# How a partner reads the state of its referral (PartnerReferralStatus).
_CLOSED_STATUS = {
    ReferralStatus.ADMITTED: PartnerReferralStatus.ADMITTED,
    ReferralStatus.DECLINED: PartnerReferralStatus.DECLINED,
    ReferralStatus.CANCELLED: PartnerReferralStatus.CANCELLED,
}


def partner_status(referral: Referral) -> str:
    if referral.status == ReferralStatus.OPEN:
        if referral.client_id is None:
            return PartnerReferralStatus.RECEIVED
        return PartnerReferralStatus.ACCEPTED
    return _CLOSED_STATUS[referral.status]


def _status_q(status: str) -> Q:
    if status == PartnerReferralStatus.RECEIVED:
        return Q(status=ReferralStatus.OPEN, client__isnull=True)
    if status == PartnerReferralStatus.ACCEPTED:
        return Q(status=ReferralStatus.OPEN, client__isnull=False)
    (closed,) = [k for k, v in _CLOSED_STATUS.items() if v == status]
    return Q(status=closed)


def partner_view(referral: Referral) -> dict:
    """What the partner may read of its referral: what it sent, the status, the
    reason of a decline; never the client record it may have become."""
    details = referral.partner_details
    closed_without_admission = referral.status in (
        ReferralStatus.DECLINED,
        ReferralStatus.CANCELLED,
    )
    return {
        "id": referral.pk,
        "status": partner_status(referral),
        "reason": referral.cancelled_reason if closed_without_admission else None,
        "first_name": details.first_name,
        "last_name": details.last_name,
        "date_of_birth": details.date_of_birth,
        "requested_level": details.requested_level_id,
        "site": details.requested_site_id,
        "urgency": details.urgency,
        "consent_reference": details.consent_reference,
        "created_at": referral.created_at,
        "closed_at": referral.closed_at,
    }


def partner_referrals_of(partner: Partner, *, status: str | None = None):
    """A partner's own referrals, newest first, and nothing of anyone else's."""
    referrals = Referral.objects.filter(partner_details__partner=partner)
    if status is not None:
        referrals = referrals.filter(_status_q(status))
    return referrals.select_related("partner_details").order_by("-created_at", "id")


def partner_referrals_read(*, partner: Partner, referrals, now=None) -> None:
    """Audit a page of a partner's referrals read by it: one insert."""
    audit_reads(
        actor=partner.user,
        object_type="partner_referral",
        records=[(r.pk, r.client_id or r.pk) for r in referrals],
        now=now,
    )


def partner_referral_for_partner(*, partner: Partner, referral_id, now=None) -> Referral:
    referral = partner_referrals_of(partner).filter(pk=referral_id).first()
    if referral is None:
        raise NotFound()
    partner_referrals_read(partner=partner, referrals=[referral], now=now)
    return referral
