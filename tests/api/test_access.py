"""The access matrix over HTTP: who sees which record, and who may do what.

Generated NetBox-style: the routes come from the URL resolver
(tests/api/helpers.py), so a new endpoint joins the anonymous and no-role
rows of the matrix the day it is added. The full matrix, every role against
another site's records, is tests/security/test_access_matrix.py.
"""

import pytest

from backend.audit.models import AuditEvent
from backend.care.models import Episode, Transfer
from backend.network.models import LevelOfCare
from services.access import Role, role_grant
from services.errors import MSG_NOT_YOUR_PROGRAM, MSG_OVERRIDE_NOT_ALLOWED, MSG_SITE_REQUIRED
from tests.api.helpers import api_routes, assert_problem, error_for, transfer_to
from tests.audit_helpers import audit_trail_forget
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    SiteFactory,
    UserFactory,
    placed_client,
)

ROUTES = api_routes()
PUBLIC = {"auth-token", "api-index"}
CLINICAL = {"clients", "episodes", "placements", "transfers"}
PASSWORD = "pw-for-tests-only"  # tests/factories.py UserFactory


def call(client, route, ids, body=None):
    """Send `route` with the ids of `ids` filled in; writes carry a JSON body."""
    url = (
        route.url(pk=ids[route.resource], item_id=ids.get("handoff-items"))
        if route.is_detail
        else route.path
    )
    if route.method == "get":
        return client.get(url)
    return getattr(client, route.method)(url, body or {}, format="json")


def listed_ids(client, url) -> set[str]:
    response = client.get(url, {"page_size": 200})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- who may call at all ---------------------------------------------------


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name not in PUBLIC], ids=str)
def test_anonymous_caller_gets_401_on_every_endpoint(api, austin_record, route):
    # given a caller without credentials
    # when they call the endpoint
    response = call(api, route, austin_record.ids)

    # then they are asked to authenticate, in the problem format
    assert_problem(response, 401, code="not_authenticated")
    # (Bearer first: staff tokens and partner access tokens both go as Bearer)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_bad_token_gets_401(api, austin_record):
    # given a token that was never issued
    api.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")

    # when it is used
    response = api.get("/api/v1/clients/")

    # then
    assert_problem(response, 401, code="authentication_failed")


# --- a user with no role -----------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if r.resource in CLINICAL and r.method == "get" and not r.is_detail],
    ids=str,
)
def test_user_without_a_role_lists_no_clinical_records(api, users, austin_record, route):
    # given a record at Austin and a signed-in user with no role
    nobody = api.as_user(users.nobody)

    # when they list
    response = nobody.get(route.path)

    # then the list is empty
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.resource in CLINICAL and r.is_detail], ids=str
)
def test_user_without_a_role_gets_404_on_every_clinical_record(api, users, austin_record, route):
    # given a record at Austin and a signed-in user with no role
    nobody = api.as_user(users.nobody)

    # when they read it or act on it
    response = call(nobody, route, austin_record.ids, {"reason": "x", "discharge_type": "other"})

    # then it does not exist for them
    assert_problem(response, 404, code="not_found")


def test_user_without_a_role_cannot_register_admit_or_transfer(api, network, users, austin_record):
    # given a signed-in user with no role
    nobody = api.as_user(users.nobody)
    client_id = str(austin_record.client.pk)

    # when they try each write
    register = nobody.post(
        "/api/v1/clients/",
        {
            "first_name": "Sam",
            "last_name": "Lee",
            "date_of_birth": "1990-01-01",
            "registered_site": str(network.austin.pk),
        },
    )
    admit = nobody.post(
        "/api/v1/episodes/", {"client": client_id, "program": str(network.austin_iop.pk)}
    )
    transfer = nobody.post(
        "/api/v1/transfers/", {"client": client_id, "to_program": str(network.austin_iop.pk)}
    )

    # then registering is forbidden and the client they cannot see does not exist
    assert_problem(register, 403, code="not_permitted")
    assert error_for(assert_problem(admit, 400, fields={"client"}), "client")["message"] == (
        "Client not found."
    )
    assert_problem(transfer, 400, fields={"client"})


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if r.resource in {"levels-of-care", "sites", "programs"}],
    ids=str,
)
def test_user_without_a_role_still_sees_the_network(api, users, austin_record, route):
    # given a signed-in user with no role
    # when they read the levels, sites and programs
    response = call(api.as_user(users.nobody), route, austin_record.ids)

    # then they see them (a destination can be chosen at any site)
    assert response.status_code == 200, response.content


