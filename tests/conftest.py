"""Test-wide setup: markers for the real servers, and the fixtures every suite uses.

`@pytest.mark.postgres` tests need the default database to be PostgreSQL
(DATABASE_URL); `@pytest.mark.redis` tests need REDIS_URL. Elsewhere they are
skipped, except under CI=true, where a missing server fails the run.
"""

import os

import pytest
from django.db import connection

pytest_plugins = ["tests.fixtures", "tests.partner_fixtures", "tests.webhook_receiver"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _require_servers(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _missing("this test needs PostgreSQL: set DATABASE_URL=postgres://...")
    if request.node.get_closest_marker("redis"):
        from django.conf import settings

        if not settings.REDIS_URL:
            _missing("this test needs Redis: set REDIS_URL=redis://...")
