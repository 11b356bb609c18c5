"""/follow-ups/ with Django's test client: the alumni team's queue (due today,
overdue, upcoming) with the client's contact details, consent and contact
hours; recording an attempt, an outcome with a referral back into care, and a
reassignment, through the API's services; constant queries."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.aftercare.models import AftercarePlan, ContactAttempt, FollowUpStatus, Referral
from backend.audit.models import AuditAction, AuditEvent
from services.access import Role, role_grant
from services.aftercare.follow_ups import MSG_NO_CONSENT, MSG_NOT_REASSIGNER, MSG_STATUS_REQUIRED
from tests.factories import UserFactory, follow_up_row
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

QUEUE = "/follow-ups/"


def today():
    return timezone.now().astimezone(ZoneInfo("America/Chicago")).date()


def send(browser, url, data=None):
    return browser.post(url, {"once": uuid.uuid4().hex, **(data or {})})


def _queue(network, users, n=1):
    """n follow-ups in each bucket at Austin, with an emailable, phone-free plan."""
    rows = {"due": [], "overdue": [], "upcoming": []}
    for _ in range(n):
        for bucket, offset in (("due", 0), ("overdue", -10), ("upcoming", 5)):
            follow_up = follow_up_row(
                network.austin_iop,
                users.austin,
                due_on=today() + dt.timedelta(days=offset),
                assignee=users.alumni,
            )
            AftercarePlan.objects.filter(pk=follow_up.plan_id).update(
                consent_to_contact=True,
                consent_email=True,
                contact_hours_from=dt.time(9),
                contact_hours_to=dt.time(17),
            )
            if bucket == "overdue":
                ContactAttempt.objects.create(
                    follow_up=follow_up,
                    channel="email",
                    at=follow_up.anchor_at + dt.timedelta(days=1),
                    result="no_answer",
                    by=users.alumni,
                    recorded_at=follow_up.anchor_at + dt.timedelta(days=1),
                )
            rows[bucket].append(follow_up)
    return rows


def test_the_queue_shows_each_bucket_with_contact_details_and_consent(session_as, network, users):
    rows = _queue(network, users)
    due = rows["due"][0]

    response = session_as(users.alumni).get(QUEUE)

    assert response.status_code == 200
    page = parse(response.content)
    for bucket, follow_ups in rows.items():
        section = page.find("section", data_bucket=bucket)
        shown = [a.attrs["data-follow-up"] for a in section.find_all("article")]
        assert shown == [str(f.pk) for f in follow_ups]
    card = page.find("article", data_follow_up=str(due.pk))
    assert card.find(data_consent=True).text() == "Email"
    assert card.find(data_hours=True).text() == "09:00\N{EN DASH}17:00"
    assert due.client.last_name in card.text()
    # and every follow-up shown is an audited read
    listed = AuditEvent.objects.filter(action=AuditAction.LIST, object_type="follow_up")
    assert set(listed.values_list("object_id", flat=True)) == {
        f.pk for bucket in rows.values() for f in bucket
    }


def test_an_attempt_without_consent_on_the_channel_is_refused_beside_it(session_as, network, users):
    due = _queue(network, users)["due"][0]

    response = send(
        session_as(users.alumni),
        f"/follow-ups/{due.pk}/attempt/",
        {"channel": "phone", "result": "no_answer"},
    )

    assert response.status_code == 400
    beside = parse(response.content).find(id=f"attempt-{due.pk}-channel_error").text()
    assert beside == MSG_NO_CONSENT.format(channel="Phone")
    assert not ContactAttempt.objects.filter(follow_up=due).exists()


def test_working_a_due_follow_up_to_an_outcome_with_a_referral(session_as, network, users):
    due = _queue(network, users)["due"][0]
    browser = session_as(users.alumni)

    response = send(
        browser, f"/follow-ups/{due.pk}/attempt/", {"channel": "email", "result": "reached"}
    )
    assert response.status_code == 302
    assert ContactAttempt.objects.get(follow_up=due).by == users.alumni

    # a reached client needs a status: the service says so beside the field
    response = send(browser, f"/follow-ups/{due.pk}/outcome/", {"reached": "yes"})
    assert response.status_code == 400
    beside = parse(response.content).find(id=f"outcome-{due.pk}-self_reported_status_error")
    assert beside.text() == MSG_STATUS_REQUIRED

    response = send(
        browser,
        f"/follow-ups/{due.pk}/outcome/",
        {
            "reached": "yes",
            "self_reported_status": "relapsed",
            "needs_readmission": "on",
            "refer_to_program": str(network.austin_residential.pk),
            "referral_notes": "Asked for help.",
        },
    )
    assert response.status_code == 302
    due.refresh_from_db()
    assert due.status == FollowUpStatus.COMPLETED
    referral = Referral.objects.get(from_follow_up=due)
    assert referral.to_program == network.austin_residential


def test_the_alumni_team_reassigns_and_a_sites_coordinator_may_not(session_as, network, users):
    due = _queue(network, users)["due"][0]
    colleague = UserFactory(username="alumni2")
    role_grant(user=colleague, role=Role.ALUMNI_COORDINATOR)

    coordinator = session_as(users.austin)
    page = parse(coordinator.get(QUEUE).content)
    assert not page.find_all("form", id=f"reassign-{due.pk}")
    response = send(coordinator, f"/follow-ups/{due.pk}/reassign/", {"assignee": ""})
    assert response.status_code == 403
    assert MSG_NOT_REASSIGNER in parse(response.content).find(id=f"reassign-{due.pk}-errors").text()

    response = send(
        session_as(users.alumni), f"/follow-ups/{due.pk}/reassign/", {"assignee": colleague.pk}
    )
    assert response.status_code == 302
    due.refresh_from_db()
    assert due.assignee == colleague


def test_only_mine(session_as, network, users):
    rows = _queue(network, users)
    other = follow_up_row(network.austin_iop, users.austin, due_on=today())

    page = parse(session_as(users.alumni).get(QUEUE, {"mine": "1"}).content)

    due = [
        a.attrs["data-follow-up"]
        for a in page.find("section", data_bucket="due").find_all("article")
    ]
    assert due == [str(rows["due"][0].pk)]
    assert str(other.pk) not in due


def test_a_follow_up_of_another_site_is_a_404(session_as, network, users):
    due = _queue(network, users)["due"][0]

    response = send(
        session_as(users.houston),
        f"/follow-ups/{due.pk}/attempt/",
        {"channel": "in_person", "result": "reached"},
    )

    assert response.status_code == 404


def test_the_queue_costs_the_same_queries_at_two_sizes(
    session_as, network, users, django_assert_num_queries
):
    _queue(network, users, n=1)
    browser = session_as(users.alumni)
    browser.get(QUEUE)
    with CaptureQueriesContext(connection) as small:
        assert browser.get(QUEUE).status_code == 200

    _queue(network, users, n=4)

    with django_assert_num_queries(len(small.captured_queries)):
        assert browser.get(QUEUE).status_code == 200