# --- who sees an Austin record ---------------------------------------------

# The Austin record (client in Austin detox, with a transfer to Austin
# residential) is seen by Austin's staff and by organisation admins only.
VIEWERS = {
    "austin": True,
    "austin2": True,
    "manager": True,
    "admin": True,
    "houston": False,
    "houston_manager": False,
    "alumni": False,
    "nobody": False,
}
RECORDS = {
    # record: (list URL or None, detail URL, attribute of austin_record)
    "client": ("/api/v1/clients/", "/api/v1/clients/{}/", "client"),
    "episode": ("/api/v1/episodes/", "/api/v1/episodes/{}/", "episode"),
    "placement": ("/api/v1/placements/", "/api/v1/placements/{}/", "placement"),
    "transfer": ("/api/v1/transfers/", "/api/v1/transfers/{}/", "transfer"),
    "journey": (None, "/api/v1/clients/{}/journey/", "client"),
}


@pytest.mark.parametrize("record", RECORDS)
@pytest.mark.parametrize(("viewer", "sees"), VIEWERS.items())
def test_austin_record_is_seen_by_austin_staff_and_org_admins_only(
    api, users, austin_record, record, viewer, sees
):
    # given a record of an Austin client
    list_url, detail_url, attr = RECORDS[record]
    obj = getattr(austin_record, attr)
    client = api.as_user(getattr(users, viewer))

    # when the viewer reads it and lists its kind
    detail = client.get(detail_url.format(obj.pk))
    listed = listed_ids(client, list_url) if list_url else None

    # then own-site staff see it; everyone else gets 404 and does not find it listed
    if sees:
        assert detail.status_code == 200, detail.content
    else:
        assert_problem(detail, 404, code="not_found")
    if listed is not None:
        assert (str(obj.pk) in listed) is sees


def test_houston_coordinator_cannot_see_austin_client(api, users, austin_record):
    # given a client in Austin detox
    client_id = austin_record.client.pk

    # when a Houston coordinator looks for them
    houston = api.as_user(users.houston)
    detail = houston.get(f"/api/v1/clients/{client_id}/")
    by_mrn = houston.get("/api/v1/clients/", {"mrn": austin_record.client.mrn})

    # then the client does not exist for them, even searched by MRN
    assert_problem(detail, 404, code="not_found")
    assert by_mrn.json()["count"] == 0


def test_austin_coordinator_sees_a_client_registered_at_austin_before_any_admission(
    api, network, users
):
    # given a client registered at Austin but never admitted
    client = ClientFactory(registered_site=network.austin)

    # when Austin and Houston look
    austin = api.as_user(users.austin).get(f"/api/v1/clients/{client.pk}/")
    houston = api.as_user(users.houston).get(f"/api/v1/clients/{client.pk}/")

    # then Austin sees them (they registered them) and Houston does not
    assert austin.status_code == 200
    assert austin.json()["current_placement"] is None
    assert_problem(houston, 404)


