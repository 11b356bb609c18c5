"""Hand-off work on the real PostgreSQL and Redis, done by real Celery workers.

Each test commits its data (transaction=True), starts `celery worker`
processes on the test database (tests/workers/conftest.py) and watches the
rows they write: a hand-off is told to its receiving team once, however the
wake-ups arrive, a worker dies or the broker is away.
"""

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from backend.handoffs.models import Handoff
from backend.notifications.models import Notification
from backend.work.models import WorkItem, WorkStatus
from services import transfers
from services.handoffs import ESCALATE_KIND, NOTIFY_KIND
from services.notifications import DELIVER_KIND
from services.work import RUN_TASK, WAKE_GRACE, queue_for, work_sweep
from tests.factories import placed_client
from tests.workers.conftest import point_app_at, wait_until
from workers import app

# serialized_rollback: the flush after each test would drop the levels seeded by migration.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TOLD_WITHIN = 10  # seconds, from approval to every receiving coordinator notified
DONE_WITHIN = 10  # seconds for the workers to finish the work woken
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def approved_transfer(network, users, *, now=None):
    """An Austin residential client whose move to Houston residential Houston approved."""
    client = placed_client(network.austin_residential, users.austin)
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential, now=now
    )
    return transfers.transfer_approve(actor=users.houston, transfer=transfer, now=now)


def work(transfer, what: str) -> WorkItem:
    return WorkItem.objects.get(key=f"handoff:{transfer.handoff.pk}:{what}")


def notified(kind: str) -> Counter:
    """How many notifications of `kind` each user has, by username."""
    return Counter(
        Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True)
    )


def receiving_team(users) -> Counter:
    """Houston's care team (its coordinator and its manager), one each."""
    return Counter([users.houston.username, users.houston_manager.username])


def deliveries_done() -> bool:
    """Every channel delivery scheduled so far is done (none pending or failed)."""
    return not WorkItem.objects.filter(kind=DELIVER_KIND).exclude(status=WorkStatus.DONE).exists()


def describe(*workers) -> Callable[[], str]:
    def details() -> str:
        rows = WorkItem.objects.order_by("created_at").values_list(
            "kind", "status", "attempts", "last_error"
        )
        return "\n".join([*map(str, rows), *(w.describe() for w in workers)])

    return details


def send_twice(item: WorkItem) -> tuple[str, str]:
    """The same wake-up delivered twice: two messages for one work item."""
    return tuple(
        app.send_task(RUN_TASK, args=[str(item.pk)], queue=queue_for(item.kind)).id
        for _ in range(2)
    )


def wait_for_outcomes(task_ids, workers) -> dict[str, tuple[str, str]]:
    """(worker name, returned value) of each task, once every one has finished."""

    def finished():
        found = {
            task_id: (worker.name, outcome)
            for worker in workers
            for task_id, outcome in worker.outcomes().items()
            if task_id in task_ids
        }
        return found if len(found) == len(task_ids) else None

    return wait_until(
        finished, timeout=DONE_WITHIN, what="both deliveries", details=describe(*workers)
    )


def assert_one_acted_one_skipped(outcomes) -> None:
    assert sorted(result for _, result in outcomes.values()) == ["done", "skipped"], outcomes
    assert {name for name, _ in outcomes.values()} == {"w1", "w2"}, outcomes


def test_approval_tells_each_receiving_coordinator_once_within_10_seconds(
    network, users, start_workers
):
    # given a worker
    [worker] = start_workers("w1")

    # when Houston approves a transfer
    approved_at = time.monotonic()
    transfer = approved_transfer(network, users)

    # then within 10 seconds Houston's care team has been told, once each
    wait_until(
        lambda: notified("handoff.created") == receiving_team(users),
        timeout=TOLD_WITHIN,
        what="the receiving team's notifications",
        details=describe(worker),
    )
    assert time.monotonic() - approved_at < TOLD_WITHIN
    wait_until(deliveries_done, timeout=DONE_WITHIN, what="emails", details=describe(worker))
    assert Handoff.objects.filter(transfer=transfer).count() == 1
    assert notified("handoff.created") == receiving_team(users)
    assert Notification.objects.count() == 2
    notify = work(transfer, "created")
    assert (notify.status, notify.attempts) == (WorkStatus.DONE, 1)
    # and the escalations wait in the database for their deadlines
    assert set(WorkItem.objects.filter(kind=ESCALATE_KIND).values_list("status", flat=True)) == {
        WorkStatus.PENDING
    }


