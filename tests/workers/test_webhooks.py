"""A webhook delivered by a real Celery worker: the admission commits, its
wake-up goes through Redis, the worker signs and POSTs to a receiver on
localhost, and the delivery, its attempt and the disclosure are committed
together. A second wake-up for the same work sends nothing more.

The POST waits outside any transaction: while a slow receiver holds it,
other connections lock and update the work row and the delivery without
waiting; a worker killed during the POST leaves one retry, after its claim
lapses, with the same webhook-id."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from standardwebhooks.webhooks import Webhook

from backend.partners.models import Disclosure
from backend.webhooks.models import DeliveryStatus, WebhookDelivery
from backend.work.models import WorkItem, WorkStatus
from services import episodes
from services.errors import Conflict
from services.webhook_delivery import ATTEMPT_UNANSWERED
from services.webhooks import DELIVER_KIND, webhook_redeliver
from services.work import RUN_TASK, queue_for, work_due, work_run
from tests.factories import ClientFactory
from tests.workers.conftest import wait_until
from tests.workers.test_integration import describe, open_transactions
from workers import app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WITHIN = 15  # seconds from the admission's commit to the receiver's 204


def test_a_worker_delivers_an_admission_once(
    network, users, make_partner, make_consent, receiver, start_workers
):
    # given a worker, a subscribed hospital and a consented client
    [worker] = start_workers("w1")
    hospital = make_partner("St. Example Hospital", scopes=["episodes:read", "webhooks:manage"])
    created = hospital.api.post(
        "/api/v1/partner/webhooks/",
        {"url": receiver.url, "events": ["client.admitted"]},
        format="json",
    )
    receiver.secret = created.json()["secret"]
    client = ClientFactory(registered_site=network.austin)
    make_consent(client, partner=hospital.partner, purpose="treatment", kinds=["episodes"])

    # when the client is admitted (the wake-up leaves on commit)
    episode = episodes.episode_admit(
        actor=users.austin, client=client, program=network.austin_detox
    )

    # then the worker delivers it, signed, and records it as delivered and disclosed
    wait_until(
        lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).exists(),
        timeout=WITHIN,
        what="the delivery",
        details=describe(worker),
    )
    (request,) = receiver.requests
    body = Webhook(receiver.secret).verify(request.body, request.headers)
    assert body["data"]["episode"] == str(episode.pk)
    assert Disclosure.objects.filter(client=client).count() == 1

    # and a second wake-up for the same work is skipped: still one request
    item = WorkItem.objects.get(kind=DELIVER_KIND)
    task = app.send_task(RUN_TASK, args=[str(item.pk)], queue=queue_for(item.kind)).id
    wait_until(lambda: task in worker.outcomes(), timeout=WITHIN, what="the second wake-up")
    assert worker.outcomes()[task] == "skipped"
    assert len(receiver.requests) == 1
    assert WorkItem.objects.get(pk=item.pk).status == WorkStatus.DONE


def consented_admission(network, users, make_partner, make_consent, receiver):
    """A hospital subscribed to admissions, and a consented client admitted: its
    delivery is due. Returns (hospital, subscription id, delivery, work item)."""
    hospital = make_partner("St. Example Hospital", scopes=["episodes:read", "webhooks:manage"])
    created = hospital.api.post(
        "/api/v1/partner/webhooks/",
        {"url": receiver.url, "events": ["client.admitted"]},
        format="json",
    ).json()
    receiver.secret = created["secret"]
    client = ClientFactory(registered_site=network.austin)
    make_consent(client, partner=hospital.partner, purpose="treatment", kinds=["episodes"])
    episodes.episode_admit(actor=users.austin, client=client, program=network.austin_detox)
    return (
        hospital,
        created["id"],
        WebhookDelivery.objects.get(),
        WorkItem.objects.get(kind=DELIVER_KIND),
    )


def attempt_log(delivery) -> list[tuple]:
    return list(delivery.attempt_log.values_list("number", "status_code", "error"))


def test_while_a_slow_receiver_answers_other_connections_lock_the_rows_without_waiting(
    network, users, make_partner, make_consent, receiver, broker
):
    # given a due delivery (its wake-up sits in the run's broker: no worker), and
    # a receiver that keeps each request up to 4 s (the timeout is 5 s)
    hospital, subscription, delivery, item = consented_admission(
        network, users, make_partner, make_consent, receiver
    )
    receiver.hold = 4
    outcome = {}

    def run():
        try:
            outcome["run"] = work_run(item.pk)
        finally:
            connections.close_all()

    # when a run in another thread (its own connection) is in the middle of the POST
    runner = threading.Thread(target=run)
    runner.start()
    try:
        assert receiver.arrived.wait(10), "the POST never came"

        # then no session holds a transaction open, and this connection locks and
        # updates the work row and the delivery at once (NOWAIT: a lock held would raise)
        assert open_transactions() == 0
        with transaction.atomic():
            WorkItem.objects.select_for_update(nowait=True).get(pk=item.pk)
            WebhookDelivery.objects.select_for_update(nowait=True).get(pk=delivery.pk)
            WorkItem.objects.filter(pk=item.pk).update(woken_at=None)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
        # and a redelivery is refused at once, the delivery being in flight
        with pytest.raises(Conflict):
            webhook_redeliver(delivery=delivery)
        # and a second run finds the row claimed and sends nothing
        assert work_run(item.pk) == "skipped"
        # and the partner's log shows the attempt in flight, its answer not yet known
        (shown,) = hospital.api.get(f"/api/v1/partner/webhooks/{subscription}/deliveries/").json()[
            "results"
        ]
        assert [(a["status_code"], a["error"]) for a in shown["attempt_log"]] == [
            (None, ATTEMPT_UNANSWERED)
        ]
        assert len(receiver.requests) == 0  # the one request is still held
    finally:
        receiver.release.set()
        runner.join(15)

    # then, once the receiver answered, the run recorded the delivery, once
    assert outcome == {"run": "done"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert attempt_log(delivery) == [(1, 204, "")]
    assert receiver.accepted == [delivery.webhook_id]
    assert Disclosure.objects.count() == 1
    item.refresh_from_db()
    assert (item.status, item.attempts, item.claimed_until) == (WorkStatus.DONE, 1, None)


def test_a_worker_killed_after_the_post_leads_to_one_retry_with_the_same_webhook_id(
    network, users, make_partner, make_consent, receiver, start_workers
):
    # given a worker, and a receiver that holds each request until released
    [doomed] = start_workers("doomed")
    receiver.hold = 30

    # when a consented client is admitted, the worker POSTs the delivery, and is
    # killed (SIGKILL) while the receiver holds the request
    _, _, delivery, item = consented_admission(network, users, make_partner, make_consent, receiver)
    assert receiver.arrived.wait(15), "the POST never came\n" + doomed.describe()
    doomed.kill()
    # and the receiver then takes it (the partner has it; our answer is lost)
    receiver.release.set()
    wait_until(lambda: receiver.accepted, timeout=5, what="the receiver's answer")

    # then nothing is held open, the delivery is pending with its attempt logged
    # unanswered, and the work row is still claimed by the dead run
    assert open_transactions() == 0
    delivery.refresh_from_db()
    item.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert attempt_log(delivery) == [(1, None, ATTEMPT_UNANSWERED)]
    assert Disclosure.objects.count() == 0
    assert (item.status, item.attempts) == (WorkStatus.PENDING, 1)
    assert item.claimed_until is not None

    # when the sweep looks before the claim lapses (past the wake-up's grace), and after it
    before, after = item.claimed_until - timedelta(seconds=1), item.claimed_until
    due_before = work_due(now=before)
    outcome_before = work_run(item.pk, now=before)
    due_after = work_due(now=after)
    outcome_after = work_run(item.pk, now=after)

    # then only after the lapse is the work retried, once, with the same webhook-id
    assert (item.pk, DELIVER_KIND) not in due_before
    assert outcome_before == "skipped"
    assert (item.pk, DELIVER_KIND) in due_after
    assert outcome_after == "done"
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.webhook_id] * 2
    assert all(r.verified for r in receiver.requests)
    assert receiver.requests[0].body == receiver.requests[1].body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert attempt_log(delivery) == [(1, None, ATTEMPT_UNANSWERED), (2, 204, "")]
    assert Disclosure.objects.count() == 1
    item.refresh_from_db()
    assert (item.status, item.attempts, item.claimed_until) == (WorkStatus.DONE, 2, None)
    assert work_run(item.pk, now=after + timedelta(minutes=10)) == "skipped"
    assert len(receiver.requests) == 2
