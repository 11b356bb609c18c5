"""The staff side of consent over HTTP: recording a consent as JSON with its
document base64-encoded, revocation, the signed file, and the client's
accounting of disclosures (42 CFR 2.25) as JSON and CSV."""

import base64
import csv
import datetime as dt
import io

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.api.errors import MSG_BODY_TOO_LARGE
from backend.partners.api.serializers import DISCLOSURE_CSV_COLUMNS
from backend.partners.models import PartnerKind
from services import consent as consents
from tests.api.helpers import assert_problem
from tests.partner_fixtures import austin_today as _today

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 the signed consent"
DAY = dt.timedelta(days=1)


@pytest.fixture
def payer(make_partner):
    return make_partner(
        "Lone Star Health Plan", scopes=["clients:read"], kind=PartnerKind.HEALTH_PLAN
    )


def consent_body(payer, **changes) -> dict:
    body = {
        "information_kinds": ["demographics", "episodes"],
        "information_description": "My name, date of birth, dates and levels of my care.",
        "recipient_partner": str(payer.partner.pk),
        "purpose": "payment",
        "right_to_revoke_stated": True,
        "expiry": "date",
        "expires_on": str(_today() + 365 * DAY),
        "signed_on": str(_today() - DAY),
        "signed_by": "Jordan Rivera",
        "document": base64.b64encode(PDF).decode(),
        "document_name": "consent.pdf",
    }
    body.update(changes)
    return body


def _disclose(partner, client, consent, at, kinds=("episodes",)):
    return consents.disclosure_record(
        partner=partner,
        client_id=client.pk,
        consent=consent,
        purpose="payment",
        kinds=list(kinds),
        resources=[{"kind": "episode", "id": str(client.episodes.get().pk)}],
        channel="api",
        now=at,
    )


# --- recording, reading, revoking ---------------------------------------------------------


def test_a_document_of_10_mb_is_taken_and_one_byte_more_is_a_400_naming_document(
    api, users, client_in_care, payer
):
    # given a signed scan of exactly 10 MB, and one a byte larger
    austin = api.as_user(users.austin)
    url = f"/api/v1/clients/{client_in_care.pk}/consents/"
    limit = consents.MAX_DOCUMENT_BYTES
    assert limit == 10 * 1024 * 1024
    at_limit = b"%PDF-1.4 " + b"x" * (limit - 9)

    # when each is recorded, base64-encoded in the JSON body
    taken = austin.post(
        url, consent_body(payer, document=base64.b64encode(at_limit).decode()), format="json"
    )
    refused = austin.post(
        url,
        consent_body(payer, document=base64.b64encode(at_limit + b"x").decode()),
        format="json",
    )

    # then the first is kept whole, and the second is a 400 naming the document
    assert taken.status_code == 201, taken.content[:300]
    assert taken.json()["document_sha256"] == consents.document_checksum(at_limit)
    body = assert_problem(refused, 400, fields=["document"])
    assert body["errors"][0]["message"] == consents.MSG_DOCUMENT_TOO_LARGE.format(mb=10)
    assert client_in_care.consents.count() == 1


def test_a_body_too_large_for_any_document_is_a_413_problem(api, users, client_in_care, payer):
    # given a body over the largest Django reads (a 10 MB document base64 fits under it)
    huge = b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    # when it is sent as a consent
    response = api.as_user(users.austin).post(
        f"/api/v1/clients/{client_in_care.pk}/consents/",
        consent_body(payer, document=base64.b64encode(huge).decode()),
        format="json",
    )

    # then it is a problem document, not Django's HTML page, and nothing is recorded
    body = assert_problem(response, 413, code="payload_too_large")
    assert body["detail"] == MSG_BODY_TOO_LARGE.format(mb=14)
    assert client_in_care.consents.count() == 0


