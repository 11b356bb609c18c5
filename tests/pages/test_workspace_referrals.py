"""/referrals/: coordinators work partners' referrals (and those back into care)
in the browser, on the services the API's referral actions call."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.aftercare.models import Referral, ReferralStatus
from backend.care.models import Client, Episode
from services.referrals.partner import partner_referral_submit, partner_status
from tests.factories import ClientFactory
from tests.pages.browser import Session, launch
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospital(make_partner, network):
    return make_partner("St. Example Hospital", sites=[network.austin]).partner


def _refer(partner, network, first="Jordan", last="Example", urgency="routine"):
    return partner_referral_submit(
        partner=partner,
        first_name=first,
        last_name=last,
        date_of_birth=dt.date(1990, 4, 1),
        requested_level="detox",
        requested_site=network.austin,
        urgency=urgency,
        referrer_name="Dana Planner, RN",
        clinical_summary="Alcohol withdrawal; medically stable for transport.",
    )


def send(browser, url, data=None):
    return browser.post(url, {"once": uuid.uuid4().hex, **(data or {})})


def test_the_page_shows_a_partner_referral_with_its_likely_duplicate(
    session_as, network, users, hospital
):
    existing = ClientFactory(
        first_name="Jordan",
        last_name="Example",
        date_of_birth=dt.date(1990, 4, 1),
        registered_site=network.austin,
    )
    routine = _refer(hospital, network)
    emergent = _refer(hospital, network, first="Sam", last="Other", urgency="emergent")

    page = parse(session_as(users.austin).get("/referrals/").content)

    section = page.find("section", aria_labelledby="partners-title")
    cards = section.find_all("article", class_="referral")
    assert [c.attrs["data-referral"] for c in cards] == [str(emergent.pk), str(routine.pk)]
    card = section.find("article", data_referral=str(routine.pk))
    assert "Dana Planner, RN" in card.text()
    assert card.find("li", data_duplicate=str(existing.pk))
    assert card.find("form", id=f"match-{routine.pk}-{existing.pk}")
    assert card.find("form", id=f"register-{routine.pk}")
    assert card.find("form", id=f"decline-{routine.pk}")
    assert not card.find_all("form", id=f"admit-{routine.pk}")  # not before a match


def test_the_board_counts_the_referrals_waiting_and_links_to_them(
    session_as, network, users, hospital
):
    _refer(hospital, network)
    _refer(hospital, network, first="Sam")

    austin = parse(session_as(users.austin).get("/board/").content)
    houston = parse(session_as(users.houston).get("/board/counts/").content)

    figure = austin.find("dd", data_figure="referrals")
    assert figure.text().strip() == "2"
    assert figure.find("a").attrs["href"] == "/referrals/"
    assert houston.find("dd", data_figure="referrals").text().strip() == "0"


def test_another_sites_coordinator_sees_none_and_cannot_act(session_as, network, users, hospital):
    referral = _refer(hospital, network)
    houston = session_as(users.houston)

    assert str(referral.pk) not in houston.get("/referrals/").content.decode()
    assert send(houston, f"/referrals/{referral.pk}/register/").status_code == 404
    assert Referral.objects.get(pk=referral.pk).client_id is None


def test_register_then_admit_from_the_page(session_as, network, users, hospital):
    referral = _refer(hospital, network)
    browser = session_as(users.austin)

    registered = send(browser, f"/referrals/{referral.pk}/register/")
    assert registered.status_code == 302
    referral.refresh_from_db()
    client = Client.objects.get(pk=referral.client_id)
    assert (client.first_name, client.registered_site_id) == ("Jordan", network.austin.pk)
    card = parse(browser.get("/referrals/").content).find("article", data_referral=str(referral.pk))
    admit = card.find("form", id=f"admit-{referral.pk}")
    options = [o.attrs["value"] for o in admit.find_all("option") if o.attrs.get("value")]
    assert str(network.austin_detox.pk) in options
    assert str(network.houston_residential.pk) not in options  # not one of its sites
    assert str(network.austin_alumni.pk) not in options

    admitted = send(
        browser, f"/referrals/{referral.pk}/admit/", {"program": str(network.austin_detox.pk)}
    )

    assert admitted.status_code == 302
    referral.refresh_from_db()
    assert partner_status(referral) == "admitted"
    assert Episode.objects.get(client=client).is_open


def test_match_a_duplicate_from_the_page(session_as, network, users, hospital):
    existing = ClientFactory(
        first_name="Jordan",
        last_name="Example",
        date_of_birth=dt.date(1990, 4, 1),
        registered_site=network.austin,
    )
    referral = _refer(hospital, network)

    response = send(
        session_as(users.austin),
        f"/referrals/{referral.pk}/match/",
        {"client": str(existing.pk)},
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.client_id == existing.pk
    assert Client.objects.count() == 1  # matched, not registered again


def test_decline_needs_a_reason_and_says_so_beside_the_field(session_as, network, users, hospital):
    referral = _refer(hospital, network)
    browser = session_as(users.austin)

    blank = send(browser, f"/referrals/{referral.pk}/decline/", {"reason": ""})
    assert blank.status_code == 400
    field = parse(blank.content).find(id=f"decline-{referral.pk}-reason_error")
    assert field is not None

    declined = send(
        browser, f"/referrals/{referral.pk}/decline/", {"reason": "Needs a medical unit first."}
    )
    assert declined.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.cancelled_reason) == (
        ReferralStatus.DECLINED,
        "Needs a medical unit first.",
    )


def test_the_page_costs_the_same_queries_for_2_and_for_8_referrals(
    session_as, network, users, hospital
):
    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert browser.get("/referrals/").status_code == 200
        return len(queries)

    browser = session_as(users.austin)
    for i in range(2):
        _refer(hospital, network, first=f"P{i}")
    ClientFactory(
        first_name="P0",
        last_name="Example",
        date_of_birth=dt.date(1990, 4, 1),
        registered_site=network.austin,
    )
    browser.get("/referrals/")
    few = cost()
    for i in range(2, 8):
        _refer(hospital, network, first=f"P{i}")
        ClientFactory(
            first_name=f"P{i}",
            last_name="Example",
            date_of_birth=dt.date(1990, 4, 1),
            registered_site=network.austin,
        )
    many = cost()

    assert many == few


@pytest.mark.chromium
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_coordinator_registers_and_admits_a_partner_referral_in_chromium(
    live_server, network, users, hospital
):
    from playwright.sync_api import sync_playwright

    referral = _refer(hospital, network, urgency="urgent")
    detox = str(network.austin_detox.pk)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            austin = Session(browser, live_server.url)
            austin.sign_in(users.austin.username)
            page = austin.page
            austin.goto("/referrals/")
            austin.check("referrals")

            page.click(f"#register-{referral.pk} button[type=submit]")
            austin.wait_for_message("Client registered from the referral")
            page.select_option(f"#admit-{referral.pk}-program", detox)
            page.click(f"#admit-{referral.pk} button[type=submit]")
            austin.wait_for_message("Admitted.")
            assert page.locator(f"[data-referral='{referral.pk}']").count() == 0
            austin.check("referrals-done")
            austin.assert_clean()
            austin.close()
        finally:
            browser.close()

    referral.refresh_from_db()
    assert partner_status(referral) == "admitted"
