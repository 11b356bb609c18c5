"""The FHIR R4 read API: every answer is valid R4 (fhirclient's 4.0.1 models,
strict), staff read what services/access.py lets them, partners with fhir:read
read only what a consent covers, and each partner read is in the accounting.
"""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhirclient.models.bundle import Bundle
from fhirclient.models.capabilitystatement import CapabilityStatement
from fhirclient.models.encounter import Encounter
from fhirclient.models.episodeofcare import EpisodeOfCare
from fhirclient.models.operationoutcome import OperationOutcome
from fhirclient.models.patient import Patient
from rest_framework.test import APIClient

from backend.audit.models import AuditEvent
from backend.care.models import Episode, Placement
from backend.partners.models import Disclosure, PartnerKind
from services.consent import PART2_NOTICE, PART2_NOTICE_HEADER, PART2_SECURITY_LABEL
from services.fhir import MSG_NOT_FOUND
from services.partners import partner_create, partner_suspend
from tests.factories import ClientFactory, placed_client
from tests.partner_fixtures import austin_today

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
NOTICE_URL = "urn:continuum:fhir:StructureDefinition:part2-notice"
CONSENT_URL = "urn:continuum:fhir:StructureDefinition:part2-consent"


def fhir_get(client, url, params=None, **headers):
    return client.get(url, params or {}, **headers)


def assert_outcome(response, status: int, code: str) -> dict:
    """An OperationOutcome with one error issue of this code, valid R4."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == FHIR_JSON
    body = response.json()
    OperationOutcome(body, strict=True)
    (issue,) = body["issue"]
    assert issue["severity"] == "error"
    assert issue["code"] == code
    return body


def assert_part2(resource: dict) -> None:
    assert PART2_SECURITY_LABEL in resource["meta"]["security"]


def searchset(response) -> dict:
    """The Bundle of a searchset, valid R4, every resource labelled Part 2."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == FHIR_JSON
    assert response[PART2_NOTICE_HEADER] == PART2_NOTICE
    body = response.json()
    Bundle(body, strict=True)
    assert body["type"] == "searchset"
    assert body["total"] == len(body["entry"])
    assert_part2(body)
    notices = [e["valueString"] for e in body["meta"]["extension"] if e["url"] == NOTICE_URL]
    assert notices == [PART2_NOTICE]
    for entry in body["entry"]:
        assert entry["search"] == {"mode": "match"}
        resource = entry["resource"]
        assert entry["fullUrl"] == (
            f"http://testserver/fhir/{resource['resourceType']}/{resource['id']}"
        )
        assert_part2(resource)
    return body


def consent_links(resource: dict) -> list[str]:
    return [e["valueUrl"] for e in resource["meta"].get("extension", []) if e["url"] == CONSENT_URL]


def resources_of(bundle: dict) -> list[dict]:
    return [entry["resource"] for entry in bundle["entry"]]


@pytest.fixture
def journey(network, users):
    """An Austin client who went from detox to residential (a finished stay and
    a current one) after an earlier, finished episode in Austin IOP."""
    client = ClientFactory(
        registered_site=network.austin,
        first_name="Robin",
        last_name="Reyes",
        preferred_name="Rob",
        phone="+1 512 555 0100",
        email="robin@example.org",
        address="1 Congress Ave, Austin TX",
    )
    t0 = timezone.now() - dt.timedelta(days=90)
    with transaction.atomic():
        earlier = Episode.objects.create(
            client=client,
            admitted_at=t0,
            admitted_by=users.austin,
            discharged_at=t0 + dt.timedelta(days=20),
            discharged_by=users.austin,
            discharge_type="completed",
        )
        Placement.objects.create(
            episode=earlier,
            client=client,
            program=network.austin_iop,
            started_at=t0,
            ended_at=t0 + dt.timedelta(days=20),
        )
        current = Episode.objects.create(
            client=client, admitted_at=t0 + dt.timedelta(days=60), admitted_by=users.austin
        )
        detox = Placement.objects.create(
            episode=current,
            client=client,
            program=network.austin_detox,
            started_at=current.admitted_at,
            ended_at=current.admitted_at + dt.timedelta(days=5),
        )
        residential = Placement.objects.create(
            episode=current,
            client=client,
            program=network.austin_residential,
            started_at=detox.ended_at,
        )
    client.earlier, client.current = earlier, current
    client.detox, client.residential = detox, residential
    return client


