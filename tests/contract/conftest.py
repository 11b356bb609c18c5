"""The callers of the contract run and the records their requests find.

Each caller gets the same small scene, built anew for each test: tests/api's
`austin_record` (a client in Austin detox with a requested move, a client with an
approved one, its hand-off, a checklist item and a notification, an Austin alumnus
with a due follow-up and a referral back into care), and a partner with every
scope at Austin with a consent from the first client naming it. `ids` maps the
resource before a path parameter (`clients` in /api/v1/clients/{id}/journey/) to
the id that the request should name, so that generated requests reach the records
rather than a 404 each time.
"""

from types import SimpleNamespace

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from backend.partners.models import PartnerKind
from tests.api.conftest import austin_record  # noqa: F401 (the fixture, shared)
from tests.partner_fixtures import oauth_token


@pytest.fixture
def scene(austin_record, make_partner, make_consent):  # noqa: F811
    # A treating provider: its reads default to the treatment purpose (an "other"
    # partner must name one on each read, which no schema can say of one caller).
    partner = make_partner("Contract Hospital", kind=PartnerKind.TREATING_PROVIDER)
    consent = make_consent(austin_record.client, partner=partner.partner)
    ids = {
        **austin_record.ids,
        "items": austin_record.ids["handoff-items"],
        "consents": consent.pk,
        "partners": partner.partner.pk,
        "credentials": partner.credential.client_id,
        # The partner API's: the consented client and its consent; the partner's
        # referrals and webhooks come from the responses that create them.
        "partner/clients": austin_record.client.pk,
        "partner/consents": consent.pk,
    }
    return SimpleNamespace(ids=ids, partner=partner)


def _as_caller(name: str, headers: dict, scene):
    # Django's WSGI handler closes the database connection after each request, which
    # would end the test's transaction; Django's test client unhooks it the same way
    # (and hooks it again after each of its requests, so this comes after the scene).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield SimpleNamespace(name=name, headers=headers, ids=scene.ids)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["admin", "coordinator"])
def staff_caller(request, users, scene):
    """An organisation admin or Austin's care coordinator, with a staff API token."""
    user = users.admin if request.param == "admin" else users.austin
    token, _ = Token.objects.get_or_create(user=user)
    yield from _as_caller(request.param, {"Authorization": f"Token {token.key}"}, scene)


@pytest.fixture
def partner_caller(scene):
    """The scene's partner, with an OAuth2 access token from POST /oauth/token/."""
    credential = scene.partner.credential
    response = oauth_token(credential.client_id, credential.client_secret)
    assert response.status_code == 200, response.content
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    yield from _as_caller("partner", headers, scene)
