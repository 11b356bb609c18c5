"""Signed webhooks to partner systems: subscriptions over the partner API, events
emitted by admissions, discharges, transfers and referrals, and their delivery
to a real HTTP receiver on localhost that verifies every signature with
standardwebhooks. Retries are driven by running due work at explicit instants
(services/work.py), so no test waits for real time to pass."""

import datetime as dt
import itertools
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from backend.aftercare.models import ReferralStatus
from backend.partners.models import Disclosure, DisclosureChannel
from backend.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from backend.work.models import WorkItem, WorkStatus
from services import episodes, transfers
from services.consent import PART2_NOTICE, PART2_NOTICE_HEADER
from services.referrals import partner as partner_referrals
from services.webhook_delivery import DELIVERY_LEASE
from services.webhooks import (
    DELIVER_KIND,
    DELIVERY_RETRIES,
    MSG_URL_SCHEME,
    SKIP_NO_CONSENT,
    SKIP_SCOPE_MISSING,
    webhook_redeliver,
)
from services.work import work_due, work_run, work_schedule
from tests.factories import ClientFactory, finish_checklist

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/partner/webhooks/"


def at(minutes: float = 0) -> dt.datetime:
    """An instant relative to the start of the test (consents are dated from today)."""
    return T0 + dt.timedelta(minutes=minutes)


T0 = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def _start():
    global T0
    T0 = timezone.now().replace(microsecond=0)


def subscribe(p, receiver, events, **extra) -> dict:
    response = p.api.post(WEBHOOKS, {"url": receiver.url, "events": events, **extra}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    receiver.secret = body["secret"]
    return body


def run_due(now) -> list[str]:
    """Run every webhook delivery due at `now`, as a worker woken by the sweep would."""
    return [work_run(pk, now=now) for pk, kind in work_due(now=now) if kind == DELIVER_KIND]


def run_until_settled(start, *, horizon=dt.timedelta(hours=48)) -> list[dt.datetime]:
    """Run due deliveries at each next due time until none is pending; the instants."""
    instants, now = [], start
    while now <= start + horizon:
        run_due(now)
        instants.append(now)
        pending = WorkItem.objects.filter(kind=DELIVER_KIND, status=WorkStatus.PENDING)
        if not pending.exists():
            return instants
        now = max(now, min(pending.values_list("due_at", flat=True)))
    pytest.fail("deliveries still pending after the horizon")


def new_client(network):
    return ClientFactory(registered_site=network.austin)


def admit(network, users, client, program=None, now=None):
    return episodes.episode_admit(
        actor=users.austin,
        client=client,
        program=program or network.austin_detox,
        admitted_at=now or at(),
        now=now or at(),
    )


@pytest.fixture
def hospital(make_partner):
    return make_partner("St. Example Hospital", scopes=["episodes:read", "webhooks:manage"])


# --- the story: an admission, told to a consented partner -----------------------


def test_an_admission_arrives_signed_once_after_two_failed_attempts(
    network, users, hospital, receiver, make_consent
):
    # given a subscription, a receiver that fails its first two requests, and a
    # client who consented to tell the hospital about episodes, for treatment
    subscribe(hospital, receiver, ["client.admitted"])
    receiver.fail_first = 2
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose="treatment", kinds=["episodes"])

    # when the client is admitted, and the work runs at each retry's due time
    episode = admit(network, users, client)
    run_due(at(0))
    run_due(at(1))
    run_due(at(5))

    # then three signed requests came, the same webhook-id each time, the third accepted
    delivery = WebhookDelivery.objects.get()
    assert [r.answered for r in receiver.requests] == [500, 500, 204]
    assert all(r.verified for r in receiver.requests)
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.webhook_id}
    assert receiver.accepted == [delivery.webhook_id]
    assert delivery.webhook_id.startswith("msg_")
    # and every retry sent the first attempt's bytes (read back from the database)
    assert len({r.body for r in receiver.requests}) == 1
    # and the body carries ids and levels only, with the §2.32 notice
    body = Webhook(receiver.secret).verify(
        receiver.requests[-1].body, receiver.requests[-1].headers
    )
    assert body["type"] == "client.admitted"
    assert body["data"] == {
        "client": str(client.pk),
        "episode": str(episode.pk),
        "program": str(network.austin_detox.pk),
        "site": str(network.austin.pk),
        "level": "detox",
        "at": at().isoformat().replace("+00:00", "Z"),
    }
    assert body["meta"]["part2_notice"] == PART2_NOTICE
    assert receiver.requests[-1].headers[PART2_NOTICE_HEADER.lower()] == PART2_NOTICE
    # and the disclosure is in the client's accounting, once, by webhook
    (disclosure,) = Disclosure.objects.filter(client=client)
    assert (disclosure.channel, disclosure.partner, disclosure.purpose) == (
        DisclosureChannel.WEBHOOK,
        hospital.partner,
        "treatment",
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == (
        DeliveryStatus.DELIVERED,
        3,
        at(5),
    )


def test_a_delivery_run_twice_is_sent_once(network, users, hospital, receiver, make_consent):
    # given a delivered admission
    subscribe(hospital, receiver, ["client.admitted"])
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose="treatment", kinds=["episodes"])
    admit(network, users, client)
    (item,) = WorkItem.objects.filter(kind=DELIVER_KIND)
    assert work_run(item.pk, now=at()) == "done"

    # when the same wake-up runs again, and a second work item for the same
    # delivery runs too
    second = work_run(item.pk, now=at(1))
    again = work_schedule(
        kind=DELIVER_KIND, key="test:again", due_at=at(2), payload=item.payload, now=at(2)
    )
    third = work_run(again.pk, now=at(2))

    # then the receiver has it exactly once, and one disclosure is recorded
    assert (second, third) == ("skipped", "done")
    assert Counter(receiver.accepted) == {WebhookDelivery.objects.get().webhook_id: 1}
    assert len(receiver.requests) == 1
    assert Disclosure.objects.filter(client=client).count() == 1


