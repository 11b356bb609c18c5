"""Durable work through the services: scheduled once, run once, retried with
backoff, swept when late; the hand-off handlers that escalate, and the
notifications and channels they feed. The clock is NOW (tests/services/conftest.py).

No Redis is needed: the `broker` fixture records the wake-ups that would go
through it, and `in_process` runs them in this process as the demo does, so
these tests behave the same with or without REDIS_URL.
"""

import datetime as dt
from contextlib import contextmanager

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from backend.notifications.models import Notification
from backend.work.models import WorkItem, WorkStatus
from services import handoffs
from services.notifications import DELIVER_KIND, notify
from services.work import (
    RUN_TASK,
    WAKE_GRACE,
    queue_for,
    work_cancel,
    work_due,
    work_handler,
    work_handler_outside,
    work_run,
    work_schedule,
    work_status,
    work_sweep,
    work_wake,
)
from tests.services.conftest import NOW
from workers import app as celery_app

# --- handlers of kinds that exist only here ----------------------------------

calls: list[str] = []


@work_handler("test.count")
def _count(item, now):
    calls.append(item.key)


@work_handler("test.boom")
def _boom(item, now):
    calls.append(item.key)
    raise RuntimeError("the partner system said no")


# A kind whose call runs outside any transaction: `perform` notes the claim it
# sees; payload "fail" makes the call fail, "taken_over_at" has another run take
# the item (at that instant) while the first one's call is out.
OUTSIDE_LEASE = dt.timedelta(minutes=3)
claims_seen: list = []
settled: list[tuple] = []
failures: list[tuple] = []
takeovers: list[str] = []


def _outside_prepare(item, now):
    return {"key": item.key, "at": now}


def _outside_perform(prepared):
    calls.append(prepared["key"])
    row = WorkItem.objects.get(key=prepared["key"])
    claims_seen.append(row.claimed_until)
    if "taken_over_at" in row.payload and len(calls) == 1:  # the first run only
        later = dt.datetime.fromisoformat(row.payload["taken_over_at"])
        takeovers.append(work_run(row.pk, now=later))
    return "no" if row.payload.get("fail") else "ok"


def _outside_settle(item, prepared, result, now):
    if result != "ok":
        raise RuntimeError("the receiver said no")
    settled.append((item.key, prepared["at"]))


def _outside_failed(item, exc, now, prepared):
    failures.append((item.status, prepared))


work_handler_outside(
    "test.outside",
    prepare=_outside_prepare,
    perform=_outside_perform,
    settle=_outside_settle,
    lease=OUTSIDE_LEASE,
    on_failure=_outside_failed,
)


@pytest.fixture(autouse=True)
def _no_calls_yet():
    for noted in (calls, claims_seen, settled, failures, takeovers):
        noted.clear()


def _item(key="test:1", *, kind="test.count", due_at=NOW, **fields) -> WorkItem:
    return WorkItem.objects.create(key=key, kind=kind, due_at=due_at, **fields)


# --- a broker, recorded; or none at all -------------------------------------