@pytest.fixture
def payer(make_partner, network):
    """A payer's system holding fhir:read for Austin."""
    return make_partner("Lone Star Health Plan", scopes=["fhir:read"], kind=PartnerKind.HEALTH_PLAN)


# --- metadata ----------------------------------------------------------------


def test_metadata_is_a_capability_statement_without_credentials(db):
    # when an anonymous caller reads the metadata
    response = APIClient().get("/fhir/metadata")

    # then it is an R4 CapabilityStatement naming what we serve and how to sign in
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    body = response.json()
    CapabilityStatement(body, strict=True)
    assert body["fhirVersion"] == "4.0.1"
    assert "json" in body["format"]
    (rest,) = body["rest"]
    assert {r["type"]: [i["code"] for i in r["interaction"]] for r in rest["resource"]} == {
        "Patient": ["read", "search-type"],
        "EpisodeOfCare": ["read", "search-type"],
        "Encounter": ["read", "search-type"],
    }
    searchable = {r["type"]: {p["name"] for p in r["searchParam"]} for r in rest["resource"]}
    assert searchable["Encounter"] == {"patient", "_purpose"}
    assert rest["security"]["service"][0]["coding"][0]["code"] == "OAuth"
    (oauth,) = rest["security"]["extension"]
    assert oauth["extension"] == [{"url": "token", "valueUri": "http://testserver/oauth/token/"}]


def test_metadata_answers_even_with_a_stale_token(db):
    # given a caller whose token is no longer valid
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired-or-never-issued")

    # then the metadata still tells it where to get a new one
    assert client.get("/fhir/metadata").status_code == 200


# --- content types -------------------------------------------------------------