def test_a_runs_claim_outlasts_any_live_run(settings):
    # A run past its lease would let a second one POST the same delivery at once.
    longest_run = dt.timedelta(
        seconds=settings.CELERY_TASK_TIME_LIMIT + settings.WEBHOOK_TIMEOUT_SECONDS
    )

    assert longest_run < DELIVERY_LEASE


def test_the_delivery_log_shows_each_attempt_with_its_code_and_latency(
    network, users, hospital, receiver, make_consent
):
    # given an admission delivered at the third attempt
    subscription = subscribe(hospital, receiver, ["client.admitted"])
    receiver.fail_first = 2
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose="treatment", kinds=["episodes"])
    admit(network, users, client)
    for minutes in (0, 1, 5):
        run_due(at(minutes))

    # when the partner reads the subscription's deliveries
    response = hospital.api.get(f"{WEBHOOKS}{subscription['id']}/deliveries/")

    # then each attempt is there, with the receiver's code, when, and how long it took
    assert response.status_code == 200
    (delivery,) = response.json()["results"]
    assert delivery["status"] == "delivered"
    assert delivery["event_type"] == "client.admitted"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 204]
    assert [a["number"] for a in delivery["attempt_log"]] == [1, 2, 3]
    assert all(
        isinstance(a["latency_ms"], int) and a["latency_ms"] >= 0 for a in delivery["attempt_log"]
    )
    assert [a["error"] for a in delivery["attempt_log"]] == ["HTTP 500", "HTTP 500", ""]
    # and the Part 2 body itself is not repeated in the log
    assert delivery["payload"] is None


