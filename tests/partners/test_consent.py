"""Recording and revoking a consent (42 CFR 2.31, 2.33) through services/consent.py:
each element checked with an error naming its field, who may record and read,
and the append-only accounting on PostgreSQL."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, transaction
from django.utils import timezone

from backend.audit.models import AuditEvent
from backend.partners.models import Consent, ConsentExpiry, Disclosure, PartnerKind
from services import consent as consents
from services import episodes
from services.errors import Conflict, InvalidInput, NotFound
from tests.partner_fixtures import austin_today as _today

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 signed consent of the client"
NOW = timezone.now()
DAY = dt.timedelta(days=1)


@pytest.fixture
def payer(make_partner):
    return make_partner(
        "Lone Star Health Plan", scopes=["clients:read"], kind=PartnerKind.HEALTH_PLAN
    )


def elements(payer, **changes) -> dict:
    values = {
        "information_kinds": ["demographics", "episodes"],
        "information_description": "My name, date of birth, dates and levels of my care.",
        "recipient_partner": payer.partner,
        "purpose": "payment",
        "right_to_revoke_stated": True,
        "expiry": ConsentExpiry.DATE,
        "expires_on": _today() + 365 * DAY,
        "signed_on": _today() - DAY,
        "signed_by": "Jordan Rivera",
        "document": PDF,
        "document_name": "consent.pdf",
    }
    values.update(changes)
    return values


def test_a_coordinator_records_a_consent_with_its_document_and_checksum(
    users, client_in_care, payer
):
    # when the Austin coordinator records the signed form
    consent = consents.consent_record(actor=users.austin, client=client_in_care, **elements(payer))

    # then every element is kept, the file with its SHA-256, and the write is audited
    consent.refresh_from_db()
    assert consent.recipient_partner == payer.partner
    assert consent.information_kinds == ["demographics", "episodes"]
    assert consent.recorded_by == users.austin
    assert consent.document_sha256 == consents.document_checksum(PDF)
    with consent.document.open("rb") as handle:
        assert handle.read() == PDF
    audit = AuditEvent.objects.get(object_type="consent", object_id=consent.pk)
    assert (audit.action, audit.actor, audit.client_id) == (
        "create",
        users.austin,
        client_in_care.pk,
    )


INVALID = {
    "no recipient": ({"recipient_partner": None}, "recipient_partner"),
    "both a partner and a class": (
        {"recipient_class": "health_plan", "purpose": "tpo"},
        "recipient_partner",
    ),
    "a class outside a TPO consent": (
        {"recipient_partner": None, "recipient_class": "health_plan", "purpose": "payment"},
        "recipient_class",
    ),
    "an unknown class": (
        {"recipient_partner": None, "recipient_class": "neighbours", "purpose": "tpo"},
        "recipient_class",
    ),
    "an unknown purpose": ({"purpose": "marketing"}, "purpose"),
    "'other' purpose undescribed": ({"purpose": "other"}, "purpose_description"),
    "no kinds of information": ({"information_kinds": []}, "information_kinds"),
    "an unknown kind": ({"information_kinds": ["diagnoses"]}, "information_kinds"),
    "no description": ({"information_description": "  "}, "information_description"),
    "no expiry outside TPO": ({"expiry": "none", "expires_on": None}, "expiry"),
    "an expiry date missing": ({"expires_on": None}, "expires_on"),
    "expiring before the signature": ({"expires_on": _today() - 2 * DAY}, "expires_on"),
    "expiring on the day of signature": ({"expires_on": _today() - DAY}, "expires_on"),
    "a date with an event": ({"expiry": "end_of_treatment"}, "expires_on"),
    "signed tomorrow": ({"signed_on": _today() + 2 * DAY}, "signed_on"),
    "no signer": ({"signed_by": ""}, "signed_by"),
    "no right to revoke stated": ({"right_to_revoke_stated": False}, "right_to_revoke_stated"),
    "no document": ({"document": b""}, "document"),
    "no document name": ({"document_name": ""}, "document_name"),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_each_broken_element_is_refused_naming_its_field(case, users, client_in_care, payer):
    changes, field = INVALID[case]

    with pytest.raises(InvalidInput) as refused:
        consents.consent_record(
            actor=users.austin, client=client_in_care, **elements(payer, **changes), now=NOW
        )

    assert refused.value.field == field
    assert Consent.objects.count() == 0


def test_a_single_tpo_consent_may_name_a_class_and_never_expire(users, client_in_care, payer):
    consent = consents.consent_record(
        actor=users.austin,
        client=client_in_care,
        **elements(
            payer,
            recipient_partner=None,
            recipient_class="treating_provider",
            purpose="tpo",
            expiry="none",
            expires_on=None,
        ),
    )

    assert (consent.recipient_class, consent.expiry) == ("treating_provider", "none")


def test_a_consent_until_the_end_of_treatment_ends_at_discharge(users, client_in_care, payer):
    # given a consent until the end of treatment, signed during the stay
    consent = consents.consent_record(
        actor=users.austin,
        client=client_in_care,
        **elements(payer, expiry="end_of_treatment", expires_on=None),
    )
    assert consents.consents_active(now=timezone.now()).filter(pk=consent.pk).exists()

    # when the client is discharged
    episodes.episode_discharge(
        actor=users.austin, episode=client_in_care.episodes.get(), discharge_type="completed"
    )

    # then it is no longer in force
    assert not consents.consents_active(now=timezone.now()).filter(pk=consent.pk).exists()


@pytest.mark.parametrize("who", ["houston", "alumni", "nobody"])
def test_staff_of_other_sites_cannot_record_or_read_the_clients_consents(
    who, users, client_in_care, payer, make_consent
):
    # given an Austin client's consent, and someone not on an Austin care team
    consent = make_consent(client_in_care, partner=payer.partner)
    stranger = getattr(users, who)

    # then the client and the consent do not exist for them
    with pytest.raises(NotFound):
        consents.consent_record(actor=stranger, client=client_in_care, **elements(payer))
    with pytest.raises(NotFound):
        consents.consents_of_client(actor=stranger, client=client_in_care)
    with pytest.raises(NotFound):
        consents.consent_revoke(actor=stranger, consent=consent, received_on=_today())
    with pytest.raises(NotFound):
        consents.disclosures_of_client(actor=stranger, client=client_in_care)
    assert Consent.objects.count() == 1


def test_an_organisation_admin_reads_every_clients_consents(
    users, client_in_care, make_consent, payer
):
    consent = make_consent(client_in_care, partner=payer.partner)

    listed = consents.consents_of_client(actor=users.admin, client=client_in_care)

    assert [c.pk for c in listed] == [consent.pk]
    assert listed[0].is_active


# --- revocation ------------------------------------------------------------------------


def test_a_written_revocation_is_recorded_with_the_day_it_was_received(
    users, client_in_care, make_consent, payer
):
    consent = make_consent(client_in_care, partner=payer.partner, signed_on=_today() - 10 * DAY)
    received = _today() - 2 * DAY

    consents.consent_revoke(
        actor=users.austin, consent=consent, received_on=received, note="Letter, scanned."
    )

    consent.refresh_from_db()
    assert (consent.revoked_on, consent.revoked_by) == (received, users.austin)
    assert consent.revoked_at is not None
    assert consent.revocation_note == "Letter, scanned."
    assert not consents.consents_active(now=timezone.now()).filter(pk=consent.pk).exists()
    audit = AuditEvent.objects.get(object_type="consent", action="update")
    assert audit.detail["change"] == "revoked"


def test_a_consent_is_revoked_once(users, client_in_care, make_consent, payer):
    consent = make_consent(client_in_care, partner=payer.partner)
    consents.consent_revoke(actor=users.austin, consent=consent, received_on=_today())

    with pytest.raises(Conflict):
        consents.consent_revoke(actor=users.austin, consent=consent, received_on=_today())


@pytest.mark.parametrize("received_on", ["tomorrow", "before signing"])
def test_a_revocation_received_tomorrow_or_before_signing_is_refused(
    received_on, users, client_in_care, make_consent, payer
):
    consent = make_consent(client_in_care, partner=payer.partner, signed_on=_today() - 5 * DAY)
    day = _today() + 2 * DAY if received_on == "tomorrow" else _today() - 6 * DAY

    with pytest.raises(InvalidInput) as refused:
        consents.consent_revoke(actor=users.austin, consent=consent, received_on=day)

    assert refused.value.field == "received_on"
    consent.refresh_from_db()
    assert consent.revoked_at is None


# --- the accounting is append-only --------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("operation", ["update", "delete"])
def test_the_database_refuses_to_change_or_delete_a_disclosure(
    operation, client_in_care, make_consent, payer
):
    # given one entry of the accounting
    consent = make_consent(client_in_care, partner=payer.partner)
    consents.disclosure_record(
        partner=payer.partner,
        client_id=client_in_care.pk,
        consent=consent,
        purpose="payment",
        kinds=["demographics"],
        resources=[{"kind": "client", "id": str(client_in_care.pk)}],
        channel="api",
        now=timezone.now(),
    )

    # when anything tries to rewrite or erase it, even past the ORM's save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows = Disclosure.objects.all()
        if operation == "update":
            rows.update(purpose="treatment")
        else:
            rows.delete()

    # then it is as it was
    assert Disclosure.objects.get().purpose == "payment"


# --- the back office ------------------------------------------------------------------


@pytest.fixture
def back_office(client, users):
    """The organisation admin, signed in to the admin (staff status for the site)."""
    users.admin.is_staff = True
    users.admin.save(update_fields=["is_staff"])
    client.force_login(users.admin)
    return client


def _admin_form(client, payer, **changes) -> dict:
    values = {
        "client": str(client.pk),
        "information_kinds": ["demographics"],
        "information_description": "Name and date of birth.",
        "recipient_partner": str(payer.partner.pk),
        "recipient_class": "",
        "purpose": "payment",
        "purpose_description": "",
        "right_to_revoke_stated": "on",
        "expiry": "date",
        "expires_on": str(_today() + 30 * DAY),
        "signed_on": str(_today() - DAY),
        "signed_by": "Jordan Rivera",
        "document": SimpleUploadedFile("consent.pdf", PDF),
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def test_the_admin_records_a_consent_through_the_service(back_office, users, client_in_care, payer):
    # given an organisation admin in the back office
    # when they add a consent with its signed file
    response = back_office.post("/admin/partners/consent/add/", _admin_form(client_in_care, payer))

    # then consent_record wrote it, checksum and audit row included
    assert response.status_code == 302, response.content[:2000]
    consent = Consent.objects.get()
    assert (consent.recorded_by, consent.document_sha256) == (
        users.admin,
        consents.document_checksum(PDF),
    )
    assert AuditEvent.objects.filter(object_type="consent", action="create").count() == 1


def test_the_admin_shows_the_services_refusal_beside_its_field(back_office, client_in_care, payer):
    response = back_office.post(
        "/admin/partners/consent/add/",
        _admin_form(client_in_care, payer, expiry="none", expires_on=None),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["expiry"] == [consents.MSG_NO_EXPIRY_ONLY_TPO]
    assert Consent.objects.count() == 0


def test_the_admin_revokes_through_the_service(
    back_office, users, client_in_care, payer, make_consent
):
    consent = make_consent(client_in_care, partner=payer.partner)

    back_office.post(
        "/admin/partners/consent/",
        {"action": "revoke_received_today", "_selected_action": [str(consent.pk)]},
    )

    consent.refresh_from_db()
    assert consent.revoked_by == users.admin
    assert consent.revoked_on is not None
