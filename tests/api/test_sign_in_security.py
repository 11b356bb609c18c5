"""Signing in: Argon2 hashes, a password policy, a 401 for bad credentials,
lockout after repeated failures on every way in (django-axes), and staff tokens
that expire and can be revoked."""

import datetime as dt
import importlib

import httpx
import pytest
import time_machine
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from backend.accounts.lockout import MSG_LOCKED_OUT
from backend.api.authentication import MSG_TOKEN_EXPIRED
from tests.concurrency import race
from tests.factories import UserFactory

PASSWORD = "pw-for-tests-only"
TOKEN_URL = "/api/v1/auth/token/"


def sign_in(client, username, password):
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_passwords_are_hashed_with_argon2_outside_the_tests(settings):
    base = importlib.import_module("backend.settings.base")
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS  # the tests' own is a fast MD5

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hashed = make_password("correct horse battery")
    assert identify_hasher(hashed).algorithm == "argon2"
    assert check_password("correct horse battery", hashed)


def test_the_password_policy_refuses_short_common_and_numeric_passwords(db):
    for weak in ("short1", "password1234", "123456789012"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("a long unusual passphrase")


def test_the_fifth_failure_locks_the_username_at_that_address_out_of_the_api(users):
    client = APIClient()

    failures = [sign_in(client, "coordinator.austin", "wrong").status_code for _ in range(5)]
    locked = sign_in(client, "coordinator.austin", PASSWORD)

    assert failures == [401, 401, 401, 401, 429]
    # and then even the right password is refused, with a 429 that says why
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/problem+json"
    assert locked.json()["code"] == "locked_out"
    assert locked.json()["detail"] == MSG_LOCKED_OUT.format(minutes=15)
    assert int(locked["Retry-After"]) == 15 * 60
    # another username from the same address is not locked out
    assert sign_in(client, "coordinator.houston", PASSWORD).status_code == 200


def test_the_lockout_ends_after_the_cool_off_and_a_success_resets_the_count(users):
    client = APIClient()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            sign_in(client, "coordinator.austin", "wrong")
        assert sign_in(client, "coordinator.austin", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert sign_in(client, "coordinator.austin", PASSWORD).status_code == 200
        # the count starts again from zero after a success
        for _ in range(3):
            sign_in(client, "coordinator.austin", "wrong")
        assert sign_in(client, "coordinator.austin", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("url", "fields"),
    [("/accounts/login/", {}), ("/admin/login/", {"next": "/admin/"})],
    ids=["sign-in page", "admin"],
)
def test_the_sign_in_page_and_the_admin_lock_out_too(users, url, fields):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    browser = Client()

    for _ in range(4):
        refused = browser.post(url, {"username": "boss", "password": "wrong", **fields})
        assert refused.status_code == 200  # the form again, with its error
    assert browser.post(url, {"username": "boss", "password": "x", **fields}).status_code == 429
    locked = browser.post(url, {"username": "boss", "password": PASSWORD, **fields})

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in browser.session


def test_a_staff_token_expires_and_a_new_sign_in_issues_another(users):
    client = APIClient()
    key = sign_in(client, "coordinator.austin", PASSWORD).json()["token"]
    Token.objects.filter(key=key).update(created=timezone.now() - dt.timedelta(hours=12, seconds=1))

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    expired = client.get("/api/v1/me/")

    assert expired.status_code == 401
    assert expired.json()["detail"] == MSG_TOKEN_EXPIRED
    assert not Token.objects.filter(key=key).exists()
    client.credentials()
    fresh = sign_in(client, "coordinator.austin", PASSWORD).json()["token"]
    assert fresh != key
    client.credentials(HTTP_AUTHORIZATION=f"Token {fresh}")
    assert client.get("/api/v1/me/").status_code == 200


def test_an_old_token_is_replaced_at_sign_in(users):
    client = APIClient()
    old = Token.objects.create(user=users.austin)
    Token.objects.filter(pk=old.pk).update(created=timezone.now() - dt.timedelta(hours=13))

    issued = sign_in(client, "coordinator.austin", PASSWORD).json()["token"]

    assert issued != old.key


def test_a_token_is_revoked_by_delete(users):
    client = APIClient()
    key = sign_in(client, "coordinator.austin", PASSWORD).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    revoked = client.delete(TOKEN_URL)

    assert (revoked.status_code, revoked.json()) == (200, {"revoked": True})
    assert client.get("/api/v1/me/").status_code == 401
    client.credentials()
    assert client.delete(TOKEN_URL).status_code == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sign_ins_at_once_over_an_expired_token_all_get_the_one_new_token(live_server, users):
    # given a coordinator whose token has expired, and six of their clients signing in at once
    old = Token.objects.create(user=users.austin)
    Token.objects.filter(pk=old.pk).update(created=timezone.now() - dt.timedelta(hours=13))
    contenders = 6

    def sign_in_over_http():
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            return http.post(
                "/api/v1/auth/token/",
                json={"username": "coordinator.austin", "password": PASSWORD},
            )

    # when they all sign in at once
    answers = race([sign_in_over_http] * contenders)

    # then every one got a 200 with the same new token, and the user has one token
    assert [a.status_code for a in answers] == [200] * contenders, [a.text for a in answers]
    keys = {a.json()["token"] for a in answers}
    assert len(keys) == 1
    assert keys != {old.key}
    assert list(Token.objects.filter(user=users.austin).values_list("key", flat=True)) == [*keys]