def test_client_becomes_visible_to_houston_once_a_transfer_there_is_requested(api, network, users):
    # given an Austin client that Houston cannot see
    client = placed_client(network.austin_detox, users.austin)
    urls = [f"/api/v1/clients/{client.pk}/", f"/api/v1/clients/{client.pk}/journey/"]
    assert all(api.as_user(users.houston).get(url).status_code == 404 for url in urls)

    # when Austin requests a transfer to Houston residential
    requested = api.as_user(users.austin).post(
        "/api/v1/transfers/",
        {"client": str(client.pk), "to_program": str(network.houston_residential.pk)},
    )
    assert requested.status_code == 201, requested.content
    transfer_id = requested.json()["id"]

    # then Houston sees the client, the episode, the placement and the transfer
    houston = api.as_user(users.houston)
    urls += [
        f"/api/v1/episodes/{client.episodes.get().pk}/",
        f"/api/v1/placements/{client.placements.get().pk}/",
        f"/api/v1/transfers/{transfer_id}/",
    ]
    assert [houston.get(url).status_code for url in urls] == [200] * 5
    assert str(client.pk) in listed_ids(houston, "/api/v1/clients/")
    assert transfer_id in listed_ids(houston, "/api/v1/transfers/")


def test_client_stays_visible_to_houston_after_the_transfer_there_completes(api, network, users):
    # given an Austin client transferred to Houston residential
    client = placed_client(network.austin_detox, users.austin)
    transfer = transfer_to(
        network.houston_residential,
        client=client,
        sender=users.austin,
        receiver=users.houston,
        status="completed",
    )

    # when Houston reads the record
    houston = api.as_user(users.houston)
    detail = houston.get(f"/api/v1/clients/{client.pk}/")
    journey = houston.get(f"/api/v1/clients/{client.pk}/journey/")
    placements = listed_ids(houston, "/api/v1/placements/")

    # then they see the client in their program, and both stays of the journey
    assert detail.status_code == 200
    assert detail.json()["current_placement"]["program"] == str(network.houston_residential.pk)
    assert [p["level"] for p in journey.json()["placements"]] == ["detox", "residential"]
    assert {str(p.pk) for p in client.placements.all()} <= placements
    assert houston.get(f"/api/v1/transfers/{transfer.pk}/").status_code == 200


def test_alumni_coordinator_sees_clients_with_an_alumni_placement_at_any_site_only(
    api, network, users
):
    # given alumni at Austin and at Houston, and a client who never reached alumni
    houston_alumni = ProgramFactory(
        site=network.houston, level=LevelOfCare.objects.get(code="alumni"), capacity=500
    )
    austin_alumnus = placed_client(network.austin_alumni, users.austin)
    houston_alumnus = placed_client(houston_alumni, users.houston)
    in_detox = placed_client(network.austin_detox, users.austin)

    # when the alumni coordinator lists and reads clients
    alumni = api.as_user(users.alumni)
    listed = listed_ids(alumni, "/api/v1/clients/")
    foreign = alumni.get(f"/api/v1/clients/{in_detox.pk}/")

    # then they see both alumni and not the client in detox
    assert listed == {str(austin_alumnus.pk), str(houston_alumnus.pk)}
    assert_problem(foreign, 404)
    assert alumni.get(f"/api/v1/clients/{houston_alumnus.pk}/journey/").status_code == 200


def test_org_admin_sees_every_client_at_every_site(api, network, users):
    # given clients at Austin and at Houston
    clients = [
        placed_client(network.austin_detox, users.austin),
        placed_client(network.houston_iop, users.houston),
        ClientFactory(registered_site=network.houston),
    ]

    # when the organisation admin lists clients
    listed = listed_ids(api.as_user(users.admin), "/api/v1/clients/")

    # then every one of them is there
    assert listed == {str(c.pk) for c in clients}


# --- who may edit a client ----------------------------------------------------


@pytest.mark.parametrize(
    ("editor", "status"),
    [("austin", 200), ("manager", 200), ("admin", 200), ("houston", 403), ("alumni", 404)],
)
def test_only_the_clients_teams_may_edit_them(api, network, users, editor, status):
    # given an Austin client whose transfer to Houston was declined (so Houston sees them)
    client = placed_client(network.austin_detox, users.austin)
    transfer_to(
        network.houston_residential,
        client=client,
        sender=users.austin,
        receiver=users.houston,
        status="declined",
    )

    # when a member of staff changes their phone number
    response = api.as_user(getattr(users, editor)).patch(
        f"/api/v1/clients/{client.pk}/", {"phone": "512-555-0199"}
    )

    # then Austin's team and admins may; Houston may read but not edit; others see nothing
    assert response.status_code == status, response.content
    client.refresh_from_db()
    assert (client.phone == "512-555-0199") is (status == 200)
    if status != 200:
        assert_problem(response, status)


