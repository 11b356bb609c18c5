"""Partner reads under 42 CFR Part 2 consent: without an active consent that
covers this partner (or its class), this purpose and this kind of information,
the client does not exist (404) and nothing is recorded; with one, the data
goes out with the §2.32 notice, a link to the copy of the consent, and its
disclosure rows written in the transaction of the read."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.partners.models import ConsentExpiry, Disclosure, PartnerKind
from services import consent as consents
from services import episodes
from services.consent import PART2_NOTICE, PART2_NOTICE_HEADER
from tests.api.helpers import assert_problem
from tests.factories import ClientFactory, placed_client
from tests.partner_fixtures import austin_today as _today

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def payer(make_partner, network):
    """A health plan reading Austin's clients (its default purpose: payment)."""
    return make_partner(
        "Lone Star Health Plan",
        scopes=["clients:read", "episodes:read"],
        kind=PartnerKind.HEALTH_PLAN,
    )


# --- with consent ------------------------------------------------------------------


def test_with_consent_the_payer_reads_the_client_with_the_notice_and_one_disclosure(
    payer, client_in_care, make_consent
):
    # given the client's consent to disclose demographics to the payer for payment
    consent = make_consent(client_in_care, partner=payer.partner, kinds=["demographics"])

    # when the payer reads the client, stating no purpose (a health plan reads for payment)
    response = payer.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/")

    # then the demographics go out with the notice in the header and the body,
    # and a link to the copy of the consent
    assert response.status_code == 200, response.content
    assert response[PART2_NOTICE_HEADER] == PART2_NOTICE
    body = response.json()
    assert body["notice"] == PART2_NOTICE
    assert body["consent"] == f"http://testserver/api/v1/partner/consents/{consent.pk}/"
    assert body["data"]["id"] == str(client_in_care.pk)
    assert body["data"]["last_name"] == client_in_care.last_name
    # and the read is in the client's accounting: one row, under that consent
    (disclosure,) = Disclosure.objects.all()
    assert (disclosure.partner, disclosure.client, disclosure.consent) == (
        payer.partner,
        client_in_care,
        consent,
    )
    assert disclosure.purpose == "payment"
    assert disclosure.information_kinds == ["demographics"]
    assert disclosure.resources == [{"kind": "client", "id": str(client_in_care.pk)}]
    assert disclosure.channel == "api"


def test_a_tpo_consent_to_a_class_covers_a_partner_of_that_class(
    payer, client_in_care, make_consent
):
    # given a single TPO consent to health plans as a class, with no expiry
    make_consent(
        client_in_care,
        recipient_class="health_plan",
        purpose="tpo",
        expiry=ConsentExpiry.NONE,
        expires_on=None,
    )

    # when the health plan reads for payment
    response = payer.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/?purpose=payment")

    # then it is covered
    assert response.status_code == 200
    assert Disclosure.objects.count() == 1


def test_the_episodes_go_out_with_their_levels_of_care_and_each_record_is_accounted(
    payer, client_in_care, make_consent
):
    # given a consent covering episodes and levels of care
    consent = make_consent(client_in_care, partner=payer.partner, kinds=["episodes"])
    episode = client_in_care.episodes.get()
    placement = client_in_care.placements.get()

    # when the payer reads the episodes
    response = payer.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/episodes/")

    # then the episode and its stay at detox go out, with the notice and the consent's link
    assert response.status_code == 200, response.content
    assert response[PART2_NOTICE_HEADER] == PART2_NOTICE
    body = response.json()
    assert body["notice"] == PART2_NOTICE
    assert body["consent"].endswith(f"/api/v1/partner/consents/{consent.pk}/")
    (sent,) = body["data"]
    assert sent["id"] == str(episode.pk)
    assert [(p["id"], p["level"]) for p in sent["placements"]] == [(str(placement.pk), "detox")]
    # and the accounting names each record sent
    (disclosure,) = Disclosure.objects.all()
    assert disclosure.resources == [
        {"kind": "episode", "id": str(episode.pk)},
        {"kind": "placement", "id": str(placement.pk)},
    ]
    assert disclosure.information_kinds == ["episodes"]


