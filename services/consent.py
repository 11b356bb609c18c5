"""42 CFR Part 2 consent, checked on every disclosure to a partner, and the
accounting of disclosures.

    consent_covering(partner, client, purpose, kinds, now)
        -> the active Consent that lets us disclose these kinds of information
           about the client to this partner for this purpose, or None.
    partner_may_reach(partner, client)
        -> the client is of one of the partner's sites (registered there, or
           placed there at some time).
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
from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from backend.care.models import Client, Episode, Placement
from backend.partners.models import (
    TPO_PURPOSES,
    Consent,
    ConsentExpiry,
    Disclosure,
    InformationKind,
    Partner,
    Purpose,
)
from services.clock import resolve_now

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


def consents_for_partner(*, partner: Partner, purpose: str, now: datetime) -> QuerySet[Consent]:
    """Active consents that name the partner (or, TPO consents, its class) and
    cover the purpose. Which kinds of information they cover is checked by
    `covers_kinds` (JSON containment differs between PostgreSQL and SQLite)."""
    return consents_active(now=now).filter(
        Q(recipient_partner=partner)
        | Q(recipient_partner__isnull=True, recipient_class=partner.kind),
        _purpose_q(purpose),
    )


def covers_kinds(consent: Consent, kinds: Iterable[str]) -> bool:
    return set(kinds) <= set(consent.information_kinds)


def _with_kinds(qs: QuerySet[Consent], kinds: list[str]) -> QuerySet[Consent]:
    if connection.vendor == "postgresql":
        return qs.filter(information_kinds__contains=kinds)
    # SQLite (the demo) has no JSON containment: the few active consents in Python.
    return qs.filter(pk__in=[c.pk for c in qs if covers_kinds(c, kinds)])


def consent_covering(
    *, partner: Partner, client: Client | object, purpose: str, kinds: Iterable[str], now: datetime
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


def partner_may_reach(partner: Partner, client_id) -> bool:
    return clients_of_partner_sites(partner).filter(pk=client_id).exists()


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