def test_a_coordinator_records_a_consent_as_json_and_fetches_its_document(
    api, users, client_in_care, payer
):
    austin = api.as_user(users.austin)

    # when the signed form is recorded, its file base64-encoded
    created = austin.post(
        f"/api/v1/clients/{client_in_care.pk}/consents/", consent_body(payer), format="json"
    )

    # then the consent answers with its elements, in force
    assert created.status_code == 201, created.content
    consent = created.json()
    assert consent["recipient_partner"] == str(payer.partner.pk)
    assert consent["recipient_partner_name"] == payer.partner.name
    assert consent["recipient_class"] is None
    assert consent["is_active"] is True
    assert consent["document_sha256"] == consents.document_checksum(PDF)
    # and the document is the file uploaded, its checksum in the headers
    document = austin.get(consent["document"])
    assert document.status_code == 200
    assert document.content == PDF
    assert document["X-Content-SHA256"] == consent["document_sha256"]
    expected = base64.b64encode(bytes.fromhex(consent["document_sha256"])).decode()
    assert document["Repr-Digest"] == f"sha-256=:{expected}:"
    # and it is listed for the client and among the consents
    listed = austin.get(f"/api/v1/clients/{client_in_care.pk}/consents/").json()
    assert [c["id"] for c in listed["results"]] == [consent["id"]]
    assert austin.get(f"/api/v1/consents/{consent['id']}/").json() == consent


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"recipient_partner": None}, ["recipient_partner"]),
        ({"recipient_class": "health_plan"}, ["recipient_partner"]),
        ({"expiry": "none", "expires_on": None}, ["expiry"]),
        ({"expires_on": "2001-01-01"}, ["expires_on"]),
        ({"information_kinds": []}, ["information_kinds"]),
        ({"information_kinds": ["diagnoses"]}, ["information_kinds.0"]),
        ({"document": "not base64!"}, ["document"]),
        ({"document": ""}, ["document"]),
        ({"signed_on": "tomorrow"}, ["signed_on"]),
        ({"recipient_partner": "00000000-0000-4000-8000-000000000000"}, ["recipient_partner"]),
    ],
)
def test_a_bad_consent_is_a_400_naming_the_field(
    api, users, client_in_care, payer, changes, fields
):
    response = api.as_user(users.austin).post(
        f"/api/v1/clients/{client_in_care.pk}/consents/",
        consent_body(payer, **changes),
        format="json",
    )

    assert_problem(response, 400, fields=fields)


def test_revocation_over_the_api_takes_the_consent_out_of_force(
    api, users, client_in_care, payer, make_consent
):
    consent = make_consent(client_in_care, partner=payer.partner)
    austin = api.as_user(users.austin)
    url = f"/api/v1/consents/{consent.pk}/revoke/"

    revoked = austin.post(url, {"received_on": str(_today()), "note": "Letter."}, format="json")
    again = austin.post(url, {"received_on": str(_today())}, format="json")
    missing_day = austin.post(url, {}, format="json")

    assert revoked.status_code == 200, revoked.content
    assert revoked.json()["is_active"] is False
    assert revoked.json()["revoked_on"] == str(_today())
    assert revoked.json()["revoked_by"] == users.austin.username
    assert_problem(again, 409)
    assert_problem(missing_day, 400, fields=["received_on"])
    active = austin.get("/api/v1/consents/", {"is_active": "true"}).json()
    assert active["count"] == 0


def test_staff_of_a_foreign_site_get_404_on_consents_and_disclosures(
    api, users, client_in_care, payer, make_consent
):
    # given an Austin client's consent, and Houston's coordinator
    consent = make_consent(client_in_care, partner=payer.partner)
    houston = api.as_user(users.houston)
    client = f"/api/v1/clients/{client_in_care.pk}"

    # then every consent route answers as for a client that does not exist
    for response in [
        houston.get(f"{client}/consents/"),
        houston.post(f"{client}/consents/", consent_body(payer), format="json"),
        houston.get(f"{client}/disclosures/"),
        houston.get(f"{client}/disclosures/?format=csv"),
        houston.get(f"/api/v1/consents/{consent.pk}/"),
        houston.get(f"/api/v1/consents/{consent.pk}/document/"),
        houston.post(
            f"/api/v1/consents/{consent.pk}/revoke/", {"received_on": str(_today())}, format="json"
        ),
    ]:
        assert_problem(response, 404)
    assert houston.get("/api/v1/consents/").json()["count"] == 0