def test_the_partner_reads_the_copy_of_the_consent_it_received_records_under(
    payer, client_in_care, make_consent, make_partner
):
    # given a read under a consent
    consent = make_consent(
        client_in_care, partner=payer.partner, document_content=b"%PDF-1.4 the signed form"
    )
    link = payer.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/").json()["consent"]

    # when the payer follows the link, and fetches the signed document
    copy = payer.api.get(link)
    document = payer.api.get(copy.json()["document"])

    # then it gets the consent's elements with the notice, and the file with its checksum
    assert copy.status_code == 200, copy.content
    assert copy[PART2_NOTICE_HEADER] == PART2_NOTICE
    elements = copy.json()
    assert elements["id"] == str(consent.pk)
    assert elements["recipient_partner_name"] == payer.partner.name
    assert elements["purpose"] == "payment"
    assert elements["right_to_revoke_stated"] is True
    assert elements["notice"] == PART2_NOTICE
    assert document.status_code == 200
    assert document.content == b"%PDF-1.4 the signed form"
    assert document["X-Content-SHA256"] == consent.document_sha256
    # and another partner, who received nothing under it, finds no such consent
    other = make_partner("Another Plan", scopes=["clients:read"], kind=PartnerKind.HEALTH_PLAN)
    assert_problem(other.api.get(link), 404)
    assert_problem(other.api.get(f"{link}document/"), 404)


def test_a_consent_nothing_was_read_under_has_no_copy_for_the_partner(
    payer, client_in_care, make_consent
):
    # given a consent to the payer that it has not read under yet
    consent = make_consent(client_in_care, partner=payer.partner)

    # when the payer asks for its copy
    response = payer.api.get(f"/api/v1/partner/consents/{consent.pk}/")

    # then nothing about the client leaks
    assert_problem(response, 404)


# --- without a covering consent: 404, and nothing recorded ----------------------------


def _absent(**_):
    return None


def _expired_on_a_date(make_consent, client, payer, **_):
    make_consent(
        client,
        partner=payer.partner,
        signed_on=_today() - 30 * DAY,
        expires_on=_today() - DAY,
    )


def _ended_with_treatment(make_consent, client, payer, users, **_):
    make_consent(
        client,
        partner=payer.partner,
        signed_on=_today() - 10 * DAY,
        expiry=ConsentExpiry.END_OF_TREATMENT,
        expires_on=None,
    )
    episodes.episode_discharge(
        actor=users.austin,
        episode=client.episodes.get(),
        discharge_type="completed",
        discharged_at=timezone.now() - dt.timedelta(hours=1),
    )


def _revoked(make_consent, client, payer, users, **_):
    consent = make_consent(client, partner=payer.partner)
    consents.consent_revoke(actor=users.austin, consent=consent, received_on=_today())


def _wrong_purpose(make_consent, client, payer, **_):
    make_consent(client, partner=payer.partner, purpose="treatment")


def _wrong_partner(make_consent, client, make_partner, **_):
    other = make_partner("Other Plan", scopes=["clients:read"], kind=PartnerKind.HEALTH_PLAN)
    make_consent(client, partner=other.partner)


def _wrong_class(make_consent, client, **_):
    make_consent(
        client,
        recipient_class="treating_provider",
        purpose="tpo",
        expiry=ConsentExpiry.NONE,
        expires_on=None,
    )


def _wrong_kind(make_consent, client, payer, **_):
    make_consent(client, partner=payer.partner, kinds=["episodes", "transfers"])


DENIALS = {
    "absent": _absent,
    "expired on its date": _expired_on_a_date,
    "ended with treatment (discharged since signing)": _ended_with_treatment,
    "revoked": _revoked,
    "wrong purpose": _wrong_purpose,
    "wrong partner": _wrong_partner,
    "wrong class": _wrong_class,
    "wrong kind of information": _wrong_kind,
}


@pytest.mark.parametrize("case", list(DENIALS), ids=list(DENIALS))
def test_without_a_covering_consent_the_client_does_not_exist_for_the_partner(
    case, payer, client_in_care, make_consent, make_partner, users
):
    # given the client's consent situation
    DENIALS[case](
        make_consent=make_consent,
        client=client_in_care,
        payer=payer,
        make_partner=make_partner,
        users=users,
    )

    # when the payer reads the client, and lists its clients
    detail = payer.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/")
    listing = payer.api.get("/api/v1/partner/clients/")

    # then the client is not found, as a client that never existed is
    body = assert_problem(detail, 404, code="not_found")
    never = payer.api.get("/api/v1/partner/clients/00000000-0000-4000-8000-000000000000/")
    assert body == never.json()
    assert listing.status_code == 200
    assert listing.json()["results"] == []
    # and nothing went out, so nothing is in the accounting
    assert Disclosure.objects.count() == 0


