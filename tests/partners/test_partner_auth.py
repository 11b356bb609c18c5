"""Partner credentials: the client-credentials grant, scopes, staff endpoints
closed to partner tokens, Bearer staff tokens, revocation and rotation."""

import io

import pytest
from django.core.management import call_command
from oauth2_provider.models import AccessToken, Application
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from backend.api.permissions import MSG_PARTNER_ON_STAFF
from backend.partners.models import Partner
from services.partners import credential_add, credential_revoke, partner_suspend
from tests.partner_fixtures import oauth_token, partner_client

pytestmark = pytest.mark.django_db


def test_the_token_endpoint_grants_the_partners_own_scopes(make_partner):
    p = make_partner(scopes=["availability:read", "referrals:write"])

    response = oauth_token(p.credential.client_id, p.credential.client_secret)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert set(body["scope"].split()) == {"availability:read", "referrals:write"}
    assert body["expires_in"] == 3600


def test_credentials_in_the_form_body_work_too(make_partner):
    p = make_partner(scopes=["availability:read"])

    response = APIClient().post(
        "/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": p.credential.client_id,
            "client_secret": p.credential.client_secret,
        },
        format="multipart",
    )

    assert response.status_code == 200


def test_a_scope_the_partner_does_not_hold_is_refused(make_partner):
    p = make_partner(scopes=["availability:read"])

    response = oauth_token(p.credential.client_id, p.credential.client_secret, "clients:read")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_wrong_secret_gets_no_token(make_partner):
    p = make_partner()

    response = oauth_token(p.credential.client_id, "not-the-secret")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_the_secret_is_stored_hashed(make_partner):
    p = make_partner()

    stored = Application.objects.get(client_id=p.credential.client_id).client_secret

    assert stored != p.credential.client_secret
    assert p.credential.client_secret not in stored


@pytest.mark.parametrize(
    "path", ["/api/v1/clients/", "/api/v1/me/", "/api/v1/census/", "/api/v1/referrals/"]
)
def test_a_partner_token_on_a_staff_endpoint_is_a_403_with_no_data(make_partner, path):
    p = make_partner()

    response = p.api.get(path)

    assert response.status_code == 403
    assert response.json()["detail"] == MSG_PARTNER_ON_STAFF
    assert "results" not in response.json()


def test_staff_tokens_work_as_bearer_as_well_as_token(users):
    key = Token.objects.create(user=users.austin).key
    for scheme in ("Bearer", "Token"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")

        response = client.get("/api/v1/me/")

        assert response.status_code == 200, scheme
        assert response.json()["username"] == "coordinator.austin"


def test_an_unknown_bearer_token_is_a_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer nothing-like-it")

    assert client.get("/api/v1/me/").status_code == 401


def test_rotation_keeps_the_old_credential_working_until_it_is_revoked(make_partner):
    p = make_partner()
    old_api = p.api
    new = credential_add(partner=p.partner)
    new_api = partner_client(new)

    assert old_api.get("/api/v1/partner/availability/").status_code == 200
    assert new_api.get("/api/v1/partner/availability/").status_code == 200

    credential_revoke(partner=p.partner, client_id=p.credential.client_id)

    assert old_api.get("/api/v1/partner/availability/").status_code == 401
    assert new_api.get("/api/v1/partner/availability/").status_code == 200
    assert oauth_token(p.credential.client_id, p.credential.client_secret).status_code == 401


def test_the_last_credential_cannot_be_revoked(make_partner):
    from services.errors import InvalidInput

    p = make_partner()

    with pytest.raises(InvalidInput):
        credential_revoke(partner=p.partner, client_id=p.credential.client_id)


def test_a_suspended_partner_loses_its_tokens_and_gets_no_new_one(make_partner):
    p = make_partner()

    partner_suspend(partner=p.partner)

    assert p.api.get("/api/v1/partner/availability/").status_code == 401
    assert AccessToken.objects.filter(application__user=p.partner.user).count() == 0
    assert oauth_token(p.credential.client_id, p.credential.client_secret).status_code == 401


def test_a_revoked_access_token_stops_at_once(make_partner):
    p = make_partner()
    # The token the partner holds: the database keeps only its hash (RFC 9700 token storage).
    token = p.api._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")

    response = APIClient().post(
        "/oauth/revoke_token/",
        {
            "token": token,
            "client_id": p.credential.client_id,
            "client_secret": p.credential.client_secret,
        },
        format="multipart",
    )

    assert response.status_code == 200
    assert p.api.get("/api/v1/partner/availability/").status_code == 401


def test_create_partner_prints_the_id_and_secret_once(network):
    out = io.StringIO()

    call_command(
        "create_partner",
        "Lone Star Health Plan",
        "--scopes",
        "availability:read,episodes:read",
        "--sites",
        "austin,houston",
        "--kind",
        "health_plan",
        stdout=out,
    )

    lines = out.getvalue().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == ["client_id", "client_secret"]
    client_id, secret = (line.split("=", 1)[1] for line in lines)
    partner = Partner.objects.get(name="Lone Star Health Plan")
    assert partner.scopes == ["availability:read", "episodes:read"]
    assert {s.code for s in partner.sites.all()} == {"austin", "houston"}
    assert oauth_token(client_id, secret).status_code == 200


def test_create_partner_names_a_bad_scope(network):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="scopes: Unknown scope clients:write"):
        call_command("create_partner", "X", "--scopes", "clients:write", stdout=io.StringIO())