def test_houston_may_edit_a_client_once_in_a_houston_program(api, network, users):
    # given an Austin client who moved to Houston residential
    client = placed_client(network.austin_detox, users.austin)
    transfer_to(
        network.houston_residential,
        client=client,
        sender=users.austin,
        receiver=users.houston,
        status="completed",
    )

    # when Houston, now their current team, corrects their name
    response = api.as_user(users.houston).patch(
        f"/api/v1/clients/{client.pk}/", {"preferred_name": "Jo"}
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json()["preferred_name"] == "Jo"


# --- transfer actions: each side its own ---------------------------------

# action: (the side that may take it, the state it starts from, body, the state after)
TRANSFER_ACTIONS = {
    "approve": ("receiving", "requested", {}, "approved"),
    "decline": ("receiving", "requested", {"reason": "No bed this week."}, "declined"),
    "complete": ("receiving", "approved", {}, "completed"),
    "cancel": ("sending", "requested", {"reason": "Family chose a nearer program."}, "cancelled"),
}


@pytest.fixture
def austin_to_houston(network, users):
    """Make a transfer of a new Austin detox client to Houston residential, in a given state."""

    def make(status: str) -> Transfer:
        client = placed_client(network.austin_detox, users.austin)
        return transfer_to(
            network.houston_residential,
            client=client,
            sender=users.austin,
            receiver=users.houston,
            status=status,
        )

    return make


def _side(users, side: str):
    return users.houston if side == "receiving" else users.austin


@pytest.mark.parametrize("action", TRANSFER_ACTIONS)
def test_each_side_of_a_transfer_takes_its_own_actions(api, users, austin_to_houston, action):
    # given a transfer from Austin to Houston in the state the action starts from
    side, before, body, after = TRANSFER_ACTIONS[action]
    transfer = austin_to_houston(before)

    # when the side whose action it is takes it
    actor = _side(users, side)
    response = api.as_user(actor).post(f"/api/v1/transfers/{transfer.pk}/{action}/", body)

    # then it moves, and the event names them
    assert response.status_code == 200, response.content
    assert response.json()["status"] == after
    assert response.json()["events"][-1]["actor"] == actor.username


@pytest.mark.parametrize("action", TRANSFER_ACTIONS)
def test_the_other_side_of_a_transfer_gets_403(api, users, austin_to_houston, action):
    # given a transfer from Austin to Houston, visible to both sides
    side, before, body, _ = TRANSFER_ACTIONS[action]
    transfer = austin_to_houston(before)
    other = _side(users, "sending" if side == "receiving" else "receiving")

    # when the other side tries the action
    response = api.as_user(other).post(f"/api/v1/transfers/{transfer.pk}/{action}/", body)

    # then it is forbidden, and nothing moved
    body = assert_problem(response, 403, code="not_permitted")
    assert body["detail"] == MSG_NOT_YOUR_PROGRAM
    transfer.refresh_from_db()
    assert transfer.status == before


@pytest.mark.parametrize("viewer", ["outsider", "nobody", "elpaso_manager"])
@pytest.mark.parametrize("action", TRANSFER_ACTIONS)
def test_a_user_who_cannot_see_a_transfer_gets_404_on_its_actions(
    api, network, users, outsider, austin_to_houston, action, viewer
):
    # given a transfer from Austin to Houston, and a user from neither site
    _, before, body, _ = TRANSFER_ACTIONS[action]
    transfer = austin_to_houston(before)
    user = {
        "outsider": outsider,
        "nobody": users.nobody,
        # manager of a site that has nothing to do with this client
        "elpaso_manager": _manager_of_a_new_site(),
    }[viewer]

    # when they try the action
    response = api.as_user(user).post(f"/api/v1/transfers/{transfer.pk}/{action}/", body)

    # then the transfer does not exist for them
    assert_problem(response, 404, code="not_found")
    transfer.refresh_from_db()
    assert transfer.status == before


def _manager_of_a_new_site():
    user = UserFactory(username="manager.elpaso")
    role_grant(user=user, role=Role.SITE_MANAGER, site=SiteFactory(code="elpaso"))
    return user


def test_austin_coordinator_requests_a_step_down_to_houston(api, network, users):
    # given a client in Austin detox
    client = placed_client(network.austin_detox, users.austin)

    # when their Austin coordinator requests a move to Houston residential
    response = api.as_user(users.austin).post(
        "/api/v1/transfers/",
        {
            "client": str(client.pk),
            "to_program": str(network.houston_residential.pk),
            "reason": "Closer to family.",
        },
    )

    # then it is requested by them, as a step down from Austin to Houston
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["direction"], body["requested_by"]) == (
        "requested",
        "step_down",
        "coordinator.austin",
    )
    assert (body["from_site"], body["to_site"]) == (str(network.austin.pk), str(network.houston.pk))


