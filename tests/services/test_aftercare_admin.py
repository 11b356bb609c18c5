"""The aftercare back office: protocols and teams edited by organisation
admins only; follow-ups read-only but for the assignee, changed through the
service; every page of a plan, a follow-up or a referral is audited."""

import datetime as dt

import pytest

from backend.aftercare.models import AftercarePlan, FollowUp, FollowUpProtocol, Referral
from backend.audit.models import AuditEvent
from services.access import Role, role_grant
from tests.audit_helpers import audit_trail_forget
from tests.factories import UserFactory, follow_up_row
from tests.services.conftest import NOW
from tests.services.test_aftercare import refer


def _boss(client):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    return boss


def test_organisation_admins_edit_the_seeded_protocol(client, network):
    _boss(client)
    default = FollowUpProtocol.objects.get(name="Default follow-ups")

    listing = client.get("/admin/aftercare/followupprotocol/")
    page = client.get(f"/admin/aftercare/followupprotocol/{default.pk}/change/")

    assert listing.status_code == 200
    assert "Default follow-ups" in listing.content.decode()
    assert page.status_code == 200
    assert 'value="48h"' in page.content.decode()
    assert client.get("/admin/aftercare/alumniteammembership/add/").status_code == 200


def test_an_organisation_admin_without_django_permissions_edits_the_milestones(
    client, network, users
):
    # given the organisation admin role, and no Django model permission at all
    users.admin.is_staff = True
    users.admin.save()
    client.force_login(users.admin)
    default = FollowUpProtocol.objects.get(name="Default follow-ups")

    page = client.get(f"/admin/aftercare/followupprotocol/{default.pk}/change/")

    # then the milestones are editable fields, not read-only text
    assert page.status_code == 200
    assert 'name="milestones-0-code"' in page.content.decode()


def test_staff_who_are_not_organisation_admins_cannot_open_aftercare_pages(client, network, users):
    from django.contrib.auth.models import Permission

    # given an Austin coordinator with every Django permission of the app
    users.austin.is_staff = True
    users.austin.save()
    users.austin.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="aftercare")
    )
    client.force_login(users.austin)

    for page in (
        "followupprotocol",
        "followup",
        "aftercareplan",
        "referral",
        "alumniteammembership",
    ):
        assert client.get(f"/admin/aftercare/{page}/").status_code == 403


def test_a_follow_up_is_read_only_but_for_its_assignee_which_goes_through_the_service(
    client, network, users
):
    boss = _boss(client)
    follow_up = follow_up_row(network.austin_residential, users.austin, due_on=dt.date(2026, 11, 3))
    url = f"/admin/aftercare/followup/{follow_up.pk}/change/"
    form = {"attempts-TOTAL_FORMS": "0", "attempts-INITIAL_FORMS": "0"}

    # opening it is audited
    assert client.get(url).status_code == 200
    assert AuditEvent.objects.filter(
        object_id=follow_up.pk, action="view", detail__via="admin"
    ).exists()

    # giving it to someone without the alumni role is a form error, and changes nothing
    refused = client.post(url, {**form, "assignee": users.austin.pk})
    assert refused.status_code == 200
    assert "Must be an active alumni coordinator." in refused.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.assignee is None

    # giving it to an alumni coordinator goes through follow_up_reassign
    other = UserFactory(username="alumni.other")
    role_grant(user=other, role=Role.ALUMNI_COORDINATOR)
    assert client.post(url, {**form, "assignee": other.pk}).status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.assignee == other
    assert AuditEvent.objects.get(
        object_id=follow_up.pk, actor=boss, detail__event="reassigned"
    ).detail["to"] == str(other.pk)


def _audited(client, url) -> list[tuple]:
    """The audit rows that opening `url` writes: (action, object type, object,
    client, via), in order."""
    audit_trail_forget()
    assert client.get(url).status_code == 200
    return sorted(
        (e.action, e.object_type, e.object_id, e.client_id, e.detail.get("via"))
        for e in AuditEvent.objects.all()
    )


@pytest.mark.parametrize(
    ("model", "object_type", "records"),
    [
        ("followup", "follow_up", FollowUp),
        ("aftercareplan", "aftercare_plan", AftercarePlan),
        ("referral", "referral", Referral),
    ],
)
def test_every_aftercare_admin_page_audits_what_it_shows(
    client, network, users, model, object_type, records
):
    # given two clients, each with a follow-up (so a plan) whose outcome referred them
    for program in (network.austin_residential, network.houston_iop):
        due = follow_up_row(program, users.austin, due_on=NOW.date() - dt.timedelta(days=1))
        refer(due, network.austin_detox, actor=users.alumni)
    shown = dict(records.objects.values_list("pk", "client_id"))
    assert len(shown) == len(set(shown.values())) == 2
    _boss(client)

    # when an organisation admin opens the list page, each record on it is audited as read
    assert _audited(client, f"/admin/aftercare/{model}/") == sorted(
        ("list", object_type, pk, client_id, "admin") for pk, client_id in shown.items()
    )
    # and opening one record audits that one
    object_id, client_id = next(iter(shown.items()))
    assert _audited(client, f"/admin/aftercare/{model}/{object_id}/change/") == [
        ("view", object_type, object_id, client_id, "admin")
    ]
