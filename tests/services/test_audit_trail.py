"""The audit trail is append-only: the database refuses to rewrite or erase a row,
and the application offers no way to (the admin shows it read-only)."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from backend.audit.models import AuditAction, AuditEvent
from services.audit import audit_record
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
