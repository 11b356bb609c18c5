"""Hand-offs, notifications and operations over HTTP: who sees which hand-off,
who may acknowledge and tick, the 409 for an incomplete checklist, each user's
own notifications, the ops endpoints, and the cost of the lists."""

from io import StringIO

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from backend.handoffs.models import Handoff
from backend.network.models import Program
from backend.notifications.models import Notification
from services import transfers
from services.handoffs import MSG_OPEN_MANDATORY_ITEMS
from services.notifications import notify
from tests.api.helpers import assert_problem, error_for, transfer_to
from tests.api.test_query_counts import FEW, MANY, queries_for
from tests.factories import finish_checklist, placed_client
from workers import app as celery_app


def _approved(frm: Program, to: Program, *, sender, receiver, **request_kwargs):
    """A new client in `frm`, requested to `to` by `sender` and approved by
    `receiver`: an open hand-off, its checklist untouched."""
    client = placed_client(frm, sender)
    transfer = transfers.transfer_request(
        actor=sender, client=client, to_program=to, **request_kwargs
    )
    return transfers.transfer_approve(actor=receiver, transfer=transfer)


@pytest.fixture
def to_houston(network, users) -> Handoff:
    """An open hand-off of an Austin detox client to Houston residential."""
    transfer = _approved(
        network.austin_detox,
        network.houston_residential,
        sender=users.austin,
        receiver=users.houston,
        handoff_notes="On buprenorphine taper.",
    )
    return transfer.handoff


@pytest.fixture
def within_austin(network, users) -> Handoff:
    """An open hand-off from Austin detox to Austin residential: Austin's business only."""
    transfer = _approved(
        network.austin_detox,
        network.austin_residential,
        sender=users.austin,
        receiver=users.austin,
    )
    return transfer.handoff


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- who sees which hand-off ----------------------------------------------------


def test_houston_coordinator_lists_handoffs_to_houston_and_not_austins_own(
    api, network, users, to_houston, within_austin
):
    # given a hand-off from Austin to Houston and one within Austin
    houston = api.as_user(users.houston)

    # when Houston's coordinator lists hand-offs, all and filtered
    listed = _ids(houston.get("/api/v1/handoffs/"))
    at_houston = _ids(houston.get("/api/v1/handoffs/", {"site": str(network.houston.pk)}))
    open_ones = _ids(houston.get("/api/v1/handoffs/", {"status": "open"}))
    closed = _ids(houston.get("/api/v1/handoffs/", {"status": "closed"}))

    # then they see only the one coming to them
    assert listed == at_houston == open_ones == {str(to_houston.pk)}
    assert closed == set()


def test_austin_coordinator_sees_both_handoffs_and_filters_by_site(
    api, network, users, to_houston, within_austin
):
    # given the same two hand-offs
    austin = api.as_user(users.austin)

    # when Austin's coordinator lists them, and those involving Houston
    listed = _ids(austin.get("/api/v1/handoffs/"))
    houston = _ids(austin.get("/api/v1/handoffs/", {"site": str(network.houston.pk)}))

    # then the sending side sees both, and the filter keeps the one to Houston
    assert listed == {str(to_houston.pk), str(within_austin.pk)}
    assert houston == {str(to_houston.pk)}


def test_a_handoff_shows_its_checklist_and_notes_to_the_receiving_team(api, users, to_houston):
    # when Houston's coordinator reads the hand-off
    response = api.as_user(users.houston).get(f"/api/v1/handoffs/{to_houston.pk}/")

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["transfer"]) == ("open", str(to_houston.transfer_id))
    assert body["clinical_notes"] == "On buprenorphine taper."
    assert [item["label"] for item in body["items"]][:2] == [
        "Medical clearance",
        "Medication reconciliation",
    ]


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("austin", True),
        ("austin2", True),
        ("manager", True),
        ("admin", True),
        ("houston", False),
        ("houston_manager", False),
        ("alumni", False),
        ("nobody", False),
    ],
)
def test_an_austin_handoff_is_seen_by_austin_staff_and_org_admins_only(
    api, users, within_austin, viewer, sees
):
    # given a hand-off within Austin
    client = api.as_user(getattr(users, viewer))

    # when the viewer reads it and lists hand-offs
    detail = client.get(f"/api/v1/handoffs/{within_austin.pk}/")
    listed = _ids(client.get("/api/v1/handoffs/"))

    # then Austin's staff see it; everyone else gets 404 and does not find it listed
    if sees:
        assert detail.status_code == 200, detail.content
    else:
        assert_problem(detail, 404, code="not_found")
    assert (str(within_austin.pk) in listed) is sees


