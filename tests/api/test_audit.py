"""The audit trail over HTTP: where each audited read or write came from, and
GET /api/v1/audit/ for organisation admins."""

import csv
import datetime as dt
import io
import uuid
from types import SimpleNamespace

import pytest
from django.utils import timezone

from backend.audit.api.views import CSV_COLUMNS, CSV_MAX_ROWS
from backend.audit.models import USER_AGENT_MAX_LENGTH, AuditAction, AuditEvent
from services.audit import audit_origin, audit_record
from services.audit_trail import MSG_TO_BEFORE_FROM
from tests.api.helpers import assert_problem
from tests.api.test_query_counts import FEW, MANY, queries_for
from tests.audit_helpers import audit_trail_forget
from tests.factories import placed_client

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
AUDIT = "/api/v1/audit/"
NOW = timezone.now().replace(microsecond=0)
HOUR = dt.timedelta(hours=1)


# --- where from -------------------------------------------------------------------


def test_an_api_read_records_the_address_and_user_agent(api, network, users):
    # given an Austin client
    person = placed_client(network.austin_detox, users.austin)

    # when their coordinator opens the record from a browser at a known address
    response = api.as_user(users.austin).get(
        f"/api/v1/clients/{person.pk}/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=BROWSER
    )

    # then the read is audited with where it came from
    assert response.status_code == 200, response.content
    read = AuditEvent.objects.get(client_id=person.pk, action="view", object_type="client")
    assert (read.address, read.user_agent) == ("203.0.113.7", BROWSER)


def test_a_forwarded_for_header_is_not_taken_for_the_address(api, network, users):
    # given a client that claims to be forwarded for another address
    person = placed_client(network.austin_detox, users.austin)

    api.as_user(users.austin).get(
        f"/api/v1/clients/{person.pk}/",
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )

    # then the audit row keeps the peer the server saw
    read = AuditEvent.objects.get(client_id=person.pk, action="view", object_type="client")
    assert read.address == "203.0.113.7"


def test_a_write_and_the_reads_of_a_list_record_where_they_came_from(api, network, users):
    # given two Austin clients
    first = placed_client(network.austin_detox, users.austin)
    second = placed_client(network.austin_detox, users.austin)
    coordinator = api.as_user(users.austin)
    where = {"REMOTE_ADDR": "2001:db8::5", "HTTP_USER_AGENT": "continuum-cli/1.0"}

    # when the coordinator lists the clients, then changes a phone number
    assert coordinator.get("/api/v1/clients/", **where).status_code == 200
    patched = coordinator.patch(f"/api/v1/clients/{first.pk}/", {"phone": "512-555-0199"}, **where)
    assert patched.status_code == 200, patched.content

    # then every row those requests wrote says where from
    rows = AuditEvent.objects.filter(client_id__in=[first.pk, second.pk], actor=users.austin)
    written = {(e.action, e.client_id) for e in rows if e.user_agent}
    assert {("list", first.pk), ("list", second.pk), ("update", first.pk)} <= written
    recent = rows.filter(action__in=["list", "update"])
    assert {(e.address, e.user_agent) for e in recent} == {("2001:db8::5", "continuum-cli/1.0")}


def test_a_long_user_agent_is_cut_and_a_bad_address_is_left_empty(api, network, users):
    person = placed_client(network.austin_detox, users.austin)

    # when a request comes with an address that is not one and a very long user agent
    response = api.as_user(users.austin).get(
        f"/api/v1/clients/{person.pk}/", REMOTE_ADDR="not-an-address", HTTP_USER_AGENT="x" * 1000
    )

    # then the read is audited all the same, without the address, with the agent cut
    assert response.status_code == 200
    read = AuditEvent.objects.get(client_id=person.pk, action="view", object_type="client")
    assert read.address is None
    assert read.user_agent == "x" * USER_AGENT_MAX_LENGTH


