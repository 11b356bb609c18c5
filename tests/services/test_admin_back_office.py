"""The back office: the admin reads and corrects clients through the services."""

import pytest
from django.utils import timezone

from backend.audit.models import AuditEvent
from backend.care.models import Episode, Placement
from backend.handoffs.models import Handoff
from tests.api.helpers import transfer_to
from tests.audit_helpers import audit_trail_forget
from tests.factories import ClientFactory, UserFactory, placed_client


def test_admin_views_and_corrections_of_a_client_are_audited(client, network):
    # given a superuser in the admin and a client
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    person = ClientFactory(registered_site=network.austin, phone="512-555-0100")
    client.force_login(boss)
    url = f"/admin/care/client/{person.pk}/change/"

    # when they open the client's page
    assert client.get(url).status_code == 200

    # and correct the phone number
    form = {
        "mrn": person.mrn,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "preferred_name": "",
        "date_of_birth": person.date_of_birth.isoformat(),
        "phone": "512-555-0199",
        "email": "",
        "address": "",
    }
    assert client.post(url, form).status_code == 302

    # then the change went through and both the read and the write were audited
    person.refresh_from_db()
    assert person.phone == "512-555-0199"
    audit = AuditEvent.objects.filter(client_id=person.pk)
    assert audit.filter(action="view", detail__via="admin").exists()
    assert audit.get(action="update").detail == {"fields": ["phone"]}


def test_episodes_and_transfers_are_read_only_in_the_admin(client, network):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    assert client.get("/admin/care/episode/add/").status_code == 403
    assert client.get("/admin/care/transfer/add/").status_code == 403
    assert client.get("/admin/care/placement/").status_code == 200


def test_a_back_office_correction_that_breaks_a_rule_is_a_form_error(client, network):
    # given a client and a superuser
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    person = ClientFactory(registered_site=network.austin)
    client.force_login(boss)
    form = {
        "mrn": person.mrn,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "preferred_name": "",
        "date_of_birth": "2999-01-01",
        "phone": "",
        "email": "",
        "address": "",
    }
    # when they set a date of birth in the future, the form says why (no 500, no change)
    response = client.post(f"/admin/care/client/{person.pk}/change/", form)
    assert response.status_code == 200
    assert "between 1900-01-01 and today" in response.content.decode()
    person.refresh_from_db()
    assert person.date_of_birth.year == 1988


def test_staff_who_are_not_organisation_admins_cannot_edit_clients_in_the_admin(
    client, network, users
):
    from django.contrib.auth.models import Permission

    # given a Houston coordinator with Django's change permission on clients
    users.houston.is_staff = True
    users.houston.save()
    users.houston.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_client", "view_client"])
    )
    austin_client = ClientFactory(registered_site=network.austin)
    client.force_login(users.houston)
    # then an Austin client is not even there, and no client can be changed
    assert client.get(f"/admin/care/client/{austin_client.pk}/change/").status_code in (302, 404)
    listing = client.get("/admin/care/client/")
    assert austin_client.mrn not in listing.content.decode()


def test_staff_who_are_not_organisation_admins_see_no_clinical_admin_pages(client, network, users):
    from django.contrib.auth.models import Permission

    from tests.factories import placed_client

    # given a Houston coordinator made staff with every view permission, and an Austin stay
    placed_client(network.austin_detox, users.austin)
    users.houston.is_staff = True
    users.houston.save()
    users.houston.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client.force_login(users.houston)

    # then the clinical and operational pages are closed to them
    for page in [
        "care/placement",
        "care/episode",
        "care/transfer",
        "handoffs/handoff",
        "notifications/notification",
        "audit/auditevent",
        "work/workitem",
    ]:
        assert client.get(f"/admin/{page}/").status_code == 403, page


def test_a_program_added_in_the_admin_opens_today_unless_told_otherwise(client, network):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)

    page = client.get("/admin/network/program/add/")

    assert page.status_code == 200
    today = timezone.localdate()
    assert page.context["adminform"].form["opened_on"].value() == today
    # an existing program's page shows what it holds: here, no opening day
    existing = client.get(f"/admin/network/program/{network.austin_detox.pk}/change/")
    assert existing.context["adminform"].form["opened_on"].value() is None


@pytest.mark.parametrize(
    ("model", "object_type"),
    [
        ("care/client", "client"),
        ("care/episode", "episode"),
        ("care/placement", "placement"),
        ("care/transfer", "transfer"),
        ("handoffs/handoff", "handoff"),
    ],
)
def test_every_clinical_admin_page_audits_what_it_shows(client, network, users, model, object_type):
    # given two clients, one with a transfer approved (so a hand-off is open)
    first = placed_client(network.austin_detox, users.austin)
    second = placed_client(network.austin_detox, users.austin)
    transfer = transfer_to(
        network.austin_residential,
        client=second,
        sender=users.austin,
        receiver=users.austin,
        status="approved",
    )
    records = {
        "client": {first.pk: first.pk, second.pk: second.pk},
        "episode": {e.pk: e.client_id for e in Episode.objects.all()},
        "placement": {p.pk: p.client_id for p in Placement.objects.all()},
        "transfer": {transfer.pk: second.pk},
        "handoff": {Handoff.objects.get().pk: second.pk},
    }[object_type]
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    audit_trail_forget()

    # when they open the list page
    assert client.get(f"/admin/{model}/").status_code == 200

    # then each record on it is audited as read, with its client
    listed = AuditEvent.objects.filter(action="list", object_type=object_type)
    assert {(e.object_id, e.client_id) for e in listed} == set(records.items())
    assert {e.detail["via"] for e in listed} == {"admin"}
    assert AuditEvent.objects.count() == len(records)

    # and opening one record audits that one
    audit_trail_forget()
    object_id, client_id = next(iter(records.items()))
    assert client.get(f"/admin/{model}/{object_id}/change/").status_code == 200
    opened = AuditEvent.objects.get(action="view", object_type=object_type)
    assert (opened.object_id, opened.client_id) == (object_id, client_id)