# --- the accounting ---------------------------------------------------------------------


def test_the_accounting_lists_three_years_of_disclosures_newest_first(
    api, users, client_in_care, payer, make_consent
):
    # given disclosures a day, two years and four years ago
    consent = make_consent(client_in_care, partner=payer.partner)
    now = timezone.now()
    recent = _disclose(payer.partner, client_in_care, consent, now - DAY)
    older = _disclose(payer.partner, client_in_care, consent, now - 730 * DAY)
    _disclose(payer.partner, client_in_care, consent, now - 4 * 365 * DAY)

    # when staff read the client's accounting
    response = api.as_user(users.austin).get(f"/api/v1/clients/{client_in_care.pk}/disclosures/")

    # then the last three years, each with date, recipient, description, purpose, consent
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [str(recent.pk), str(older.pk)]
    first = rows[0]
    assert first["recipient"] == "Lone Star Health Plan"
    assert (first["purpose"], first["purpose_name"]) == ("payment", "Payment")
    episode = str(client_in_care.episodes.get().pk)
    assert first["description"] == f"Episodes and levels of care: episode {episode}"
    assert first["resources"] == [{"kind": "episode", "id": episode}]
    assert first["consent"] == str(consent.pk)


def test_the_accounting_as_csv_has_its_columns_and_a_row_per_disclosure(
    api, users, client_in_care, payer, make_consent
):
    consent = make_consent(client_in_care, partner=payer.partner)
    _disclose(payer.partner, client_in_care, consent, timezone.now() - DAY)

    response = api.as_user(users.austin).get(
        f"/api/v1/clients/{client_in_care.pk}/disclosures/", {"format": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == DISCLOSURE_CSV_COLUMNS
    assert rows[0]["recipient"] == "Lone Star Health Plan"
    assert rows[0]["purpose"] == "Payment"
    assert rows[0]["information"] == "Episodes and levels of care"
    assert rows[0]["consent"] == str(consent.pk)


def test_options_on_the_accounting_still_describe_it_in_json(api, users, client_in_care):
    austin = api.as_user(users.austin)
    url = f"/api/v1/clients/{client_in_care.pk}/disclosures/"

    for response in [austin.options(url), austin.options(url, QUERY_STRING="format=csv")]:
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")


def test_the_accounting_has_no_write_endpoint(api, users, client_in_care):
    austin = api.as_user(users.austin)
    url = f"/api/v1/clients/{client_in_care.pk}/disclosures/"

    assert_problem(austin.post(url, {}, format="json"), 405)
    assert_problem(austin.delete(url), 405)


def _count(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response.json()["count"]


def test_the_accounting_and_the_consents_cost_the_same_queries_for_few_rows_and_many(
    api, users, client_in_care, payer, make_consent
):
    austin = api.as_user(users.austin)
    accounting = f"/api/v1/clients/{client_in_care.pk}/disclosures/"
    of_client = f"/api/v1/clients/{client_in_care.pk}/consents/"

    def add(n):
        for _ in range(n):
            consent = make_consent(client_in_care, partner=payer.partner)
            _disclose(payer.partner, client_in_care, consent, timezone.now() - DAY)

    add(2)
    few = [_count(austin, url) for url in (accounting, of_client, "/api/v1/consents/")]
    add(10)
    many = [_count(austin, url) for url in (accounting, of_client, "/api/v1/consents/")]

    assert [count for _, count in many] == [12, 12, 12]
    assert [queries for queries, _ in many] == [queries for queries, _ in few]
