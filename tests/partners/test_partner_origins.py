"""A partner's browser origins: checked and normalised in the API and the admin."""

import pytest

from backend.partners.models import Partner
from services.errors import InvalidInput
from services.partners import MAX_ORIGINS, origins_parse

URL = "/api/v1/partners/"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (["https://portal.example.org"], ["https://portal.example.org"]),
        (["HTTPS://Portal.Example.org"], ["https://portal.example.org"]),
        (["https://portal.example.org:443"], ["https://portal.example.org"]),
        (["https://portal.example.org:8443"], ["https://portal.example.org:8443"]),
        (
            ["http://localhost:3000", "http://localhost"],
            ["http://localhost:3000", "http://localhost"],
        ),
        (["https://a.example.org", " https://a.example.org "], ["https://a.example.org"]),
        ([], []),
    ],
)
def test_origins_are_kept_as_a_browser_sends_them(given, kept):
    assert origins_parse(given) == kept


@pytest.mark.parametrize(
    "origin",
    [
        "http://portal.example.org",
        "http://127.0.0.1:3000",
        "https://portal.example.org/",
        "https://portal.example.org/app",
        "https://portal.example.org?x=1",
        "https://portal.example.org#top",
        "https://user@portal.example.org",
        "https://*.example.org",
        "*",
        "portal.example.org",
        "ftp://portal.example.org",
        "https://portal.example.org:99999",
        "https://portal.example.org:",
        "https://-bad-.example.org",
        "https://",
        "null",
        "",
    ],
)
def test_anything_but_an_https_origin_or_http_localhost_is_refused(origin):
    with pytest.raises(InvalidInput) as error:
        origins_parse([origin])
    assert error.value.field == "allowed_origins"


def test_a_partner_lists_at_most_the_limit():
    many = [f"https://p{n}.example.org" for n in range(MAX_ORIGINS + 1)]

    with pytest.raises(InvalidInput):
        origins_parse(many)


def test_an_admin_sets_origins_at_registration_and_a_bad_one_is_a_400_naming_the_field(
    api, network, users
):
    admin = api.as_user(users.admin)
    body = {"name": "Portal Health", "scopes": [], "sites": []}

    # when registered with one good and then with one bad origin
    created = admin.post(
        URL, {**body, "allowed_origins": ["https://Portal.example.org"]}, format="json"
    )
    refused = admin.patch(
        f"{URL}{created.json()['partner']['id']}/",
        {"allowed_origins": ["http://portal.example.org"]},
        format="json",
    )

    # then the good one is kept normalised, the bad one named and nothing changed
    assert created.status_code == 201, created.content
    assert created.json()["partner"]["allowed_origins"] == ["https://portal.example.org"]
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "allowed_origins"
    assert Partner.objects.get().allowed_origins == ["https://portal.example.org"]


def test_the_admin_form_takes_one_origin_a_line(client, users, make_partner):
    # given an organisation admin in the Django admin
    partner = make_partner("Portal Health").partner
    users.admin.is_staff = True
    users.admin.save()
    client.force_login(users.admin)
    url = f"/admin/partners/partner/{partner.pk}/change/"
    form = {
        "name": partner.name,
        "kind": partner.kind,
        "scopes": "[]",
        "sites": [str(s.pk) for s in partner.sites.all()],
        "rate_limit": "",
        "contact_email": "",
        "is_active": "on",
    }

    # when they save two origins, then a bad one
    saved = client.post(
        url, {**form, "allowed_origins": "https://a.example.org\nhttp://localhost:5173\n"}
    )
    refused = client.post(url, {**form, "allowed_origins": "http://a.example.org"})

    # then the two are kept, the bad one is shown beside its field
    assert saved.status_code == 302, saved.content[:2000]
    partner.refresh_from_db()
    assert partner.allowed_origins == ["https://a.example.org", "http://localhost:5173"]
    assert refused.status_code == 200
    assert "is not an origin" in refused.content.decode()
    partner.refresh_from_db()
    assert partner.allowed_origins == ["https://a.example.org", "http://localhost:5173"]