def test_a_bad_status_filter_is_a_400(api, users, to_houston):
    response = api.as_user(users.houston).get("/api/v1/handoffs/", {"status": "lost"})
    assert_problem(response, 400, fields={"status"})


# --- acknowledging and ticking ---------------------------------------------------


def test_houston_acknowledges_a_handoff_over_http(api, users, to_houston):
    # when Houston's coordinator acknowledges the hand-off
    response = api.as_user(users.houston).post(f"/api/v1/handoffs/{to_houston.pk}/acknowledge/")

    # then it is acknowledged by them
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["acknowledged_by"]) == ("acknowledged", "coordinator.houston")
    assert body["acknowledged_at"] is not None


def test_the_sending_side_gets_403_on_acknowledge_and_tick(api, users, to_houston):
    # given Austin, the sending side, who sees the hand-off
    austin = api.as_user(users.austin)
    item = to_houston.items.first()

    # when Austin acknowledges it and ticks an item
    acknowledge = austin.post(f"/api/v1/handoffs/{to_houston.pk}/acknowledge/")
    tick = austin.post(f"/api/v1/handoffs/{to_houston.pk}/items/{item.pk}/complete/", {})

    # then both are forbidden and nothing changed
    assert_problem(acknowledge, 403, code="not_permitted")
    assert_problem(tick, 403, code="not_permitted")
    to_houston.refresh_from_db()
    item.refresh_from_db()
    assert (to_houston.status, item.completed_at) == ("open", None)


def test_a_user_from_another_site_gets_404_on_acknowledge_and_tick(
    api, users, outsider, to_houston
):
    # given a Dallas coordinator, who cannot see the hand-off
    dallas = api.as_user(outsider)
    item = to_houston.items.first()

    # when they acknowledge it and tick an item
    acknowledge = dallas.post(f"/api/v1/handoffs/{to_houston.pk}/acknowledge/")
    tick = dallas.post(f"/api/v1/handoffs/{to_houston.pk}/items/{item.pk}/complete/", {})

    # then it does not exist for them
    assert_problem(acknowledge, 404, code="not_found")
    assert_problem(tick, 404, code="not_found")


def test_houston_ticks_an_item_with_a_note(api, users, to_houston):
    # given an item of the hand-off
    item = to_houston.items.get(label="Medical clearance")
    url = f"/api/v1/handoffs/{to_houston.pk}/items/{item.pk}/complete/"

    # when Houston's coordinator ticks it, and the manager ticks it again
    first = api.as_user(users.houston).post(url, {"note": "Cleared by Dr. Ortiz."})
    again = api.as_user(users.houston_manager).post(url, {"note": "Me too."})

    # then the first tick stands
    assert first.status_code == again.status_code == 200, (first.content, again.content)
    assert (first.json()["completed_by"], first.json()["note"]) == (
        "coordinator.houston",
        "Cleared by Dr. Ortiz.",
    )
    assert again.json() == first.json()


def test_ticking_an_unknown_item_is_a_404(api, users, to_houston, within_austin):
    # given an item of another hand-off, and an id that is no id
    other = within_austin.items.first().pk
    houston = api.as_user(users.houston)

    # when Houston ticks them through its own hand-off
    # then neither exists
    for item_id in (other, "not-a-uuid"):
        response = houston.post(f"/api/v1/handoffs/{to_houston.pk}/items/{item_id}/complete/", {})
        assert_problem(response, 404, code="not_found")


def test_a_closed_handoff_answers_409_to_acknowledge_and_tick(api, users, to_houston):
    # given the transfer was completed with an override, closing the hand-off
    transfers.transfer_complete(
        actor=users.houston,
        transfer=to_houston.transfer,
        handoff_override_reason="Arrived early.",
    )
    houston = api.as_user(users.houston)
    item = to_houston.items.first()

    # when Houston acknowledges it or ticks an item
    acknowledge = houston.post(f"/api/v1/handoffs/{to_houston.pk}/acknowledge/")
    tick = houston.post(f"/api/v1/handoffs/{to_houston.pk}/items/{item.pk}/complete/", {})

    # then the closed hand-off refuses both
    assert_problem(acknowledge, 409, code="illegal_transition")
    assert_problem(tick, 409, code="illegal_transition")