def test_outside_a_request_an_audit_row_has_no_origin(users):
    # when a service audits outside any request (a worker's task), after a request ended
    with audit_origin(address="198.51.100.1", user_agent=BROWSER):
        inside = _record(users.austin)
    outside = _record(users.austin)

    # then only the row written inside the request says where from
    assert (inside.address, inside.user_agent) == ("198.51.100.1", BROWSER)
    assert (outside.address, outside.user_agent) == (None, None)


def _record(actor, **fields):
    values = {
        "actor": actor,
        "action": AuditAction.VIEW,
        "object_type": "client",
        "object_id": uuid.uuid4(),
        "client_id": uuid.uuid4(),
        "now": timezone.now(),
        **fields,
    }
    return audit_record(**values)


# --- GET /api/v1/audit/ -----------------------------------------------------------


@pytest.fixture
def trail(users):
    """Four rows on two clients by two people, an hour apart, oldest first; nothing else."""
    audit_trail_forget()
    first, second = uuid.uuid4(), uuid.uuid4()
    rows = [
        _record(users.austin, client_id=first, now=NOW - 3 * HOUR),
        _record(users.austin, client_id=first, action=AuditAction.UPDATE, now=NOW - 2 * HOUR),
        _record(users.houston, client_id=second, now=NOW - HOUR),
        _record(users.austin, client_id=second, action=AuditAction.LIST, now=NOW),
    ]
    return SimpleNamespace(rows=rows, first=first, second=second)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_an_organisation_admin_reads_the_whole_trail_newest_first(api, users, trail):
    # when the organisation admin reads the trail
    response = api.as_user(users.admin).get(AUDIT)

    # then every row is there, newest first, with who, what, when and where from
    assert _ids(response) == [str(e.pk) for e in reversed(trail.rows)]
    newest = response.json()["results"][0]
    assert newest == {
        "id": str(trail.rows[-1].pk),
        "at": NOW.isoformat().replace("+00:00", "Z"),
        "actor": users.austin.pk,
        "actor_username": "coordinator.austin",
        "action": "list",
        "object_type": "client",
        "object_id": str(trail.rows[-1].object_id),
        "client": str(trail.second),
        "detail": {},
        "address": None,
        "user_agent": None,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"client": "first"}, [0, 1]),
        ({"actor": "houston"}, [2]),
        ({"action": "update"}, [1]),
        ({"from": -2}, [1, 2, 3]),
        ({"to": -2}, [0]),
        ({"from": -3, "to": -1, "actor": "austin"}, [0, 1]),
        ({"client": "second", "action": "view"}, [2]),
    ],
    ids=str,
)
def test_each_filter_narrows_the_trail(api, users, trail, params, expected):
    # given the filter's values: a client, a user, hours from now
    values = {
        "client": lambda v: str(getattr(trail, v)),
        "actor": lambda v: getattr(users, v).pk,
        "action": lambda v: v,
        "from": lambda v: (NOW + v * HOUR).isoformat(),
        "to": lambda v: (NOW + v * HOUR).isoformat(),
    }
    query = {key: values[key](value) for key, value in params.items()}

    # when the organisation admin filters the trail
    response = api.as_user(users.admin).get(AUDIT, query)

    # then exactly the matching rows (their indexes, oldest first) come back, newest first
    assert _ids(response) == [str(trail.rows[i].pk) for i in reversed(expected)]


def test_a_row_written_by_the_system_has_no_actor(api, users, trail):
    # given a row with no user behind it (work done by the platform itself)
    system = _record(None, client_id=trail.first, now=NOW + HOUR)

    # when the organisation admin reads the trail, as JSON and as CSV
    newest = api.as_user(users.admin).get(AUDIT).json()["results"][0]
    table = api.as_user(users.admin).get(AUDIT, {"format": "csv"}).content.decode()

    # then the row is there, with neither an actor nor a name
    assert (newest["id"], newest["actor"], newest["actor_username"]) == (str(system.pk), None, None)
    first = next(csv.DictReader(io.StringIO(table)))
    assert (first["id"], first["actor"], first["actor_username"]) == (str(system.pk), "", "")