def test_houston_coordinator_cannot_request_a_transfer_of_a_client_they_cannot_see(
    api, network, users
):
    # given an Austin client that Houston cannot see
    client = placed_client(network.austin_detox, users.austin)

    # when Houston tries to pull them into Houston residential
    response = api.as_user(users.houston).post(
        "/api/v1/transfers/",
        {"client": str(client.pk), "to_program": str(network.houston_residential.pk)},
    )

    # then the client is "not found", exactly as a missing one would be
    body = assert_problem(response, 400, fields={"client"})
    assert error_for(body, "client")["message"] == "Client not found."
    assert not Transfer.objects.filter(client=client).exists()


def test_houston_coordinator_who_sees_a_client_still_cannot_request_their_transfer(
    api, network, users, austin_to_houston
):
    # given an Austin client whose earlier transfer Houston declined (so Houston sees them)
    declined = austin_to_houston("declined")

    # when Houston requests a transfer of that client into Houston IOP
    response = api.as_user(users.houston).post(
        "/api/v1/transfers/",
        {"client": str(declined.client_id), "to_program": str(network.houston_iop.pk)},
    )

    # then only the sending side (Austin) may request it
    assert_problem(response, 403, code="not_permitted")


# --- capacity overrides ----------------------------------------------------


@pytest.fixture
def full_austin_detox(network, users):
    """Austin detox (capacity 2) full, and an Austin client waiting to be admitted."""
    for _ in range(network.austin_detox.capacity):
        placed_client(network.austin_detox, users.austin)
    return ClientFactory(registered_site=network.austin)


def _admit(api, user, client, program, **extra):
    return api.as_user(user).post(
        "/api/v1/episodes/", {"client": str(client.pk), "program": str(program.pk), **extra}
    )


def test_coordinator_admitting_into_a_full_program_gets_409(api, network, users, full_austin_detox):
    # given Austin detox is full
    # when an Austin coordinator admits one more
    response = _admit(api, users.austin, full_austin_detox, network.austin_detox)

    # then it is refused, and no episode was opened
    assert_problem(response, 409, code="capacity_exceeded")
    assert not Episode.objects.filter(client=full_austin_detox).exists()


def test_coordinator_cannot_override_capacity(api, network, users, full_austin_detox):
    # given Austin detox is full
    # when an Austin coordinator tries to admit beyond capacity with a reason
    response = _admit(
        api,
        users.austin,
        full_austin_detox,
        network.austin_detox,
        capacity_override_reason="Medical emergency.",
    )

    # then only a manager may do that
    body = assert_problem(response, 403, code="not_permitted", fields={"capacity_override_reason"})
    assert error_for(body, "capacity_override_reason")["message"] == MSG_OVERRIDE_NOT_ALLOWED
    assert not Episode.objects.filter(client=full_austin_detox).exists()