# --- completing the transfer --------------------------------------------------


def test_completing_a_transfer_with_open_mandatory_items_is_a_409_naming_the_override(
    api, users, to_houston
):
    # given the hand-off's checklist is untouched
    url = f"/api/v1/transfers/{to_houston.transfer_id}/complete/"
    houston = api.as_user(users.houston)

    # when Houston completes the transfer without an override
    refused = houston.post(url, {})

    # then it is a conflict naming handoff_override_reason, and nothing moved
    body = assert_problem(
        refused, 409, code="handoff_incomplete", fields={"handoff_override_reason"}
    )
    assert error_for(body, "handoff_override_reason")["message"].startswith(
        MSG_OPEN_MANDATORY_ITEMS
    )
    assert houston.get(f"/api/v1/transfers/{to_houston.transfer_id}/").json()["status"] == (
        "approved"
    )

    # and when Houston completes it with a reason
    done = houston.post(url, {"handoff_override_reason": "Arrived by ambulance."})

    # then it completes and the hand-off is closed with the reason
    assert done.status_code == 200, done.content
    assert done.json()["handoff"] == str(to_houston.pk)
    handoff = houston.get(f"/api/v1/handoffs/{to_houston.pk}/").json()
    assert (handoff["status"], handoff["override_reason"], handoff["closed_by"]) == (
        "closed",
        "Arrived by ambulance.",
        "coordinator.houston",
    )


def test_a_transfer_shows_its_handoff_once_approved(api, network, users):
    # given a requested transfer
    client = placed_client(network.austin_detox, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential
    )
    houston = api.as_user(users.houston)
    before = houston.get(f"/api/v1/transfers/{transfer.pk}/").json()["handoff"]

    # when Houston approves it over HTTP
    approved = houston.post(f"/api/v1/transfers/{transfer.pk}/approve/", {})

    # then the transfer names its new hand-off
    assert before is None
    assert approved.status_code == 200, approved.content
    assert approved.json()["handoff"] == str(Handoff.objects.get(transfer=transfer).pk)


# --- notifications --------------------------------------------------------------


def _notify(user, key: str):
    (notification,) = notify(
        recipients=[user],
        kind="handoff.created",
        title=f"Incoming transfer {key}",
        body="",
        key=key,
    )
    return notification


def test_unread_notifications_are_the_callers_own(api, users):
    # given notifications for Houston's coordinator (one read) and for Austin's
    mine = _notify(users.houston, "a")
    read = _notify(users.houston, "b")
    theirs = _notify(users.austin, "a")
    houston = api.as_user(users.houston)
    assert houston.post(f"/api/v1/notifications/{read.pk}/read/").status_code == 200

    # when Houston lists unread notifications, and all of them
    unread = _ids(houston.get("/api/v1/notifications/", {"unread": "true"}))
    everything = _ids(houston.get("/api/v1/notifications/"))

    # then only their own are there
    assert unread == {str(mine.pk)}
    assert everything == {str(mine.pk), str(read.pk)}
    assert str(theirs.pk) not in everything


def test_marking_a_notification_read_is_idempotent(api, users):
    # given an unread notification
    notification = _notify(users.houston, "a")
    houston = api.as_user(users.houston)

    # when it is marked read twice
    first = houston.post(f"/api/v1/notifications/{notification.pk}/read/")
    again = houston.post(f"/api/v1/notifications/{notification.pk}/read/")

    # then it was read at the first time
    assert first.status_code == again.status_code == 200
    assert first.json()["read_at"] is not None
    assert again.json()["read_at"] == first.json()["read_at"]


def test_another_users_notification_is_not_found(api, users):
    # given a notification of Austin's coordinator
    notification = _notify(users.austin, "a")

    # when Houston's coordinator marks it read
    response = api.as_user(users.houston).post(f"/api/v1/notifications/{notification.pk}/read/")

    # then it does not exist for them, and stays unread
    assert_problem(response, 404, code="not_found")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_non_boolean_unread_filter_is_a_400(api, users):
    response = api.as_user(users.houston).get("/api/v1/notifications/", {"unread": "maybe"})
    assert_problem(response, 400, fields={"unread"})


# --- operations -----------------------------------------------------------------