def test_a_wakeup_delivered_twice_to_two_racing_workers_acts_once(
    network, users, broker, start_workers
):
    # given a hand-off approved long enough ago that its first escalation is due
    sla = timedelta(minutes=network.houston_residential.handoff_ack_minutes)
    transfer = approved_transfer(network, users, now=timezone.now() - sla - timedelta(minutes=10))
    notify, escalate = work(transfer, "created"), work(transfer, "escalate:1")
    broker.flush()  # drop the approval's own wake-up: the test sends its own
    # and two workers that hold each run open for a second before committing
    workers = start_workers("w1", "w2", delay=1)

    # when the notification's wake-up is delivered twice, one copy to each worker
    outcomes = wait_for_outcomes(send_twice(notify), workers)

    # then one worker did it and the other found it taken
    assert_one_acted_one_skipped(outcomes)
    wait_until(deliveries_done, timeout=DONE_WITHIN, what="emails", details=describe(*workers))

    # when the escalation's wake-up is delivered twice too
    outcomes = wait_for_outcomes(send_twice(escalate), workers)

    # then again one worker acted and the other skipped
    assert_one_acted_one_skipped(outcomes)
    wait_until(deliveries_done, timeout=DONE_WITHIN, what="emails", details=describe(*workers))
    # one notification per member of the team, one escalation to Houston's manager
    assert notified("handoff.created") == receiving_team(users)
    assert notified("handoff.escalated") == Counter([users.houston_manager.username])
    assert Handoff.objects.get(transfer=transfer).escalation_level == 1
    for item in (notify, escalate):
        item.refresh_from_db()
        # Done once. The attempt is counted when claimed, before the run locks
        # the row: a duplicate that lands in that instant counts one more.
        assert item.status == WorkStatus.DONE
        assert item.attempts in (1, 2)


def open_transactions() -> int:
    """Other sessions on the test database with a transaction open and idle:
    a worker sleeping between its handler and its commit."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def row_is_locked(item: WorkItem) -> bool:
    with transaction.atomic():
        free = WorkItem.objects.select_for_update(skip_locked=True).filter(pk=item.pk).exists()
    return not free and WorkItem.objects.filter(pk=item.pk).exists()


def test_a_worker_killed_mid_task_leaves_the_work_to_the_next_one_done_once(
    network, users, start_workers
):
    # given a worker that holds each run open (uncommitted) for a long time
    [doomed] = start_workers("doomed", delay=60)
    transfer = approved_transfer(network, users)
    notify = work(transfer, "created")
    # and it has run the notification's handler but not committed
    wait_until(
        lambda: open_transactions() == 1,
        timeout=DONE_WITHIN,
        what="the worker's open transaction",
        details=describe(doomed),
    )
    assert row_is_locked(notify)

    # when it is killed with SIGKILL
    doomed.kill()

    # then PostgreSQL rolls its transaction back: the item is pending, nobody was told,
    # and the attempt that died is counted (it was committed before the handler ran)
    wait_until(lambda: open_transactions() == 0, timeout=DONE_WITHIN, what="the rollback")
    notify.refresh_from_db()
    assert (notify.status, notify.attempts) == (WorkStatus.PENDING, 1)
    assert Notification.objects.count() == 0

    # when a new worker starts and the sweep runs after the wake-up's grace
    [worker] = start_workers("w2")
    assert work_sweep(now=timezone.now() + WAKE_GRACE + timedelta(seconds=1)) == 1

    # then the work is done, once
    wait_until(
        lambda: notified("handoff.created") == receiving_team(users),
        timeout=DONE_WITHIN,
        what="the notifications",
        details=describe(doomed, worker),
    )
    wait_until(deliveries_done, timeout=DONE_WITHIN, what="emails", details=describe(worker))
    notify.refresh_from_db()
    assert (notify.status, notify.attempts) == (WorkStatus.DONE, 2)
    assert notified("handoff.created") == receiving_team(users)
    assert WorkItem.objects.filter(kind=DELIVER_KIND).count() == 2


def test_an_approval_while_the_broker_is_down_is_kept_and_done_when_it_is_back(
    network, users, broker, start_workers
):
    # given a worker, and this process's broker unreachable
    [worker] = start_workers("w1")
    point_app_at(CLOSED_PORT_BROKER)

    # when Houston approves a transfer
    transfer = approved_transfer(network, users)

    # then the approval stands and its work waits in the database, never woken
    transfer.refresh_from_db()
    assert transfer.status == "approved"
    items = WorkItem.objects.filter(key__startswith=f"handoff:{transfer.handoff.pk}:")
    assert sorted(items.values_list("kind", "status", "woken_at")) == [
        (ESCALATE_KIND, WorkStatus.PENDING, None),
        (ESCALATE_KIND, WorkStatus.PENDING, None),
        (NOTIFY_KIND, WorkStatus.PENDING, None),
    ]
    assert Notification.objects.count() == 0

    # when the broker is back and the sweep runs
    point_app_at(broker.url)
    assert work_sweep() == 1

    # then the worker does the work that was due, and nothing is lost
    wait_until(
        lambda: notified("handoff.created") == receiving_team(users),
        timeout=DONE_WITHIN,
        what="the notifications",
        details=describe(worker),
    )
    wait_until(deliveries_done, timeout=DONE_WITHIN, what="emails", details=describe(worker))
    notify = work(transfer, "created")
    assert (notify.status, notify.attempts) == (WorkStatus.DONE, 1)
    assert WorkItem.objects.filter(kind=ESCALATE_KIND, status=WorkStatus.PENDING).count() == 2
