"""/ and /board/ with Django's test client: each role lands on its workspace;
the board shows the care team's clients by program with their days there,
transfers in and out with their age, hand-offs waiting with the time left
(overdue ones marked), and a manager's "needs you"; every client named is an
audited read; the page costs the same number of queries at two sizes."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.audit.models import AuditAction, AuditEvent
from backend.handoffs.models import Handoff
from services import transfers
from services.access import Role, role_grant
from tests.api.helpers import transfer_to
from tests.factories import placed_client
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

BOARD = "/board/"


@pytest.mark.parametrize(
    ("who", "landing"),
    [
        ("austin", "/board/"),
        ("manager", "/board/"),
        ("alumni", "/follow-ups/"),
        ("admin", "/dashboard/census/"),
    ],
)
def test_slash_takes_each_role_to_its_workspace(session_as, users, who, landing):
    response = session_as(getattr(users, who)).get("/")

    assert response.status_code == 302
    assert response["Location"] == landing


def test_slash_without_a_role_says_why(session_as, users):
    response = session_as(users.nobody).get("/")

    assert response.status_code == 403
    assert b"no role" in response.content


def test_anonymous_visitors_are_asked_to_sign_in(client, network):
    response = client.get(BOARD)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={BOARD}"


def test_signing_in_lands_on_the_workspace_of_ones_roles(client, users):
    response = client.post(
        "/accounts/login/",
        {"username": users.austin.username, "password": "pw-for-tests-only"},
        follow=True,
    )

    assert response.redirect_chain == [("/", 302), (BOARD, 302)]
    assert response.status_code == 200


def _story(network, users, *, clients_per_program=1):
    """Austin: clients in detox and IOP, a requested step-down detox ->
    residential, an approved transfer Houston -> Austin whose hand-off waits,
    and one to Houston out of Austin IOP. Houston: a client of its own."""
    now = timezone.now()
    austin_detox = [
        placed_client(network.austin_detox, users.austin, started_at=now - dt.timedelta(days=4))
        for _ in range(clients_per_program)
    ]
    for _ in range(clients_per_program):
        placed_client(network.austin_iop, users.austin, started_at=now - dt.timedelta(days=10))
    transfer_to(
        network.austin_residential,
        client=austin_detox[0],
        sender=users.austin,
        receiver=users.austin,
    )
    arriving = placed_client(network.houston_residential, users.houston)
    approved = transfers.transfer_approve(
        actor=users.austin,
        transfer=transfers.transfer_request(
            actor=users.houston, client=arriving, to_program=network.austin_iop
        ),
    )
    leaving = placed_client(network.austin_iop, users.austin)
    outgoing = transfers.transfer_request(
        actor=users.austin, client=leaving, to_program=network.houston_iop
    )
    hidden = placed_client(network.houston_iop, users.houston)
    return {
        "detox": austin_detox,
        "arriving": arriving,
        "approved": approved,
        "outgoing": outgoing,
        "hidden": hidden,
    }


def test_the_board_shows_the_care_teams_clients_transfers_and_hand_offs(session_as, network, users):
    story = _story(network, users)
    # given the waiting hand-off is past its acknowledgement deadline
    Handoff.objects.filter(transfer=story["approved"]).update(
        acknowledge_due_at=timezone.now() - dt.timedelta(minutes=30)
    )

    response = session_as(users.austin).get(BOARD)

    assert response.status_code == 200
    page = parse(response.content)
    detox = page.find(data_program=str(network.austin_detox.pk))
    row = detox.find("tr", data_client=str(story["detox"][0].pk))
    assert row.find(data_figure="days").text() == "4"
    assert detox.figures()["occupied"] == "1"
    incoming = page.find("section", aria_labelledby="incoming-title")
    outgoing = page.find("section", aria_labelledby="outgoing-title")
    assert {r.attrs["data-status"] for r in incoming.find_all("tr", data_transfer=True)} == {
        "requested",
        "approved",
    }
    assert [r.attrs["data-transfer"] for r in outgoing.find_all("tr", data_transfer=True)] == [
        str(story["outgoing"].pk)
    ]
    handoff = page.find("tr", data_handoff=str(story["approved"].handoff.pk))
    assert "overdue" in handoff.classes
    assert handoff.find(data_figure="time_left").text().startswith("Overdue by 30 min")
    # and nobody of Houston's own is on Austin's board
    assert str(story["hidden"].pk) not in response.content.decode()
    counts = page.find(id="board-counts").figures()
    assert counts["incoming"] == "2"
    assert counts["outgoing"] == "1"
    assert counts["handoffs_overdue"] == "1"


def test_every_client_on_the_board_is_an_audited_read(session_as, network, users):
    story = _story(network, users)
    before = AuditEvent.objects.count()

    session_as(users.austin).get(BOARD)

    rows = AuditEvent.objects.order_by("at")[before:]
    assert {r.action for r in rows} == {AuditAction.LIST}
    assert all(r.actor_id == users.austin.pk and r.detail["path"] == BOARD for r in rows)
    listed = {r.client_id for r in rows}
    assert story["detox"][0].pk in listed and story["arriving"].pk in listed
    assert story["hidden"].pk not in listed


def test_a_coordinator_cannot_open_another_sites_board(session_as, network, users):
    response = session_as(users.houston).get(BOARD, {"site": str(network.austin.pk)})

    assert response.status_code == 404


def test_the_board_renders_in_the_same_number_of_queries_at_two_sizes(
    session_as, network, users, django_assert_num_queries
):
    manager = users.manager
    role_grant(user=manager, role=Role.CARE_COORDINATOR, site=network.houston)
    _story(network, users, clients_per_program=1)
    browser = session_as(manager)
    browser.get(BOARD)  # the process's first request reads the content types once
    with CaptureQueriesContext(connection) as small:
        assert browser.get(BOARD).status_code == 200

    # when every program holds many more clients, transfers and hand-offs
    for _ in range(6):
        placed_client(network.austin_detox, users.austin)
        placed_client(network.houston_iop, users.houston)
        moving = placed_client(network.houston_residential, users.houston)
        transfers.transfer_approve(
            actor=manager,
            transfer=transfers.transfer_request(
                actor=users.houston, client=moving, to_program=network.austin_alumni
            ),
        )

    with django_assert_num_queries(len(small.captured_queries)):
        assert browser.get(BOARD).status_code == 200


# PostgreSQL: there the audit rows of every kind go in one insert (SQLite, the demo's
# database, writes one insert per kind).
@pytest.mark.postgres
def test_the_board_of_200_clients_costs_the_queries_of_one_and_audits_in_one_insert(
    session_as, network, users, django_assert_num_queries
):
    # given a site manager of Austin with one client in care (placements need no
    # room here: the factory places them directly, as a history would)
    manager = users.manager
    placed_client(network.austin_iop, users.austin)
    browser = session_as(manager)
    browser.get(BOARD)  # the process's first request reads the content types once
    with CaptureQueriesContext(connection) as one:
        assert browser.get(BOARD).status_code == 200

    # when 199 more are in care over its programs, with hand-offs waiting
    programs = [network.austin_detox, network.austin_residential, network.austin_iop]
    for index in range(199):
        placed_client(programs[index % 3], users.austin)
    for _ in range(5):
        moving = placed_client(network.houston_residential, users.houston)
        transfers.transfer_approve(
            actor=manager,
            transfer=transfers.transfer_request(
                actor=users.houston, client=moving, to_program=network.austin_alumni
            ),
        )
    before = AuditEvent.objects.count()

    # then the board shows them all in as many queries as for one
    with django_assert_num_queries(len(one.captured_queries)) as many:
        response = browser.get(BOARD)
    assert response.status_code == 200
    assert response.content.count(b'data-figure="days"') == 200
    # and every record it shows is audited by a single insert
    inserts = [q["sql"] for q in many.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and "audit_auditevent" in inserts[0]
    shown = AuditEvent.objects.order_by("at")[before:]
    kinds = {row.object_type for row in shown}
    assert {"placement", "transfer", "handoff"} <= kinds
    assert sum(1 for row in shown if row.object_type == "placement") == 200


def test_the_counts_refresh_names_no_client_and_shows_when(session_as, network, users):
    story = _story(network, users)
    before = AuditEvent.objects.count()

    response = session_as(users.austin).get(
        "/board/counts/", headers={"HX-Request": "true", "X-Background-Refresh": "1"}
    )

    assert response.status_code == 200
    page = parse(response.content)
    assert page.find(id="board-counts").attrs["hx-trigger"] == "every 60s"
    assert page.find("time", data_updated=True).text()
    assert str(story["detox"][0].last_name) not in response.content.decode()
    assert AuditEvent.objects.count() == before