def test_consent_for_demographics_only_does_not_open_the_episodes(
    payer, client_in_care, make_consent
):
    # given a consent covering demographics only
    make_consent(client_in_care, partner=payer.partner, kinds=["demographics"])

    # when the payer reads the episodes
    response = payer.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/episodes/")

    # then they are not found, and nothing is recorded
    assert_problem(response, 404)
    assert Disclosure.objects.count() == 0


def test_a_consented_client_of_a_site_the_partner_does_not_serve_is_not_found(
    payer, network, make_consent
):
    # given a Houston client (the payer serves Austin) who consented to the payer
    houston = ClientFactory(registered_site=network.houston)
    make_consent(houston, partner=payer.partner)

    # when the payer reads them
    response = payer.api.get(f"/api/v1/partner/clients/{houston.pk}/")

    # then
    assert_problem(response, 404)
    assert Disclosure.objects.count() == 0


def test_revocation_stops_disclosure_at_once(payer, client_in_care, make_consent, users):
    # given a read under a consent
    consent = make_consent(client_in_care, partner=payer.partner)
    url = f"/api/v1/partner/clients/{client_in_care.pk}/"
    assert payer.api.get(url).status_code == 200

    # when the written revocation is recorded
    consents.consent_revoke(actor=users.austin, consent=consent, received_on=_today())

    # then the very next read finds nothing
    assert_problem(payer.api.get(url), 404)
    assert Disclosure.objects.count() == 1


# --- the purpose and the scopes ------------------------------------------------------


def test_a_purpose_outside_the_list_is_a_400_naming_it(payer, client_in_care):
    response = payer.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/?purpose=marketing")

    assert_problem(response, 400, fields=["purpose"])


def test_a_partner_of_no_tpo_kind_must_state_its_purpose(
    make_partner, client_in_care, make_consent
):
    # given a partner of kind "other", named in a consent for payment
    other = make_partner("Research Registry", scopes=["clients:read"])
    make_consent(client_in_care, partner=other.partner)

    # when it reads without a purpose, then with one
    silent = other.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/")
    stated = other.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/?purpose=payment")

    # then it must say why
    assert_problem(silent, 400, fields=["purpose"])
    assert stated.status_code == 200
    assert Disclosure.objects.get().purpose == "payment"


def test_episodes_need_the_episodes_scope(make_partner, client_in_care, make_consent):
    reader = make_partner("Clients Only", scopes=["clients:read"], kind=PartnerKind.HEALTH_PLAN)
    make_consent(client_in_care, partner=reader.partner)

    response = reader.api.get(f"/api/v1/partner/clients/{client_in_care.pk}/episodes/")

    assert_problem(response, 403)
    assert Disclosure.objects.count() == 0


# --- the list ------------------------------------------------------------------------


def _consented(n, network, users, make_consent, partner):
    for _ in range(n):
        make_consent(placed_client(network.austin_iop, users.austin), partner=partner)


def test_the_list_writes_one_disclosure_per_client_of_the_page_in_one_insert(
    payer, network, users, make_consent
):
    # given three consented clients and one who did not consent
    _consented(3, network, users, make_consent, payer.partner)
    placed_client(network.austin_iop, users.austin)

    # when the payer reads a page of two
    with CaptureQueriesContext(connection) as captured:
        response = payer.api.get("/api/v1/partner/clients/", {"page_size": 2})

    # then two clients, each linked to its consent, with the notice
    assert response.status_code == 200
    body = response.json()
    assert response[PART2_NOTICE_HEADER] == PART2_NOTICE
    assert body["notice"] == PART2_NOTICE
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert all("/api/v1/partner/consents/" in row["consent"] for row in body["results"])
    # and exactly the two on the page are in the accounting, written by one INSERT
    assert {str(d.client_id) for d in Disclosure.objects.all()} == {
        row["id"] for row in body["results"]
    }
    inserts = [
        q for q in captured.captured_queries if 'INSERT INTO "partners_disclosure"' in q["sql"]
    ]
    assert len(inserts) == 1


