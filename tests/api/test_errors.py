"""Every error leaves the API as an RFC 9457 problem document, with the
status the rules call for, and leaves the database as it found it."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from backend.aftercare.models import FollowUp
from backend.audit.models import AuditEvent
from backend.care.models import Client, Episode, Placement, Transfer, TransferEvent
from backend.notifications.models import Notification
from services import episodes
from services.aftercare import follow_ups, plans
from services.clock import site_today
from services.errors import (
    MSG_DOB_RANGE,
    MSG_PLANNED_IN_PAST,
    MSG_TIME_IN_FUTURE,
)
from services.partners import partner_create
from tests.api.helpers import api_routes, assert_problem, error_for, transfer_to
from tests.factories import ClientFactory, placed_client
from tests.partner_fixtures import webhook_with_delivery

ROUTES = api_routes()
PASSWORD = "pw-for-tests-only"  # tests/factories.py UserFactory


def _today(site):
    """Today at `site`: the day the rules use (not UTC's, nor the server's)."""
    return site_today(site, timezone.now())


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def scene(network, users):
    """Austin's clients in every situation the error tests need; the Austin
    coordinator is on both sides of every transfer here."""
    in_care = placed_client(network.austin_iop, users.austin)
    requested_client = placed_client(network.austin_detox, users.austin)
    approved_client = placed_client(network.austin_detox, users.austin)
    discharged = placed_client(network.austin_iop, users.austin)
    episodes.episode_discharge(
        actor=users.austin, episode=discharged.episodes.get(), discharge_type="completed"
    )
    return SimpleNamespace(
        discharged=discharged,
        waiting=ClientFactory(registered_site=network.austin),
        in_care=in_care,
        episode=in_care.episodes.get(),
        placement=in_care.placements.get(),
        requested=transfer_to(
            network.austin_residential,
            client=requested_client,
            sender=users.austin,
            receiver=users.austin,
        ),
        approved=transfer_to(
            network.austin_residential,
            client=approved_client,
            sender=users.austin,
            receiver=users.austin,
            status="approved",
        ),
        houston_client=placed_client(network.houston_iop, users.houston),
        notification=Notification.objects.create(
            recipient=users.austin,
            kind="handoff.created",
            title="Incoming transfer",
            key="test:scene",
            created_at=timezone.now(),
        ),
    )


def _url(template: str, scene) -> str:
    return template.format(
        episode=scene.episode.pk,
        client=scene.in_care.pk,
        requested=scene.requested.pk,
        approved=scene.approved.pk,
    )


# --- 400: the bad fields are named ------------------------------------------

MISSING_FIELDS = [
    ("/api/v1/clients/", {"first_name", "last_name", "date_of_birth"}),
    ("/api/v1/episodes/", {"client", "program"}),
    ("/api/v1/episodes/{episode}/discharge/", {"discharge_type"}),
    ("/api/v1/transfers/", {"client", "to_program"}),
    ("/api/v1/transfers/{requested}/decline/", {"reason"}),
    ("/api/v1/transfers/{requested}/cancel/", {"reason"}),
    ("/api/v1/auth/token/", {"username", "password"}),
]


@pytest.mark.parametrize(("template", "fields"), MISSING_FIELDS, ids=[m[0] for m in MISSING_FIELDS])
def test_missing_fields_are_each_named(api, users, scene, template, fields):
    # given the Austin coordinator
    # when they post an empty body
    response = api.as_user(users.austin).post(_url(template, scene), {})

    # then each required field is named as required
    body = assert_problem(response, 400, code="invalid", fields=fields)
    assert {e["code"] for e in body["errors"]} == {"required"}
    assert all(f"{field}: This field is required." in body["detail"] for field in fields)


WRONG_TYPES = [
    (
        "post",
        "/api/v1/clients/",
        {"first_name": ["Jordan"], "last_name": {"n": 1}, "date_of_birth": 19900412, "email": 5},
    ),
    (
        "post",
        "/api/v1/episodes/",
        {"client": [], "program": {}, "admitted_at": "yesterday", "referral_source": 3},
    ),
    (
        "post",
        "/api/v1/transfers/",
        {"client": True, "to_program": 1.5, "planned_for": 20261201, "reason": ["x"]},
    ),
    (
        "post",
        "/api/v1/episodes/{episode}/discharge/",
        {"discharge_type": ["completed"], "discharged_at": 5, "notes": {}},
    ),
    (
        "post",
        "/api/v1/transfers/{requested}/approve/",
        {"reason": [], "capacity_override_reason": {}},
    ),
    ("post", "/api/v1/transfers/{approved}/complete/", {"arrived_at": True, "reason": {"a": 1}}),
    ("patch", "/api/v1/clients/{client}/", {"date_of_birth": "soon", "mrn": [], "phone": None}),
]


@pytest.mark.parametrize(
    ("method", "template", "payload"), WRONG_TYPES, ids=[w[1] for w in WRONG_TYPES]
)
def test_values_of_the_wrong_type_are_each_named(api, users, scene, method, template, payload):
    # given the Austin coordinator
    # when every field of the body has the wrong type
    response = getattr(api.as_user(users.austin), method)(_url(template, scene), payload)

    # then every one of them is named
    assert_problem(response, 400, code="invalid", fields=set(payload))


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("/api/v1/episodes/", "client"),
        ("/api/v1/episodes/", "program"),
        ("/api/v1/transfers/", "client"),
        ("/api/v1/transfers/", "to_program"),
        ("/api/v1/clients/", "registered_site"),
    ],
)
def test_a_malformed_uuid_in_the_body_is_a_400_naming_the_field(
    api, network, users, scene, template, field
):
    # given an otherwise valid body
    valid = {
        "/api/v1/episodes/": {
            "client": str(scene.waiting.pk),
            "program": str(network.austin_iop.pk),
        },
        "/api/v1/transfers/": {
            "client": str(scene.in_care.pk),
            "to_program": str(network.austin_residential.pk),
        },
        "/api/v1/clients/": {
            "first_name": "Sam",
            "last_name": "Lee",
            "date_of_birth": "1990-01-01",
            "registered_site": str(network.austin.pk),
        },
    }[template]

    # when one id in it is not a UUID
    response = api.as_user(users.austin).post(template, {**valid, field: "not-a-uuid"})

    # then that field is named
    body = assert_problem(response, 400, fields={field})
    assert error_for(body, field)["message"] == "Must be a valid UUID."


@pytest.mark.parametrize("route", [r for r in ROUTES if r.is_detail], ids=str)
def test_a_malformed_id_in_the_url_is_a_404(api, users, scene, route):
    # given the Austin coordinator
    # when the id in the URL is not an id at all
    client = api.as_user(users.austin)
    url = route.url(pk="not-a-uuid")
    response = client.get(url) if route.method == "get" else getattr(client, route.method)(url, {})

    # then it is simply not found
    assert_problem(response, 404, code="not_found")


@pytest.mark.parametrize(
    ("template", "field", "message"),
    [
        ("/api/v1/episodes/", "client", "Client not found."),
        ("/api/v1/transfers/", "client", "Client not found."),
    ],
)
def test_an_invisible_client_is_answered_exactly_like_a_missing_one(
    api, network, users, scene, template, field, message
):
    # given a client at Houston, invisible to Austin, and an id that exists nowhere
    austin = api.as_user(users.austin)
    program = "program" if template == "/api/v1/episodes/" else "to_program"
    body = {program: str(network.austin_iop.pk)}

    # when Austin names each
    invisible = austin.post(template, {**body, field: str(scene.houston_client.pk)})
    missing = austin.post(template, {**body, field: "00000000-0000-4000-8000-000000000000"})

    # then the two answers cannot be told apart
    assert assert_problem(invisible, 400, fields={field}) == assert_problem(
        missing, 400, fields={field}
    )
    assert error_for(invisible.json(), field)["message"] == message


@pytest.mark.parametrize(
    ("template", "field"), [("/api/v1/episodes/", "program"), ("/api/v1/transfers/", "to_program")]
)
def test_an_unknown_program_is_a_400_naming_the_field(api, users, scene, template, field):
    # given a valid client
    client = scene.waiting if template == "/api/v1/episodes/" else scene.in_care

    # when the program does not exist
    response = api.as_user(users.austin).post(
        template, {"client": str(client.pk), field: "00000000-0000-4000-8000-000000000000"}
    )

    # then
    body = assert_problem(response, 400, fields={field})
    assert error_for(body, field)["message"] == "Program not found."


# --- impossible and out-of-range values -------------------------------------


# Relative values are worked out when the test runs, not when it is collected:
# "today" at the Austin site, and "two hours from now".
TOMORROW, YESTERDAY, FUTURE = "<tomorrow>", "<yesterday>", "<in two hours>"


def _resolve(value: str, site) -> str:
    relative = {
        TOMORROW: lambda: str(_today(site) + dt.timedelta(days=1)),
        YESTERDAY: lambda: str(_today(site) - dt.timedelta(days=1)),
        FUTURE: lambda: _iso(timezone.now() + dt.timedelta(hours=2)),
    }
    return relative[value]() if value in relative else value


def _date_cases():
    tomorrow, yesterday, future = TOMORROW, YESTERDAY, FUTURE
    clients, episodes_, transfers_ = "/api/v1/clients/", "/api/v1/episodes/", "/api/v1/transfers/"
    client = "/api/v1/clients/{client}/"
    discharge = "/api/v1/episodes/{episode}/discharge/"
    complete = "/api/v1/transfers/{approved}/complete/"
    # (method, URL template, the one bad value, the rule's message or None for DRF's own)
    cases = {
        "dob-feb-30": ("post", clients, {"date_of_birth": "2026-02-30"}, None),
        "dob-tomorrow": ("post", clients, {"date_of_birth": tomorrow}, MSG_DOB_RANGE),
        "dob-1899": ("post", clients, {"date_of_birth": "1899-12-31"}, MSG_DOB_RANGE),
        "patch-dob-tomorrow": ("patch", client, {"date_of_birth": tomorrow}, MSG_DOB_RANGE),
        "admitted-feb-30": ("post", episodes_, {"admitted_at": "2026-02-30T10:00:00Z"}, None),
        "admitted-future": ("post", episodes_, {"admitted_at": future}, MSG_TIME_IN_FUTURE),
        "discharged-future": ("post", discharge, {"discharged_at": future}, MSG_TIME_IN_FUTURE),
        "discharge-type-unknown": ("post", discharge, {"discharge_type": "graduated"}, None),
        "arrived-future": ("post", complete, {"arrived_at": future}, MSG_TIME_IN_FUTURE),
        "planned-yesterday": ("post", transfers_, {"planned_for": yesterday}, MSG_PLANNED_IN_PAST),
        "planned-feb-30": ("post", transfers_, {"planned_for": "2026-02-30"}, None),
    }
    return [pytest.param(*case, id=name) for name, case in cases.items()]


def _valid_body(template: str, network, scene) -> dict:
    return {
        "/api/v1/clients/": {
            "first_name": "Sam",
            "last_name": "Lee",
            "date_of_birth": "1990-01-01",
        },
        "/api/v1/clients/{client}/": {},
        "/api/v1/episodes/": {
            "client": str(scene.waiting.pk),
            "program": str(network.austin_iop.pk),
        },
        "/api/v1/episodes/{episode}/discharge/": {"discharge_type": "completed"},
        "/api/v1/transfers/{approved}/complete/": {},
        "/api/v1/transfers/": {
            "client": str(scene.in_care.pk),
            "to_program": str(network.austin_residential.pk),
        },
    }[template]


@pytest.mark.parametrize(("method", "template", "bad", "message"), _date_cases())
def test_impossible_dates_and_values_are_a_400_naming_the_field(
    api, network, users, scene, method, template, bad, message
):
    # given an otherwise valid request by the Austin coordinator
    body = {
        **_valid_body(template, network, scene),
        **{k: _resolve(v, network.austin) for k, v in bad.items()},
    }

    # when one value in it is impossible
    response = getattr(api.as_user(users.austin), method)(_url(template, scene), body)

    # then that field is named (with the rule's own message where a rule refused it)
    (field,) = bad
    problem = assert_problem(response, 400, fields={field})
    if message is not None:
        assert error_for(problem, field)["message"] == message


def test_an_admission_before_the_client_was_born_is_a_400(api, network, users, scene):
    # given a client born on 1988-06-01 (tests/factories.py)
    assert scene.waiting.date_of_birth == dt.date(1988, 6, 1)

    # when they are admitted with a date before their birth
    response = api.as_user(users.austin).post(
        "/api/v1/episodes/",
        {
            "client": str(scene.waiting.pk),
            "program": str(network.austin_iop.pk),
            "admitted_at": "1970-01-01T12:00:00Z",
        },
    )

    # then it is refused, naming admitted_at
    assert_problem(response, 400, fields={"admitted_at"})
    assert not scene.waiting.episodes.exists()


# --- query strings ------------------------------------------------------------

BAD_FILTERS = [
    ("/api/v1/placements/", "site", "not-a-uuid"),
    ("/api/v1/placements/", "level", "nope"),
    ("/api/v1/placements/", "program", "12"),
    ("/api/v1/placements/", "client", "x"),
    ("/api/v1/placements/", "episode", "x"),
    ("/api/v1/placements/", "current", "maybe"),
    ("/api/v1/programs/", "site", "not-a-uuid"),
    ("/api/v1/programs/", "level", "nope"),
    ("/api/v1/programs/", "is_active", "perhaps"),
    ("/api/v1/programs/", "has_availability", "lots"),
    ("/api/v1/transfers/", "status", "nope"),
    ("/api/v1/transfers/", "site", "not-a-uuid"),
    ("/api/v1/transfers/", "from_site", "x"),
    ("/api/v1/transfers/", "to_site", "x"),
    ("/api/v1/transfers/", "to_program", "x"),
    ("/api/v1/transfers/", "client", "x"),
    ("/api/v1/episodes/", "client", "x"),
    ("/api/v1/episodes/", "is_open", "2"),
    ("/api/v1/clients/", "registered_site", "x"),
    ("/api/v1/clients/", "in_care", "maybe"),
    ("/api/v1/clients/", "name", "\x00"),
    ("/api/v1/audit/", "client", "x"),
    ("/api/v1/audit/", "actor", "someone"),
    ("/api/v1/audit/", "actor", "0"),
    ("/api/v1/audit/", "action", "nope"),
    ("/api/v1/audit/", "from", "yesterday"),
    ("/api/v1/audit/", "to", "2026-13-01"),
]
# Lists for organisation admins only (anyone else finds no such endpoint): filtered as one.
ADMIN_LISTS = {"/api/v1/audit/"}


@pytest.mark.parametrize(
    ("path", "param", "value"), BAD_FILTERS, ids=[f"{p}?{q}" for p, q, _ in BAD_FILTERS]
)
def test_an_unknown_filter_value_is_a_400_naming_the_parameter(
    api, users, scene, path, param, value
):
    # given the Austin coordinator (an organisation admin for the lists only admins have)
    caller = users.admin if path in ADMIN_LISTS else users.austin

    # when they filter a list by a value that cannot be
    response = api.as_user(caller).get(path, {param: value})

    # then the parameter is named, rather than the list being unfiltered or a 500
    assert_problem(response, 400, code="invalid", fields={param})


@pytest.mark.parametrize("value", ["true", "false", "1", "0", "True", "False"])
def test_clients_in_care_filter_tells_open_episodes_from_none(api, users, scene, value):
    # given Austin clients in care, one discharged and one never admitted
    in_care = {scene.in_care, scene.requested.client, scene.approved.client}
    out_of_care = {scene.waiting, scene.discharged}

    # when the Austin coordinator filters clients by in_care
    response = api.as_user(users.austin).get("/api/v1/clients/", {"in_care": value})

    # then exactly the clients with an open placement are in care
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    expected = in_care if value in ("true", "1", "True") else out_of_care
    assert listed == {str(c.pk) for c in expected}


@pytest.mark.parametrize("page", ["abc", "999", "0", "-1"])
def test_a_page_that_does_not_exist_is_a_404(api, users, scene, page):
    # when a page beyond the list (or no page at all) is asked for
    response = api.as_user(users.austin).get("/api/v1/clients/", {"page": page})

    # then
    assert_problem(response, 404, code="not_found")


# --- unknown URLs and methods ----------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
@pytest.mark.parametrize(
    "path", ["/api/v1/nope/", "/api/nope", "/api/v2/clients/", "/api/v1/clients/a/b/c/"]
)
def test_an_unknown_url_under_api_is_a_404_problem(api, users, path, method):
    # given a signed-in caller
    client = api.as_user(users.austin)

    # when they call a URL no route answers
    response = getattr(client, method)(path)

    # then the 404 is a problem document, not an HTML page
    body = assert_problem(response, 404, code="not_found")
    assert body["detail"] == "No such endpoint."


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("put", "/api/v1/clients/{client}/"),
        ("delete", "/api/v1/clients/{client}/"),
        ("delete", "/api/v1/episodes/{episode}/"),
        ("patch", "/api/v1/transfers/{requested}/"),
        ("get", "/api/v1/transfers/{requested}/approve/"),
        ("post", "/api/v1/levels-of-care/"),
        ("post", "/api/v1/me/"),
    ],
)
def test_a_method_an_endpoint_does_not_offer_is_a_405_problem(api, users, scene, method, template):
    # when the Austin coordinator uses a method the endpoint does not offer
    response = getattr(api.as_user(users.austin), method)(_url(template, scene))

    # then
    assert_problem(response, 405, code="method_not_allowed")


# --- 409: the state forbids it ---------------------------------------------

LEGAL_FROM = {
    "approve": {"requested"},
    "decline": {"requested", "approved"},
    "cancel": {"requested", "approved"},
    "complete": {"approved"},
}
STATES = ["requested", "approved", "completed", "declined", "cancelled"]
BODIES = {"approve": {}, "complete": {}, "decline": {"reason": "x"}, "cancel": {"reason": "x"}}
ILLEGAL = [(s, a) for s in STATES for a in LEGAL_FROM if s not in LEGAL_FROM[a]]
LEGAL = [(s, a) for s in STATES for a in LEGAL_FROM if s in LEGAL_FROM[a]]


@pytest.fixture
def austin_transfer(network, users):
    """A transfer of a new Austin detox client to Austin residential, in a given state."""

    def make(status):
        client = placed_client(network.austin_detox, users.austin)
        return transfer_to(
            network.austin_residential,
            client=client,
            sender=users.austin,
            receiver=users.austin,
            status=status,
        )

    return make


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{a}-{s}" for s, a in ILLEGAL])
def test_every_illegal_transfer_transition_is_a_409(api, users, austin_transfer, state, action):
    # given a transfer in `state`, and a user on both sides of it
    transfer = austin_transfer(state)
    events = TransferEvent.objects.filter(transfer=transfer).count()

    # when they take an action that state does not allow
    response = api.as_user(users.austin).post(
        f"/api/v1/transfers/{transfer.pk}/{action}/", BODIES[action]
    )

    # then it is a conflict, and the transfer and its history are untouched
    assert_problem(response, 409, code="illegal_transition")
    transfer.refresh_from_db()
    assert transfer.status == state
    assert TransferEvent.objects.filter(transfer=transfer).count() == events


@pytest.mark.parametrize(("state", "action"), LEGAL, ids=[f"{a}-{s}" for s, a in LEGAL])
def test_every_legal_transfer_transition_succeeds(api, users, austin_transfer, state, action):
    # given a transfer in `state`
    transfer = austin_transfer(state)

    # when the allowed action is taken
    response = api.as_user(users.austin).post(
        f"/api/v1/transfers/{transfer.pk}/{action}/", BODIES[action]
    )

    # then it moves
    assert response.status_code == 200, response.content
    assert response.json()["events"][-1]["from_status"] == state


def test_admitting_a_client_already_in_care_is_a_409(api, network, users, scene):
    # given a client in Austin IOP
    # when they are admitted again, elsewhere
    response = api.as_user(users.austin).post(
        "/api/v1/episodes/",
        {"client": str(scene.in_care.pk), "program": str(network.austin_residential.pk)},
    )

    # then
    assert_problem(response, 409, code="client_in_care")
    assert scene.in_care.episodes.count() == 1


def test_discharging_twice_is_a_409(api, users, scene):
    # given a discharged episode
    url = f"/api/v1/episodes/{scene.episode.pk}/discharge/"
    austin = api.as_user(users.austin)
    first = austin.post(url, {"discharge_type": "completed"})
    assert first.status_code == 200, first.content

    # when it is discharged again
    second = austin.post(url, {"discharge_type": "other"})

    # then the second is a conflict and the first discharge stands
    assert_problem(second, 409, code="episode_closed")
    scene.episode.refresh_from_db()
    assert scene.episode.discharge_type == "completed"


def test_a_second_active_transfer_is_a_409(api, network, users, scene):
    # given a client with a requested transfer
    # when another transfer is requested for them
    response = api.as_user(users.austin).post(
        "/api/v1/transfers/",
        {"client": str(scene.requested.client_id), "to_program": str(network.austin_iop.pk)},
    )

    # then
    assert_problem(response, 409, code="transfer_active")


def test_transferring_a_client_not_in_care_is_a_409(api, network, users, scene):
    # when a transfer is requested for a registered client who was never admitted
    response = api.as_user(users.austin).post(
        "/api/v1/transfers/",
        {"client": str(scene.waiting.pk), "to_program": str(network.austin_iop.pk)},
    )

    # then
    assert_problem(response, 409, code="client_not_in_care")


# --- nothing half-written ------------------------------------------------------


def database_state() -> dict:
    """Every clinical row and every audit row, as comparable values."""
    return {
        "clients": list(Client.objects.order_by("pk").values_list("pk", "mrn", "updated_at")),
        "episodes": list(
            Episode.objects.order_by("pk").values_list("pk", "discharged_at", "discharge_type")
        ),
        "placements": list(Placement.objects.order_by("pk").values_list("pk", "ended_at")),
        "transfers": list(
            Transfer.objects.order_by("pk").values_list(
                "pk", "status", "to_placement", "capacity_override_reason", "updated_at"
            )
        ),
        "transfer_events": list(TransferEvent.objects.order_by("pk").values_list("pk", flat=True)),
        "audit_events": AuditEvent.objects.count(),
    }


def _fill(program, users):
    for _ in range(program.capacity):
        placed_client(program, users.austin)


# Each: (set the scene, then return the failing request), and its status.
def _admit_into_full_program(api, network, users, scene):
    _fill(network.austin_residential, users)
    body = {"client": str(scene.waiting.pk), "program": str(network.austin_residential.pk)}
    return lambda: api.as_user(users.austin).post("/api/v1/episodes/", body), 409


def _override_as_coordinator(api, network, users, scene):
    _fill(network.austin_residential, users)
    body = {
        "client": str(scene.waiting.pk),
        "program": str(network.austin_residential.pk),
        "capacity_override_reason": "Please.",
    }
    return lambda: api.as_user(users.austin).post("/api/v1/episodes/", body), 403


def _approve_beyond_capacity(api, network, users, scene):
    _fill(network.austin_residential, users)  # the approved transfer already holds one place
    url = f"/api/v1/transfers/{scene.requested.pk}/approve/"
    return lambda: api.as_user(users.austin).post(url, {}), 409


def _register_with_a_taken_mrn(api, network, users, scene):
    body = {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01"}
    body["mrn"] = scene.in_care.mrn
    return lambda: api.as_user(users.admin).post("/api/v1/clients/", body), 400


def _change_mrn_to_a_taken_one(api, network, users, scene):
    url = f"/api/v1/clients/{scene.waiting.pk}/"
    return lambda: api.as_user(users.admin).patch(url, {"mrn": scene.in_care.mrn}), 400


def _coordinator_chooses_an_mrn(api, network, users, scene):
    body = {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01", "mrn": "X1"}
    return lambda: api.as_user(users.austin).post("/api/v1/clients/", body), 403


def _transfer_to_the_current_program(api, network, users, scene):
    body = {"client": str(scene.in_care.pk), "to_program": str(network.austin_iop.pk)}
    return lambda: api.as_user(users.austin).post("/api/v1/transfers/", body), 400


def _second_active_transfer(api, network, users, scene):
    body = {"client": str(scene.approved.client_id), "to_program": str(network.austin_iop.pk)}
    return lambda: api.as_user(users.austin).post("/api/v1/transfers/", body), 409


def _complete_before_the_placement_began(api, network, users, scene):
    url = f"/api/v1/transfers/{scene.approved.pk}/complete/"
    early = _iso(scene.approved.from_placement.started_at - dt.timedelta(hours=1))
    return lambda: api.as_user(users.austin).post(url, {"arrived_at": early}), 400


def _discharge_before_the_placement_began(api, network, users, scene):
    url = f"/api/v1/episodes/{scene.episode.pk}/discharge/"
    early = _iso(scene.placement.started_at - dt.timedelta(minutes=1))
    body = {"discharge_type": "completed", "discharged_at": early}
    return lambda: api.as_user(users.austin).post(url, body), 400


def _discharge_by_the_wrong_site(api, network, users, scene):
    # Houston sees this client (a transfer to Houston was asked for) but does not treat them.
    transfer = transfer_to(
        network.houston_iop, client=scene.in_care, sender=users.austin, receiver=users.houston
    )
    url = f"/api/v1/episodes/{transfer.episode_id}/discharge/"
    return lambda: api.as_user(users.houston).post(url, {"discharge_type": "completed"}), 403


def _complete_a_requested_transfer(api, network, users, scene):
    url = f"/api/v1/transfers/{scene.requested.pk}/complete/"
    return lambda: api.as_user(users.austin).post(url, {}), 409


HALF_WRITES = {
    "admit-into-full-program": _admit_into_full_program,
    "override-as-coordinator": _override_as_coordinator,
    "approve-beyond-capacity": _approve_beyond_capacity,
    "register-with-taken-mrn": _register_with_a_taken_mrn,
    "change-mrn-to-taken-one": _change_mrn_to_a_taken_one,
    "coordinator-chooses-an-mrn": _coordinator_chooses_an_mrn,
    "transfer-to-current-program": _transfer_to_the_current_program,
    "second-active-transfer": _second_active_transfer,
    "complete-before-placement-began": _complete_before_the_placement_began,
    "discharge-before-placement-began": _discharge_before_the_placement_began,
    "discharge-by-wrong-site": _discharge_by_the_wrong_site,
    "complete-a-requested-transfer": _complete_a_requested_transfer,
}


@pytest.mark.parametrize("story", HALF_WRITES)
def test_a_refused_change_leaves_the_database_as_it_was(api, network, users, scene, story):
    # given a scene, and a request the rules will refuse
    request, status = HALF_WRITES[story](api, network, users, scene)
    before = database_state()

    # when it is sent
    response = request()

    # then it is refused, and not one row changed (no audit row either)
    assert_problem(response, status)
    assert database_state() == before


# --- garbage never makes a 500 ------------------------------------------------

GARBAGE_VALUES = [
    None,
    [],
    [[[[]]]],
    [{"a": [None, {"b": []}]}],
    {"nested": {"deeper": [1, 2, {"x": None}]}},
    "",
    "   ",
    "x" * 100_000,
    "\x00",
    "\ud800",
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "2026-02-30",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+12:00",
    0,
    -1,
    10**30,
    3.14,
    float("inf"),
    True,
]
GARBAGE_BODIES = [[], [[[]]], None, "a string", 42, True, {"unexpected": "field"}]
RAW_BODIES = [
    (b"{not json", "application/json"),
    (b'{"a": ', "application/json"),
    (b"\xff\xfe\x00\x00", "application/json"),
    (b"[" * 100_000, "application/json"),
    (b'{"a":' * 10_000, "application/json"),
    (b"NaN", "application/json"),
    (b"", "application/json"),
    (b"a=b&c", "application/x-www-form-urlencoded"),
    (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    (b"<xml/>", "application/xml"),
]


def _aftercare_fuzz_targets(network, users) -> dict:
    """The aftercare write routes, on two Austin clients discharged eight days
    ago (built only for these routes: `scene`'s lists of clients stay as they
    are): one whose 7-day follow-up is due and who consented to calls, and one
    referred back into Austin IOP from their 48-hour follow-up."""
    clients = []
    for _ in range(2):
        client = placed_client(
            network.austin_iop, users.austin, started_at=timezone.now() - dt.timedelta(days=30)
        )
        plans.aftercare_plan_upsert(
            actor=users.austin,
            client=client,
            changes={"consent_to_contact": True, "consent_phone": True},
        )
        episodes.episode_discharge(
            actor=users.austin,
            episode=client.episodes.get(),
            discharge_type="completed",
            discharged_at=timezone.now() - dt.timedelta(days=8),
        )
        clients.append(client)
    alumnus, referred = clients
    follow_up = FollowUp.objects.get(client=alumnus, milestone="7d")
    follow_ups.follow_up_complete(
        actor=users.austin,
        follow_up=FollowUp.objects.get(client=referred, milestone="48h"),
        reached=True,
        self_reported_status="relapsed",
        needs_readmission=True,
        refer_to_program=network.austin_iop,
    )
    referral = referred.referrals.get()
    return {
        ("post", "follow-up-attempts"): (
            f"/api/v1/follow-ups/{follow_up.pk}/attempts/",
            {"channel": "phone", "result": "no_answer", "at": _iso(timezone.now()), "notes": ""},
        ),
        ("post", "follow-up-complete"): (
            f"/api/v1/follow-ups/{follow_up.pk}/complete/",
            {
                "reached": True,
                "self_reported_status": "relapsed",
                "engaged_meetings": True,
                "engaged_therapy": False,
                "engaged_medication": False,
                "needs_housing": True,
                "needs_employment": False,
                "needs_readmission": True,
                "notes": "Lost their job.",
                "refer_to_program": str(network.austin_residential.pk),
                "referral_notes": "Wants residential.",
            },
        ),
        ("post", "follow-up-reassign"): (
            f"/api/v1/follow-ups/{follow_up.pk}/reassign/",
            {"assignee": users.alumni.pk},
        ),
        ("post", "follow-up-reassign-bulk"): (
            "/api/v1/follow-ups/reassign/",
            {"follow_ups": [str(follow_up.pk)], "assignee": users.alumni.pk},
        ),
        ("post", "referral-admit"): (
            f"/api/v1/referrals/{referral.pk}/admit/",
            {"admitted_at": _iso(timezone.now()), "capacity_override_reason": ""},
        ),
        ("post", "referral-cancel"): (
            f"/api/v1/referrals/{referral.pk}/cancel/",
            {"reason": "Chose a program nearer home."},
        ),
        # The partner referral steps, on a referral back into care: a 409 at best.
        ("post", "referral-decline"): (
            f"/api/v1/referrals/{referral.pk}/decline/",
            {"reason": "Needs a medical unit."},
        ),
        ("post", "referral-match"): (
            f"/api/v1/referrals/{referral.pk}/match/",
            {"client": str(referred.pk)},
        ),
        ("post", "referral-register"): (
            f"/api/v1/referrals/{referral.pk}/register/",
            {"registered_site": str(network.austin.pk)},
        ),
        ("patch", "client-aftercare-plan"): (
            f"/api/v1/clients/{alumnus.pk}/aftercare-plan/",
            {
                "mutual_help_meetings": True,
                "mutual_help_meetings_details": "SMART, Tuesdays.",
                "emergency_contact_name": "Sam Rivera",
                "consent_to_contact": True,
                "consent_phone": True,
                "consent_sms": False,
                "contact_hours_from": "09:00",
                "contact_hours_to": "18:00",
                "contact_days": [1, 2, 3],
            },
        ),
    }


AFTERCARE_ROUTE_PREFIXES = ("follow-up-", "referral-", "client-aftercare-plan")
CONSENT_ROUTE_PREFIXES = ("consent-", "client-consents")


def _consent_fuzz_targets(users, scene) -> dict:
    """A payer, and a consent of the Austin client in care to it."""
    from backend.partners.models import PartnerKind
    from services import consent as consents
    from services.partners import partner_create

    payer, _ = partner_create(
        name="Fuzz Health Plan", kind=PartnerKind.HEALTH_PLAN, scopes=["clients:read"], sites=[]
    )
    today = timezone.now().date()
    elements = {
        "information_kinds": ["demographics"],
        "information_description": "Name and date of birth.",
        "purpose": "payment",
        "right_to_revoke_stated": True,
        "expiry": "date",
        "expires_on": str(today + dt.timedelta(days=30)),
        "signed_on": str(today - dt.timedelta(days=2)),
        "signed_by": "The client",
        "document_name": "consent.pdf",
    }
    consent = consents.consent_record(
        actor=users.austin,
        client=scene.in_care,
        recipient_partner=payer,
        document=b"%PDF-1.4",
        **{
            **elements,
            "expires_on": today + dt.timedelta(days=30),
            "signed_on": today - dt.timedelta(days=2),
        },
    )
    return {
        ("post", "client-consents"): (
            f"/api/v1/clients/{scene.in_care.pk}/consents/",
            {**elements, "recipient_partner": str(payer.pk), "document": "JVBERi0xLjQ="},
        ),
        ("post", "consent-revoke"): (
            f"/api/v1/consents/{consent.pk}/revoke/",
            {"received_on": str(today - dt.timedelta(days=1)), "note": "Letter."},
        ),
    }


def _webhook_fuzz_targets(network, users) -> dict:
    """The partner webhook routes, on a subscription and a delivered availability
    event (staff callers are refused there; tests/partners/test_webhooks.py
    sends the same garbage as the partner itself)."""
    partner, _ = partner_create(
        name="Fuzz Hospital",
        scopes=["availability:read", "webhooks:manage"],
        sites=[network.austin],
    )
    subscription, delivery = webhook_with_delivery(partner, "https://hospital.example/hooks")
    one = f"/api/v1/partner/webhooks/{subscription.pk}/"
    return {
        ("post", "partner-webhooks"): (
            "/api/v1/partner/webhooks/",
            {"url": "https://hospital.example/h", "events": ["availability.changed"]},
        ),
        ("patch", "partner-webhook"): (one, {"is_active": False, "description": "x"}),
        ("post", "partner-webhook-rotate-secret"): (f"{one}rotate-secret/", {}),
        ("post", "partner-webhook-delivery-redeliver"): (
            f"/api/v1/partner/webhook-deliveries/{delivery.pk}/redeliver/",
            {},
        ),
    }


def _partner_fuzz_targets(network, users) -> dict:
    """The partner API's referral POST (staff callers are refused: 403) and the
    organisation admins' partner routes (a coordinator finds none: 404)."""
    partner, credential = partner_create(
        name="Fuzz Referrer", scopes=["referrals:write"], sites=[network.austin]
    )
    one = f"/api/v1/partners/{partner.pk}/"
    return {
        ("post", "partner-referral-list"): (
            "/api/v1/partner/referrals/",
            {
                "first_name": "Sam",
                "last_name": "Lee",
                "date_of_birth": "1990-01-01",
                "requested_level": "detox",
                "site": str(network.austin.pk),
                "urgency": "urgent",
                "referrer_name": "Dana Planner",
            },
        ),
        ("post", "partner-list"): (
            "/api/v1/partners/",
            {"name": "Fuzz Two", "scopes": ["availability:read"], "sites": []},
        ),
        ("patch", "partner-detail"): (one, {"scopes": ["availability:read"], "rate_limit": ""}),
        ("post", "partner-suspend"): (f"{one}suspend/", {}),
        ("post", "partner-reactivate"): (f"{one}reactivate/", {}),
        ("post", "partner-credentials"): (f"{one}credentials/", {}),
        ("post", "partner-credential-revoke"): (
            f"{one}credentials/{credential.client_id}/revoke/",
            {},
        ),
    }


