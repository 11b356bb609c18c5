"""Partner referrals: a partner's system refers a person; the coordinators of its
sites find the referral in their queue, match or register the person, then admit
(with the capacity rules) or decline; the partner reads the status and reason."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.aftercare.models import Referral, ReferralStatus
from backend.audit.models import AuditEvent
from backend.care.models import Client, Episode
from backend.partners.models import PartnerReferral, Scope
from backend.work.models import WorkItem
from services.referrals.partner import PARTNER_REFERRAL_KIND
from tests.factories import ClientFactory, placed_client

PERSON = {
    "first_name": "Jordan",
    "last_name": "Example",
    "date_of_birth": "1990-04-01",
    "phone": "+15125550100",
    "requested_level": "detox",
    "urgency": "urgent",
    "payer": "Example Health Plan",
    "clinical_summary": "Alcohol withdrawal; medically stable for transport.",
    "referrer_name": "Dana Planner, RN",
    "referrer_phone": "+15125550199",
    "consent_reference": "ST-EX-0412",
}


@pytest.fixture
def hospital(make_partner, network):
    return make_partner("St. Example Hospital", sites=[network.austin])


def refer(partner, **changes):
    return partner.api.post("/api/v1/partner/referrals/", {**PERSON, **changes}, format="json")


def test_a_partner_referral_lands_in_the_queue_of_its_sites_coordinators(
    api, network, users, hospital
):
    # when the hospital refers a person to Austin detox
    response = refer(hospital, site=str(network.austin.pk))

    # then it is received, and named by its Location
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "received"
    assert body["reason"] is None
    assert response["Location"] == f"/api/v1/partner/referrals/{body['id']}/"

    # and the Austin coordinators find it among the partner referrals of their site
    queue = api.as_user(users.austin).get(
        "/api/v1/referrals/", {"source": "partner", "site": str(network.austin.pk)}
    )
    (row,) = queue.json()["results"]
    assert row["id"] == body["id"]
    assert row["client"] is None and row["to_program"] is None
    assert row["partner"]["partner_name"] == "St. Example Hospital"
    assert row["partner"]["last_name"] == "Example"
    assert row["partner"]["urgency"] == "urgent"

    # and the teams are told by scheduled work, and the submission is audited
    assert WorkItem.objects.filter(kind=PARTNER_REFERRAL_KIND).count() == 1
    assert AuditEvent.objects.filter(object_type="partner_referral", object_id=body["id"]).exists()


def test_a_partner_referral_is_invisible_to_another_sites_coordinator_and_the_alumni_team(
    api, network, users, hospital
):
    referral_id = refer(hospital, site=str(network.austin.pk)).json()["id"]

    for outsider in (users.houston, users.alumni):
        caller = api.as_user(outsider)
        assert caller.get(f"/api/v1/referrals/{referral_id}/").status_code == 404
        listed = caller.get("/api/v1/referrals/", {"source": "partner"}).json()["results"]
        assert listed == []


def test_without_a_site_the_referral_goes_to_every_site_of_the_partner(
    api, network, users, make_partner
):
    both = make_partner("Both Cities Health", sites=[network.austin, network.houston])
    referral_id = refer(both).json()["id"]

    for coordinator in (users.austin, users.houston):
        found = api.as_user(coordinator).get("/api/v1/referrals/").json()
        assert [r["id"] for r in found["results"]] == [referral_id]
    houston_queue = api.as_user(users.houston).get(
        "/api/v1/referrals/", {"site": str(network.houston.pk)}
    )
    assert [r["id"] for r in houston_queue.json()["results"]] == [referral_id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": " "}, "first_name"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"requested_level": "alumni"}, "requested_level"),
        ({"requested_level": "spa"}, "requested_level"),
        ({"urgency": "whenever"}, "urgency"),
        ({"referrer_name": ""}, "referrer_name"),
        ({"site": "00000000-0000-0000-0000-000000000000"}, "site"),
        ({"email": "not an address"}, "email"),
    ],
)
def test_a_bad_referral_is_a_400_naming_the_field_and_writes_nothing(hospital, changes, field):
    response = refer(hospital, **changes)

    assert response.status_code == 400, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not Referral.objects.exists() and not PartnerReferral.objects.exists()


def test_a_partner_cannot_refer_to_a_site_that_is_not_its_own(hospital, network):
    response = refer(hospital, site=str(network.houston.pk))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "site"


def test_each_scope_opens_only_its_own_door(network, make_partner):
    writer = make_partner("Writer", scopes=[Scope.REFERRALS_WRITE])
    reader = make_partner("Reader", scopes=[Scope.REFERRALS_READ])

    assert refer(writer).status_code == 201
    assert writer.api.get("/api/v1/partner/referrals/").status_code == 403
    assert refer(reader).status_code == 403


def test_a_partner_reads_its_own_referrals_and_never_anothers(network, make_partner, hospital):
    other = make_partner("Other Hospital")
    mine = refer(hospital).json()["id"]
    theirs = refer(other).json()["id"]

    assert hospital.api.get(f"/api/v1/partner/referrals/{mine}/").status_code == 200
    assert hospital.api.get(f"/api/v1/partner/referrals/{theirs}/").status_code == 404
    listed = hospital.api.get("/api/v1/partner/referrals/").json()
    assert [r["id"] for r in listed["results"]] == [mine]


def test_a_coordinator_matches_a_likely_duplicate_admits_and_the_partner_reads_admitted(
    api, network, users, hospital
):
    # given Jordan Example is already our client, registered in Austin
    existing = ClientFactory(
        first_name="Jordan",
        last_name="Example",
        date_of_birth=dt.date(1990, 4, 1),
        registered_site=network.austin,
    )
    referral_id = refer(hospital, site=str(network.austin.pk)).json()["id"]
    coordinator = api.as_user(users.austin)

    # when the coordinator looks for duplicates, the client is shown, not merged
    duplicates = coordinator.get(f"/api/v1/referrals/{referral_id}/duplicates/")
    assert [c["id"] for c in duplicates.json()] == [str(existing.pk)]
    assert Referral.objects.get(pk=referral_id).client_id is None

    # and matching makes the referral the client's; the partner reads it as accepted
    matched = coordinator.post(
        f"/api/v1/referrals/{referral_id}/match/", {"client": str(existing.pk)}, format="json"
    )
    assert matched.status_code == 200, matched.content
    assert matched.json()["client"]["id"] == str(existing.pk)
    assert hospital.api.get(f"/api/v1/partner/referrals/{referral_id}/").json()["status"] == (
        "accepted"
    )

    # and admitting into Austin detox opens the episode and closes the referral
    admitted = coordinator.post(
        f"/api/v1/referrals/{referral_id}/admit/",
        {"program": str(network.austin_detox.pk)},
        format="json",
    )
    assert admitted.status_code == 200, admitted.content
    assert admitted.json()["status"] == ReferralStatus.ADMITTED
    episode = Episode.objects.get(client=existing)
    assert admitted.json()["new_episode"] == str(episode.pk)
    seen = hospital.api.get(f"/api/v1/partner/referrals/{referral_id}/").json()
    assert seen["status"] == "admitted"
    # and nothing of the client record reaches the partner
    assert "client" not in seen and "new_episode" not in seen and existing.mrn not in str(seen)


def test_a_coordinator_registers_the_person_and_capacity_still_holds(api, network, users, hospital):
    # given Austin detox is full (capacity 2)
    placed_client(network.austin_detox, users.austin)
    placed_client(network.austin_detox, users.austin)
    referral_id = refer(hospital, site=str(network.austin.pk)).json()["id"]
    coordinator = api.as_user(users.austin)

    # when the person is registered as a new client
    registered = coordinator.post(f"/api/v1/referrals/{referral_id}/register/", {}, format="json")
    assert registered.status_code == 200, registered.content
    client = Client.objects.get(pk=registered.json()["client"]["id"])
    assert (client.first_name, client.registered_site_id) == ("Jordan", network.austin.pk)

    # then admitting into the full program is refused as by every admission
    full = coordinator.post(
        f"/api/v1/referrals/{referral_id}/admit/",
        {"program": str(network.austin_detox.pk)},
        format="json",
    )
    assert full.status_code == 409
    assert full.json()["code"] == "capacity_exceeded"
    # and residential, with room, admits
    ok = coordinator.post(
        f"/api/v1/referrals/{referral_id}/admit/",
        {"program": str(network.austin_residential.pk)},
        format="json",
    )
    assert ok.status_code == 200, ok.content


def test_admitting_needs_a_match_and_a_program_of_the_referrals_sites(
    api, network, users, hospital
):
    referral_id = refer(hospital, site=str(network.austin.pk)).json()["id"]
    coordinator = api.as_user(users.austin)
    url = f"/api/v1/referrals/{referral_id}/admit/"

    no_program = coordinator.post(url, {}, format="json")
    assert no_program.status_code == 400 and no_program.json()["errors"][0]["field"] == "program"
    unmatched = coordinator.post(url, {"program": str(network.austin_detox.pk)}, format="json")
    assert unmatched.status_code == 409
    coordinator.post(f"/api/v1/referrals/{referral_id}/register/", {}, format="json")
    elsewhere = coordinator.post(
        url, {"program": str(network.houston_residential.pk)}, format="json"
    )
    assert elsewhere.status_code == 400 and elsewhere.json()["errors"][0]["field"] == "program"
    alumni = coordinator.post(url, {"program": str(network.austin_alumni.pk)}, format="json")
    assert alumni.status_code == 400
    assert not Episode.objects.exists()


def test_a_declined_referral_tells_the_partner_why(api, network, users, hospital):
    referral_id = refer(hospital, site=str(network.austin.pk)).json()["id"]
    coordinator = api.as_user(users.austin)

    blank = coordinator.post(f"/api/v1/referrals/{referral_id}/decline/", {"reason": " "})
    assert blank.status_code == 400
    cancel = coordinator.post(
        f"/api/v1/referrals/{referral_id}/cancel/", {"reason": "No."}, format="json"
    )
    assert cancel.status_code == 409  # a partner's referral is declined, not cancelled
    declined = coordinator.post(
        f"/api/v1/referrals/{referral_id}/decline/",
        {"reason": "Needs a medical unit first; we called the referrer."},
        format="json",
    )
    assert declined.status_code == 200, declined.content

    seen = hospital.api.get(f"/api/v1/partner/referrals/{referral_id}/").json()
    assert (seen["status"], seen["reason"]) == (
        "declined",
        "Needs a medical unit first; we called the referrer.",
    )
    listed = hospital.api.get("/api/v1/partner/referrals/", {"status": "declined"}).json()
    assert [r["id"] for r in listed["results"]] == [referral_id]
    assert hospital.api.get("/api/v1/partner/referrals/", {"status": "nope"}).status_code == 400


def test_another_sites_coordinator_cannot_act_on_the_referral(api, network, users, hospital):
    referral_id = refer(hospital, site=str(network.austin.pk)).json()["id"]
    houston = api.as_user(users.houston)

    for action, body in (("register", {}), ("decline", {"reason": "x"})):
        response = houston.post(f"/api/v1/referrals/{referral_id}/{action}/", body, format="json")
        assert response.status_code == 404
    assert Referral.objects.get(pk=referral_id).status == ReferralStatus.OPEN


def test_the_partner_and_staff_referral_lists_cost_the_same_queries_for_2_and_for_12(
    api, network, users, hospital
):
    def cost(client, url):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    coordinator = api.as_user(users.austin)
    for _ in range(2):
        refer(hospital)
    few = cost(hospital.api, "/api/v1/partner/referrals/"), cost(coordinator, "/api/v1/referrals/")
    for _ in range(10):
        refer(hospital)
    many = cost(hospital.api, "/api/v1/partner/referrals/"), cost(coordinator, "/api/v1/referrals/")

    assert [c for c, _ in many] == [c for c, _ in few]
    assert [n for _, n in many] == [12, 12]


def test_matching_to_an_unknown_or_a_foreign_client_is_the_same_404(api, network, users, hospital):
    referral_id = refer(hospital, site=str(network.austin.pk)).json()["id"]
    houstons = placed_client(network.houston_residential, users.houston)
    coordinator = api.as_user(users.austin)
    url = f"/api/v1/referrals/{referral_id}/match/"

    unknown = coordinator.post(url, {"client": "00000000-0000-0000-0000-000000000000"})
    foreign = coordinator.post(url, {"client": str(houstons.pk)})

    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json()
    assert Referral.objects.get(pk=referral_id).client_id is None