@pytest.mark.parametrize(
    "accept", [FHIR_JSON, "application/json", "application/json+fhir", "*/*", ""]
)
def test_any_json_accept_gets_fhir_json(db, accept):
    response = APIClient().get("/fhir/metadata", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON


@pytest.mark.parametrize("fmt", ["json", "application/fhir+json", "application/json"])
def test_format_parameter_json_is_accepted(db, fmt):
    response = APIClient().get("/fhir/metadata", {"_format": fmt}, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON


@pytest.mark.parametrize(
    ("params", "accept"),
    [
        ({}, "application/fhir+xml"),
        ({}, "text/html"),
        ({}, "application/json;q=0, text/turtle"),
        ({"_format": "xml"}, FHIR_JSON),
    ],
)
def test_an_unsupported_format_is_a_406_outcome(db, params, accept):
    response = APIClient().get("/fhir/metadata", params, HTTP_ACCEPT=accept)

    assert_outcome(response, 406, "not-supported")


def test_an_unknown_fhir_path_is_a_404_outcome(db):
    body = assert_outcome(APIClient().get("/fhir/Observation"), 404, "not-found")

    assert "metadata" in body["issue"][0]["diagnostics"]


# --- staff ---------------------------------------------------------------------


def test_staff_read_a_patient_as_fhir(api, users, journey):
    # when the Austin coordinator reads the client as a Patient
    response = api.as_user(users.austin).get(f"/fhir/Patient/{journey.pk}")

    # then it is a valid R4 Patient with the client's demographics, labelled Part 2
    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON
    assert response[PART2_NOTICE_HEADER] == PART2_NOTICE
    body = response.json()
    Patient(body, strict=True)
    assert body["id"] == str(journey.pk)
    assert body["identifier"][0]["value"] == journey.mrn
    assert body["name"] == [
        {"use": "official", "family": "Reyes", "given": ["Robin"]},
        {"use": "usual", "family": "Reyes", "given": ["Rob"]},
    ]
    assert body["birthDate"] == journey.date_of_birth.isoformat()
    assert {t["system"]: t["value"] for t in body["telecom"]} == {
        "phone": "+1 512 555 0100",
        "email": "robin@example.org",
    }
    assert body["managingOrganization"]["display"] == "Austin"
    assert_part2(body)
    assert [e["valueString"] for e in body["meta"]["extension"]] == [PART2_NOTICE]
    # and no consent applies to a read inside the program
    assert consent_links(body) == []


def test_a_staff_read_is_audited(api, users, journey):
    api.as_user(users.austin).get(f"/fhir/Patient/{journey.pk}")

    (event,) = AuditEvent.objects.filter(client_id=journey.pk)
    assert (event.actor, event.action, event.object_type) == (users.austin, "view", "client")
    assert event.detail == {"channel": "fhir", "resource": "Patient"}


def test_staff_read_episodes_of_care(api, users, network, journey):
    # when the Austin coordinator searches the client's episodes
    response = api.as_user(users.austin).get("/fhir/EpisodeOfCare", {"patient": str(journey.pk)})

    # then both episodes come, oldest first, with status, period, levels and site
    earlier, current = resources_of(searchset(response))
    assert (earlier["id"], earlier["status"]) == (str(journey.earlier.pk), "finished")
    assert earlier["period"]["end"].endswith("Z")
    assert [t["coding"][0]["code"] for t in earlier["type"]] == ["iop"]
    assert (current["id"], current["status"]) == (str(journey.current.pk), "active")
    assert "end" not in current["period"]
    assert [t["coding"][0]["code"] for t in current["type"]] == ["detox", "residential"]
    assert current["managingOrganization"]["display"] == "Austin"
    assert current["patient"] == {"reference": f"Patient/{journey.pk}"}
    # and each episode read is audited
    assert AuditEvent.objects.filter(client_id=journey.pk, object_type="episode").count() == 2


def test_staff_read_encounters_with_their_location_history(api, users, network, journey):
    # when the Austin coordinator searches the client's encounters by reference
    response = api.as_user(users.austin).get(
        "/fhir/Encounter", {"patient": f"Patient/{journey.pk}"}
    )

    # then each stay is an Encounter, in the order they began
    iop, detox, residential = resources_of(searchset(response))
    assert [e["id"] for e in (iop, detox, residential)] == [
        str(p.pk) for p in (journey.earlier.placements.get(), journey.detox, journey.residential)
    ]
    assert (detox["status"], detox["class"]["code"]) == ("finished", "ACUTE")
    assert (residential["status"], residential["class"]["code"]) == ("in-progress", "NONAC")
    assert iop["class"]["code"] == "AMB"
    assert residential["episodeOfCare"] == [{"reference": f"EpisodeOfCare/{journey.current.pk}"}]
    # and the location history is the program and its site, for the stay's period
    program, site = detox["location"]
    assert program["location"]["display"] == f"{network.austin_detox.name} (Austin)"
    assert site["location"]["identifier"] == {"system": "urn:continuum:site", "value": "austin"}
    assert program["period"] == site["period"] == detox["period"]
    assert program["status"] == "completed"
    assert residential["location"][0]["status"] == "active"
    assert "end" not in residential["period"]


@pytest.mark.parametrize(
    "url",
    ["/fhir/Patient/{id}", "/fhir/EpisodeOfCare?patient={id}", "/fhir/Encounter?patient={id}"],
)
def test_staff_of_a_foreign_site_get_404_like_a_missing_patient(api, users, journey, url):
    # when the Houston coordinator asks for an Austin client, and for no client at all
    houston = api.as_user(users.houston)
    foreign = houston.get(url.format(id=journey.pk))
    missing = houston.get(url.format(id="00000000-0000-4000-8000-000000000000"))

    # then both are the same 404 OperationOutcome, and nothing was read
    assert assert_outcome(foreign, 404, "not-found") == assert_outcome(missing, 404, "not-found")
    assert foreign.json()["issue"][0]["diagnostics"] == MSG_NOT_FOUND
    assert not AuditEvent.objects.filter(client_id=journey.pk).exists()


def test_staff_read_an_episode_and_an_encounter_by_id(api, users, journey):
    # when the Austin coordinator follows the references of a searchset
    client = api.as_user(users.austin)
    episode = client.get(f"/fhir/EpisodeOfCare/{journey.current.pk}")
    encounter = client.get(f"/fhir/Encounter/{journey.detox.pk}")

    # then each is the resource the searchset holds, valid R4, with the notice
    assert episode.status_code == encounter.status_code == 200
    assert episode[PART2_NOTICE_HEADER] == encounter[PART2_NOTICE_HEADER] == PART2_NOTICE
    EpisodeOfCare(episode.json(), strict=True)
    Encounter(encounter.json(), strict=True)
    search = client.get("/fhir/Encounter", {"patient": str(journey.pk)}).json()
    in_search = next(
        e["resource"] for e in search["entry"] if e["resource"]["id"] == str(journey.detox.pk)
    )
    read = encounter.json()
    assert [e["valueString"] for e in read["meta"].pop("extension")] == [PART2_NOTICE]
    assert read == in_search
    assert episode.json()["status"] == "active"
    assert AuditEvent.objects.filter(client_id=journey.pk, action="view").count() == 2


@pytest.mark.parametrize("kind", ["EpisodeOfCare", "Encounter"])
def test_staff_of_a_foreign_site_cannot_read_by_id(api, users, journey, kind):
    pk = journey.current.pk if kind == "EpisodeOfCare" else journey.detox.pk

    response = api.as_user(users.houston).get(f"/fhir/{kind}/{pk}")

    assert_outcome(response, 404, "not-found")


def test_a_malformed_id_is_a_404(api, users):
    assert_outcome(api.as_user(users.austin).get("/fhir/Patient/not-a-uuid"), 404, "not-found")


def test_staff_search_patients_by_id_sees_only_their_own(api, users, network, journey):
    # given a Houston client beside the Austin one
    houston_client = placed_client(network.houston_residential, users.houston)

    # when the Austin coordinator searches both ids
    response = api.as_user(users.austin).get(
        "/fhir/Patient", {"_id": f"{journey.pk},{houston_client.pk}"}
    )

    # then only the Austin client matches
    (patient,) = resources_of(searchset(response))
    assert patient["id"] == str(journey.pk)


# --- errors -------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/fhir/EpisodeOfCare", "/fhir/Encounter"])
def test_a_search_without_patient_is_a_400_naming_it(api, users, url):
    body = assert_outcome(api.as_user(users.austin).get(url), 400, "invalid")

    assert body["issue"][0]["expression"] == ["patient"]


def test_a_patient_search_without_id_is_a_400(api, users):
    body = assert_outcome(api.as_user(users.austin).get("/fhir/Patient"), 400, "invalid")

    assert body["issue"][0]["expression"] == ["_id"]


def test_an_unknown_search_parameter_is_a_400_naming_it(api, users, journey):
    response = api.as_user(users.austin).get(
        "/fhir/Encounter", {"patient": str(journey.pk), "date": "ge2026-01-01"}
    )

    body = assert_outcome(response, 400, "invalid")
    assert body["issue"][0]["expression"] == ["date"]


def test_a_patient_search_of_more_than_fifty_ids_is_a_400_naming_it(api, users, journey):
    ids = ",".join([str(journey.pk)] * 50 + ["00000000-0000-0000-0000-000000000000"])

    response = api.as_user(users.austin).get("/fhir/Patient", {"_id": ids})

    body = assert_outcome(response, 400, "invalid")
    assert body["issue"][0]["expression"] == ["_id"]
    # fifty is still a search
    fifty = ",".join([str(journey.pk)] * 50)
    assert api.as_user(users.austin).get("/fhir/Patient", {"_id": fifty}).status_code == 200


def test_a_repeated_patient_is_a_400(api, users, journey):
    response = api.as_user(users.austin).get(
        f"/fhir/Encounter?patient={journey.pk}&patient={journey.pk}"
    )

    assert_outcome(response, 400, "invalid")


def test_without_credentials_a_read_is_a_401_outcome(journey):
    response = APIClient().get(f"/fhir/Patient/{journey.pk}")

    assert_outcome(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method", ["post", "put", "delete", "options"])
def test_anything_but_a_read_is_a_405_outcome(api, users, journey, method):
    response = getattr(api.as_user(users.austin), method)(f"/fhir/Patient/{journey.pk}")

    assert_outcome(response, 405, "not-supported")


def test_head_answers_each_read_as_get_does_without_the_body(api, users, journey):
    # given the FHIR reads of an Austin client, for its coordinator
    staff = api.as_user(users.austin)
    reads = [
        ("/fhir/metadata", {}),
        (f"/fhir/Patient/{journey.pk}", {}),
        ("/fhir/Patient", {"_id": str(journey.pk)}),
        ("/fhir/EpisodeOfCare", {"patient": str(journey.pk)}),
        (f"/fhir/EpisodeOfCare/{journey.current.pk}", {}),
        ("/fhir/Encounter", {"patient": str(journey.pk)}),
        (f"/fhir/Encounter/{journey.detox.pk}", {}),
    ]
    for url, params in reads:
        # when each is asked with GET, then with HEAD
        audited = AuditEvent.objects.count()
        got = staff.get(url, params)
        by_get = AuditEvent.objects.count() - audited
        head = staff.head(url, params)

        # then HEAD has GET's status and headers, no body, and is audited as GET is
        assert (head.status_code, got.status_code) == (200, 200), url
        assert head["Content-Type"] == got["Content-Type"] == FHIR_JSON
        assert head.get(PART2_NOTICE_HEADER) == got.get(PART2_NOTICE_HEADER)
        assert head.content == b""
        assert AuditEvent.objects.count() - audited == 2 * by_get


def test_head_is_refused_and_not_found_as_get_is(api, users, journey):
    # when HEAD comes without credentials, and for a client of another site
    anonymous = APIClient().head(f"/fhir/Patient/{journey.pk}")
    foreign = api.as_user(users.houston).head(f"/fhir/Patient/{journey.pk}")

    # then the first is a 401 with its challenge, the second a 404, neither with a body
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert foreign.status_code == 404
    assert anonymous.content == foreign.content == b""


# --- partners -----------------------------------------------------------------


def test_a_partner_with_consent_reads_the_patient_and_the_read_is_disclosed(
    payer, make_consent, journey
):
    # given the client's consent to disclose demographics to the payer, for payment
    consent = make_consent(
        journey, partner=payer.partner, purpose="payment", kinds=["demographics"]
    )

    # when the payer reads the Patient
    response = payer.api.get(f"/fhir/Patient/{journey.pk}")

    # then it gets the valid R4 Patient, with the notice and the copy of the consent
    assert response.status_code == 200, response.content
    assert response[PART2_NOTICE_HEADER] == PART2_NOTICE
    body = response.json()
    Patient(body, strict=True)
    assert_part2(body)
    assert consent_links(body) == [f"http://testserver/api/v1/partner/consents/{consent.pk}/"]
    # and the read is in the client's accounting of disclosures, under that consent
    (disclosure,) = Disclosure.objects.filter(client=journey)
    assert disclosure.partner == payer.partner
    assert disclosure.consent == consent
    assert disclosure.channel == "fhir"
    assert disclosure.purpose == "payment"
    assert disclosure.information_kinds == ["demographics"]
    assert disclosure.resources == [{"kind": "Patient", "id": str(journey.pk)}]
    # and audited under the partner's service user
    (event,) = AuditEvent.objects.filter(client_id=journey.pk)
    assert event.actor == payer.partner.user
    assert event.detail["disclosure"] == str(disclosure.pk)


def test_a_partner_reads_episodes_and_encounters_under_consent(payer, make_consent, journey):
    # given a consent to disclose episodes and levels of care to the payer
    consent = make_consent(journey, partner=payer.partner, purpose="payment", kinds=["episodes"])

    # when the payer searches the client's episodes and encounters
    episodes = searchset(payer.api.get("/fhir/EpisodeOfCare", {"patient": str(journey.pk)}))
    encounters = searchset(payer.api.get("/fhir/Encounter", {"patient": str(journey.pk)}))

    # then both searchsets hold the records, with the copy of the consent
    assert episodes["total"] == 2
    assert encounters["total"] == 3
    link = f"http://testserver/api/v1/partner/consents/{consent.pk}/"
    assert consent_links(episodes) == consent_links(encounters) == [link]
    # and each search is one disclosure naming what went out
    by_kind = {d.resources[0]["kind"]: d for d in Disclosure.objects.filter(client=journey)}
    assert sorted(by_kind) == ["Encounter", "EpisodeOfCare"]
    assert {r["id"] for r in by_kind["Encounter"].resources} == {
        str(p.pk) for p in journey.placements.all()
    }
    assert all(d.consent == consent and d.channel == "fhir" for d in by_kind.values())
    assert all(d.information_kinds == ["episodes"] for d in by_kind.values())


def test_a_consent_from_one_program_discloses_only_its_stays(payer, make_consent, network, journey):
    # given a consent under which only Austin detox discloses
    make_consent(
        journey, partner=payer.partner, kinds=["episodes"], disclosing_program=network.austin_detox
    )

    # when the payer searches encounters and episodes
    encounters = resources_of(
        searchset(payer.api.get("/fhir/Encounter", {"patient": str(journey.pk)}))
    )
    episodes = resources_of(
        searchset(payer.api.get("/fhir/EpisodeOfCare", {"patient": str(journey.pk)}))
    )

    # then only the detox stay and its episode come, and nothing of other programs
    assert [e["id"] for e in encounters] == [str(journey.detox.pk)]
    (episode,) = episodes
    assert episode["id"] == str(journey.current.pk)
    assert [t["coding"][0]["code"] for t in episode["type"]] == ["detox"]


def test_a_partner_reads_an_encounter_by_id_only_within_the_consent(
    payer, make_consent, network, journey
):
    # given a consent under which only Austin detox discloses
    consent = make_consent(
        journey, partner=payer.partner, kinds=["episodes"], disclosing_program=network.austin_detox
    )

    # when the payer reads the detox stay, then the residential one
    detox = payer.api.get(f"/fhir/Encounter/{journey.detox.pk}")
    residential = payer.api.get(f"/fhir/Encounter/{journey.residential.pk}")

    # then the first is disclosed with the copy of the consent; the second is not found
    assert detox.status_code == 200
    Encounter(detox.json(), strict=True)
    assert consent_links(detox.json()) == [
        f"http://testserver/api/v1/partner/consents/{consent.pk}/"
    ]
    assert_outcome(residential, 404, "not-found")
    (disclosure,) = Disclosure.objects.all()
    assert disclosure.resources == [{"kind": "Encounter", "id": str(journey.detox.pk)}]


def test_of_two_covering_consents_the_most_recently_signed_wins(payer, make_consent, journey):
    # given two consents covering the payer: one signed a month ago (recorded last,
    # so neither the recording nor the order of creation decides), one two days ago
    older = make_consent(
        journey,
        partner=payer.partner,
        purpose="payment",
        signed_on=austin_today() - dt.timedelta(days=30),
        recorded_at=timezone.now(),
    )
    newer = make_consent(
        journey,
        partner=payer.partner,
        purpose="treatment",
        signed_on=austin_today() - dt.timedelta(days=2),
        recorded_at=timezone.now() - dt.timedelta(hours=1),
    )

    # when the payer reads the Patient, searches it, and searches its episodes,
    # stating no purpose
    read = payer.api.get(f"/fhir/Patient/{journey.pk}")
    found = searchset(payer.api.get("/fhir/Patient", {"_id": str(journey.pk)}))
    episodes = searchset(payer.api.get("/fhir/EpisodeOfCare", {"patient": str(journey.pk)}))

    # then each went out under the newer consent, and is accounted for under it
    link = f"http://testserver/api/v1/partner/consents/{newer.pk}/"
    assert read.status_code == 200
    assert consent_links(read.json()) == consent_links(found) == consent_links(episodes) == [link]
    rows = Disclosure.objects.filter(client=journey)
    assert rows.count() == 3
    assert {(d.consent_id, d.purpose) for d in rows} == {(newer.pk, "treatment")}
    assert not rows.filter(consent=older).exists()


def test_a_stated_purpose_is_recorded_and_must_be_covered(payer, make_consent, journey):
    # given a TPO consent to the payer's class
    make_consent(
        journey, recipient_class="health_plan", purpose="tpo", expiry="none", expires_on=None
    )

    # when the payer reads for payment, then for a purpose TPO does not cover
    paid = payer.api.get(f"/fhir/Patient/{journey.pk}", {"_purpose": "payment"})
    other = payer.api.get(f"/fhir/Patient/{journey.pk}", {"_purpose": "other"})

    # then the first is disclosed for payment, the second is not found
    assert paid.status_code == 200
    assert_outcome(other, 404, "not-found")
    (disclosure,) = Disclosure.objects.filter(client=journey)
    assert disclosure.purpose == "payment"


def test_without_a_stated_purpose_the_consents_purpose_is_recorded(payer, make_consent, journey):
    make_consent(journey, partner=payer.partner, purpose="treatment", kinds=["demographics"])

    assert payer.api.get(f"/fhir/Patient/{journey.pk}").status_code == 200

    assert Disclosure.objects.get(client=journey).purpose == "treatment"


def test_an_unknown_purpose_is_a_400_naming_it(payer, make_consent, journey):
    make_consent(journey, partner=payer.partner)

    response = payer.api.get(f"/fhir/Patient/{journey.pk}", {"_purpose": "curiosity"})

    body = assert_outcome(response, 400, "invalid")
    assert body["issue"][0]["expression"] == ["_purpose"]
    assert not Disclosure.objects.exists()


def _revoked(make_consent, journey, payer, users):
    return make_consent(
        journey,
        partner=payer.partner,
        revoked_on=timezone.now().date(),
        revoked_at=timezone.now(),
        revoked_by=users.austin,
    )


def _expired(make_consent, journey, payer, users):
    today = timezone.now().date()
    return make_consent(
        journey,
        partner=payer.partner,
        signed_on=today - dt.timedelta(days=30),
        expires_on=today - dt.timedelta(days=1),
    )


def _wrong_kind(make_consent, journey, payer, users):
    # transfers only: neither demographics nor episodes
    return make_consent(journey, partner=payer.partner, kinds=["transfers"])


def _other_partner(make_consent, journey, payer, users):
    other, _ = partner_create(
        name="Another Plan", kind=PartnerKind.OTHER, scopes=["fhir:read"], sites=[]
    )
    return make_consent(journey, partner=other)


def _other_class(make_consent, journey, payer, users):
    return make_consent(
        journey, recipient_class="treating_provider", purpose="tpo", expiry="none", expires_on=None
    )


@pytest.mark.parametrize(
    "consent", [None, _revoked, _expired, _wrong_kind, _other_partner, _other_class]
)
@pytest.mark.parametrize(
    "url",
    [
        "/fhir/Patient/{id}",
        "/fhir/EpisodeOfCare?patient={id}",
        "/fhir/Encounter?patient={id}",
        "/fhir/EpisodeOfCare/{episode}",
        "/fhir/Encounter/{stay}",
    ],
)
def test_without_a_covering_consent_a_partner_gets_404_and_nothing_is_disclosed(
    payer, make_consent, users, journey, consent, url
):
    # given no consent, or one that does not cover this read
    if consent is not None:
        consent(make_consent, journey, payer, users)

    # when the payer asks
    response = payer.api.get(
        url.format(id=journey.pk, episode=journey.current.pk, stay=journey.detox.pk)
    )

    # then it is the answer for a client that does not exist, and nothing is recorded
    body = assert_outcome(response, 404, "not-found")
    assert body["issue"][0]["diagnostics"] == MSG_NOT_FOUND
    assert not Disclosure.objects.exists()
    assert not AuditEvent.objects.filter(client_id=journey.pk).exists()


def test_a_patient_consent_does_not_open_the_episodes(payer, make_consent, journey):
    make_consent(journey, partner=payer.partner, kinds=["demographics"])

    assert payer.api.get(f"/fhir/Patient/{journey.pk}").status_code == 200
    assert_outcome(
        payer.api.get("/fhir/EpisodeOfCare", {"patient": str(journey.pk)}), 404, "not-found"
    )


def test_a_client_of_another_site_stays_hidden_whatever_the_consent(
    payer, make_consent, network, users
):
    # given a Houston client who consented to the payer, which serves Austin only
    houston_client = placed_client(network.houston_residential, users.houston)
    make_consent(houston_client, partner=payer.partner)

    response = payer.api.get(f"/fhir/Patient/{houston_client.pk}")

    assert_outcome(response, 404, "not-found")


def test_a_partner_without_fhir_read_gets_403(make_partner, make_consent, journey):
    # given a partner that holds other scopes, and a consent to it
    p = make_partner("Scopeless", scopes=["clients:read", "episodes:read"])
    make_consent(journey, partner=p.partner)

    # when it calls the FHIR API
    response = p.api.get(f"/fhir/Patient/{journey.pk}")

    # then it is refused, naming the scope, and nothing is disclosed
    body = assert_outcome(response, 403, "forbidden")
    assert "fhir:read" in body["issue"][0]["diagnostics"]
    assert not Disclosure.objects.exists()


def test_a_suspended_partners_token_stops_working_at_once(payer, make_consent, journey):
    # given a consented client, and the partner suspended after it got its token
    make_consent(journey, partner=payer.partner)
    partner_suspend(partner=payer.partner)

    # when it reads with that token
    response = payer.api.get(f"/fhir/Patient/{journey.pk}")

    # then the token is no longer valid, and nothing is disclosed
    assert_outcome(response, 401, "login")
    assert not Disclosure.objects.exists()


def test_a_partner_over_its_rate_limit_gets_429_with_retry_after(payer, make_consent, journey):
    # given a partner allowed one request a minute
    make_consent(journey, partner=payer.partner)
    payer.partner.rate_limit = "1/min"
    payer.partner.save(update_fields=["rate_limit"])

    # when it reads twice
    first = payer.api.get(f"/fhir/Patient/{journey.pk}")
    second = payer.api.get(f"/fhir/Patient/{journey.pk}")

    # then the second is a throttled OperationOutcome that says when to come back
    assert first.status_code == 200
    assert_outcome(second, 429, "throttled")
    assert int(second["Retry-After"]) > 0


def test_a_partner_searches_patients_by_id_under_each_ones_consent(
    payer, make_consent, network, users, journey
):
    # given two consented Austin clients and one without consent
    second = placed_client(network.austin_iop, users.austin)
    silent = placed_client(network.austin_iop, users.austin)
    first_consent = make_consent(journey, partner=payer.partner, purpose="payment")
    second_consent = make_consent(second, partner=payer.partner, purpose="treatment")

    # when the payer searches all three
    response = payer.api.get("/fhir/Patient", {"_id": f"{journey.pk},{silent.pk},{second.pk}"})

    # then the two consented match, each disclosed under its own consent and purpose
    bundle = searchset(response)
    assert [p["id"] for p in resources_of(bundle)] == [str(journey.pk), str(second.pk)]
    assert len(consent_links(bundle)) == 2
    rows = {d.client_id: d for d in Disclosure.objects.all()}
    assert set(rows) == {journey.pk, second.pk}
    assert (rows[journey.pk].consent, rows[journey.pk].purpose) == (first_consent, "payment")
    assert (rows[second.pk].consent, rows[second.pk].purpose) == (second_consent, "treatment")
    # and each read is audited with its disclosure
    audited = {e.client_id: e.detail["disclosure"] for e in AuditEvent.objects.all()}
    assert audited == {pk: str(d.pk) for pk, d in rows.items()}


# --- query counts ----------------------------------------------------------------


def _stays(client, programs, n: int, by) -> None:
    """A finished episode of n back-to-back stays cycling through `programs`."""
    start = timezone.now() - dt.timedelta(days=400)
    with transaction.atomic():
        episode = Episode.objects.create(
            client=client,
            admitted_at=start,
            admitted_by=by,
            discharged_at=start + dt.timedelta(days=n),
            discharged_by=by,
            discharge_type="completed",
        )
        Placement.objects.bulk_create(
            Placement(
                episode=episode,
                client=client,
                program=programs[i % len(programs)],
                started_at=start + dt.timedelta(days=i),
                ended_at=start + dt.timedelta(days=i + 1),
            )
            for i in range(n)
        )


def _queries(client, url, params) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    return len(captured), searchset(response)


@pytest.mark.parametrize("caller", ["staff", "partner"])
@pytest.mark.parametrize("url", ["/fhir/Encounter", "/fhir/EpisodeOfCare"])
def test_a_searchset_costs_the_same_queries_however_many_stays(
    api, users, network, payer, make_consent, caller, url
):
    # given two clients under consent, one with 2 stays, one with 30
    few, many = (ClientFactory(registered_site=network.austin) for _ in range(2))
    programs = [network.austin_detox, network.austin_residential, network.houston_iop]
    _stays(few, programs, 2, users.austin)
    _stays(many, programs, 30, users.austin)
    for client in (few, many):
        make_consent(client, partner=payer.partner)
    http = payer.api if caller == "partner" else api.as_user(users.admin)
    http.get(url, {"patient": str(few.pk)})  # warm the caches of a first request

    # when each is searched
    few_count, few_bundle = _queries(http, url, {"patient": str(few.pk)})
    many_count, many_bundle = _queries(http, url, {"patient": str(many.pk)})

    # then the answers differ in size, not in cost
    if url == "/fhir/Encounter":
        assert (few_bundle["total"], many_bundle["total"]) == (2, 30)
    assert many_count == few_count


def test_a_patient_search_costs_the_same_queries_however_many_ids(
    payer, make_consent, network, users
):
    clients = [placed_client(network.austin_iop, users.austin) for _ in range(12)]
    for i, client in enumerate(clients):
        make_consent(client, partner=payer.partner, purpose=("payment", "treatment")[i % 2])
    payer.api.get("/fhir/Patient", {"_id": str(clients[0].pk)})

    few, _ = _queries(payer.api, "/fhir/Patient", {"_id": ",".join(str(c.pk) for c in clients[:2])})
    many, bundle = _queries(
        payer.api, "/fhir/Patient", {"_id": ",".join(str(c.pk) for c in clients)}
    )

    assert bundle["total"] == 12
    assert many == few


# --- the OpenAPI schema ----------------------------------------------------------


def test_the_fhir_api_is_not_in_the_json_apis_schema(api, users):
    schema = api.as_user(users.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert not [path for path in schema["paths"] if path.startswith("/fhir")]