def test_austin_manager_admits_beyond_capacity_and_the_reason_is_recorded(
    api, network, users, full_austin_detox
):
    # given Austin detox is full
    # when Austin's site manager admits beyond capacity with a reason
    response = _admit(
        api,
        users.manager,
        full_austin_detox,
        network.austin_detox,
        capacity_override_reason="Medical emergency; bed 3 doubled.",
    )

    # then the client is admitted, the program shows it over capacity,
    # and the audit trail holds the reason
    assert response.status_code == 201, response.content
    program = api.as_user(users.manager).get(f"/api/v1/programs/{network.austin_detox.pk}/")
    assert (program.json()["occupied"], program.json()["available"]) == (3, -1)
    admit = AuditEvent.objects.get(client_id=full_austin_detox.pk, action="admit")
    assert admit.detail["capacity_override_reason"] == "Medical emergency; bed 3 doubled."
    assert admit.actor == users.manager


def test_houston_manager_cannot_admit_beyond_austin_capacity(
    api, network, users, full_austin_detox
):
    # given Austin detox is full, and a client registered at Houston
    client = ClientFactory(registered_site=network.houston)

    # when Houston's manager admits them to Austin detox beyond capacity
    response = _admit(
        api,
        users.houston_manager,
        client,
        network.austin_detox,
        capacity_override_reason="We need the bed.",
    )

    # then managing Houston gives no say over Austin's beds
    assert_problem(response, 403, code="not_permitted")
    assert not Episode.objects.filter(client=client).exists()


@pytest.fixture
def transfer_into_full_houston(network, users, austin_to_houston):
    """Houston residential (capacity 2) full, and a requested transfer into it from Austin."""
    for _ in range(network.houston_residential.capacity):
        placed_client(network.houston_residential, users.houston)
    return austin_to_houston("requested")


def test_houston_coordinator_approving_into_a_full_program_gets_409_and_403_to_override(
    api, users, transfer_into_full_houston
):
    # given a transfer into a full Houston residential
    url = f"/api/v1/transfers/{transfer_into_full_houston.pk}/approve/"
    houston = api.as_user(users.houston)

    # when the Houston coordinator approves, first plainly, then with an override
    plain = houston.post(url, {})
    override = houston.post(url, {"capacity_override_reason": "Bed freed tonight."})

    # then both are refused and the transfer is still requested
    assert_problem(plain, 409, code="capacity_exceeded")
    assert_problem(override, 403, code="not_permitted", fields={"capacity_override_reason"})
    transfer_into_full_houston.refresh_from_db()
    assert transfer_into_full_houston.status == "requested"


def test_houston_manager_approves_beyond_capacity_and_the_reason_is_recorded(
    api, network, users, transfer_into_full_houston
):
    # given a transfer into a full Houston residential
    url = f"/api/v1/transfers/{transfer_into_full_houston.pk}/approve/"

    # when Houston's site manager approves with an override reason
    response = api.as_user(users.houston_manager).post(
        url, {"capacity_override_reason": "Discharge at noon frees a bed."}
    )

    # then it is approved, the reason is on the transfer and in the audit trail
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert response.json()["capacity_override_reason"] == "Discharge at noon frees a bed."
    transfer_into_full_houston.refresh_from_db()
    assert transfer_into_full_houston.capacity_override_reason == "Discharge at noon frees a bed."
    audit = AuditEvent.objects.get(
        object_id=transfer_into_full_houston.pk, action="transfer_approve"
    )
    assert audit.detail["capacity_override_reason"] == "Discharge at noon frees a bed."
    program = api.as_user(users.houston).get(f"/api/v1/programs/{network.houston_residential.pk}/")
    assert (program.json()["reserved"], program.json()["available"]) == (1, -1)