def _fuzz_target(route, network, users, scene) -> tuple[str, dict]:
    """A URL and a valid body for each write route; a new write route must be added here."""
    if route.name.startswith("partner-webhook"):
        targets = _webhook_fuzz_targets(network, users)
        assert (route.method, route.name) in targets, f"add a fuzz target for {route}"
        return targets[route.method, route.name]
    if route.name.startswith("partner-"):
        targets = _partner_fuzz_targets(network, users)
        assert (route.method, route.name) in targets, f"add a fuzz target for {route}"
        return targets[route.method, route.name]
    if route.name.startswith(AFTERCARE_ROUTE_PREFIXES):
        targets = _aftercare_fuzz_targets(network, users)
        assert (route.method, route.name) in targets, f"add a fuzz target for {route}"
        return targets[route.method, route.name]
    if route.name.startswith(CONSENT_ROUTE_PREFIXES):
        targets = _consent_fuzz_targets(users, scene)
        assert (route.method, route.name) in targets, f"add a fuzz target for {route}"
        return targets[route.method, route.name]
    transfer_url = "/api/v1/transfers/{}/" + route.name.removeprefix("transfer-") + "/"
    targets = {
        ("post", "auth-token"): (
            "/api/v1/auth/token/",
            {"username": "coordinator.austin", "password": PASSWORD},
        ),
        ("post", "client-list"): (
            "/api/v1/clients/",
            {
                "first_name": "Sam",
                "last_name": "Lee",
                "date_of_birth": "1990-01-01",
                "registered_site": str(network.austin.pk),
                "mrn": "FUZZ0001",
                "preferred_name": "",
                "phone": "512-555-0100",
                "email": "sam@example.org",
                "address": "1 Main St",
            },
        ),
        ("patch", "client-detail"): (
            f"/api/v1/clients/{scene.waiting.pk}/",
            {"mrn": "FUZZ0002", "first_name": "Sam", "date_of_birth": "1990-01-01", "email": ""},
        ),
        ("post", "episode-list"): (
            "/api/v1/episodes/",
            {
                "client": str(scene.waiting.pk),
                "program": str(network.austin_iop.pk),
                "admitted_at": _iso(timezone.now() - dt.timedelta(hours=1)),
                "referral_source": "family",
                "capacity_override_reason": "",
            },
        ),
        ("post", "episode-discharge"): (
            f"/api/v1/episodes/{scene.episode.pk}/discharge/",
            {"discharge_type": "completed", "discharged_at": _iso(timezone.now()), "notes": ""},
        ),
        ("post", "transfer-list"): (
            "/api/v1/transfers/",
            {
                "client": str(scene.in_care.pk),
                "to_program": str(network.austin_residential.pk),
                "planned_for": str(_today(network.austin) + dt.timedelta(days=2)),
                "reason": "Stable.",
                "handoff_notes": "See MAR.",
            },
        ),
        ("post", "transfer-approve"): (
            transfer_url.format(scene.requested.pk),
            {"reason": "Bed 4.", "capacity_override_reason": ""},
        ),
        ("post", "transfer-decline"): (transfer_url.format(scene.requested.pk), {"reason": "No."}),
        ("post", "transfer-cancel"): (transfer_url.format(scene.requested.pk), {"reason": "No."}),
        ("post", "transfer-complete"): (
            transfer_url.format(scene.approved.pk),
            {"arrived_at": _iso(timezone.now()), "reason": "", "handoff_override_reason": ""},
        ),
        ("post", "handoff-acknowledge"): (
            f"/api/v1/handoffs/{scene.approved.handoff.pk}/acknowledge/",
            {},
        ),
        ("post", "handoff-complete-item"): (
            f"/api/v1/handoffs/{scene.approved.handoff.pk}/items/"
            f"{scene.approved.handoff.items.first().pk}/complete/",
            {"note": "Done."},
        ),
        ("post", "notification-read"): (
            f"/api/v1/notifications/{scene.notification.pk}/read/",
            {},
        ),
    }
    assert (route.method, route.name) in targets, f"add a fuzz target for {route}"
    return targets[route.method, route.name]