def test_retries_back_off_for_a_day_then_the_delivery_fails_and_can_be_redelivered(
    network, users, hospital, receiver, make_consent
):
    # given a receiver that fails every request
    subscribe(hospital, receiver, ["client.admitted"])
    receiver.fail_first = 10_000
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose="treatment", kinds=["episodes"])
    admit(network, users, client)

    # when the work runs at each due time until nothing is pending
    instants = run_until_settled(at())

    # then it was tried at growing intervals, for less than a day, then failed
    delivery = WebhookDelivery.objects.get()
    attempts = list(delivery.attempt_log.values_list("at", flat=True))
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(attempts) == DELIVERY_RETRIES.max_attempts == 9
    assert gaps == list(DELIVERY_RETRIES.delays)
    assert gaps == sorted(gaps)
    assert dt.timedelta(hours=23) < attempts[-1] - attempts[0] < dt.timedelta(hours=24)
    assert delivery.status == DeliveryStatus.FAILED
    assert WorkItem.objects.get(kind=DELIVER_KIND).status == WorkStatus.FAILED
    assert Disclosure.objects.filter(client=client).count() == 0
    assert receiver.accepted == []

    # when the receiver is fixed and the partner asks for a redelivery
    receiver.fail_first = 0
    response = hospital.api.post(f"/api/v1/partner/webhook-deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    run_due(timezone.now())

    # then it arrives, with the same webhook-id, and is disclosed once
    assert receiver.accepted == [delivery.webhook_id]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 10
    assert Disclosure.objects.filter(client=client).count() == 1
    assert instants[-1] >= attempts[-1]


def test_redelivering_a_pending_delivery_is_a_409(network, users, hospital, receiver, make_consent):
    subscribe(hospital, receiver, ["client.admitted"])
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose="treatment", kinds=["episodes"])
    admit(network, users, client)

    response = hospital.api.post(
        f"/api/v1/partner/webhook-deliveries/{WebhookDelivery.objects.get().pk}/redeliver/"
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "status"


# --- consent, scopes and sites, checked at delivery ------------------------------


def test_consent_revoked_before_delivery_means_nothing_is_sent(
    network, users, hospital, receiver, make_consent
):
    # given an admission emitted while the client's consent was in force
    subscribe(hospital, receiver, ["client.admitted"])
    client = new_client(network)
    consent = make_consent(client, partner=hospital.partner, purpose="treatment")
    admit(network, users, client)

    # when the consent is revoked before the delivery runs
    consent.revoked_on = at().date()
    consent.revoked_at = at()
    consent.save()
    run_due(at(1))

    # then nothing is sent, nothing disclosed, and the delivery says why
    delivery = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED, SKIP_NO_CONSENT)
    assert Disclosure.objects.count() == 0

    # and a redelivery checks again, and sends nothing either
    webhook_redeliver(delivery=delivery, now=at(2))
    run_due(at(2))
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SKIPPED


@pytest.mark.parametrize(
    ("purpose", "kinds"),
    [("payment", ["episodes"]), ("treatment", ["demographics"])],
    ids=["another-purpose", "another-kind-of-information"],
)
def test_a_consent_that_does_not_cover_the_event_means_no_delivery(
    network, users, hospital, receiver, make_consent, purpose, kinds
):
    subscribe(hospital, receiver, ["client.admitted"])
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose=purpose, kinds=kinds)

    admit(network, users, client)
    run_due(at())

    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_without_any_consent_the_partner_hears_nothing_of_the_client(
    network, users, hospital, receiver
):
    subscribe(hospital, receiver, ["client.admitted", "client.discharged"])
    client = new_client(network)

    episode = admit(network, users, client)
    episodes.episode_discharge(
        actor=users.austin,
        episode=episode,
        discharge_type="completed",
        now=at(60),
        discharged_at=at(60),
    )
    run_due(at(60))

    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("scopes", "site"),
    [(["webhooks:manage"], "austin"), (["episodes:read", "webhooks:manage"], "houston")],
    ids=["without-the-scope", "of-another-site"],
)
def test_a_partner_without_the_scope_or_the_site_gets_nothing(
    network, users, make_partner, receiver, make_consent, scopes, site
):
    # given a partner lacking the scope, or whose sites exclude Austin, with a consent
    p = make_partner("Payer", scopes=scopes, sites=[getattr(network, site)])
    subscribe(p, receiver, ["client.admitted", "availability.changed"])
    client = new_client(network)
    make_consent(client, partner=p.partner, purpose="treatment")

    # when an Austin client is admitted
    admit(network, users, client)
    run_due(at())

    # then nothing is scheduled for it, and nothing sent
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


def test_a_scope_withdrawn_before_delivery_skips_it(
    network, users, hospital, receiver, make_consent
):
    subscribe(hospital, receiver, ["client.admitted"])
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose="treatment")
    admit(network, users, client)

    hospital.partner.scopes = ["webhooks:manage"]
    hospital.partner.save()
    run_due(at(1))

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.skip_reason) == (DeliveryStatus.SKIPPED, SKIP_SCOPE_MISSING)
    assert receiver.requests == []