def test_an_override_reason_is_not_recorded_when_there_was_room(
    api, network, users, austin_to_houston
):
    # given a transfer into Houston residential, which has room
    transfer = austin_to_houston("requested")

    # when the Houston coordinator approves it with an (unneeded) override reason
    response = api.as_user(users.houston).post(
        f"/api/v1/transfers/{transfer.pk}/approve/",
        {"capacity_override_reason": "Just in case."},
    )

    # then it is approved, and no override is on record
    assert response.status_code == 200, response.content
    assert response.json()["capacity_override_reason"] == ""
    audit = AuditEvent.objects.get(object_id=transfer.pk, action="transfer_approve")
    assert "capacity_override_reason" not in audit.detail


def test_austin_manager_cannot_override_houston_capacity(api, users, transfer_into_full_houston):
    # given a transfer from Austin into a full Houston residential
    # when Austin's manager (the sending site's) tries to approve it with an override
    response = api.as_user(users.manager).post(
        f"/api/v1/transfers/{transfer_into_full_houston.pk}/approve/",
        {"capacity_override_reason": "Please."},
    )

    # then approving is the receiving side's to do
    assert_problem(response, 403, code="not_permitted")


# --- registration ------------------------------------------------------------

NEW_CLIENT = {"first_name": "Jordan", "last_name": "Rivera", "date_of_birth": "1990-04-12"}


@pytest.mark.parametrize("registrar", ["austin", "manager"])
def test_single_site_staff_register_a_client_without_naming_the_site(
    api, network, users, registrar
):
    # given a member of staff of Austin only
    # when they register a client without a registered_site
    response = api.as_user(getattr(users, registrar)).post("/api/v1/clients/", NEW_CLIENT)

    # then the client is registered at Austin
    assert response.status_code == 201, response.content
    assert response.json()["registered_site"] == str(network.austin.pk)


def test_a_deleted_sites_leftover_role_does_not_stop_the_single_site_default(api, network, users):
    # given an Austin coordinator who also held a role at a site since deleted
    # (django-guardian keeps the object permission of a deleted object)
    closed = SiteFactory(code="closed", name="Closed")
    role_grant(user=users.austin, role=Role.CARE_COORDINATOR, site=closed)
    closed.delete()

    # when they register a client without a registered_site
    response = api.as_user(users.austin).post("/api/v1/clients/", NEW_CLIENT)

    # then the client is registered at Austin, their one site
    assert response.status_code == 201, response.content
    assert response.json()["registered_site"] == str(network.austin.pk)


def test_coordinator_of_two_sites_must_name_the_registering_site(api, network, users):
    # given a coordinator of both Austin and Houston
    role_grant(user=users.austin, role=Role.CARE_COORDINATOR, site=network.houston)
    austin_and_houston = api.as_user(users.austin)

    # when they register a client without naming the site
    missing = austin_and_houston.post("/api/v1/clients/", NEW_CLIENT)
    named = austin_and_houston.post(
        "/api/v1/clients/", {**NEW_CLIENT, "registered_site": str(network.houston.pk)}
    )

    # then the first is refused naming registered_site; the second is registered at Houston
    body = assert_problem(missing, 400, fields={"registered_site"})
    assert error_for(body, "registered_site")["message"] == MSG_SITE_REQUIRED
    assert named.status_code == 201, named.content
    assert named.json()["registered_site"] == str(network.houston.pk)


def test_org_admin_must_name_the_site_and_may_register_at_any(api, network, users):
    # given an organisation admin, who belongs to no one site
    admin = api.as_user(users.admin)

    # when they register with and without a site
    missing = admin.post("/api/v1/clients/", NEW_CLIENT)
    named = admin.post(
        "/api/v1/clients/", {**NEW_CLIENT, "registered_site": str(network.houston.pk)}
    )

    # then
    assert_problem(missing, 400, fields={"registered_site"})
    assert named.status_code == 201, named.content


