"""A signed-in session ends after SESSION_IDLE_TIMEOUT_MINUTES (15 by default)
without the user's own requests; the board's background refresh does not
count as activity."""

import time

import pytest
from django.conf import settings

from backend.workspaces.middleware import LAST_SEEN

pytestmark = pytest.mark.django_db


def _idle(browser, seconds: float) -> None:
    """Pretend the last request the user made was `seconds` ago."""
    session = browser.session
    session[LAST_SEEN] = time.time() - seconds
    session.save()


def test_the_default_is_fifteen_minutes():
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 15


def test_a_request_within_the_limit_keeps_the_session(session_as, users):
    browser = session_as(users.austin)
    browser.get("/board/")
    _idle(browser, 14 * 60)

    assert browser.get("/board/").status_code == 200


def test_after_the_limit_the_user_is_signed_out_and_told_why(session_as, users):
    browser = session_as(users.austin)
    browser.get("/board/")
    _idle(browser, 15 * 60 + 1)

    response = browser.get("/board/", follow=True)

    assert response.redirect_chain[0] == ("/accounts/login/?next=/board/", 302)
    assert b"signed out after 15 minutes without activity" in response.content
    assert browser.get("/board/").status_code == 302  # still signed out


def test_the_limit_is_configurable(session_as, users, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 2
    browser = session_as(users.austin)
    browser.get("/board/")
    _idle(browser, 3 * 60)

    assert browser.get("/board/").status_code == 302


def test_the_boards_own_refresh_is_not_activity(session_as, users):
    browser = session_as(users.austin)
    browser.get("/board/")
    _idle(browser, 10 * 60)

    # the board refreshes its counts in the background, every minute
    refresh = browser.get("/board/counts/", headers={"X-Background-Refresh": "1"})
    assert refresh.status_code == 200

    # so ten more minutes later, nobody having touched it, the session is over
    _age_by(browser, 10 * 60)
    assert browser.get("/board/").status_code == 302


def _age_by(browser, seconds: float) -> None:
    session = browser.session
    session[LAST_SEEN] = session[LAST_SEEN] - seconds
    session.save()


def test_an_in_page_request_after_the_limit_sends_the_whole_page_to_sign_in(session_as, users):
    browser = session_as(users.austin)
    browser.get("/board/")
    _idle(browser, 16 * 60)

    response = browser.get(
        "/board/counts/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/board/"},
    )

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=/board/"
