"""/api/v1/partners/: organisation admins register partners, change what they
may reach, suspend them, and rotate their credentials without downtime."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.partners.models import Partner, Scope
from tests.partner_fixtures import oauth_token, partner_client

URL = "/api/v1/partners/"


def register(client, network, **changes):
    body = {
        "name": "St. Example Hospital",
        "kind": "treating_provider",
        "scopes": [Scope.AVAILABILITY_READ, Scope.REFERRALS_WRITE],
        "sites": [str(network.austin.pk)],
        **changes,
    }
    return client.post(URL, body, format="json")


def test_an_admin_registers_a_partner_whose_secret_is_shown_once_and_works(api, network, users):
    admin = api.as_user(users.admin)

    created = register(admin, network)

    assert created.status_code == 201, created.content
    assert created["Cache-Control"] == "no-store"
    body = created.json()
    credential = body["credential"]
    assert body["partner"]["scopes"] == ["availability:read", "referrals:write"]
    assert body["partner"]["sites"] == [str(network.austin.pk)]
    assert [c["client_id"] for c in body["partner"]["credentials"]] == [credential["client_id"]]
    # the secret works at the token endpoint, and is never shown again
    assert oauth_token(credential["client_id"], credential["client_secret"]).status_code == 200
    again = admin.get(f"{URL}{body['partner']['id']}/")
    assert credential["client_secret"] not in again.content.decode()
    assert credential["client_secret"] not in admin.get(URL).content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"scopes": ["everything"]}, "scopes"),
        ({"sites": ["00000000-0000-0000-0000-000000000000"]}, "sites"),
        ({"rate_limit": "lots"}, "rate_limit"),
        ({"kind": "friend"}, "kind"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_registration_is_a_400_naming_the_field(api, network, users, changes, field):
    response = register(api.as_user(users.admin), network, **changes)

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"].split(".")[0] == field  # "scopes.0": the item
    assert not Partner.objects.exists()


def test_a_second_partner_of_the_same_name_is_refused(api, network, users):
    admin = api.as_user(users.admin)
    register(admin, network)

    response = register(admin, network, name="st. example hospital")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


def test_anyone_but_an_organisation_admin_finds_no_such_endpoint(api, network, users, make_partner):
    partner = make_partner("Some Partner")
    for user in (users.austin, users.manager, users.alumni):
        caller = api.as_user(user)
        assert caller.get(URL).status_code == 404
        assert caller.get(f"{URL}{partner.partner.pk}/").status_code == 404
        assert register(caller, network, name="Sneaky").status_code == 404
    assert partner.api.get(URL).status_code == 403  # a partner's token: never a staff endpoint
    assert Partner.objects.count() == 1


def test_a_scope_taken_away_is_refused_on_the_partners_next_request(
    api, network, users, make_partner
):
    partner = make_partner("Hospital", scopes=[Scope.AVAILABILITY_READ, Scope.REFERRALS_READ])
    assert partner.api.get("/api/v1/partner/referrals/").status_code == 200

    changed = api.as_user(users.admin).patch(
        f"{URL}{partner.partner.pk}/",
        {"scopes": [Scope.AVAILABILITY_READ], "rate_limit": "100/min"},
        format="json",
    )

    assert changed.status_code == 200, changed.content
    assert (changed.json()["scopes"], changed.json()["rate_limit"]) == (
        ["availability:read"],
        "100/min",
    )
    assert partner.api.get("/api/v1/partner/referrals/").status_code == 403
    assert partner.api.get("/api/v1/partner/availability/").status_code == 200


def test_suspension_ends_the_partners_tokens_and_reactivation_lets_it_back(
    api, network, users, make_partner
):
    partner = make_partner("Hospital")
    admin = api.as_user(users.admin)

    suspended = admin.post(f"{URL}{partner.partner.pk}/suspend/")
    assert suspended.json()["is_active"] is False
    assert partner.api.get("/api/v1/partner/availability/").status_code == 401
    assert oauth_token(
        partner.credential.client_id, partner.credential.client_secret
    ).status_code in (
        400,
        401,
    )

    admin.post(f"{URL}{partner.partner.pk}/reactivate/")
    fresh = partner_client(partner.credential)
    assert fresh.get("/api/v1/partner/availability/").status_code == 200


def test_rotation_without_downtime(api, network, users, make_partner):
    # given a partner working with its first credential
    partner = make_partner("Hospital")
    admin = api.as_user(users.admin)
    old = partner.credential

    # when a second is issued, both work
    issued = admin.post(f"{URL}{partner.partner.pk}/credentials/")
    assert issued.status_code == 201
    new = issued.json()
    on_new = partner_client(type(old)(new["client_id"], new["client_secret"]))
    assert partner.api.get("/api/v1/partner/availability/").status_code == 200
    assert on_new.get("/api/v1/partner/availability/").status_code == 200

    # and when the old is revoked, its tokens end and the new one goes on
    revoked = admin.post(f"{URL}{partner.partner.pk}/credentials/{old.client_id}/revoke/")
    assert revoked.status_code == 200
    assert [c["client_id"] for c in revoked.json()["credentials"]] == [new["client_id"]]
    assert partner.api.get("/api/v1/partner/availability/").status_code == 401
    assert on_new.get("/api/v1/partner/availability/").status_code == 200

    # and the last credential cannot be revoked
    last = admin.post(f"{URL}{partner.partner.pk}/credentials/{new['client_id']}/revoke/")
    assert last.status_code == 400


def test_the_partner_list_costs_the_same_queries_for_2_and_for_8(api, network, users, make_partner):
    admin = api.as_user(users.admin)

    def cost():
        with CaptureQueriesContext(connection) as queries:
            response = admin.get(URL)
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    for i in range(2):
        make_partner(f"Partner {i}")
    few = cost()
    for i in range(2, 8):
        make_partner(f"Partner {i}")
    many = cost()

    assert (many[0], many[1]) == (few[0], 8)
