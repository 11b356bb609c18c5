"""CORS: closed by default, opened per partner origin on the partner surfaces only."""

import pytest

from backend.partners.models import Partner
from services.partners import partner_suspend

PORTAL = "https://portal.st-example.org"
AVAILABILITY = "/api/v1/partner/availability/"


def preflight(api, path, origin, method="GET"):
    return api.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )


@pytest.fixture
def portal_partner(make_partner):
    """A partner whose portal, at PORTAL, calls the partner API from the browser."""
    partner = make_partner("St. Example Hospital")
    Partner.objects.filter(pk=partner.partner.pk).update(allowed_origins=[PORTAL])
    return partner


@pytest.mark.parametrize("path", [AVAILABILITY, "/oauth/token/", "/fhir/metadata"])
def test_a_listed_origins_preflight_is_allowed_on_each_partner_surface(api, portal_partner, path):
    # given a partner that lists its portal's origin
    # when the browser asks before a cross-origin call
    response = preflight(api, path, PORTAL, method="POST")

    # then the answer allows that origin (only), with the headers a partner sends
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == PORTAL
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_a_listed_origins_actual_request_is_allowed_and_may_read_the_request_id(portal_partner):
    # given the portal's page holding the partner's token
    # when it reads availability across origins
    response = portal_partner.api.get(AVAILABILITY, HTTP_ORIGIN=PORTAL)

    # then the answer carries the grant, and the script may read the request id
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == PORTAL
    assert "x-request-id" in response["Access-Control-Expose-Headers"]
    assert "origin" in response["Vary"].lower()


def test_an_unknown_origin_gets_no_grant(api, portal_partner):
    # given a page of another site
    elsewhere = "https://attacker.example.net"

    # when it asks for the partner API, before and for real
    before = preflight(api, AVAILABILITY, elsewhere)
    actual = portal_partner.api.get(AVAILABILITY, HTTP_ORIGIN=elsewhere)

    # then neither answer allows it, so the browser keeps the response from the script
    assert "Access-Control-Allow-Origin" not in before
    assert "Access-Control-Allow-Origin" not in actual
    # and a listed origin differing only in scheme or port is another origin
    for near in ("http://portal.st-example.org", "https://portal.st-example.org:8443"):
        assert "Access-Control-Allow-Origin" not in preflight(api, AVAILABILITY, near)


def test_the_staff_api_and_pages_never_answer_cors_even_for_a_listed_origin(
    api, users, portal_partner
):
    # given an origin that a partner lists
    coordinator = api.as_user(users.austin)

    # when a page there calls the staff API or a page, before and for real
    answers = [
        preflight(api, "/api/v1/clients/", PORTAL),
        preflight(api, "/api/v1/auth/token/", PORTAL, method="POST"),
        coordinator.get("/api/v1/clients/", HTTP_ORIGIN=PORTAL),
        api.get("/accounts/login/", HTTP_ORIGIN=PORTAL),
        preflight(api, "/api/v1/partners/", PORTAL),
    ]

    # then none allows the origin
    for response in answers:
        assert "Access-Control-Allow-Origin" not in response, response.request["PATH_INFO"]


def test_a_suspended_partners_origin_is_refused_at_once_and_again_allowed_on_reactivation(
    api, users, portal_partner
):
    # given the portal allowed a moment ago
    assert preflight(api, AVAILABILITY, PORTAL)["Access-Control-Allow-Origin"] == PORTAL

    # when an organisation admin suspends the partner
    partner_suspend(actor=users.admin, partner=portal_partner.partner)

    # then the very next preflight gets no grant
    assert "Access-Control-Allow-Origin" not in preflight(api, AVAILABILITY, PORTAL)
    # and reactivating opens it again
    reactivated = api.as_user(users.admin).post(
        f"/api/v1/partners/{portal_partner.partner.pk}/reactivate/"
    )
    assert reactivated.status_code == 200
    assert preflight(api, AVAILABILITY, PORTAL)["Access-Control-Allow-Origin"] == PORTAL


def test_an_origin_removed_by_the_admin_is_refused_on_the_next_request(api, users, portal_partner):
    # given the portal allowed
    admin = api.as_user(users.admin)

    # when the admin replaces the partner's origins
    changed = admin.patch(
        f"/api/v1/partners/{portal_partner.partner.pk}/",
        {"allowed_origins": ["http://localhost:3000"]},
        format="json",
    )

    # then the old origin is refused and the new one allowed, from the next request
    assert changed.status_code == 200, changed.content
    assert changed.json()["allowed_origins"] == ["http://localhost:3000"]
    assert "Access-Control-Allow-Origin" not in preflight(api, AVAILABILITY, PORTAL)
    allowed = preflight(api, AVAILABILITY, "http://localhost:3000")
    assert allowed["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_without_a_listed_origin_cors_is_closed(api, make_partner):
    # given partners that list no origin (the default)
    make_partner("Quiet Partner")

    # when any origin asks
    response = preflight(api, AVAILABILITY, PORTAL)

    # then none is allowed
    assert "Access-Control-Allow-Origin" not in response