@contextmanager
def _eager(value: bool):
    """Set task_always_eager for one test (Celery's settings resist monkeypatch)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = value
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = before


@pytest.fixture
def broker(monkeypatch):
    """Wake-ups go to a broker (as with REDIS_URL), recorded here as (item id, queue)."""
    sent: list[tuple[str, str]] = []

    def send_task(name, args=None, queue=None, **options):
        assert name == RUN_TASK
        sent.append((args[0], queue))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    with _eager(False):
        yield sent


@pytest.fixture
def broker_down(monkeypatch):
    def send_task(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to redis:6379")

    monkeypatch.setattr(celery_app, "send_task", send_task)
    with _eager(False):
        yield


@pytest.fixture
def in_process():
    """No broker (the embedded demo): a wake-up runs the item in this process."""
    with _eager(True):
        yield


# --- scheduling ---------------------------------------------------------------


def test_scheduling_the_same_key_twice_keeps_the_first_item(db):
    # given an item scheduled under a key
    first = work_schedule(kind="test.count", key="test:once", due_at=NOW, now=NOW)

    # when the same key is scheduled again, for another time and payload
    again = work_schedule(
        kind="test.count",
        key="test:once",
        due_at=NOW + dt.timedelta(days=1),
        payload={"x": 1},
        now=NOW,
    )

    # then there is one item, as first scheduled
    assert again.pk == first.pk
    assert WorkItem.objects.filter(key="test:once").count() == 1
    assert (again.due_at, again.payload) == (NOW, {})


def test_work_due_now_wakes_a_worker_on_commit_and_work_due_later_waits(
    db, broker, django_capture_on_commit_callbacks
):
    # given a broker
    # when a handoff notice due now and an escalation due in four hours are scheduled
    with django_capture_on_commit_callbacks(execute=True):
        now_item = work_schedule(kind="handoff.notify", key="test:now", due_at=NOW, now=NOW)
        work_schedule(
            kind="handoff.escalate",
            key="test:later",
            due_at=NOW + dt.timedelta(hours=4),
            now=NOW,
        )
        assert broker == []  # nothing leaves before the commit

    # then only the first is woken, on the handoffs queue; the other waits in its row
    assert broker == [(str(now_item.pk), "handoffs")]
    now_item.refresh_from_db()
    assert now_item.woken_at == NOW


def test_a_rolled_back_change_sends_no_wake_up(db, broker, django_capture_on_commit_callbacks):
    # given a change that schedules work and then fails
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                work_schedule(kind="test.count", key="test:lost", due_at=NOW, now=NOW)
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass

    # then neither the item nor its wake-up exists
    assert callbacks == []
    assert broker == []
    assert not WorkItem.objects.filter(key="test:lost").exists()


@pytest.mark.parametrize(
    ("kind", "queue"),
    [
        ("handoff.escalate", "handoffs"),
        ("handoff.notify", "handoffs"),
        ("notification.deliver", "notifications"),
        ("followup.call", "followups"),
        ("report.monthly", "default"),
    ],
)
def test_each_family_of_work_has_its_queue(kind, queue):
    assert queue_for(kind) == queue


# --- running --------------------------------------------------------------------


def test_running_an_item_twice_acts_once(db):
    # given a due item
    item = _item()

    # when the same wake-up is delivered twice
    outcomes = [work_run(item.pk, now=NOW), work_run(item.pk, now=NOW)]

    # then the handler ran once and the item is done
    assert outcomes == ["done", "skipped"]
    assert calls == ["test:1"]
    item.refresh_from_db()
    assert (item.status, item.attempts, item.finished_at) == (WorkStatus.DONE, 1, NOW)


def test_an_item_not_yet_due_is_skipped(db):
    # given an item due in an hour
    item = _item(due_at=NOW + dt.timedelta(hours=1))

    # when a worker is woken for it early
    outcome = work_run(item.pk, now=NOW)

    # then nothing happens and it stays pending
    assert (outcome, calls) == ("skipped", [])
    item.refresh_from_db()
    assert (item.status, item.attempts) == (WorkStatus.PENDING, 0)


def test_running_an_unknown_or_cancelled_item_is_skipped(db):
    # given a cancelled item and an id that was never scheduled
    cancelled = _item(status=WorkStatus.CANCELLED)

    # then neither runs
    assert work_run(cancelled.pk, now=NOW) == "skipped"
    assert work_run("00000000-0000-0000-0000-000000000000", now=NOW) == "skipped"
    assert calls == []


def test_a_failing_handler_is_recorded_and_retried_with_backoff(db):
    # given an item whose handler fails
    item = _item(kind="test.boom", woken_at=NOW)

    # when it runs and fails, twice, each time when due again
    first = work_run(item.pk, now=NOW)
    item.refresh_from_db()
    first_retry_at, first_woken_at = item.due_at, item.woken_at
    second = work_run(item.pk, now=first_retry_at)
    item.refresh_from_db()

    # then each failure is counted with its error, and the wait doubles (1, then 2 minutes)
    assert (first, second) == ("retry", "retry")
    assert first_retry_at == NOW + dt.timedelta(minutes=1)
    assert first_woken_at is None  # the sweep may wake it again once due
    assert item.due_at == first_retry_at + dt.timedelta(minutes=2)
    assert (item.status, item.attempts) == (WorkStatus.PENDING, 2)
    assert item.last_error == "RuntimeError: the partner system said no"
    assert item.finished_at is None


def test_a_failure_is_not_retried_before_its_backoff(db):
    # given an item that just failed
    item = _item(kind="test.boom")
    work_run(item.pk, now=NOW)

    # when a worker is woken for it again at once
    outcome = work_run(item.pk, now=NOW)

    # then it waits for its backoff
    assert outcome == "skipped"
    assert calls == ["test:1"]


def test_an_item_that_keeps_failing_gives_up_after_its_attempts(db):
    # given an item allowed three attempts, whose handler always fails
    item = _item(kind="test.boom", max_attempts=3)

    # when it is run whenever due
    outcomes = []
    for _ in range(4):
        item.refresh_from_db()
        outcomes.append(work_run(item.pk, now=item.due_at))

    # then it fails for good on the third attempt and is not run again
    assert outcomes == ["retry", "retry", "failed", "skipped"]
    assert len(calls) == 3
    item.refresh_from_db()
    assert (item.status, item.attempts) == (WorkStatus.FAILED, 3)
    assert item.finished_at is not None
    assert item.last_error.startswith("RuntimeError")


# --- a call outside any transaction, under a claim --------------------------------


def test_an_outside_call_runs_under_a_claim_and_is_settled_once(db):
    # given a due item of a kind whose call runs outside any transaction
    item = _item(kind="test.outside")

    # when it runs, and the same wake-up runs again
    outcomes = [work_run(item.pk, now=NOW), work_run(item.pk, now=NOW)]

    # then the call was made once, with the row claimed for the lease, and settled
    assert outcomes == ["done", "skipped"]
    assert calls == ["test:1"]
    assert claims_seen == [NOW + OUTSIDE_LEASE]
    assert settled == [("test:1", NOW)]
    item.refresh_from_db()
    assert (item.status, item.attempts, item.claimed_until) == (WorkStatus.DONE, 1, None)


def test_a_claimed_item_is_not_run_swept_or_cancelled_until_the_claim_lapses(db):
    # given a due item that a run (which died) claimed until a minute from now
    until = NOW + dt.timedelta(minutes=1)
    item = _item(kind="test.outside", attempts=1, claimed_until=until)

    # when a wake-up, the sweep and a cancellation come before the claim lapses
    early = work_run(item.pk, now=NOW)
    swept_early = work_due(now=until - dt.timedelta(seconds=1))
    cancelled = work_cancel(key_prefix="test:", now=NOW)

    # then none touches it; once it lapses the sweep finds it and a run does it
    assert (early, swept_early, cancelled) == ("skipped", [], 0)
    assert work_due(now=until) == [(item.pk, "test.outside")]
    assert work_run(item.pk, now=until) == "done"
    assert calls == ["test:1"]
    item.refresh_from_db()
    assert (item.status, item.attempts) == (WorkStatus.DONE, 2)


def test_a_run_whose_claim_was_taken_over_records_nothing(db):
    # given an item that another run takes once this run's lease has lapsed,
    # while this run's call is still out
    later = NOW + OUTSIDE_LEASE
    item = _item(kind="test.outside", payload={"taken_over_at": later.isoformat()})

    # when the first run comes back from its call
    outcome = work_run(item.pk, now=NOW)

    # then the second run settled it, and the first recorded nothing
    assert (outcome, takeovers) == ("skipped", ["done"])
    assert calls == ["test:1", "test:1"]
    assert settled == [("test:1", later)]
    item.refresh_from_db()
    assert (item.status, item.attempts) == (WorkStatus.DONE, 2)


def test_a_failed_outside_call_is_retried_and_its_hook_gets_the_prepared_step(db):
    # given an item whose call fails
    item = _item(kind="test.outside", payload={"fail": True})

    # when it runs
    outcome = work_run(item.pk, now=NOW)

    # then the failure is recorded for a retry, the claim cleared, and the hook
    # was given what `prepare` froze
    assert outcome == "retry"
    assert failures == [(WorkStatus.PENDING, {"key": "test:1", "at": NOW})]
    assert settled == []
    item.refresh_from_db()
    assert (item.status, item.attempts, item.claimed_until) == (WorkStatus.PENDING, 1, None)
    assert item.due_at == NOW + dt.timedelta(minutes=1)
    assert item.last_error == "RuntimeError: the receiver said no"


# --- the sweep ------------------------------------------------------------------


def test_the_sweep_wakes_due_work_not_woken_within_the_grace(db, broker):
    # given items in every situation the sweep meets
    never_woken = _item("test:never", due_at=NOW - dt.timedelta(minutes=30))
    woken_long_ago = _item(
        "test:lost",
        due_at=NOW - dt.timedelta(minutes=30),
        woken_at=NOW - WAKE_GRACE - dt.timedelta(seconds=1),
    )
    _item(
        "test:recent", due_at=NOW - dt.timedelta(minutes=30), woken_at=NOW - dt.timedelta(minutes=1)
    )
    _item("test:future", due_at=NOW + dt.timedelta(minutes=1))
    _item("test:done", due_at=NOW - dt.timedelta(hours=1), status=WorkStatus.DONE)
    _item("test:failed", due_at=NOW - dt.timedelta(hours=1), status=WorkStatus.FAILED)

    # when the sweep runs
    woken = work_sweep(now=NOW)

    # then only the due, pending items whose wake-up is missing or stale are woken
    assert woken == 2
    assert {item_id for item_id, _ in broker} == {str(never_woken.pk), str(woken_long_ago.pk)}
    assert {queue for _, queue in broker} == {"default"}
    assert set(WorkItem.objects.filter(woken_at=NOW).values_list("key", flat=True)) == {
        "test:never",
        "test:lost",
    }


def test_a_second_sweep_within_the_grace_sends_nothing_again(db, broker):
    # given a due item the sweep has just woken
    _item(due_at=NOW - dt.timedelta(minutes=5))
    work_sweep(now=NOW)

    # when the sweep runs again a minute later, and again after the grace
    a_minute_later = work_sweep(now=NOW + dt.timedelta(minutes=1))
    after_the_grace = work_sweep(now=NOW + WAKE_GRACE + dt.timedelta(seconds=1))

    # then the wake-up is repeated only once the grace has passed unanswered
    assert (a_minute_later, after_the_grace) == (0, 1)
    assert len(broker) == 2


def test_with_the_broker_down_nothing_is_lost_and_the_sweep_delivers_later(
    db, broker_down, monkeypatch
):
    # given the broker is unreachable
    item = _item(due_at=NOW - dt.timedelta(minutes=1))

    # when a wake-up is attempted
    sent = work_wake([(item.pk, item.kind)], now=NOW)

    # then it is not an error: the item waits, not marked as woken
    assert sent == 0
    item.refresh_from_db()
    assert (item.status, item.woken_at) == (WorkStatus.PENDING, None)

    # and when the broker is back, the next sweep wakes it
    delivered = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, **kw: delivered.append(args))
    assert work_sweep(now=NOW + dt.timedelta(minutes=1)) == 1
    assert delivered == [[str(item.pk)]]


def test_without_a_broker_the_sweep_does_the_due_work_in_this_process(db, in_process):
    # given a due item and no broker (the demo's scheduler calls the sweep)
    now = timezone.now()
    item = _item(due_at=now - dt.timedelta(minutes=5))
    later = _item("test:later", due_at=now + dt.timedelta(hours=1))

    # when the sweep runs
    work_sweep(now=now)

    # then the due item was done here and now, the later one waits
    item.refresh_from_db()
    later.refresh_from_db()
    assert calls == ["test:1"]
    assert (item.status, later.status) == (WorkStatus.DONE, WorkStatus.PENDING)


# --- escalations --------------------------------------------------------------


def _work_item(handoff, name: str) -> WorkItem:
    return WorkItem.objects.get(key=f"handoff:{handoff.pk}:{name}")


def _recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_the_receiving_team_is_told_of_a_new_handoff_with_the_mrn_and_no_clinical_notes(
    move,
):
    # given an approved transfer from Austin detox to Houston residential, with notes
    transfer = move(
        "austin_detox", "houston_residential", handoff_notes="Seizure history; on Librium."
    )

    # when its notice runs
    assert work_run(_work_item(transfer.handoff, "created").pk, now=NOW) == "done"

    # then each member of Houston's team has one notice, minimum necessary
    assert _recipients("handoff.created") == {"coordinator.houston", "manager.houston"}
    for notice in Notification.objects.filter(kind="handoff.created"):
        assert (
            notice.title
            == f"Incoming transfer: from {transfer.from_program} to {transfer.to_program}"
        )
        assert f"/api/v1/handoffs/{transfer.handoff.pk}/" in notice.body
        assert transfer.client.mrn not in notice.title + notice.body
        assert "Librium" not in notice.title + notice.body
        assert (notice.subject_type, notice.subject_id) == ("handoff", transfer.handoff.pk)


def test_unacknowledged_at_the_deadline_the_receiving_sites_managers_are_alerted_once(move, users):
    # given a hand-off to Houston nobody acknowledged
    handoff = move("austin_detox", "houston_residential").handoff
    level_1 = _work_item(handoff, "escalate:1")

    # when its first escalation runs at the deadline, and its wake-up comes twice
    outcomes = [work_run(level_1.pk, now=handoff.acknowledge_due_at) for _ in range(2)]

    # then Houston's manager (not Austin's, not the coordinators) is alerted, once
    assert outcomes == ["done", "skipped"]
    assert _recipients("handoff.escalated") == {"manager.houston"}
    assert Notification.objects.filter(kind="handoff.escalated").count() == 1
    handoff.refresh_from_db()
    assert handoff.escalation_level == 1


def test_still_unacknowledged_one_sla_later_the_organisation_admins_are_alerted(move, users):
    # given a hand-off whose first escalation went to Houston's manager, and a superuser
    superuser = get_user_model().objects.create_superuser("root", password="x")
    handoff = move("austin_detox", "houston_residential").handoff
    work_run(_work_item(handoff, "escalate:1").pk, now=handoff.acknowledge_due_at)

    # when the second escalation runs one SLA after the deadline
    level_2 = _work_item(handoff, "escalate:2")
    assert work_run(level_2.pk, now=level_2.due_at) == "done"

    # then the organisation admins are alerted, and the manager is not alerted again
    assert set(
        Notification.objects.filter(key=f"handoff:{handoff.pk}:escalated:2").values_list(
            "recipient__username", flat=True
        )
    ) == {"orgadmin", superuser.username}
    assert Notification.objects.filter(recipient=users.houston_manager).count() == 1
    handoff.refresh_from_db()
    assert handoff.escalation_level == 2


def test_if_level_2_comes_due_before_level_1_ran_the_managers_still_hear_of_it(move, users):
    # given a hand-off whose first escalation has not run (still retrying, say)
    handoff = move("austin_detox", "houston_residential").handoff
    level_2 = _work_item(handoff, "escalate:2")

    # when the second escalation runs first
    assert work_run(level_2.pk, now=level_2.due_at) == "done"

    # then both Houston's manager and the organisation admins are alerted, once each
    assert Notification.objects.filter(key=f"handoff:{handoff.pk}:escalated:1").count() == 1
    assert Notification.objects.filter(recipient=users.houston_manager).count() == 1
    assert Notification.objects.filter(recipient=users.admin, kind="handoff.escalated").exists()
    # and the late level-1 item then finds nothing to do
    assert work_run(_work_item(handoff, "escalate:1").pk, now=level_2.due_at) == "done"
    assert Notification.objects.filter(kind="handoff.escalated").count() == 2


def test_a_duplicate_escalation_item_does_not_escalate_again(move):
    # given a hand-off escalated to level 1
    handoff = move("austin_detox", "houston_residential").handoff
    work_run(_work_item(handoff, "escalate:1").pk, now=handoff.acknowledge_due_at)

    # when another item of the same level runs (scheduled twice under another key)
    duplicate = _item(
        "test:escalate-again",
        kind="handoff.escalate",
        due_at=handoff.acknowledge_due_at,
        payload={"handoff": str(handoff.pk), "level": 1},
    )
    assert work_run(duplicate.pk, now=handoff.acknowledge_due_at) == "done"

    # then nobody is alerted a second time
    assert Notification.objects.filter(kind="handoff.escalated").count() == 1


def test_a_handoff_acknowledged_in_time_is_not_escalated(move, users):
    # given a hand-off Houston acknowledged before the deadline
    handoff = move("austin_detox", "houston_residential").handoff
    handoffs.handoff_acknowledge(
        actor=users.houston, handoff=handoff, now=NOW + dt.timedelta(minutes=10)
    )

    # when its escalations' wake-ups arrive anyway, and a stray escalation item runs
    deadline = handoff.acknowledge_due_at
    skipped = [
        work_run(_work_item(handoff, f"escalate:{level}").pk, now=deadline + dt.timedelta(hours=8))
        for level in (1, 2)
    ]
    stray = _item(
        "test:stray",
        kind="handoff.escalate",
        due_at=deadline,
        payload={"handoff": str(handoff.pk), "level": 1},
    )
    work_run(stray.pk, now=deadline)

    # then nobody is alerted
    assert skipped == ["skipped", "skipped"]
    assert not Notification.objects.filter(kind="handoff.escalated").exists()
    handoff.refresh_from_db()
    assert handoff.escalation_level == 0


def test_the_day_before_the_move_both_sides_are_reminded(move):
    # given a transfer from Austin to Houston planned for Friday
    handoff = move("austin_detox", "houston_residential", planned_for=dt.date(2026, 11, 6)).handoff
    remind = _work_item(handoff, "remind")

    # when the reminder runs on Thursday morning
    assert work_run(remind.pk, now=remind.due_at) == "done"

    # then both care teams are reminded
    assert _recipients("handoff.reminder") == {
        "coordinator.austin",
        "coordinator2.austin",
        "manager.austin",
        "coordinator.houston",
        "manager.houston",
    }


# --- notifications and channels ---------------------------------------------


class PagerChannel:
    """A channel besides email, as SMS would plug in."""

    name = "pager"
    delivered: list[str] = []

    def deliver(self, notification) -> bool:
        self.delivered.append(notification.recipient.username)
        return True


def _notify(recipients, key="test:event"):
    return notify(
        recipients=recipients,
        kind="test.event",
        title="Incoming transfer: client T00000001",
        body="Hand-off /api/v1/handoffs/x/.",
        key=key,
        now=NOW,
    )


def test_a_notification_is_made_once_per_recipient_and_key(users):
    # given a notice sent to two people (one named twice)
    first = _notify([users.houston, users.houston_manager, users.houston])

    # when the same event is notified again
    again = _notify([users.houston, users.houston_manager])

    # then each has one notification and one delivery
    assert len(first) == 2 and again == []
    assert Notification.objects.filter(key="test:event").count() == 2
    assert WorkItem.objects.filter(kind=DELIVER_KIND).count() == 2


def test_delivery_sends_one_email_to_a_user_with_an_address(users, mailoutbox):
    # given a Houston coordinator with an email address and a manager without one
    users.houston.email = "houston@example.org"
    users.houston.save()
    _notify([users.houston, users.houston_manager])

    # when every delivery runs (twice over)
    deliveries = WorkItem.objects.filter(kind=DELIVER_KIND)
    outcomes = [work_run(item.pk, now=NOW) for item in deliveries for _ in range(2)]

    # then one email went to the coordinator, none to the manager, and all are done
    assert sorted(outcomes) == ["done", "done", "skipped", "skipped"]
    assert [message.to for message in mailoutbox] == [["houston@example.org"]]
    # and the email says only that there is something to read: no MRN, no program
    message = mailoutbox[0]
    assert message.subject == "[Continuum] You have a new notification"
    assert "T00000001" not in message.subject + message.body
    assert set(deliveries.values_list("status", flat=True)) == {WorkStatus.DONE}


def test_channels_are_pluggable(users, settings, mailoutbox):
    # given the pager is the only channel besides in-app
    settings.NOTIFICATION_CHANNELS = [f"{__name__}.PagerChannel"]
    PagerChannel.delivered.clear()
    users.houston.email = "houston@example.org"
    users.houston.save()

    # when Houston's coordinator is notified and the delivery runs
    _notify([users.houston])
    (delivery,) = WorkItem.objects.filter(kind=DELIVER_KIND)
    work_run(delivery.pk, now=NOW)

    # then it went by pager, not by email
    assert delivery.payload["channel"] == "pager"
    assert PagerChannel.delivered == ["coordinator.houston"]
    assert mailoutbox == []


def test_with_no_channels_a_notification_is_in_app_only(users, settings):
    # given no channel besides in-app
    settings.NOTIFICATION_CHANNELS = []

    # when someone is notified
    _notify([users.houston])

    # then the in-app row exists and nothing is to be delivered
    assert Notification.objects.filter(recipient=users.houston).count() == 1
    assert not WorkItem.objects.filter(kind=DELIVER_KIND).exists()


# --- observing --------------------------------------------------------------


def test_work_status_counts_each_kind_by_status(db):
    # given escalations and deliveries in every state
    minutes = dt.timedelta(minutes=1)
    _item("e1", kind="handoff.escalate", due_at=NOW + 60 * minutes)
    _item("e2", kind="handoff.escalate", due_at=NOW - 10 * minutes, attempts=1, last_error="boom")
    _item("e3", kind="handoff.escalate", due_at=NOW - minutes)  # late, but within the grace
    _item("e4", kind="handoff.escalate", status=WorkStatus.CANCELLED)
    _item("d1", kind="notification.deliver", status=WorkStatus.DONE)
    _item("d2", kind="notification.deliver", status=WorkStatus.DONE)
    _item("d3", kind="notification.deliver", status=WorkStatus.FAILED)

    # when the status is read
    status = work_status(now=NOW)

    # then each kind is counted, and the oldest pending item is named
    assert status["at"] == NOW
    assert status["kinds"] == {
        "handoff.escalate": {
            "pending": 3,
            "overdue": 1,
            "failed": 0,
            "done": 0,
            "cancelled": 1,
            "oldest_pending_due_at": NOW - 10 * minutes,
        },
        "notification.deliver": {
            "pending": 0,
            "overdue": 0,
            "failed": 1,
            "done": 2,
            "cancelled": 0,
            "oldest_pending_due_at": None,
        },
    }
    oldest = status["oldest_pending"]
    assert (oldest["key"], oldest["attempts"], oldest["last_error"]) == ("e2", 1, "boom")


def test_work_status_with_no_work_is_empty(db):
    assert work_status(now=NOW) == {"at": NOW, "kinds": {}, "oldest_pending": None}


def test_an_item_whose_runs_keep_killing_the_worker_ends_failed(db):
    # given an item whose every attempt so far died with its worker (counted, never finished)
    item = _item(kind="test.boom", max_attempts=3, attempts=3)

    # when it is woken once more
    outcome = work_run(item.pk, now=NOW)

    # then it is given up, not run again
    item.refresh_from_db()
    assert outcome == "failed"
    assert item.status == WorkStatus.FAILED


def test_the_demo_scheduler_does_due_work_in_process(move, in_process):
    from io import StringIO

    from django.core.management import call_command

    # given a hand-off whose escalation is due, and no broker (tasks run in-process)
    handoff = move("austin_detox", "houston_residential").handoff
    escalate = _work_item(handoff, "escalate:1")
    WorkItem.objects.filter(pk=escalate.pk).update(due_at=timezone.now() - dt.timedelta(minutes=5))

    # when the demo's scheduler sweeps once
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)

    # then it did the escalation here and said so
    escalate.refresh_from_db()
    assert escalate.status == WorkStatus.DONE
    assert "Ran" in out.getvalue()