# --- the other events ---------------------------------------------------------------


def test_a_completed_transfer_and_a_discharge_are_told(
    network, users, hospital, receiver, make_consent
):
    # given a consented client in Austin detox, and a subscription to moves and discharges
    subscribe(hospital, receiver, ["client.transferred", "client.discharged"])
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose="treatment")
    episode = admit(network, users, client, now=at(-120))

    # when they move to Austin residential, then are discharged
    transfer = transfers.transfer_request(
        actor=users.austin, client=client, to_program=network.austin_residential, now=at(-60)
    )
    transfer = transfers.transfer_approve(actor=users.austin, transfer=transfer, now=at(-59))
    finish_checklist(transfer, users.austin, now=at(-58))
    transfers.transfer_complete(actor=users.austin, transfer=transfer, now=at(-30))
    episodes.episode_discharge(
        actor=users.austin, episode=episode, discharge_type="completed", now=at()
    )
    run_due(at())

    # then the receiver has both, in ids and levels
    bodies = [Webhook(receiver.secret).verify(r.body, r.headers) for r in receiver.requests]
    by_type = {b["type"]: b["data"] for b in bodies}
    assert set(by_type) == {"client.transferred", "client.discharged"}
    assert by_type["client.transferred"]["level"] == "residential"
    assert by_type["client.transferred"]["from_level"] == "detox"
    assert by_type["client.discharged"]["episode"] == str(episode.pk)
    assert Disclosure.objects.filter(client=client).count() == 2


def test_availability_changes_reach_partners_of_the_site_de_identified(
    network, users, make_partner, receiver
):
    # given a partner of Austin that reads availability (Austin detox has 2 beds)
    p = make_partner("Planner", scopes=["availability:read", "webhooks:manage"])
    subscribe(p, receiver, ["availability.changed"])

    # when a client is admitted to Austin detox
    admit(network, users, new_client(network))
    run_due(at())

    # then the partner is told the new availability, and nothing of the client
    (request,) = receiver.requests
    body = Webhook(receiver.secret).verify(request.body, request.headers)
    assert body["type"] == "availability.changed"
    assert {k: body["data"][k] for k in ("site", "level", "capacity", "available")} == {
        "site": str(network.austin.pk),
        "level": "detox",
        "capacity": 2,
        "available": 1,
    }
    assert "meta" not in body
    assert "client" not in request.body.decode()


def test_a_referral_decline_is_told_to_the_partner_who_sent_it_only(
    network, users, make_partner, receiver
):
    # given two partners subscribed to referral changes; the first sends a referral
    sender = make_partner("Sender", scopes=["referrals:write", "referrals:read", "webhooks:manage"])
    other = make_partner("Other", scopes=["referrals:read", "webhooks:manage"])
    subscribe(sender, receiver, ["referral.status_changed"])
    other_subscription = other.api.post(
        WEBHOOKS,
        {"url": receiver.url + "/other", "events": ["referral.status_changed"]},
        format="json",
    )
    assert other_subscription.status_code == 201
    referral = partner_referrals.partner_referral_submit(
        partner=sender.partner,
        first_name="Ada",
        last_name="Example",
        date_of_birth=dt.date(1990, 1, 1),
        requested_level="detox",
        referrer_name="Dr. Planner",
        now=at(),
    )

    # when Austin's coordinator declines it
    partner_referrals.partner_referral_decline(
        actor=users.austin, referral=referral, reason="No detox bed this week.", now=at(1)
    )
    run_due(at(1))

    # then only the sender hears, with the status and the reason
    (request,) = receiver.requests
    assert request.headers["webhook-id"]
    body = Webhook(receiver.secret).verify(request.body, request.headers)
    assert body["data"] == {
        "referral": str(referral.pk),
        "status": ReferralStatus.DECLINED,
        "reason": "No detox bed this week.",
    }
    assert WebhookEvent.objects.count() == 1


