"""Each workspace story end to end in a real headless Chromium (Debian's, driven
by Playwright, JavaScript on: htmx from our static files), as the role it
belongs to. Every page visited is checked with axe-core (no serious or
critical violation) and photographed at 1440x900 and at phone width
(test-artifacts/workspaces/).

Playwright's sync API runs an event loop in the test's thread, where Django's
ORM refuses to run: rows are made before the browser starts, and checked
after it has closed.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backend.aftercare.models import ContactAttempt, FollowUpStatus, Referral
from backend.audit.models import AuditAction, AuditEvent
from backend.care.models import Client, Episode, Transfer, TransferStatus
from tests.factories import ClientFactory, follow_up_row, placed_client
from tests.pages.browser import Session, launch

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_client_admitted_moved_across_two_sites_and_discharged(
    live_server, network, users, outsider
):
    from playwright.sync_api import sync_playwright

    residential_houston = str(network.houston_residential.pk)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            # the Austin coordinator signs in and lands on the board
            austin = Session(browser, live_server.url)
            austin.sign_in(users.austin.username)
            page = austin.page
            assert page.url == f"{live_server.url}/board/"
            austin.check("board")

            # registers a client from the board, and lands on their page
            page.fill("#register-first_name", "Mara")
            page.fill("#register-last_name", "Quill")
            page.fill("#register-date_of_birth", "1991-05-17")
            page.click("#register button[type=submit]")
            austin.wait_for_message("Client registered.")
            client_path = page.url.removeprefix(live_server.url)
            assert client_path.startswith("/clients/")

            # admits them into Austin residential
            page.select_option("#admit-program", str(network.austin_residential.pk))
            page.click("#admit button[type=submit]")
            austin.wait_for_message("Admitted.")
            assert "Austin Residential" in page.inner_text("[data-current-program]")

            # requests a move to Houston residential
            page.click("summary:has-text('Request a transfer')")
            page.select_option("#transfer-request-to_program", residential_houston)
            page.fill("#transfer-request-reason", "Closer to family.")
            page.click("#transfer-request button[type=submit]")
            austin.wait_for_message("Transfer requested.")
            austin.check("client")
            austin.assert_clean()
            austin.close()

            # the Houston coordinator approves it from /transfers/
            houston = Session(browser, live_server.url)
            houston.sign_in(users.houston.username)
            page = houston.page
            assert (
                page.locator("section[aria-labelledby=incoming-title] tr[data-transfer]").count()
                == 1
            )
            houston.check("board-receiving")
            houston.goto("/transfers/")
            houston.check("transfers")
            page.click("form[id^=approve-] button[type=submit]")
            houston.wait_for_message("Transfer approved")

            # acknowledges the hand-off, ticks its checklist, and completes the move
            page.click("form[id^=ack-] button[type=submit]")
            houston.wait_for_message("Hand-off acknowledged.")
            while page.locator("form[id^=tick-]").count():
                page.locator("form[id^=tick-] button[type=submit]").first.click()
                houston.wait_for_message("Checklist item ticked.")
            page.click("form[id^=complete-] button[type=submit]")
            houston.wait_for_message("Transfer completed")

            # and, later, discharges the client with a type
            houston.goto(client_path)
            assert "Houston Residential" in page.inner_text("[data-current-program]")
            page.click("summary:has-text('Discharge')")
            page.select_option("#discharge-discharge_type", "completed")
            page.click("#discharge button[type=submit]")
            houston.wait_for_message("Discharged.")
            houston.check("client-journey")
            houston.assert_clean()
            houston.close()

            # a coordinator of another site gets a 404 for the client's page
            dallas = Session(browser, live_server.url)
            dallas.sign_in(outsider.username)
            response = dallas.goto(client_path)
            assert response.status == 404
            assert "Quill" not in dallas.page.content()
            dallas.check("not-found")
            dallas.close()
        finally:
            browser.close()

    client = Client.objects.get(last_name="Quill")
    assert client_path == f"/clients/{client.pk}/"
    transfer = Transfer.objects.get(client=client)
    assert transfer.status == TransferStatus.COMPLETED
    assert transfer.from_program == network.austin_residential
    assert transfer.to_program == network.houston_residential
    episode = Episode.objects.get(client=client)
    assert episode.discharge_type == "completed"
    assert not transfer.handoff.items.filter(completed_at__isnull=True).exists()
    audited = set(AuditEvent.objects.filter(client_id=client.pk).values_list("action", flat=True))
    assert {"create", "admit", "transfer_request", "transfer_approve"} <= audited
    assert {"handoff_acknowledge", "transfer_complete", "discharge", "view"} <= audited


def test_the_alumni_coordinator_works_a_due_follow_up_to_an_outcome_with_a_referral(
    live_server, network, users
):
    today = timezone.now().astimezone(ZoneInfo("America/Chicago")).date()
    due = follow_up_row(network.austin_iop, users.austin, due_on=today, assignee=users.alumni)
    follow_up_row(
        network.austin_iop,
        users.austin,
        due_on=today + dt.timedelta(days=20),
        assignee=users.alumni,
    )
    residential = str(network.austin_residential.pk)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            alumni = Session(browser, live_server.url)
            alumni.sign_in(users.alumni.username)
            page = alumni.page
            assert page.url == f"{live_server.url}/follow-ups/"
            alumni.check("follow-ups")
            card = f"article[data-follow-up='{due.pk}']"

            page.click(f"{card} summary:has-text('Record an attempt')")
            page.select_option(f"#attempt-{due.pk}-channel", "in_person")
            page.select_option(f"#attempt-{due.pk}-result", "reached")
            page.click(f"#attempt-{due.pk} button[type=submit]")
            alumni.wait_for_message("Attempt recorded.")

            page.click(f"{card} summary:has-text('Record the outcome')")
            page.select_option(f"#outcome-{due.pk}-reached", "yes")
            page.select_option(f"#outcome-{due.pk}-self_reported_status", "relapsed")
            page.check(f"#outcome-{due.pk}-needs_readmission")
            page.select_option(f"#outcome-{due.pk}-refer_to_program", residential)
            page.fill(f"#outcome-{due.pk}-referral_notes", "Asked to come back.")
            page.click(f"#outcome-{due.pk} button[type=submit]")
            alumni.wait_for_message("Outcome recorded.")
            assert page.locator(card).count() == 0  # no longer due

            # the client's page shows the whole year of follow-ups
            alumni.goto(f"/clients/{due.client_id}/")
            assert page.locator("tr[data-follow-up][data-status=completed]").count() == 1
            alumni.check("client-aftercare")
            alumni.assert_clean()
        finally:
            browser.close()

    due.refresh_from_db()
    assert due.status == FollowUpStatus.COMPLETED
    assert ContactAttempt.objects.get(follow_up=due).channel == "in_person"
    assert Referral.objects.get(from_follow_up=due).to_program == network.austin_residential


def test_a_manager_overrides_capacity_with_a_reason(live_server, network, users):
    for _ in range(2):
        placed_client(network.austin_detox, users.austin)
    client = ClientFactory(registered_site=network.austin, last_name="Ortega")
    detox = str(network.austin_detox.pk)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            manager = Session(browser, live_server.url)
            manager.sign_in(users.manager.username)
            page = manager.page
            assert page.locator("section.needs").count() == 1
            manager.goto(f"/clients/{client.pk}/")
            assert "no room" in page.inner_text(f"#admit-program option[value='{detox}']")

            # without a reason the full program refuses, and says why beside the form
            page.select_option("#admit-program", detox)
            page.click("#admit button[type=submit]")
            page.wait_for_selector("#admit-errors")
            assert "is full" in page.inner_text("#admit-errors")
            manager.check("admit-refused")

            page.fill("#admit-capacity_override_reason", "Medical urgency; bed freed tonight.")
            page.click("#admit button[type=submit]")
            manager.wait_for_message("Admitted.")
            manager.assert_clean()
        finally:
            browser.close()

    admit = AuditEvent.objects.get(client_id=client.pk, action=AuditAction.ADMIT)
    assert admit.detail["capacity_override_reason"] == "Medical urgency; bed freed tonight."


def test_a_double_submitted_form_acts_once(live_server, network, users):
    client = placed_client(network.austin_residential, users.austin)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            austin = Session(browser, live_server.url)
            austin.sign_in(users.austin.username)
            page = austin.page
            austin.goto(f"/clients/{client.pk}/")
            page.click("summary:has-text('Request a transfer')")
            page.select_option("#transfer-request-to_program", str(network.houston_residential.pk))
            # the same form sent twice at once, as a double click on a slow line would
            statuses = page.evaluate(
                """async () => {
                    const form = document.getElementById('transfer-request');
                    const body = new FormData(form);
                    const send = () => fetch(form.action, {method: 'POST', body});
                    const answers = await Promise.all([send(), send()]);
                    return answers.map(a => a.status);
                }"""
            )
            # and a double click on the button itself
            # (waiting for its answer: under `Cache-Control: no-store` Chromium never
            # reports this page's network as idle, though every request has finished)
            with page.expect_response(lambda r: r.request.method == "POST"):
                page.dblclick("#transfer-request button[type=submit]")
            page.wait_for_load_state("load")
            austin.assert_clean()
        finally:
            browser.close()

    assert statuses == [200, 200]  # both answered with the page (redirect followed)
    assert Transfer.objects.filter(client=client).count() == 1
    requests = AuditEvent.objects.filter(client_id=client.pk, action="transfer_request")
    assert requests.count() == 1
