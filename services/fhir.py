"""FHIR R4 reads: whose records a caller may read as FHIR, under which consent,
and the record of every such read.

    fhir_patient_read(reader, patient_id)     -> one client
    fhir_patients_search(reader, patient_ids) -> the clients among them the reader may see
    fhir_episodes_read(reader, patient_id)    -> the client's episodes, with their stays
    fhir_episode_read(reader, episode_id)     -> one of them
    fhir_encounters_read(reader, patient_id)  -> the client's stays (placements)
    fhir_encounter_read(reader, placement_id) -> one of them

A reader is a member of staff (services/access.py decides what they see; every
read is audited) or a partner holding `fhir:read` (services/consent.py: a
client of the partner's sites with an active consent that covers the partner
or its class, the purpose and the kinds of information; every read is a
Disclosure, written in the read's transaction, and audited under the partner's
service user). Anything the reader may not see is `NotFound`, exactly like a
client that does not exist: nothing about a client's existence leaks.

The purpose of a partner's read is the one it gives (`purpose`, sent as the
`_purpose` search parameter), or, when it gives none, that of the consent the
read is made under. This module returns rows; backend/fhir/resources.py turns
them into FHIR resources, so the rules here know nothing of the format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from backend.audit.models import AuditAction
from backend.care.models import Client, Episode, Placement
from backend.partners.models import (
    Consent,
    DisclosureChannel,
    InformationKind,
    Partner,
)
from services.access import clients_visible_to
from services.audit import audit_reads, audit_record_bulk
from services.clock import resolve_now
from services.consent import (
    READ_PURPOSES,
    clients_of_partner_sites,
    consent_covering,
    consents_for_partner,
    covers_kinds,
    disclosure_record,
    disclosure_record_bulk,
    episodes_disclosable,
)
from services.errors import InvalidInput, NotFound

MSG_NOT_FOUND = "No such resource, or not one you may read."
MSG_UNKNOWN_PURPOSE = "Unknown purpose; one of: {choices}."
MSG_TOO_MANY_IDS = "At most {limit} ids in one search."

# A search by _id names at most this many patients: one page, one insert of disclosures.
MAX_SEARCH_IDS = 50

PATIENT_KINDS = [InformationKind.DEMOGRAPHICS.value]
EPISODE_KINDS = [InformationKind.EPISODES.value]


@dataclass(frozen=True)
class Reader:
    """Who reads: a user, and the partner behind it when the token is a partner's.
    `purpose` is the partner's stated purpose (None: the consent's own); staff
    reads have no purpose (they are uses inside the program, not disclosures)."""

    user: AbstractBaseUser
    partner: Partner | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class ClientRead:
    """What one read returns: the client, the rows read (episodes with their
    `stays`, or placements), and the consent it was disclosed under (partners)."""

    client: Client
    consent: Consent | None = None
    episodes: list[Episode] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)


def _uuid(value) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        return None


def _check_purpose(reader: Reader) -> None:
    stated = reader.partner is not None and reader.purpose is not None
    if stated and reader.purpose not in READ_PURPOSES:
        raise InvalidInput(
            MSG_UNKNOWN_PURPOSE.format(choices=", ".join(READ_PURPOSES)), field="_purpose"
        )


def _partner_consents(reader: Reader, now: datetime) -> QuerySet[Consent]:
    """The active consents naming the partner (or, TPO consents, its class), for
    the stated purpose, or for any purpose when the partner states none."""
    return consents_for_partner(partner=reader.partner, purpose=reader.purpose, now=now)


def _consent_for(reader: Reader, client_id, kinds: list[str], now: datetime) -> Consent | None:
    return consent_covering(
        partner=reader.partner, client=client_id, purpose=reader.purpose, kinds=kinds, now=now
    )


def _client_for(
    reader: Reader, patient_id, kinds: list[str], now: datetime
) -> tuple[Client, Consent | None]:
    """The client the reader may read these kinds of, with the consent that lets
    a partner; NotFound for a missing client and a forbidden one alike."""
    pk = _uuid(patient_id)
    if pk is None:
        raise NotFound(MSG_NOT_FOUND)
    if reader.partner is None:
        clients = clients_visible_to(reader.user)
    else:
        clients = clients_of_partner_sites(reader.partner)
    client = clients.select_related("registered_site").filter(pk=pk).first()
    if client is None:
        raise NotFound(MSG_NOT_FOUND)
    if reader.partner is None:
        return client, None
    consent = _consent_for(reader, client.pk, kinds, now)
    if consent is None:
        raise NotFound(MSG_NOT_FOUND)
    return client, consent


def _with_disclosure(detail: dict, disclosure_id: str | None) -> dict:
    return detail if disclosure_id is None else {**detail, "disclosure": disclosure_id}


def _record(
    reader: Reader,
    *,
    client: Client,
    consent: Consent | None,
    kinds: list[str],
    object_type: str,
    fhir_type: str,
    ids: Iterable[UUID],
    action: AuditAction,
    now: datetime,
) -> None:
    """The read's accounting: a Disclosure for a partner, and an audit row per
    record read for everyone."""
    ids = list(ids)
    detail = {"channel": DisclosureChannel.FHIR.value, "resource": fhir_type}
    if reader.partner is not None:
        disclosure = disclosure_record(
            partner=reader.partner,
            client_id=client.pk,
            consent=consent,
            purpose=reader.purpose or consent.purpose,
            kinds=kinds,
            resources=[{"kind": fhir_type, "id": str(pk)} for pk in ids],
            channel=DisclosureChannel.FHIR,
            now=now,
        )
        detail["disclosure"] = str(disclosure.pk)
    audit_reads(
        actor=reader.user,
        object_type=object_type,
        records=[(pk, client.pk) for pk in ids],
        action=action,
        detail=detail,
        now=now,
    )


@transaction.atomic
def fhir_patient_read(*, reader: Reader, patient_id, now: datetime | None = None) -> ClientRead:
    now = resolve_now(now)
    _check_purpose(reader)
    client, consent = _client_for(reader, patient_id, PATIENT_KINDS, now)
    _record(
        reader,
        client=client,
        consent=consent,
        kinds=PATIENT_KINDS,
        object_type="client",
        fhir_type="Patient",
        ids=[client.pk],
        action=AuditAction.VIEW,
        now=now,
    )
    return ClientRead(client=client, consent=consent)


@transaction.atomic
def fhir_patients_search(
    *, reader: Reader, patient_ids: list, now: datetime | None = None
) -> list[ClientRead]:
    """The clients among `patient_ids` that the reader may read, in the order
    asked; the others are left out, as a search leaves out what does not match."""
    now = resolve_now(now)
    _check_purpose(reader)
    if len(patient_ids) > MAX_SEARCH_IDS:
        raise InvalidInput(MSG_TOO_MANY_IDS.format(limit=MAX_SEARCH_IDS), field="_id")
    pks = list(dict.fromkeys(pk for pk in map(_uuid, patient_ids) if pk is not None))
    if reader.partner is None:
        clients = clients_visible_to(reader.user)
    else:
        clients = clients_of_partner_sites(reader.partner)
    found = {c.pk: c for c in clients.select_related("registered_site").filter(pk__in=pks)}
    consents: dict[UUID, Consent] = {}
    if reader.partner is not None and found:
        # One query for every client's consents; the most recently signed that
        # covers demographics wins (the queryset's order), as in consent_covering.
        for consent in _partner_consents(reader, now).filter(client_id__in=list(found)):
            if consent.client_id not in consents and covers_kinds(consent, PATIENT_KINDS):
                consents[consent.client_id] = consent
        found = {pk: c for pk, c in found.items() if pk in consents}
    reads = [ClientRead(client=found[pk], consent=consents.get(pk)) for pk in pks if pk in found]
    detail = {"channel": DisclosureChannel.FHIR.value, "resource": "Patient"}
    disclosed: dict[UUID, str] = {}
    if reader.partner is not None:
        # One insert per purpose (a handful at most): each row's purpose is the
        # stated one, or else that of the consent it is disclosed under.
        by_purpose: dict[str, list[tuple]] = {}
        for r in reads:
            rows = by_purpose.setdefault(reader.purpose or r.consent.purpose, [])
            rows.append((r.client.pk, r.consent, [{"kind": "Patient", "id": str(r.client.pk)}]))
        for purpose, rows in by_purpose.items():
            for disclosure in disclosure_record_bulk(
                partner=reader.partner,
                rows=rows,
                purpose=purpose,
                kinds=PATIENT_KINDS,
                channel=DisclosureChannel.FHIR,
                now=now,
            ):
                disclosed[disclosure.client_id] = str(disclosure.pk)
    audit_record_bulk(
        actor=reader.user,
        action=AuditAction.LIST,
        object_type="client",
        records=[
            (r.client.pk, r.client.pk, _with_disclosure(detail, disclosed.get(r.client.pk)))
            for r in reads
        ],
        now=now,
    )
    return reads


def _stays(consent: Consent | None) -> QuerySet[Placement]:
    """The stays a read shows: all of them, or, when the consent names one
    disclosing program, only the stays in that program."""
    qs = Placement.objects.select_related("program__site", "program__level").order_by(
        "started_at", "id"
    )
    if consent is not None and consent.disclosing_program_id:
        qs = qs.filter(program_id=consent.disclosing_program_id)
    return qs


def _episodes(client: Client, consent: Consent | None) -> QuerySet[Episode]:
    qs = episodes_disclosable(consent) if consent is not None else client.episodes.all()
    return qs.order_by("admitted_at", "id")


@transaction.atomic
def fhir_episodes_read(*, reader: Reader, patient_id, now: datetime | None = None) -> ClientRead:
    """The client's episodes of care, oldest first, each with its `stays`."""
    now = resolve_now(now)
    _check_purpose(reader)
    client, consent = _client_for(reader, patient_id, EPISODE_KINDS, now)
    episodes = list(
        _episodes(client, consent).prefetch_related(
            Prefetch("placements", queryset=_stays(consent), to_attr="stays")
        )
    )
    _record(
        reader,
        client=client,
        consent=consent,
        kinds=EPISODE_KINDS,
        object_type="episode",
        fhir_type="EpisodeOfCare",
        ids=[e.pk for e in episodes],
        action=AuditAction.LIST,
        now=now,
    )
    return ClientRead(client=client, consent=consent, episodes=episodes)


