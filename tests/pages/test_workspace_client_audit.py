"""The client's own audit trail on /clients/<id>/, for organisation admins only:
the latest events (who, what, when, from where, why), capped, with the whole trail
as CSV from GET /api/v1/audit/?client=<id>."""

import csv
import io
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.audit.models import AuditAction, AuditEvent
from services import clients
from services.audit import audit_origin, audit_record
from services.workspaces import CLIENT_AUDIT_SHOWN
from tests.audit_helpers import audit_trail_forget
from tests.factories import placed_client
from tests.pages.browser import Session, launch
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


def url(client) -> str:
    return f"/clients/{client.pk}/"


def read_by(actor, client, **detail) -> None:
    """One more row in the client's trail: `actor` viewed their record."""
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="client",
        object_id=client.pk,
        client_id=client.pk,
        detail=detail,
    )


def audit_section(response):
    return parse(response.content).find("section", aria_labelledby="audit-title")


@pytest.fixture
def edited_client(network, users):
    """An Austin client placed, then their phone changed from a browser at 203.0.113.7."""
    client = placed_client(network.austin_detox, users.austin)
    with audit_origin(address="203.0.113.7", user_agent=BROWSER):
        clients.client_update(actor=users.austin, client=client, changes={"phone": "+15125550100"})
    return client


def test_an_organisation_admin_sees_who_did_what_when_from_where(
    session_as, network, users, edited_client
):
    # when an organisation admin opens the client's page
    response = session_as(users.admin).get(url(edited_client))

    # then the audit section lists the client's events, newest first: the edit on top
    assert response.status_code == 200
    section = audit_section(response)
    rows = section.find_all("tr", data_audit_event=True)
    expected = AuditEvent.objects.filter(client_id=edited_client.pk).exclude(actor=users.admin)
    assert len(rows) == expected.count() >= 1
    newest = rows[0]
    assert newest.attrs["data-action"] == AuditAction.UPDATE
    text = newest.text()
    assert "coordinator.austin" in text  # who
    assert "fields: phone" in text and "+15125550100" not in text  # what, never the value
    assert "203.0.113.7" in text and "Firefox/133.0" in text  # from where
    # when: at the client's site (America/Chicago), and in UTC for machines
    at = AuditEvent.objects.get(pk=newest.attrs["data-audit-event"]).at
    assert newest.find("time").attrs["datetime"] == at.isoformat()
    shown = at.astimezone(ZoneInfo(network.austin.time_zone)).strftime("%Y-%m-%d %H:%M:%S")
    assert newest.find("time").text() == shown
    # and the whole trail is a link away, as CSV
    link = section.find("a", download=True)
    assert link.attrs["href"] == f"/api/v1/audit/?client={edited_client.pk}&format=csv"


def test_the_csv_link_gives_the_whole_trail_of_this_client(session_as, users, edited_client):
    # given the admin's signed-in browser on the page
    browser = session_as(users.admin)
    link = audit_section(browser.get(url(edited_client))).find("a", download=True)

    # when they follow the link
    response = browser.get(link.attrs["href"])

    # then it is the trail's CSV, every row this client's
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and {row["client"] for row in rows} == {str(edited_client.pk)}
    assert len(rows) == AuditEvent.objects.filter(client_id=edited_client.pk).count()


def test_a_partners_purpose_is_shown_as_why(session_as, users, edited_client):
    # given a read of the record that states its purpose
    read_by(users.austin, edited_client, purpose="treatment")

    # when the admin opens the page
    section = audit_section(session_as(users.admin).get(url(edited_client)))

    # then the newest row says why
    assert section.find_all("tr", data_audit_event=True)[0].find_all("td")[-1].text() == (
        "treatment"
    )


def test_the_section_is_capped_and_says_where_the_rest_is(session_as, users, edited_client):
    # given more events than the page shows
    for _ in range(CLIENT_AUDIT_SHOWN):
        read_by(users.austin, edited_client)

    # when the admin opens the page
    section = audit_section(session_as(users.admin).get(url(edited_client)))

    # then it shows the cap and points at the whole trail
    assert len(section.find_all("tr", data_audit_event=True)) == CLIENT_AUDIT_SHOWN
    assert "older ones are in the whole trail" in section.text()


def test_reading_the_section_is_audited_as_the_api_audits_reading_the_trail(
    session_as, users, edited_client
):
    # given an empty trail, and the admin's browser
    audit_trail_forget()
    browser = session_as(users.admin)

    # when the admin opens the page, and then reads the trail through the API
    browser.get(url(edited_client))
    page_rows = set(AuditEvent.objects.values_list("object_type", "action"))
    audit_trail_forget()
    browser.get(f"/api/v1/audit/?client={edited_client.pk}")

    # then the page's visit is the record read it always was (the client, their journey)
    # and, as on the API, reading the trail adds no row of its own
    assert page_rows == {("client", AuditAction.VIEW), ("journey", AuditAction.VIEW)}
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("who", ["austin", "austin2", "manager"])
def test_anyone_else_gets_no_section_and_the_trail_is_not_queried(
    session_as, users, edited_client, who
):
    # given a user who may open the client's page but is no organisation admin
    browser = session_as(getattr(users, who))

    # when they open it
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url(edited_client))

    # then the page has no audit section and no query read the trail
    assert response.status_code == 200
    assert audit_section_absent(response)
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("SELECT")]
    assert not [sql for sql in reads if "audit_auditevent" in sql]


def audit_section_absent(response) -> bool:
    page = parse(response.content)
    return not page.find_all("section", aria_labelledby="audit-title") and (
        b"/api/v1/audit/" not in response.content
    )


def test_the_page_costs_the_same_queries_however_long_the_trail(
    session_as, users, edited_client, django_assert_num_queries
):
    # given the admin's page measured once
    browser = session_as(users.admin)
    browser.get(url(edited_client))
    with CaptureQueriesContext(connection) as short:
        browser.get(url(edited_client))

    # when the trail grows by many rows by several people
    for actor in (users.austin, users.manager, users.austin2):
        for _ in range(10):
            read_by(actor, edited_client)

    # then the page makes the same number of queries
    with django_assert_num_queries(len(short.captured_queries)):
        assert browser.get(url(edited_client)).status_code == 200


@pytest.mark.chromium
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_audit_section_in_chromium_is_reachable_by_keyboard_and_named_for_screen_readers(
    live_server, network, users
):
    from playwright.sync_api import sync_playwright

    client = placed_client(network.austin_detox, users.austin)
    clients.client_update(actor=users.austin, client=client, changes={"phone": "+15125550100"})
    csv_href = f"/api/v1/audit/?client={client.pk}&format=csv"

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            admin = Session(browser, live_server.url)
            admin.sign_in(users.admin.username)
            admin.goto(url(client))
            page = admin.page

            # the section is a region named by its heading, its table has column headers
            region = page.get_by_role("region", name="Audit: who read or changed this record")
            assert region.count() == 1
            assert region.get_by_role("columnheader").count() == 5
            assert region.get_by_role("row").count() > 1

            # the CSV link is reached with the Tab key alone
            for _ in range(60):
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.getAttribute('href')") == csv_href:
                    break
            else:
                pytest.fail("the CSV link is never reached with Tab")
            admin.check("client-audit")
            admin.assert_clean()
        finally:
            browser.close()
