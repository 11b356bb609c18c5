"""Fixtures of the page tests: a signed-in browser session (Django's test
client), and the `chromium` marker for tests in a real headless Chromium.

`@pytest.mark.chromium` tests need Debian's chromium (CHROMIUM, default
/usr/bin/chromium) and the Playwright package: without them they are skipped,
except under CI=true, where they fail the run (as the postgres and redis
markers do, tests/conftest.py).
"""

import importlib.util
import os

import pytest
from django.test import Client

from tests.conftest import _missing

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _require_chromium(request):
    if not request.node.get_closest_marker("chromium"):
        return
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"this test needs Chromium at {CHROMIUM}: apt-get install chromium")
    if importlib.util.find_spec("playwright") is None:
        _missing("this test needs Playwright: pip install -e '.[dev]'")


@pytest.fixture
def session_as():
    """`session_as(user)`: Django's test client with `user` signed in (a session)."""

    def sign_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def outsider(network):
    """A coordinator at Dallas, a third site none of these clients touches."""
    from services.access import Role, role_grant
    from tests.factories import SiteFactory, UserFactory

    dallas = SiteFactory(code="dallas", name="Dallas")
    user = UserFactory(username="coordinator.dallas")
    role_grant(user=user, role=Role.CARE_COORDINATOR, site=dallas)
    return user
