"""Idempotency-Key on partner POSTs, and the per-partner rate limit."""

import datetime as dt
import threading

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from backend.aftercare.models import Referral
from backend.partners.models import IdempotencyRecord
from services.idempotency import idempotency_purge
from tests.partner_fixtures import oauth_token

URL = "/api/v1/partner/referrals/"
PERSON = {
    "first_name": "Riley",
    "last_name": "Sample",
    "date_of_birth": "1985-02-03",
    "requested_level": "residential",
    "referrer_name": "Case Manager",
}


@pytest.fixture
def hospital(make_partner):
    return make_partner("Idempotent Hospital")


def post(partner, body=None, key="key-1"):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return partner.api.post(URL, body or PERSON, format="json", **headers)


def test_the_same_key_and_body_get_the_first_answer_and_act_once(hospital):
    first = post(hospital)
    again = post(hospital)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert "Idempotent-Replayed" not in first
    assert Referral.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422_and_acts_not(hospital):
    post(hospital)
    other = post(hospital, {**PERSON, "first_name": "Someone"})

    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert other.json()["code"] == "idempotency_key_reused"
    assert Referral.objects.count() == 1


def test_without_a_key_each_post_acts(hospital):
    post(hospital, key=None)
    post(hospital, key=None)

    assert Referral.objects.count() == 2


def test_a_refused_request_frees_its_key(hospital):
    refused = post(hospital, {**PERSON, "referrer_name": ""})
    fixed = post(hospital)

    assert (refused.status_code, fixed.status_code) == (400, 201)
    assert Referral.objects.count() == 1


def test_keys_are_per_partner(hospital, make_partner):
    other = make_partner("Other Hospital")

    assert post(hospital).json()["id"] != post(other).json()["id"]
    assert Referral.objects.count() == 2


def test_a_key_is_kept_24_hours(hospital):
    post(hospital)
    record = IdempotencyRecord.objects.get()

    # within the day, a replay; a day later, the same key acts again
    record.created_at = timezone.now() - dt.timedelta(hours=23, minutes=59)
    record.save()
    assert post(hospital)["Idempotent-Replayed"] == "true"
    record.created_at = timezone.now() - dt.timedelta(hours=24, minutes=1)
    record.save()
    assert "Idempotent-Replayed" not in post(hospital)
    assert Referral.objects.count() == 2


def test_the_purge_forgets_keys_older_than_a_day(hospital):
    post(hospital, key="old")
    post(hospital, key="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )

    assert idempotency_purge(now=timezone.now()) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize("key", ["", " ", "k" * 256])
def test_a_blank_or_overlong_key_is_a_400(hospital, key):
    response = post(hospital, key=key)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Referral.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_with_one_key_create_one_referral(live_server, make_partner):
    # given a partner with an access token, against a real server
    partner = make_partner("Racing Hospital")
    token = oauth_token(partner.credential.client_id, partner.credential.client_secret).json()[
        "access_token"
    ]
    contenders = 6
    barrier = threading.Barrier(contenders)
    answers = [None] * contenders

    def send(index):
        try:
            with httpx.Client(base_url=live_server.url, timeout=30) as http:
                barrier.wait(timeout=10)
                answers[index] = http.post(
                    URL,
                    json=PERSON,
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "same"},
                )
        finally:
            connection.close()

    # when the same request is sent six times at once
    threads = [threading.Thread(target=send, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then each got the same 201, and one referral exists
    assert [a.status_code for a in answers] == [201] * contenders, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == contenders - 1
    assert Referral.objects.count() == 1


def test_a_partner_over_its_rate_limit_gets_a_429_with_retry_after(make_partner):
    limited = make_partner("Busy Hospital")
    limited.partner.rate_limit = "3/min"
    limited.partner.save()
    calm = make_partner("Calm Hospital")

    answers = [limited.api.get("/api/v1/partner/referrals/") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    assert answers[-1].json()["status"] == 429
    assert calm.api.get("/api/v1/partner/referrals/").status_code == 200


def test_every_partner_post_documents_the_idempotency_key(db):
    # given the schema as a partner's generator reads it
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    posts = [
        (path, item["post"])
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/partner/") and "post" in item
    ]

    # then each partner POST takes the header
    assert len(posts) >= 4
    for path, operation in posts:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path


def test_a_retried_webhook_subscription_creates_one(make_partner):
    from backend.webhooks.models import WebhookSubscription

    partner = make_partner("Hooked Hospital")
    body = {"url": "https://hospital.example/hooks", "events": ["referral.status_changed"]}
    headers = {"HTTP_IDEMPOTENCY_KEY": "hook-1"}

    first = partner.api.post("/api/v1/partner/webhooks/", body, format="json", **headers)
    again = partner.api.post("/api/v1/partner/webhooks/", body, format="json", **headers)

    assert first.status_code == again.status_code == 201, first.content
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert WebhookSubscription.objects.count() == 1