@transaction.atomic
def fhir_encounters_read(*, reader: Reader, patient_id, now: datetime | None = None) -> ClientRead:
    """The client's stays in programs, in the order they began."""
    now = resolve_now(now)
    _check_purpose(reader)
    client, consent = _client_for(reader, patient_id, EPISODE_KINDS, now)
    stays = _stays(consent).filter(client=client)
    if consent is not None:
        stays = stays.filter(episode__in=episodes_disclosable(consent))
    placements = list(stays)
    _record(
        reader,
        client=client,
        consent=consent,
        kinds=EPISODE_KINDS,
        object_type="placement",
        fhir_type="Encounter",
        ids=[p.pk for p in placements],
        action=AuditAction.LIST,
        now=now,
    )
    return ClientRead(client=client, consent=consent, placements=placements)


def _client_of(model, pk) -> UUID | None:
    return model.objects.filter(pk=pk).values_list("client_id", flat=True).first()


@transaction.atomic
def fhir_episode_read(*, reader: Reader, episode_id, now: datetime | None = None) -> ClientRead:
    """One episode (with its `stays`), as `fhir_episodes_read` would show it."""
    now = resolve_now(now)
    _check_purpose(reader)
    pk = _uuid(episode_id)
    client_id = _client_of(Episode, pk) if pk is not None else None
    if client_id is None:
        raise NotFound(MSG_NOT_FOUND)
    client, consent = _client_for(reader, client_id, EPISODE_KINDS, now)
    episode = (
        _episodes(client, consent)
        .filter(pk=pk)
        .prefetch_related(Prefetch("placements", queryset=_stays(consent), to_attr="stays"))
        .first()
    )
    if episode is None:
        raise NotFound(MSG_NOT_FOUND)
    _record(
        reader,
        client=client,
        consent=consent,
        kinds=EPISODE_KINDS,
        object_type="episode",
        fhir_type="EpisodeOfCare",
        ids=[episode.pk],
        action=AuditAction.VIEW,
        now=now,
    )
    return ClientRead(client=client, consent=consent, episodes=[episode])


@transaction.atomic
def fhir_encounter_read(*, reader: Reader, placement_id, now: datetime | None = None) -> ClientRead:
    """One stay, as `fhir_encounters_read` would show it."""
    now = resolve_now(now)
    _check_purpose(reader)
    pk = _uuid(placement_id)
    client_id = _client_of(Placement, pk) if pk is not None else None
    if client_id is None:
        raise NotFound(MSG_NOT_FOUND)
    client, consent = _client_for(reader, client_id, EPISODE_KINDS, now)
    stays = _stays(consent).filter(pk=pk)
    if consent is not None:
        stays = stays.filter(episode__in=episodes_disclosable(consent))
    placement = stays.first()
    if placement is None:
        raise NotFound(MSG_NOT_FOUND)
    _record(
        reader,
        client=client,
        consent=consent,
        kinds=EPISODE_KINDS,
        object_type="placement",
        fhir_type="Encounter",
        ids=[placement.pk],
        action=AuditAction.VIEW,
        now=now,
    )
    return ClientRead(client=client, consent=consent, placements=[placement])
