"""Headers on every response: no caching of personal data, and a Content-Security-Policy."""

import pytest
from django.test import Client

from backend.security import CONTENT_SECURITY_POLICY, REDOC_CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db

PHI_PATHS = [
    "/api/v1/clients/",
    "/api/v1/me/",
    "/fhir/Patient",
    "/board/",
    "/clients/new/",
    "/transfers/",
    "/referrals/",
    "/follow-ups/",
    "/dashboard/census/",
    "/dashboard/aftercare/",
    "/admin/",
]


@pytest.fixture
def signed_in(users):
    client = Client()
    client.force_login(users.admin)
    return client


@pytest.mark.parametrize("path", PHI_PATHS)
def test_no_response_that_may_carry_personal_data_is_cached(signed_in, path):
    # given a signed-in user
    # when any API, FHIR, workspace, dashboard or admin address answers
    response = signed_in.get(path)

    # then no browser or proxy may keep it, whatever its status
    assert response.status_code < 500
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/v1/clients/", "/board/", "/api/v1/nowhere/"])
def test_anonymous_answers_are_not_cached_either(path):
    response = Client().get(path)

    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path", ["/board/", "/dashboard/census/", "/accounts/login/", "/admin/", "/api/docs/"]
)
def test_every_html_page_carries_the_content_security_policy(signed_in, path):
    # when an HTML page answers
    response = signed_in.get(path, follow=True)

    # then it carries our policy: our own static files only, no inline code, no framing
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_redoc_alone_may_write_styles_at_run_time_and_loads_nothing_from_outside(signed_in):
    response = signed_in.get("/api/redoc/")

    assert response["Content-Security-Policy"] == REDOC_CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in REDOC_CONTENT_SECURITY_POLICY
    body = response.content.decode()
    assert "https://" not in body
    assert "<style" not in body


def test_swagger_ui_runs_no_inline_script(signed_in):
    # given the page, and its start script served as a file of its own
    body = signed_in.get("/api/docs/").content.decode()
    script = signed_in.get("/api/docs/?script=")

    # then every <script> has a src, and the script is JavaScript from our origin
    assert "<script>" not in body
    assert "<style" not in body
    assert "https://" not in body
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_json_responses_carry_no_page_policy(signed_in):
    response = signed_in.get("/api/v1/me/")

    assert "Content-Security-Policy" not in response