def test_the_list_costs_the_same_queries_for_few_clients_and_many(
    payer, network, users, make_consent
):
    # given two consented clients
    _consented(2, network, users, make_consent, payer.partner)
    with CaptureQueriesContext(connection) as few:
        assert payer.api.get("/api/v1/partner/clients/").status_code == 200

    # when there are twelve
    _consented(10, network, users, make_consent, payer.partner)
    with CaptureQueriesContext(connection) as many:
        response = payer.api.get("/api/v1/partner/clients/")

    # then the page of twelve costs what the page of two did
    assert len(response.json()["results"]) == 12
    assert len(many) == len(few)


def test_a_page_past_the_end_records_nothing(payer, network, users, make_consent):
    _consented(1, network, users, make_consent, payer.partner)

    response = payer.api.get("/api/v1/partner/clients/", {"page": 5})

    assert_problem(response, 404)
    assert Disclosure.objects.count() == 0


# --- one transaction -------------------------------------------------------------------


def _failing_after(original):
    def fail(*args, **kwargs):
        original(*args, **kwargs)
        assert Disclosure.objects.exists()  # written, inside the read's transaction
        raise RuntimeError("the read failed after its disclosure was written")

    return fail


def test_a_read_that_fails_leaves_no_disclosure_behind(
    payer, client_in_care, make_consent, monkeypatch
):
    # given a consent, and a read that fails once its disclosure row is written
    make_consent(client_in_care, partner=payer.partner)
    monkeypatch.setattr(consents, "disclosure_record", _failing_after(consents.disclosure_record))

    # when the payer's read fails
    with pytest.raises(RuntimeError):
        consents.partner_client_read(
            partner=payer.partner, client_id=client_in_care.pk, purpose="payment"
        )

    # then the row went with it
    assert Disclosure.objects.count() == 0


def test_a_list_that_fails_leaves_no_disclosure_behind(
    payer, network, users, make_consent, monkeypatch
):
    _consented(2, network, users, make_consent, payer.partner)
    monkeypatch.setattr(
        consents, "disclosure_record_bulk", _failing_after(consents.disclosure_record_bulk)
    )

    with pytest.raises(RuntimeError):
        consents.partner_clients_page(
            partner=payer.partner, purpose="payment", read_page=lambda qs: list(qs)
        )

    assert Disclosure.objects.count() == 0


# --- the contract ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema_document(django_db_setup, django_db_blocker):
    import json

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    with django_db_blocker.unblock():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


def test_every_partner_answer_is_what_the_schema_describes(
    schema_document, payer, client_in_care, make_consent, users, api
):
    from tests.api.helpers import as_json_schema, schema_errors

    # given a consent to the payer, read under, and discharged episodes too
    consent = make_consent(client_in_care, partner=payer.partner)
    episodes.episode_discharge(
        actor=users.austin, episode=client_in_care.episodes.get(), discharge_type="completed"
    )
    components = as_json_schema(schema_document["components"])
    staff = api.as_user(users.austin)
    calls = {
        "/api/v1/partner/clients/": payer.api.get("/api/v1/partner/clients/"),
        "/api/v1/partner/clients/{id}/": payer.api.get(
            f"/api/v1/partner/clients/{client_in_care.pk}/"
        ),
        "/api/v1/partner/clients/{id}/episodes/": payer.api.get(
            f"/api/v1/partner/clients/{client_in_care.pk}/episodes/"
        ),
        "/api/v1/partner/consents/{id}/": payer.api.get(f"/api/v1/partner/consents/{consent.pk}/"),
        "/api/v1/consents/{id}/": staff.get(f"/api/v1/consents/{consent.pk}/"),
        "/api/v1/clients/{id}/disclosures/": staff.get(
            f"/api/v1/clients/{client_in_care.pk}/disclosures/"
        ),
    }

    for path, response in calls.items():
        # when each answer is checked against its operation's 200
        assert response.status_code == 200, (path, response.content[:300])
        content = schema_document["paths"][path]["get"]["responses"]["200"]["content"]
        errors = schema_errors(content["application/json"]["schema"], components, response.json())

        # then it fits: every field typed and nullable as sent, none undeclared
        assert errors == [], (path, errors)