def test_to_before_from_is_a_400_naming_to(api, users, trail):
    response = api.as_user(users.admin).get(
        AUDIT, {"from": NOW.isoformat(), "to": (NOW - HOUR).isoformat()}
    )
    assert_problem(response, 400, code="invalid", fields={"to"})
    assert MSG_TO_BEFORE_FROM in response.content.decode()


@pytest.mark.parametrize("who", ["austin", "manager", "houston_manager", "alumni", "nobody"])
def test_anyone_but_an_organisation_admin_finds_no_such_endpoint(api, users, trail, who):
    caller = api.as_user(getattr(users, who))
    for response in (
        caller.get(AUDIT),
        caller.get(AUDIT, {"format": "csv"}),
        caller.options(AUDIT),
    ):
        assert_problem(response, 404, code="not_found")


def test_a_partner_token_is_refused_as_on_every_staff_endpoint(make_partner, trail):
    partner = make_partner("Lone Star Health Plan")
    assert partner.api.get(AUDIT).status_code == 403


def test_an_anonymous_caller_gets_401(api, trail):
    assert api.get(AUDIT).status_code == 401


def test_the_trail_as_csv_has_a_row_per_event_and_the_filters_apply(api, users, trail):
    # when the organisation admin asks for one client's trail as CSV
    response = api.as_user(users.admin).get(AUDIT, {"format": "csv", "client": str(trail.first)})

    # then it is CSV: the header, then that client's rows, newest first
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["action"], r["client"], r["actor_username"]) for r in rows] == [
        ("update", str(trail.first), "coordinator.austin"),
        ("view", str(trail.first), "coordinator.austin"),
    ]


def test_the_csv_holds_at_most_the_newest_10_000_rows(api, users):
    # given one client's trail of 10,001 reads, a second apart
    client_id = uuid.uuid4()
    assert CSV_MAX_ROWS == 10_000
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=NOW - dt.timedelta(seconds=n),
            actor=users.austin,
            action=AuditAction.VIEW,
            object_type="client",
            object_id=uuid.uuid4(),
            client_id=client_id,
        )
        for n in range(CSV_MAX_ROWS + 1)
    )
    oldest = AuditEvent.objects.filter(client_id=client_id).order_by("at").first()

    # when the organisation admin asks for that trail as CSV
    response = api.as_user(users.admin).get(AUDIT, {"format": "csv", "client": str(client_id)})

    # then it has the newest 10,000, newest first, and leaves the oldest out
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == CSV_MAX_ROWS
    assert str(oldest.object_id) not in {r["object_id"] for r in rows}
    stamps = [r["at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_an_empty_csv_still_has_its_header(api, users, trail):
    response = api.as_user(users.admin).get(AUDIT, {"format": "csv", "action": "discharge"})
    assert response.status_code == 200
    assert response.content.decode().splitlines() == [",".join(CSV_COLUMNS)]


@pytest.mark.parametrize("query", ["", "?format=csv"])
def test_options_describes_the_endpoint_in_json(api, users, query):
    response = api.as_user(users.admin).options(AUDIT + query)
    assert response.status_code == 200
    assert response.json()["name"]


def test_the_trail_costs_the_same_queries_however_long(api, users):
    admin = api.as_user(users.admin)
    audit_trail_forget()
    for _ in range(FEW):
        _record(users.austin)
    few, body = queries_for(admin, AUDIT)
    assert body["count"] == FEW

    # when many more rows, by several people, are in the trail
    for i in range(MANY):
        _record(users.houston if i % 2 else users.manager)
    many, body = queries_for(admin, AUDIT)

    # then the list costs what it cost with a few
    assert body["count"] == FEW + MANY
    assert many == few
