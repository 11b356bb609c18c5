"""The audit trail is append-only: the database refuses to rewrite or erase a row,
and the application offers no way to (the admin shows it read-only)."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.audit.models import AuditAction, AuditEvent
from services.audit import audit_origin, audit_reads, audit_reads_of_kinds, audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(users):
    return audit_record(
        actor=users.austin,
        action=AuditAction.VIEW,
        object_type="client",
        object_id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        now=timezone.now(),
    )


@pytest.mark.postgres
@pytest.mark.parametrize("operation", ["update", "delete"])
def test_the_database_refuses_to_change_or_delete_an_audit_row(operation, event):
    # when anything tries to rewrite or erase it, past the ORM's save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows = AuditEvent.objects.filter(pk=event.pk)
        if operation == "update":
            rows.update(action=AuditAction.UPDATE)
        else:
            rows.delete()

    # then the row is as it was written
    event.refresh_from_db()
    assert event.action == AuditAction.VIEW


@pytest.mark.postgres
def test_the_database_refuses_raw_sql_too(event):
    # when a raw statement tries to blank the actor out
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET actor_id = NULL")

    # then nothing changed
    event.refresh_from_db()
    assert event.actor_id is not None


def test_the_admin_shows_an_audit_row_but_cannot_add_change_or_delete_it(client, users, event):
    # given an organisation admin signed in to the back office
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    change = f"/admin/audit/auditevent/{event.pk}/change/"

    # when they open the row, then it is shown, with no form to save
    page = client.get(change)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content

    # and posting a change, adding a row or deleting one is refused
    assert client.post(change, {"action": "update"}).status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    listing = client.post(
        "/admin/audit/auditevent/",
        {"action": "delete_selected", "_selected_action": [str(event.pk)], "post": "yes"},
    )
    assert listing.status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk, action=AuditAction.VIEW).exists()


@pytest.mark.postgres
def test_reads_of_several_kinds_are_written_in_one_insert_with_their_origin(db):
    # given a reader, a request's origin and records of three kinds
    reader = UserFactory(username="reader")
    shown = [
        ("placement", uuid.uuid4(), uuid.uuid4()),
        ("transfer", uuid.uuid4(), uuid.uuid4()),
        ("handoff", uuid.uuid4(), uuid.uuid4()),
    ]
    at = timezone.now()

    # when they are recorded as read
    with (
        audit_origin(address="203.0.113.9", user_agent="Browser/1.0"),
        CaptureQueriesContext(connection) as queries,
    ):
        written = audit_reads_of_kinds(
            actor=reader, records=shown, action=AuditAction.LIST, detail={"path": "/x/"}, now=at
        )

    # then one statement wrote a row per record, each with what it read and from where
    assert written == 3
    assert len(queries) == 1
    rows = AuditEvent.objects.filter(actor=reader).order_by("object_type")
    assert [(r.object_type, r.object_id, r.client_id) for r in rows] == sorted(shown)
    for row in rows:
        assert (row.action, row.at, row.detail) == (AuditAction.LIST, at, {"path": "/x/"})
        assert (row.address, row.user_agent) == ("203.0.113.9", "Browser/1.0")
    assert len({row.pk for row in rows}) == 3


def test_no_records_read_writes_nothing(db):
    # given a reader
    reader = UserFactory(username="reader")

    # when an empty page is recorded
    with CaptureQueriesContext(connection) as queries:
        written = audit_reads(actor=reader, object_type="client", records=[])

    # then nothing is written, and no query is made
    assert (written, len(queries), AuditEvent.objects.count()) == (0, 0, 0)
