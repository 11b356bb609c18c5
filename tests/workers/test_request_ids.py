"""The request id travels into Celery tasks: in-process (eager) and through a real worker.

A task woken while a request is served runs, and logs, under that request's id; so do
the tasks it wakes in turn. The beat's sweep, sent without a request, runs under an id
of its own, which the tasks it wakes carry.
"""

import logging
import re

import pytest

from backend.logs import NO_REQUEST, RequestIdFilter, current_request_id
from backend.work.models import WorkItem, WorkStatus
from services import transfers
from services.handoffs import NOTIFY_KIND
from services.notifications import DELIVER_KIND
from services.work import RUN_TASK
from tests.factories import placed_client
from tests.workers.conftest import point_app_at, wait_until
from workers import app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DONE_WITHIN = 15  # seconds for a worker to finish the work woken
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"
# A worker's line: "[time: INFO/MainProcess] [<request id>] Task <name>[<task id>] succeeded ..."
SUCCEEDED = re.compile(r"\[(?P<request_id>[\w-]+)\] Task (?P<name>[\w.]+)\[[\w-]+\] succeeded")


def requested_transfer(network, users):
    """An Austin residential client's requested move to Houston residential."""
    client = placed_client(network.austin_residential, users.austin)
    return transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.houston_residential
    )


def approve_over_http(api, users, transfer, request_id):
    response = api.as_user(users.houston).post(
        f"/api/v1/transfers/{transfer.pk}/approve/", {}, HTTP_X_REQUEST_ID=request_id
    )
    assert response.status_code == 200, response.content
    assert response["X-Request-ID"] == request_id


def work_done() -> bool:
    kinds = (NOTIFY_KIND, DELIVER_KIND)
    items = WorkItem.objects.filter(kind__in=kinds)
    return (
        items.filter(kind=DELIVER_KIND).exists()
        and not items.exclude(status=WorkStatus.DONE).exists()
    )


def succeeded_under(worker, name: str) -> list[str]:
    """The request id of each line saying a task called `name` succeeded."""
    return [m["request_id"] for m in SUCCEEDED.finditer(worker.log()) if m["name"] == name]


def test_in_process_tasks_of_a_request_run_and_log_under_its_id(api, network, users, eager, caplog):
    # given Celery without a broker (the demo), and task lines captured with their ids
    transfer = requested_transfer(network, users)
    caplog.set_level(logging.INFO, logger="celery.app.trace")
    caplog.handler.addFilter(RequestIdFilter())

    # when Houston approves it over HTTP, as request "req-eager-7"
    approve_over_http(api, users, transfer, "req-eager-7")

    # then the hand-off's work ran in the request, and each task's line carries its id
    assert work_done()
    lines = [r for r in caplog.records if "succeeded" in r.getMessage()]
    assert lines, "no task ran in-process"
    assert {r.request_id for r in lines} == {"req-eager-7"}
    # and once the request is over, nothing is left carrying its id
    assert current_request_id.get() == NO_REQUEST


@pytest.mark.redis
def test_a_workers_tasks_carry_the_id_of_the_request_that_woke_them(
    api, network, users, start_workers
):
    # given a worker
    [worker] = start_workers("w1")
    transfer = requested_transfer(network, users)

    # when Houston approves over HTTP, as request "req-worker-7"
    approve_over_http(api, users, transfer, "req-worker-7")

    # then the worker does the hand-off's work and the deliveries that work woke,
    # every line saying so under the request's id
    wait_until(work_done, timeout=DONE_WITHIN, what="the hand-off's work", details=worker.describe)
    ids = succeeded_under(worker, RUN_TASK)
    assert len(ids) == WorkItem.objects.filter(kind__in=(NOTIFY_KIND, DELIVER_KIND)).count()
    assert set(ids) == {"req-worker-7"}


@pytest.mark.redis
def test_the_sweeps_tasks_carry_an_id_of_its_own(network, users, broker, start_workers):
    # given a hand-off's work that was never woken (the broker was away at the approval)
    [worker] = start_workers("w1")
    transfer = requested_transfer(network, users)
    point_app_at(CLOSED_PORT_BROKER)
    transfers.transfer_approve(actor=users.houston, transfer=transfer)
    point_app_at(broker.url)
    assert WorkItem.objects.get(kind=NOTIFY_KIND).woken_at is None

    # when the beat sends the sweep, outside any request
    app.send_task("workers.sweep_due_work")

    # then the sweep runs under a fresh id, and the work it woke under the same one
    wait_until(work_done, timeout=DONE_WITHIN, what="the swept work", details=worker.describe)
    [sweep_id] = succeeded_under(worker, "workers.sweep_due_work")
    assert re.fullmatch(r"[0-9a-f-]{36}", sweep_id)
    assert set(succeeded_under(worker, RUN_TASK)) == {sweep_id}