def _payloads(valid: dict):
    for body in GARBAGE_BODIES:
        yield json.dumps(body).encode(), "application/json"
    for field in valid:
        for value in GARBAGE_VALUES:
            yield json.dumps({**valid, field: value}).encode(), "application/json"
    for value in GARBAGE_VALUES:
        yield json.dumps(dict.fromkeys(valid, value)).encode(), "application/json"
    yield from RAW_BODIES


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method in ("post", "patch")], ids=str)
def test_garbage_posted_to_any_write_endpoint_never_makes_a_500(api, network, users, scene, route):
    # given a valid body for the endpoint, sent by the Austin coordinator
    url, valid = _fuzz_target(route, network, users, scene)
    client = api.as_user(users.austin)

    for body, content_type in _payloads(valid):
        # when a garbled version of it is sent (each against the same valid state:
        # a payload that happens to succeed is rolled back before the next)
        with transaction.atomic():
            response = client.generic(route.method.upper(), url, body, content_type=content_type)
            transaction.set_rollback(True)

        # then the answer is never a server error, and every error is a problem document
        assert response.status_code < 500, (body[:200], response.content[:300])
        if response.status_code >= 400:
            assert_problem(response, response.status_code)


def test_an_email_longer_than_the_column_is_a_400_naming_email(api, users, scene):
    # 254 characters fit the column; one more is refused before it reaches the database
    long_email = "a" * 243 + "@example.com"  # 255 characters
    assert len(long_email) == 255
    new = {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01"}
    client = api.as_user(users.austin)

    created = client.post("/api/v1/clients/", {**new, "email": long_email})
    changed = client.patch(f"/api/v1/clients/{scene.waiting.pk}/", {"email": long_email})

    assert_problem(created, 400, fields={"email"})
    assert_problem(changed, 400, fields={"email"})
    scene.waiting.refresh_from_db()
    assert scene.waiting.email == ""
    fits = client.patch(f"/api/v1/clients/{scene.waiting.pk}/", {"email": long_email[1:]})
    assert fits.status_code == 200, fits.content