def test_ops_work_shows_org_admins_the_work_per_kind(api, users, to_houston):
    # given an approval's work is pending
    # when an organisation admin reads the work status
    response = api.as_user(users.admin).get("/api/v1/ops/work/")

    # then both escalations are pending, and the oldest pending item is named
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kinds"]["handoff.escalate"]["pending"] == 2
    assert body["oldest_pending"]["kind"] in body["kinds"]


@pytest.mark.parametrize("viewer", ["houston", "houston_manager", "alumni", "nobody"])
def test_ops_work_does_not_exist_for_anyone_but_org_admins(api, users, viewer):
    response = api.as_user(getattr(users, viewer)).get("/api/v1/ops/work/")
    assert_problem(response, 404, code="not_found")


def test_health_answers_200_with_the_database_ok(client, db, eager):
    # when a probe asks, without credentials
    response = client.get("/health/")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "none (tasks run in-process)",
    }


def test_health_answers_503_when_the_broker_is_unreachable(client, db, monkeypatch):
    # given a broker is configured but cannot be reached
    def unreachable():
        raise ConnectionRefusedError("Error 111 connecting to redis:6379")

    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    monkeypatch.setattr(celery_app, "connection_for_write", unreachable)
    try:
        # when a probe asks
        response = client.get("/health/")
    finally:
        celery_app.conf.task_always_eager = before

    # then the platform reports itself unavailable, naming the broker
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("unavailable", "ok")
    assert body["broker"] == "error: ConnectionRefusedError"


def test_work_status_command_prints_a_line_per_kind(db, to_houston):
    # given an approval's work is pending
    out = StringIO()

    # when an operator runs `manage.py work_status`
    call_command("work_status", stdout=out)

    # then there is a line per kind, with its counts
    lines = out.getvalue().splitlines()
    assert lines[1].split() == ["kind", "pending", "overdue", "failed", "done", "cancelled"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:] if line.startswith("handoff.")}
    assert rows["handoff.escalate"] == ["2", "0", "0", "0", "0"]
    assert rows["handoff.notify"][0] == "1"
    assert lines[-1].startswith("Oldest pending: handoff.notify")


def test_work_status_command_with_no_work(db):
    out = StringIO()
    call_command("work_status", stdout=out)
    assert "(no work yet)" in out.getvalue()


# --- the cost of the lists ---------------------------------------------------------


def _add_handoffs_to_houston(n: int, network, users) -> None:
    """n hand-offs from Austin to Houston IOP: open, checklist done, or closed."""
    Program.objects.filter(pk=network.houston_iop.pk).update(capacity=100)
    for i in range(n):
        transfer = _approved(
            network.austin_detox, network.houston_iop, sender=users.austin, receiver=users.houston
        )
        if i % 3:
            finish_checklist(transfer, [users.houston, users.houston_manager][i % 2])
        if i % 3 == 2:
            transfers.transfer_complete(actor=users.houston_manager, transfer=transfer)


def _add_notifications(n: int, network, users) -> None:
    start = Notification.objects.count()
    for i in range(start, start + n):
        _notify(users.houston, f"test:{i}")


LIST_BUILDERS = {
    "/api/v1/handoffs/": _add_handoffs_to_houston,
    "/api/v1/notifications/": _add_notifications,
}


@pytest.mark.parametrize("url", LIST_BUILDERS)
def test_a_list_costs_the_same_queries_for_few_rows_as_for_many(api, network, users, url):
    # given Houston's coordinator and a few rows
    build = LIST_BUILDERS[url]
    houston = api.as_user(users.houston)
    build(FEW, network, users)
    few, few_body = queries_for(houston, url)

    # when many more rows are added
    build(MANY - FEW, network, users)
    many, many_body = queries_for(houston, url)

    # then the list grew and its cost did not
    assert (few_body["count"], many_body["count"]) == (FEW, MANY)
    assert many == few


def test_a_hand_off_of_a_transfer_without_a_planned_date_says_null(api, network, users):
    # given an approved transfer that was requested without a planned date
    client = placed_client(network.austin_detox, users.austin)
    transfer = transfer_to(
        network.austin_residential,
        client=client,
        sender=users.austin,
        receiver=users.austin,
        status="approved",
    )
    assert transfer.planned_for is None

    # when its hand-off is read
    body = api.as_user(users.austin).get(f"/api/v1/handoffs/{transfer.handoff.pk}/").json()

    # then `planned_for` is null, which the schema allows
    assert body["planned_for"] is None
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["components"]["schemas"]["Handoff"]["properties"]["planned_for"]["nullable"]