def test_austin_coordinator_cannot_register_a_client_at_houston(api, network, users):
    # given an Austin coordinator
    # when they register a client at Houston
    response = api.as_user(users.austin).post(
        "/api/v1/clients/", {**NEW_CLIENT, "registered_site": str(network.houston.pk)}
    )

    # then it is forbidden
    assert_problem(response, 403, code="not_permitted")


# --- tokens and "me" ---------------------------------------------------------


def test_good_credentials_return_a_token_usable_as_the_authorization_header(api, users):
    # given the Austin coordinator's username and password
    # when they ask for a token
    response = api.post(
        "/api/v1/auth/token/", {"username": "coordinator.austin", "password": PASSWORD}
    )

    # then they get one, and it signs them in
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert set(response.json()) == {"token"}
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "coordinator.austin"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("coordinator.austin", "wrong-password"),
        ("nobody-by-that-name", PASSWORD),
        ("inactive", PASSWORD),
    ],
    ids=["wrong-password", "unknown-user", "inactive-user"],
)
def test_bad_credentials_get_401_in_problem_format_with_one_message(api, users, username, password):
    # given an inactive account beside the cast
    UserFactory(username="inactive", is_active=False)

    # when someone asks for a token with bad credentials
    response = api.post("/api/v1/auth/token/", {"username": username, "password": password})

    # then it is a 401, with one message for every case (no probing)
    body = assert_problem(response, 401)
    assert body["detail"] == "Unable to sign in with these credentials."
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_token_request_without_credentials_names_both_fields(api, db):
    # when a token is asked for with an empty body
    response = api.post("/api/v1/auth/token/", {})

    # then both fields are named
    assert_problem(response, 400, fields={"username", "password"})


ROLES = {
    "austin": [("care_coordinator", "austin")],
    "manager": [("site_manager", "austin")],
    "houston_manager": [("site_manager", "houston")],
    "alumni": [("alumni_coordinator", None)],
    "admin": [("organisation_admin", None)],
    "nobody": [],
}


@pytest.mark.parametrize(("viewer", "expected"), ROLES.items())
def test_me_lists_the_callers_roles(api, network, users, viewer, expected):
    # given a member of the cast
    user = getattr(users, viewer)
    sites = {None: None, "austin": str(network.austin.pk), "houston": str(network.houston.pk)}

    # when they ask who they are
    response = api.as_user(user).get("/api/v1/me/")

    # then they see their roles, each at its site (or everywhere)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == user.username
    assert body["roles"] == [{"role": role, "site": sites[site]} for role, site in expected]


def test_a_coordinator_cannot_probe_another_sites_mrns(api, network, users):
    # given an Austin client, invisible to Houston
    austin_client = placed_client(network.austin_detox, users.austin)
    houston = api.as_user(users.houston)
    body = {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01"}

    # when Houston tries to register a client under that MRN, and under an unused one
    taken = houston.post("/api/v1/clients/", {**body, "mrn": austin_client.mrn})
    unused = houston.post("/api/v1/clients/", {**body, "mrn": "NEVERUSED1"})

    # then both are refused the same way: only org admins choose MRNs
    assert taken.status_code == unused.status_code == 403
    assert taken.json()["detail"] == unused.json()["detail"]


def test_a_change_that_changes_nothing_is_audited_as_a_read(api, network, users):
    # given an Austin client
    person = ClientFactory(registered_site=network.austin, phone="512-555-0100")
    url = f"/api/v1/clients/{person.pk}/"
    coordinator = api.as_user(users.austin)

    # when a PATCH changes nothing (empty, or the same value), the record still comes back
    for body in ({}, {"phone": "512-555-0100"}):
        audit_trail_forget()
        response = coordinator.patch(url, body)
        assert response.status_code == 200, response.content
        assert response.json()["phone"] == "512-555-0100"

        # then the read is in the audit trail, and no update is
        audit = AuditEvent.objects.filter(client_id=person.pk)
        assert [(e.action, e.object_type) for e in audit] == [("view", "client")]
