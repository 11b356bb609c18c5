"""A webhook delivered by a real Celery worker: the admission commits, its
wake-up goes through Redis, the worker signs and POSTs to a receiver on
localhost, and the delivery, its attempt and the disclosure are committed
together. A second wake-up for the same work sends nothing more."""

import pytest
from standardwebhooks.webhooks import Webhook

from backend.partners.models import Disclosure
from backend.webhooks.models import DeliveryStatus, WebhookDelivery
from backend.work.models import WorkItem, WorkStatus
from services import episodes
from services.webhooks import DELIVER_KIND
from services.work import RUN_TASK, queue_for
from tests.factories import ClientFactory
from tests.workers.conftest import wait_until
from tests.workers.test_integration import describe
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
