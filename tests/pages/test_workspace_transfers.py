"""/transfers/ and a site manager's "needs you", with Django's test client."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.handoffs.models import Handoff
from services import transfers
from tests.api.helpers import transfer_to
from tests.factories import follow_up_row, placed_client
from tests.pages.html import parse

pytestmark = pytest.mark.django_db


def _moves(network, users):
    into = transfers.transfer_request(
        actor=users.houston,
        client=placed_client(network.houston_residential, users.houston),
        to_program=network.austin_residential,
    )
    out = transfers.transfer_request(
        actor=users.austin,
        client=placed_client(network.austin_iop, users.austin),
        to_program=network.houston_iop,
    )
    ended = transfer_to(
        network.houston_iop,
        client=placed_client(network.austin_iop, users.austin),
        sender=users.austin,
        receiver=users.houston,
        status="declined",
    )
    return into, out, ended


def test_transfers_lists_in_out_and_recent_with_the_steps_each_side_may_take(
    session_as, network, users
):
    into, out, ended = _moves(network, users)

    page = parse(session_as(users.austin).get("/transfers/").content)

    coming = page.find("section", aria_labelledby="in-title")
    going = page.find("section", aria_labelledby="out-title")
    recent = page.find("section", aria_labelledby="recent-title")
    assert coming.find("article", data_transfer=str(into.pk))
    assert going.find("article", data_transfer=str(out.pk))
    assert recent.find("tr", data_transfer=str(ended.pk)).attrs["data-status"] == "declined"
    # the receiving side approves or declines; the sending side cancels
    assert coming.find("form", id=f"approve-{into.pk}")
    assert coming.find("form", id=f"decline-{into.pk}")
    assert not coming.find_all("form", id=f"cancel-{into.pk}")
    assert going.find("form", id=f"cancel-{out.pk}")
    assert not going.find_all("form", id=f"approve-{out.pk}")


def test_transfers_costs_the_same_queries_at_two_sizes(
    session_as, network, users, django_assert_num_queries
):
    def approved_into_austin():
        transfers.transfer_approve(
            actor=users.austin,
            transfer=transfers.transfer_request(
                actor=users.houston,
                client=placed_client(network.houston_iop, users.houston),
                to_program=network.austin_iop,
            ),
        )

    _moves(network, users)
    approved_into_austin()  # with its hand-off and checklist
    browser = session_as(users.austin)
    browser.get("/transfers/")
    with CaptureQueriesContext(connection) as small:
        assert browser.get("/transfers/").status_code == 200

    for _ in range(3):
        _moves(network, users)
        approved_into_austin()

    with django_assert_num_queries(len(small.captured_queries)):
        assert browser.get("/transfers/").status_code == 200


def test_a_manager_sees_what_needs_them_and_acts_from_the_page(session_as, network, users):
    # given Austin detox full, and a transfer requested into it from Houston
    for _ in range(2):
        placed_client(network.austin_detox, users.austin)
    into_full = transfers.transfer_request(
        actor=users.houston,
        client=placed_client(network.houston_residential, users.houston),
        to_program=network.austin_detox,
    )
    # a hand-off into Austin escalated to its managers
    escalated = transfers.transfer_approve(
        actor=users.austin,
        transfer=transfers.transfer_request(
            actor=users.houston,
            client=placed_client(network.houston_iop, users.houston),
            to_program=network.austin_iop,
        ),
    )
    Handoff.objects.filter(transfer=escalated).update(
        escalation_level=1, acknowledge_due_at=timezone.now() - dt.timedelta(hours=1)
    )
    # and an overdue follow-up at Austin
    overdue = follow_up_row(
        network.austin_iop, users.austin, due_on=timezone.now().date() - dt.timedelta(days=10)
    )
    manager = session_as(users.manager)

    page = parse(manager.get("/board/").content)

    needs = page.find("section", class_="needs")
    assert needs.attrs["data-needs"] == "3"
    assert needs.find("li", data_override_request=str(into_full.pk))
    assert needs.find("li", data_escalated=str(escalated.handoff.pk))
    assert needs.find("li", data_overdue_follow_up=str(overdue.pk))
    # a coordinator has no such panel
    assert not parse(session_as(users.austin).get("/board/").content).find_all(class_="needs")

    # each with the form to act on it there
    form = needs.find("form", id=f"approve-{into_full.pk}")
    assert form.find("textarea", name="capacity_override_reason")
    assert needs.find("form", id=f"needs-ack-{escalated.handoff.pk}")
    assert needs.find("form", id=f"reassign-{overdue.pk}")

    # when the manager approves beyond capacity, with a reason
    response = manager.post(
        f"/transfers/{into_full.pk}/approve/",
        {"once": uuid.uuid4().hex, "capacity_override_reason": "Detox bed opens tonight."},
    )
    assert response.status_code == 302
    into_full.refresh_from_db()
    assert into_full.status == "approved"
    assert into_full.capacity_override_reason == "Detox bed opens tonight."


def test_a_refused_acknowledgement_from_the_needs_panel_is_shown_in_that_panel(
    session_as, network, users
):
    # given a hand-off escalated to the Austin manager, acknowledged once already
    escalated = transfers.transfer_approve(
        actor=users.austin,
        transfer=transfers.transfer_request(
            actor=users.houston,
            client=placed_client(network.houston_iop, users.houston),
            to_program=network.austin_iop,
        ),
    )
    handoff = escalated.handoff
    manager = session_as(users.manager)
    url = f"/handoffs/{handoff.pk}/acknowledge/"
    first = manager.post(url, {"once": uuid.uuid4().hex, "form_id": f"needs-ack-{handoff.pk}"})
    assert first.status_code == 302

    # when it is sent again from the panel, in place (htmx)
    again = manager.post(
        url,
        {"once": uuid.uuid4().hex, "form_id": f"needs-ack-{handoff.pk}"},
        headers={"HX-Request": "true"},
    )

    # then the refusal is swapped into the panel's form, not the card's
    assert again.status_code == 409
    assert again["HX-Retarget"] == f"#needs-ack-{handoff.pk}"
    assert parse(again.content).find("form", id=f"needs-ack-{handoff.pk}")
    # and a form_id that is not one of this hand-off's forms falls back to the card's
    other = manager.post(
        url, {"once": uuid.uuid4().hex, "form_id": "elsewhere"}, headers={"HX-Request": "true"}
    )
    assert other["HX-Retarget"] == f"#ack-{handoff.pk}"