def test_a_receivers_redirect_is_not_followed_and_is_a_failed_attempt(
    network, users, make_partner, receiver
):
    # given a receiver that answers every request with a 307 to another of its paths
    p = make_partner("Planner", scopes=["availability:read", "webhooks:manage"])
    subscribe(p, receiver, ["availability.changed"])
    receiver.redirect_to = receiver.url.replace("/hook", "/elsewhere")

    # when an availability change is delivered
    admit(network, users, new_client(network))
    run_due(at())

    # then the one request went where the partner registered, none where it pointed
    assert [(r.path, r.answered) for r in receiver.requests] == [("/hook", 307)]
    # and the attempt is logged as failed, and retried by the schedule
    delivery = WebhookDelivery.objects.get()
    assert list(delivery.attempt_log.values_list("status_code", "error")) == [(307, "HTTP 307")]
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.PENDING, at(1))
    assert WorkItem.objects.get(kind=DELIVER_KIND).due_at == at(1)


# --- signatures ---------------------------------------------------------------------


def test_a_tampered_request_is_rejected_by_the_verifier(
    network, users, make_partner, receiver, time_machine
):
    # given a request the receiver verified
    p = make_partner("Planner", scopes=["availability:read", "webhooks:manage"])
    subscribe(p, receiver, ["availability.changed"])
    admit(network, users, new_client(network))
    run_due(at())
    (request,) = receiver.requests
    assert request.verified
    verifier = Webhook(receiver.secret)

    # then a changed body, a changed signature, another secret all fail verification
    with pytest.raises(WebhookVerificationError):
        verifier.verify(request.body.replace(b'"available":1', b'"available":9'), request.headers)
    forged = {**request.headers, "webhook-signature": "v1," + "A" * 44}
    with pytest.raises(WebhookVerificationError):
        verifier.verify(request.body, forged)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "B" * 44).verify(request.body, request.headers)
    # and so does the same request replayed more than five minutes later
    sent = dt.datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), tz=dt.UTC)
    time_machine.move_to(sent + dt.timedelta(minutes=6), tick=False)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verifier.verify(request.body, request.headers)


def test_after_a_rotation_both_secrets_sign_for_a_day(network, users, make_partner, receiver):
    # given a subscription whose secret the partner rotated
    p = make_partner("Planner", scopes=["availability:read", "webhooks:manage"])
    old = subscribe(p, receiver, ["availability.changed"])["secret"]
    subscription_id = p.api.get(WEBHOOKS).json()["results"][0]["id"]
    rotated = p.api.post(f"{WEBHOOKS}{subscription_id}/rotate-secret/")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    receiver.secret = new

    # when an event is delivered
    admit(network, users, new_client(network))
    run_due(at())

    # then the new secret and the old one both verify it
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(request.body, request.headers)
    Webhook(old).verify(request.body, request.headers)


def test_a_day_after_a_rotation_only_the_new_secret_signs(make_partner, receiver):
    from backend.webhooks.models import WebhookSubscription
    from services.webhooks import signing_secrets

    p = make_partner("Rotator", scopes=["availability:read", "webhooks:manage"])
    old = subscribe(p, receiver, ["availability.changed"])["secret"]
    subscription_id = p.api.get(WEBHOOKS).json()["results"][0]["id"]
    new = p.api.post(f"{WEBHOOKS}{subscription_id}/rotate-secret/").json()["secret"]
    subscription = WebhookSubscription.objects.get(pk=subscription_id)
    ends = subscription.previous_secret_expires_at

    assert signing_secrets(subscription, now=ends - dt.timedelta(seconds=1)) == [new, old]
    assert signing_secrets(subscription, now=ends) == [new]


# --- the subscription API -----------------------------------------------------------


def test_the_secret_is_shown_at_creation_only(hospital, receiver):
    created = subscribe(hospital, receiver, ["client.admitted"])

    listed = hospital.api.get(WEBHOOKS).json()["results"]
    one = hospital.api.get(f"{WEBHOOKS}{created['id']}/").json()

    assert created["secret"].startswith("whsec_")
    assert "secret" not in listed[0]
    assert "secret" not in one
    assert one["events"] == ["client.admitted"]


