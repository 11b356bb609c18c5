"""The audit trail over HTTP: where each audited read or write came from, and
GET /api/v1/audit/ for organisation admins."""

import uuid

import pytest
from django.utils import timezone

from backend.audit.models import USER_AGENT_MAX_LENGTH, AuditAction, AuditEvent
from services.audit import audit_origin, audit_record
from tests.factories import placed_client

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


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
