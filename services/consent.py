"""42 CFR Part 2 consent, checked on every disclosure to a partner, and the
accounting of disclosures.

Staff (docs/consent.md): `consent_record` and `consent_revoke` are the only
ways a consent is written; `consents_of_client`, `consent_get` and
`disclosures_of_client` read them, visible as services/access.py says.

Partners: `partner_clients_page`, `partner_client_read` and
`partner_episodes_read` answer the partner API's reads, each with its
disclosure rows in the transaction of the read.

    consent_covering(partner, client, purpose, kinds, now)
        -> the active Consent that lets us disclose these kinds of information
           about the client to this partner for this purpose, or None.
    disclosure_record(...)
        -> one Disclosure row, in the caller's transaction: the read and its
           accounting commit together.

A consent is active on `now` when it is signed on or before the day, not
revoked, and not expired: by date (the day after `expires_on`), or, for
`end_of_treatment`, once the client has no open episode and has been
discharged since signing. Revocation stops every later disclosure at once,
for reads and webhooks alike (both ask `consent_covering` at the moment they
disclose). docs/consent.md maps the rule to this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from backend.audit.models import AuditAction
from backend.care.models import Client, Episode, Placement
from backend.network.models import Program
from backend.partners.models import (
    TPO_PURPOSES,
    Consent,
    ConsentExpiry,
    Disclosure,
    DisclosureChannel,
    InformationKind,
    Partner,
    PartnerKind,
    Purpose,
    RecipientClass,
)
from services import access
from services.audit import audit_reads, audit_record
from services.clock import resolve_now, site_today
from services.errors import Conflict, InvalidInput, NotFound

# §2.32(a)(2): the statement that accompanies each disclosure made with consent.
PART2_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
PART2_NOTICE_HEADER = "Part2-Notice"
# The FHIR security label for records under 42 CFR Part 2 (HL7 v3 ActCode "42CFRPart2").
PART2_SECURITY_LABEL = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "code": "42CFRPart2",
    "display": "42 CFR Part2",
}
# §2.25: the accounting covers the three years before the request.
ACCOUNTING_YEARS = 3

READ_PURPOSES = [p for p in Purpose.values if p != Purpose.TPO]


def _purpose_q(purpose: str) -> Q:
    if purpose in TPO_PURPOSES:
        return Q(purpose=purpose) | Q(purpose=Purpose.TPO)
    return Q(purpose=purpose)


def consents_active(*, now: datetime, on: date | None = None) -> QuerySet[Consent]:
    """Consents in force at `now` (their days in UTC: a consent's dates are the
    client's signature and the date written on the form)."""
    now = resolve_now(now)
    today = on or now.date()
    open_episode = Episode.objects.filter(
        client_id=OuterRef("client_id"), discharged_at__isnull=True
    )
    discharged_since = Episode.objects.filter(
        client_id=OuterRef("client_id"),
        discharged_at__isnull=False,
        discharged_at__date__gte=OuterRef("signed_on"),
    )
    return (
        Consent.objects.filter(revoked_at__isnull=True, signed_on__lte=today)
        .exclude(expiry=ConsentExpiry.DATE, expires_on__lt=today)
        .annotate(_open=Exists(open_episode), _ended=Exists(discharged_since))
        .exclude(Q(expiry=ConsentExpiry.END_OF_TREATMENT) & Q(_open=False) & Q(_ended=True))
    )


def consents_for_partner(
    *, partner: Partner, purpose: str | None, now: datetime
) -> QuerySet[Consent]:
    """Active consents that name the partner (or, TPO consents, its class) and
    cover the purpose (None: any purpose, FHIR's read without `_purpose`). Which
    kinds of information they cover is checked by `covers_kinds` (JSON
    containment differs between PostgreSQL and SQLite)."""
    consents = consents_active(now=now).filter(
        Q(recipient_partner=partner)
        | Q(recipient_partner__isnull=True, recipient_class=partner.kind)
    )
    return consents if purpose is None else consents.filter(_purpose_q(purpose))


def covers_kinds(consent: Consent, kinds: Iterable[str]) -> bool:
    return set(kinds) <= set(consent.information_kinds)


def _with_kinds(qs: QuerySet[Consent], kinds: list[str]) -> QuerySet[Consent]:
    if connection.vendor == "postgresql":
        return qs.filter(information_kinds__contains=kinds)
    # SQLite (the demo) has no JSON containment: the few active consents in Python.
    return qs.filter(pk__in=[c.pk for c in qs if covers_kinds(c, kinds)])


def consent_covering(
    *,
    partner: Partner,
    client: Client | object,
    purpose: str | None,
    kinds: Iterable[str],
    now: datetime,
) -> Consent | None:
    """The consent under which we may disclose `kinds` about the client to the
    partner for the purpose; the most recently signed when several do."""
    kinds = list(kinds)
    client_id = getattr(client, "pk", client)
    for consent in consents_for_partner(partner=partner, purpose=purpose, now=now).filter(
        client_id=client_id
    ):
        if covers_kinds(consent, kinds):
            return consent
    return None


def clients_of_partner_sites(partner: Partner) -> QuerySet[Client]:
    """Clients registered at, or ever placed at, one of the partner's sites."""
    sites = partner.sites.values("pk")
    placed = Placement.objects.filter(client_id=OuterRef("pk"), program__site__in=sites)
    return Client.objects.filter(Q(registered_site__in=sites) | Exists(placed))


def consented_clients(
    *, partner: Partner, purpose: str, kinds: Iterable[str], now: datetime
) -> QuerySet[Client]:
    """The clients of the partner's sites with a consent covering this read."""
    consents = _with_kinds(
        consents_for_partner(partner=partner, purpose=purpose, now=now), list(kinds)
    )
    return clients_of_partner_sites(partner).filter(
        Exists(consents.filter(client_id=OuterRef("pk")))
    )


def episodes_disclosable(consent: Consent) -> QuerySet[Episode]:
    """The episodes a consent lets us disclose: all the client's, or, when one
    program is the discloser, those with a stay in that program."""
    qs = Episode.objects.filter(client_id=consent.client_id)
    if consent.disclosing_program_id:
        qs = qs.filter(placements__program_id=consent.disclosing_program_id).distinct()
    return qs


def disclosure_record(
    *,
    partner: Partner,
    client_id,
    consent: Consent,
    purpose: str,
    kinds: Iterable[str],
    resources: list[dict],
    channel: str,
    now: datetime,
    description: str = "",
) -> Disclosure:
    kinds = list(kinds)
    labels = dict(InformationKind.choices)
    return Disclosure.objects.create(
        disclosed_at=now,
        partner=partner,
        client_id=client_id,
        consent=consent,
        purpose=purpose,
        information_kinds=kinds,
        resources=resources,
        description=description or "; ".join(labels[k] for k in kinds),
        channel=channel,
    )


def disclosure_record_bulk(
    *, partner: Partner, rows: list[tuple], purpose: str, kinds: list[str], channel: str, now
) -> list[Disclosure]:
    """One insert for a page of disclosures: rows of (client id, consent, resources)."""
    labels = dict(InformationKind.choices)
    description = "; ".join(labels[k] for k in kinds)
    return Disclosure.objects.bulk_create(
        [
            Disclosure(
                disclosed_at=now,
                partner=partner,
                client_id=client_id,
                consent=consent,
                purpose=purpose,
                information_kinds=kinds,
                resources=resources,
                description=description,
                channel=channel,
            )
            for client_id, consent, resources in rows
        ]
    )


def document_checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- recording and revoking a consent (staff) ----------------------------------

MSG_ONE_RECIPIENT = "Name the recipient: a partner, or (TPO consents only) a class, not both."
MSG_CLASS_ONLY_TPO = (
    "A recipient by class is allowed only in a single consent for treatment, payment "
    "and health care operations (purpose tpo)."
)
MSG_UNKNOWN_CHOICE = "Unknown value {value!r}; one of: {known}."
MSG_KINDS_REQUIRED = "Name at least one kind of information."
MSG_DESCRIPTION_REQUIRED = "Describe the information to be disclosed, as the form does."
MSG_PURPOSE_DESCRIPTION = "Describe the purpose when it is 'other'."
MSG_NO_EXPIRY_ONLY_TPO = "'none' is allowed only for a TPO consent; give a date or an event."
MSG_EXPIRY_DATE_REQUIRED = "Required when the consent expires on a date."
MSG_EXPIRY_DATE_UNEXPECTED = "Only a consent that expires on a date has one."
MSG_EXPIRES_AFTER_SIGNING = "Must be after the signature date."
MSG_SIGNED_IN_FUTURE = "Must not be after today."
MSG_SIGNED_BY_REQUIRED = "The client, or the person authorised to sign for them."
MSG_RIGHT_TO_REVOKE = "The form must state the right to revoke in writing (42 CFR 2.31(a)(6))."
MSG_DOCUMENT_REQUIRED = "Attach the signed consent."
MSG_DOCUMENT_TOO_LARGE = "At most {mb} MB."
MSG_DOCUMENT_NAME_REQUIRED = "The file name of the signed consent."
MSG_PROGRAM_INACTIVE = "This program is not active."
MSG_ALREADY_REVOKED = "This consent was already revoked."
MSG_RECEIVED_IN_FUTURE = MSG_SIGNED_IN_FUTURE
MSG_RECEIVED_BEFORE_SIGNING = "Must not be before the consent was signed."
MSG_PURPOSE_REQUIRED = "State the purpose of the read: one of {known}."

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def _choice(value: str, choices: type, field: str) -> str:
    if value not in choices.values:
        known = ", ".join(choices.values)
        raise InvalidInput(MSG_UNKNOWN_CHOICE.format(value=value, known=known), field=field)
    return value


def consent_client(*, actor: AbstractBaseUser, client: Client | object) -> Client:
    """The client whose consents the actor keeps, or NotFound (before any other check)."""
    return _visible_client(actor, client)


def _visible_client(actor: AbstractBaseUser, client: Client | object) -> Client:
    client_id = getattr(client, "pk", client)
    found = access.consent_clients_visible_to(actor).filter(pk=client_id).first()
    if found is None:
        raise NotFound()
    return found


@transaction.atomic
def consent_record(
    *,
    actor: AbstractBaseUser,
    client: Client,
    information_kinds: list[str],
    information_description: str,
    purpose: str,
    right_to_revoke_stated: bool,
    expiry: str,
    signed_on: date,
    signed_by: str,
    document: bytes,
    document_name: str,
    disclosing_program: Program | None = None,
    recipient_partner: Partner | None = None,
    recipient_class: str = "",
    purpose_description: str = "",
    expires_on: date | None = None,
    now: datetime | None = None,
) -> Consent:
    """Record a client's signed consent (§2.31), each element checked, with
    the signed document and its SHA-256. Staff of the client's sites and
    organisation admins only; anyone else is told the client does not exist."""
    now = resolve_now(now)
    client = _visible_client(actor, client)

    # §2.31(a)(4): recipients by name, or by class in a single TPO consent.
    _choice(purpose, Purpose, "purpose")
    recipient_class = recipient_class or ""
    if (recipient_partner is None) == (not recipient_class):
        raise InvalidInput(MSG_ONE_RECIPIENT, field="recipient_partner")
    if recipient_class:
        _choice(recipient_class, RecipientClass, "recipient_class")
        if purpose != Purpose.TPO:
            raise InvalidInput(MSG_CLASS_ONLY_TPO, field="recipient_class")
    purpose_description = (purpose_description or "").strip()
    if purpose == Purpose.OTHER and not purpose_description:
        raise InvalidInput(MSG_PURPOSE_DESCRIPTION, field="purpose_description")

    # §2.31(a)(3): a specific description of the information.
    if not information_kinds:
        raise InvalidInput(MSG_KINDS_REQUIRED, field="information_kinds")
    for kind in information_kinds:
        _choice(kind, InformationKind, "information_kinds")
    kinds = [k for k in InformationKind.values if k in set(information_kinds)]
    information_description = (information_description or "").strip()
    if not information_description:
        raise InvalidInput(MSG_DESCRIPTION_REQUIRED, field="information_description")

    # §2.31(a)(2): who may disclose, one program or the whole network.
    if disclosing_program is not None and not disclosing_program.is_active:
        raise InvalidInput(MSG_PROGRAM_INACTIVE, field="disclosing_program")

    # §2.31(a)(6)-(8): the right to revoke, the expiry, the signature.
    if not right_to_revoke_stated:
        raise InvalidInput(MSG_RIGHT_TO_REVOKE, field="right_to_revoke_stated")
    if signed_on > site_today(client.registered_site, now):
        raise InvalidInput(MSG_SIGNED_IN_FUTURE, field="signed_on")
    signed_by = (signed_by or "").strip()
    if not signed_by:
        raise InvalidInput(MSG_SIGNED_BY_REQUIRED, field="signed_by")
    _choice(expiry, ConsentExpiry, "expiry")
    if expiry == ConsentExpiry.NONE and purpose != Purpose.TPO:
        raise InvalidInput(MSG_NO_EXPIRY_ONLY_TPO, field="expiry")
    if expiry == ConsentExpiry.DATE:
        if expires_on is None:
            raise InvalidInput(MSG_EXPIRY_DATE_REQUIRED, field="expires_on")
        if expires_on <= signed_on:
            raise InvalidInput(MSG_EXPIRES_AFTER_SIGNING, field="expires_on")
    elif expires_on is not None:
        raise InvalidInput(MSG_EXPIRY_DATE_UNEXPECTED, field="expires_on")

    if not document:
        raise InvalidInput(MSG_DOCUMENT_REQUIRED, field="document")
    if len(document) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(
            MSG_DOCUMENT_TOO_LARGE.format(mb=MAX_DOCUMENT_BYTES // (1024 * 1024)), field="document"
        )
    document_name = (document_name or "").strip()
    if not document_name:
        raise InvalidInput(MSG_DOCUMENT_NAME_REQUIRED, field="document_name")

    consent = Consent(
        client=client,
        disclosing_program=disclosing_program,
        information_kinds=kinds,
        information_description=information_description,
        recipient_partner=recipient_partner,
        recipient_class=recipient_class,
        purpose=purpose,
        purpose_description=purpose_description,
        right_to_revoke_stated=True,
        expiry=expiry,
        expires_on=expires_on,
        signed_on=signed_on,
        signed_by=signed_by,
        recorded_by=actor,
        recorded_at=now,
        document_name=document_name[:200],
        document_sha256=document_checksum(document),
    )
    # The file is written before the row; a rolled-back transaction leaves an
    # orphaned file under MEDIA_ROOT, never a row without its document.
    consent.document.save(document_name[:100], ContentFile(document), save=False)
    consent.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="consent",
        object_id=consent.pk,
        client_id=client.pk,
        detail={
            "purpose": purpose,
            "recipient_partner": str(recipient_partner.pk) if recipient_partner else None,
            "recipient_class": recipient_class or None,
            "document_sha256": consent.document_sha256,
        },
        now=now,
    )
    return consent


@transaction.atomic
def consent_revoke(
    *,
    actor: AbstractBaseUser,
    consent: Consent,
    received_on: date,
    note: str = "",
    now: datetime | None = None,
) -> Consent:
    """Record the client's written revocation (§2.31(a)(6), §2.33), received
    on `received_on`. It takes effect at once: `consents_active` leaves out a
    revoked consent, so the next read or webhook under it finds none."""
    now = resolve_now(now)
    locked = (
        access.consents_visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("client__registered_site")
        .filter(pk=consent.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    if locked.revoked_at is not None:
        raise Conflict(MSG_ALREADY_REVOKED)
    if received_on > site_today(locked.client.registered_site, now):
        raise InvalidInput(MSG_RECEIVED_IN_FUTURE, field="received_on")
    if received_on < locked.signed_on:
        raise InvalidInput(MSG_RECEIVED_BEFORE_SIGNING, field="received_on")
    locked.revoked_on = received_on
    locked.revoked_at = now
    locked.revoked_by = actor
    locked.revocation_note = (note or "").strip()
    locked.save(update_fields=["revoked_on", "revoked_at", "revoked_by", "revocation_note"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="consent",
        object_id=locked.pk,
        client_id=locked.client_id,
        detail={"change": "revoked", "received_on": received_on.isoformat()},
        now=now,
    )
    return locked


def consents_with_status(qs: QuerySet[Consent], *, now: datetime) -> QuerySet[Consent]:
    """`qs` with `is_active` (in force at `now`) and what the staff API shows."""
    active = consents_active(now=now).filter(pk=OuterRef("pk"))
    return qs.annotate(is_active=Exists(active)).select_related(
        "disclosing_program", "recipient_partner", "recorded_by", "revoked_by"
    )


def consents_of_client(
    *, actor: AbstractBaseUser, client: Client | object, now: datetime | None = None
) -> QuerySet[Consent]:
    """The client's consents, newest first; NotFound when the client is not
    the actor's to see."""
    client = _visible_client(actor, client)
    return consents_with_status(
        Consent.objects.filter(client=client), now=resolve_now(now)
    ).order_by("-signed_on", "-recorded_at", "id")


def consents_visible(*, actor: AbstractBaseUser, now: datetime | None = None):
    return consents_with_status(access.consents_visible_to(actor), now=resolve_now(now))


def consent_get(*, actor: AbstractBaseUser, consent_id, now: datetime | None = None) -> Consent:
    consent = consents_visible(actor=actor, now=now).filter(pk=consent_id).first()
    if consent is None:
        raise NotFound()
    return consent


def accounting_start(now: datetime) -> datetime:
    """The first instant of the §2.25 accounting: three years before `now`
    (28 February for a 29 February)."""
    try:
        return now.replace(year=now.year - ACCOUNTING_YEARS)
    except ValueError:
        return now.replace(year=now.year - ACCOUNTING_YEARS, day=28)


def disclosures_of_client(
    *, actor: AbstractBaseUser, client: Client | object, now: datetime | None = None
) -> QuerySet[Disclosure]:
    """The client's accounting of disclosures (§2.25): every disclosure of the
    last three years, newest first."""
    now = resolve_now(now)
    client = _visible_client(actor, client)
    return (
        Disclosure.objects.filter(client=client, disclosed_at__gte=accounting_start(now))
        .select_related("partner", "client__registered_site")
        .order_by("-disclosed_at", "id")
    )


def consents_audit_read(*, actor, consents: Iterable[Consent], action=AuditAction.VIEW, **detail):
    audit_reads(
        actor=actor,
        object_type="consent",
        records=[(c.pk, c.client_id) for c in consents],
        action=action,
        detail=detail,
    )


# --- partner reads --------------------------------------------------------------

# How a partner states its purpose: the `purpose` of its request. Without one,
# the purpose its kind of organisation reads for; a partner of another kind must
# state it.
DEFAULT_PURPOSE_OF_KIND = {
    PartnerKind.TREATING_PROVIDER: Purpose.TREATMENT,
    PartnerKind.HEALTH_PLAN: Purpose.PAYMENT,
    PartnerKind.THIRD_PARTY_PAYER: Purpose.PAYMENT,
    PartnerKind.PROGRAM_OPERATIONS: Purpose.HEALTH_CARE_OPERATIONS,
}


def read_purpose(partner: Partner, purpose: str | None) -> str:
    """The purpose of a partner's read: the one it stated, else its kind's."""
    if purpose:
        if purpose not in READ_PURPOSES:
            known = ", ".join(READ_PURPOSES)
            raise InvalidInput(
                MSG_UNKNOWN_CHOICE.format(value=purpose, known=known), field="purpose"
            )
        return purpose
    default = DEFAULT_PURPOSE_OF_KIND.get(partner.kind)
    if default is None:
        raise InvalidInput(
            MSG_PURPOSE_REQUIRED.format(known=", ".join(READ_PURPOSES)), field="purpose"
        )
    return default


@dataclass(frozen=True)
class Disclosed:
    """What a partner read returns: the record(s), the consent each went out
    under, and the purpose recorded in the accounting."""

    records: list
    consents: dict  # client id -> Consent
    purpose: str


def _covering_by_client(
    *, partner: Partner, client_ids: list, purpose: str, kinds: list[str], now: datetime
) -> dict:
    """The covering consent of each client, in one query (most recently signed)."""
    consents = _with_kinds(
        consents_for_partner(partner=partner, purpose=purpose, now=now), kinds
    ).filter(client_id__in=client_ids)
    covering: dict = {}
    for consent in consents.order_by("-signed_on", "-recorded_at", "id"):
        covering.setdefault(consent.client_id, consent)
    return covering


def partner_clients(*, partner: Partner, purpose: str, now: datetime) -> QuerySet[Client]:
    return consented_clients(
        partner=partner, purpose=purpose, kinds=[InformationKind.DEMOGRAPHICS], now=now
    ).order_by("last_name", "first_name", "id")


@transaction.atomic
def partner_clients_page(
    *,
    partner: Partner,
    purpose: str | None,
    read_page: Callable[[QuerySet[Client]], list[Client]],
    now: datetime | None = None,
    channel: str = DisclosureChannel.API,
) -> Disclosed:
    """One page of the partner's consented clients (demographics), and one
    disclosure row per client on it, written in one insert in the read's
    transaction. `read_page` cuts the page (the API's paginator)."""
    now = resolve_now(now)
    purpose = read_purpose(partner, purpose)
    kinds = [InformationKind.DEMOGRAPHICS.value]
    page = list(read_page(partner_clients(partner=partner, purpose=purpose, now=now)))
    covering = _covering_by_client(
        partner=partner, client_ids=[c.pk for c in page], purpose=purpose, kinds=kinds, now=now
    )
    disclosure_record_bulk(
        partner=partner,
        rows=[(c.pk, covering[c.pk], [{"kind": "client", "id": str(c.pk)}]) for c in page],
        purpose=purpose,
        kinds=kinds,
        channel=channel,
        now=now,
    )
    return Disclosed(records=page, consents=covering, purpose=purpose)


def _reachable_client(partner: Partner, client_id) -> Client | None:
    return clients_of_partner_sites(partner).filter(pk=client_id).first()


@transaction.atomic
def partner_client_read(
    *,
    partner: Partner,
    client_id,
    purpose: str | None,
    now: datetime | None = None,
    channel: str = DisclosureChannel.API,
) -> Disclosed:
    """One consented client's demographics; NotFound (nothing recorded) when
    no active consent covers this partner, purpose and kind of information."""
    now = resolve_now(now)
    purpose = read_purpose(partner, purpose)
    kinds = [InformationKind.DEMOGRAPHICS.value]
    client = _reachable_client(partner, client_id)
    consent = client and consent_covering(
        partner=partner, client=client, purpose=purpose, kinds=kinds, now=now
    )
    if not consent:
        raise NotFound()
    disclosure_record(
        partner=partner,
        client_id=client.pk,
        consent=consent,
        purpose=purpose,
        kinds=kinds,
        resources=[{"kind": "client", "id": str(client.pk)}],
        channel=channel,
        now=now,
    )
    return Disclosed(records=[client], consents={client.pk: consent}, purpose=purpose)


@transaction.atomic
def partner_episodes_read(
    *,
    partner: Partner,
    client_id,
    purpose: str | None,
    now: datetime | None = None,
    channel: str = DisclosureChannel.API,
) -> Disclosed:
    """A consented client's episodes and levels of care (their placements), as
    far as the consent's discloser reaches; one disclosure row naming each
    episode and placement sent."""
    now = resolve_now(now)
    purpose = read_purpose(partner, purpose)
    kinds = [InformationKind.EPISODES.value]
    client = _reachable_client(partner, client_id)
    consent = client and consent_covering(
        partner=partner, client=client, purpose=purpose, kinds=kinds, now=now
    )
    if not consent:
        raise NotFound()
    placements = Placement.objects.select_related("program__site", "program__level").order_by(
        "started_at", "id"
    )
    if consent.disclosing_program_id:
        placements = placements.filter(program_id=consent.disclosing_program_id)
    episodes = list(
        episodes_disclosable(consent)
        .prefetch_related(Prefetch("placements", queryset=placements, to_attr="disclosed"))
        .order_by("admitted_at", "id")
    )
    resources = []
    for episode in episodes:
        resources.append({"kind": "episode", "id": str(episode.pk)})
        resources += [{"kind": "placement", "id": str(p.pk)} for p in episode.disclosed]
    disclosure_record(
        partner=partner,
        client_id=client.pk,
        consent=consent,
        purpose=purpose,
        kinds=kinds,
        resources=resources,
        channel=channel,
        now=now,
    )
    return Disclosed(records=episodes, consents={client.pk: consent}, purpose=purpose)


def partner_consent_copy(*, partner: Partner, consent_id) -> Consent:
    """The copy of a consent (§2.32(b)) for a partner that has received records
    under it: the consent the notice of each response links to. Any other
    consent does not exist for the partner."""
    received = Disclosure.objects.filter(partner=partner, consent_id=OuterRef("pk"))
    consent = (
        Consent.objects.filter(Exists(received), pk=consent_id)
        .select_related("disclosing_program", "recipient_partner")
        .first()
    )
    if consent is None:
        raise NotFound()
    return consent


def resources_in_words(resources: list[dict]) -> str:
    """'client 1f2e…, episode 3a4b…': what a disclosure sent, for the accounting."""
    return ", ".join(f"{r.get('kind')} {r.get('id')}" for r in resources)


def disclosure_description(disclosure: Disclosure) -> str:
    """The accounting's description: the kinds of information in words, then
    the records sent."""
    return f"{disclosure.description}: {resources_in_words(disclosure.resources)}"