@override_settings(DEBUG=False, WEBHOOKS_ALLOW_HTTP_LOCALHOST=False)
@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://hospital.example/hook", "ftp://x.example/", "nope"]
)
def test_a_url_that_is_not_https_is_a_400_naming_url(hospital, url):
    response = hospital.api.post(
        WEBHOOKS, {"url": url, "events": ["client.admitted"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "url"


def test_http_localhost_is_refused_when_not_allowed(hospital):
    with override_settings(DEBUG=False, WEBHOOKS_ALLOW_HTTP_LOCALHOST=False):
        response = hospital.api.post(
            WEBHOOKS,
            {"url": "http://localhost:8000/", "events": ["client.admitted"]},
            format="json",
        )

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == MSG_URL_SCHEME


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://h.example/", "events": ["client.exploded"]}, "events"),
        ({"url": "https://h.example/", "events": []}, "events"),
        ({"url": "https://h.example/", "events": ["client.admitted"], "purpose": "tpo"}, "purpose"),
        ({"events": ["client.admitted"]}, "url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(hospital, body, field):
    response = hospital.api.post(WEBHOOKS, body, format="json")

    assert response.status_code == 400
    assert field in {e["field"].split(".")[0] for e in response.json()["errors"]}


def test_a_partner_sees_only_its_own_subscriptions_and_deliveries(hospital, make_partner, receiver):
    # given another partner's subscription
    other = make_partner("Other", scopes=["webhooks:manage"])
    theirs = subscribe(other, receiver, ["availability.changed"])

    # when the hospital reads, changes, deletes it, or its deliveries
    paths = [f"{WEBHOOKS}{theirs['id']}/", f"{WEBHOOKS}{theirs['id']}/deliveries/"]
    answers = [hospital.api.get(p).status_code for p in paths]
    answers.append(hospital.api.patch(paths[0], {"is_active": False}, format="json").status_code)
    answers.append(hospital.api.delete(paths[0]).status_code)
    answers.append(hospital.api.post(f"{WEBHOOKS}{theirs['id']}/rotate-secret/").status_code)

    # then each is a 404, and its list is empty
    assert answers == [404] * 5
    assert hospital.api.get(WEBHOOKS).json()["results"] == []


def test_a_paused_or_deleted_subscription_gets_nothing(network, users, make_partner, receiver):
    p = make_partner("Planner", scopes=["availability:read", "webhooks:manage"])
    sub = subscribe(p, receiver, ["availability.changed"])
    # emitted while active, then paused before delivery: skipped
    admit(network, users, new_client(network))
    assert (
        p.api.patch(f"{WEBHOOKS}{sub['id']}/", {"is_active": False}, format="json").json()[
            "is_active"
        ]
        is False
    )
    run_due(at())
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SKIPPED

    # deleted: gone for the partner, and no delivery is made for later events
    assert p.api.delete(f"{WEBHOOKS}{sub['id']}/").status_code == 200
    assert p.api.get(f"{WEBHOOKS}{sub['id']}/").status_code == 404
    admit(network, users, new_client(network), now=at(1))
    run_due(at(1))
    assert WebhookDelivery.objects.count() == 1
    assert receiver.requests == []


def test_the_webhook_api_needs_the_webhooks_scope_and_a_partner(make_partner, api, users):
    p = make_partner("Reader", scopes=["availability:read"])

    assert p.api.get(WEBHOOKS).status_code == 403
    assert api.as_user(users.admin).get(WEBHOOKS).status_code == 403


def test_the_deliveries_list_costs_the_same_queries_for_2_as_for_12(
    network, users, make_partner, receiver
):
    # given a subscription with a log of 2 deliveries, then of 12, each tried at least twice
    p = make_partner("Planner", scopes=["availability:read", "webhooks:manage"])
    sub = subscribe(p, receiver, ["availability.changed"])
    receiver.fail_first = 10_000
    url = f"{WEBHOOKS}{sub['id']}/deliveries/"

    def log_of(n):
        while WebhookDelivery.objects.count() < n:
            minutes = WebhookDelivery.objects.count() * 10
            admit(network, users, new_client(network), program=network.austin_iop, now=at(minutes))
            run_due(at(minutes))
            run_due(at(minutes + 1))
        with CaptureQueriesContext(connection) as captured:
            response = p.api.get(url)
        assert response.status_code == 200
        assert len(response.json()["results"]) == n
        assert all(d["attempt_log"] for d in response.json()["results"])
        return len(captured)

    # then the cost does not grow with the rows
    assert log_of(2) == log_of(12)


GARBAGE = [None, [], {"a": [None]}, "", "x" * 10_000, "\x00", 0, -1, 10**30, 3.14, True]


def test_garbage_sent_by_the_partner_to_each_write_endpoint_never_makes_a_500(
    network, users, hospital, receiver, make_consent
):
    # given a subscription and a delivered event of the hospital's
    sub = subscribe(hospital, receiver, ["client.admitted"])
    client = new_client(network)
    make_consent(client, partner=hospital.partner, purpose="treatment")
    admit(network, users, client)
    run_due(at())
    delivery = WebhookDelivery.objects.get()
    targets = [
        ("post", WEBHOOKS, {"url": receiver.url, "events": ["client.admitted"]}),
        ("patch", f"{WEBHOOKS}{sub['id']}/", {"url": receiver.url, "is_active": True}),
        ("post", f"{WEBHOOKS}{sub['id']}/rotate-secret/", {}),
        ("post", f"/api/v1/partner/webhook-deliveries/{delivery.pk}/redeliver/", {}),
    ]

    for method, url, valid in targets:
        bodies = [*GARBAGE, *({**valid, f: g} for f in valid for g in GARBAGE)]
        for body in bodies:
            # when a garbled body is sent
            response = getattr(hospital.api, method)(url, body, format="json")

            # then it is never a server error, and each error is a problem document
            assert response.status_code < 500, (url, body, response.content[:300])
            if response.status_code >= 400:
                assert response["Content-Type"].startswith("application/problem+json")
        for raw in (b"{not json", b"[" * 10_000, b"\xff\xfe"):
            response = hospital.api.generic(
                method.upper(), url, raw, content_type="application/json"
            )
            assert response.status_code == 400, (url, raw[:20], response.content[:200])


def test_a_match_tells_the_sending_partner_its_referral_was_accepted(
    network, users, make_partner, receiver
):
    # given a partner's referral, and the partner subscribed to its referrals' changes
    sender = make_partner("Sender", scopes=["referrals:write", "referrals:read", "webhooks:manage"])
    subscribe(sender, receiver, ["referral.status_changed"])
    referral = partner_referrals.partner_referral_submit(
        partner=sender.partner,
        first_name="Ada",
        last_name="Example",
        date_of_birth=dt.date(1990, 1, 1),
        requested_level="detox",
        referrer_name="Dr. Planner",
        now=at(),
    )

    # when a coordinator registers the person as a client, then admits them
    referral = partner_referrals.partner_referral_register(
        actor=users.austin, referral=referral, registered_site=network.austin, now=at(1)
    )
    partner_referrals.partner_referral_admit(
        actor=users.austin, referral=referral, program=network.austin_detox, now=at(2)
    )
    run_due(at(2))

    # then the partner heard "accepted", then "admitted", and nothing about the client
    bodies = [Webhook(receiver.secret).verify(r.body, r.headers) for r in receiver.requests]
    assert sorted(b["data"]["status"] for b in bodies) == ["accepted", "admitted"]
    assert all(set(b["data"]) == {"referral", "status", "reason"} for b in bodies)


def test_an_admin_reads_the_log_and_redelivers_from_the_back_office(
    network, users, make_partner, receiver, client
):
    # given a failed availability delivery
    p = make_partner("Planner", scopes=["availability:read", "webhooks:manage"])
    subscribe(p, receiver, ["availability.changed"])
    receiver.fail_first = 10_000
    admit(network, users, new_client(network))
    run_until_settled(at())
    delivery = WebhookDelivery.objects.get(status=DeliveryStatus.FAILED)
    receiver.fail_first = 0
    users.admin.is_staff = True  # the back office's door; the role decides the pages
    users.admin.save()
    client.force_login(users.admin)

    # when an organisation admin opens the log and runs "redeliver" on it
    listed = client.get("/admin/webhooks/webhookdelivery/")
    shown = client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    client.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [str(delivery.pk)]},
    )
    run_due(timezone.now())

    # then the log showed it with its attempts, and the redelivery arrived
    assert listed.status_code == 200 and delivery.webhook_id in listed.content.decode()
    assert shown.status_code == 200 and "HTTP 500" in shown.content.decode()
    assert receiver.accepted == [delivery.webhook_id]
    # and a coordinator has no such page
    users.austin.is_staff = True
    users.austin.save()
    client.force_login(users.austin)
    assert client.get("/admin/webhooks/webhookdelivery/").status_code == 403
