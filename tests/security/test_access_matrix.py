"""The access matrix: every operation, every role, against the records of a
foreign site (docs/security.md, "Access control").

The world is built once for the module: a client of Austin in detox with a
requested transfer, a second one moving with a hand-off, an alumnus with
follow-ups and a referral, a consent, and a partner of Austin with a webhook,
a delivery and a referral of its own. The callers are of Houston, or of no
site, or partners that may not read those records. Each cell of MATRIX is
one request, in a savepoint rolled back after it: its expected status, and
in every response (list, CSV, page, error) no id or name of a record the
caller may not see.

The completeness tests hold MATRIX to the URL configuration and the OpenAPI
schema: an endpoint added without a row fails here.
"""

import json
import re
import uuid
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from backend.api.renderers import CSVRenderer
from backend.partners.models import PartnerKind
from services.partners import partner_create
from services.referrals.partner import partner_referral_submit
from tests.api.conftest import austin_record_build
from tests.api.helpers import api_routes
from tests.factories import placed_client
from tests.fixtures import network_build, users_build
from tests.partner_fixtures import (
    ALL_SCOPES,
    consent_make,
    partner_client,
    webhook_with_delivery,
)

pytestmark = pytest.mark.django_db

# --- the roles --------------------------------------------------------------
#
#   coord  care coordinator of Houston
#   mgr    site manager of Houston
#   alum   alumni coordinator (the alumni level at every site)
#   admin  organisation admin
#   nosc   a partner of Austin with no scope at all
#   nocon  a partner of Austin and Houston with every scope and no consent
#   anon   no credentials
ROLES = ["coord", "mgr", "alum", "admin", "nosc", "nocon", "anon"]

# What of the foreign world each role may legitimately see (the keys of
# `world.objects`); every other object's id and name must never be in a body.
ALUMNUS = {"alumnus", "alumnus_episode", "follow_up", "referral", "aftercare_plan"}
STAFF_RECORDS = {
    "client",
    "episode",
    "placement",
    "transfer",
    "moving",
    "approved",
    "handoff",
    "item",
    "consent",
    "partner_referral",
    "partner",
    "cid",
} | ALUMNUS
SEES = {
    "coord": set(),
    "mgr": set(),
    "alum": ALUMNUS,
    "admin": STAFF_RECORDS,
    "nosc": set(),
    "nocon": set(),
    "anon": set(),
}

# --- the matrix ---------------------------------------------------------------
#
# One row per operation; `{name}` is the id of the foreign object `name`.
# A cell is the status expected, and no record the role may not see is in
# the body; `sees` is a 200 that shows the foreign site's records the role
# may see (the control that the search for ids and names finds them).
# 302 is the sign-in page's redirect.
MATRIX = """
operation                                                   coord mgr   alum  admin nosc  nocon anon
GET    /api/v1/                                             200   200   200   200   200   200   200
DELETE /api/v1/auth/token/                                  200   200   200   200   401   401   401
POST   /api/v1/auth/token/                                  400   400   400   400   400   400   400
GET    /api/v1/me/                                          200   200   200   200   403   403   401
GET    /api/v1/ops/work/                                    404   404   404   sees  403   403   401
GET    /api/v1/audit/                                       404   404   404   sees  403   403   401
GET    /api/v1/audit/?format=csv                            404   404   404   sees  403   403   401
GET    /api/v1/audit/?client={client}                       404   404   404   sees  403   403   401
GET    /api/v1/census/                                      200   200   200   200   403   403   401
GET    /api/v1/census/?site={site}                          404   404   200   200   403   403   401
GET    /api/v1/census/?format=csv                           200   200   200   200   403   403   401
GET    /api/v1/census/daily/                                200   200   200   200   403   403   401
GET    /api/v1/census/daily/?site={site}                    404   404   200   200   403   403   401
GET    /api/v1/census/daily/?format=csv                     200   200   200   200   403   403   401
GET    /api/v1/census/movement/                             200   200   200   200   403   403   401
GET    /api/v1/census/movement/?format=csv                  200   200   200   200   403   403   401
GET    /api/v1/census/length-of-stay/                       200   200   200   200   403   403   401
GET    /api/v1/census/length-of-stay/?format=csv            200   200   200   200   403   403   401
GET    /api/v1/aftercare/metrics/                           200   200   200   200   403   403   401
GET    /api/v1/aftercare/metrics/?site={site}               404   404   200   200   403   403   401
GET    /api/v1/aftercare/metrics/?format=csv                200   200   200   200   403   403   401
GET    /api/v1/levels-of-care/                              200   200   200   200   403   403   401
GET    /api/v1/levels-of-care/{level}/                      200   200   200   200   403   403   401
GET    /api/v1/sites/                                       200   200   200   200   403   403   401
GET    /api/v1/sites/{site}/                                200   200   200   200   403   403   401
GET    /api/v1/programs/                                    200   200   200   200   403   403   401
GET    /api/v1/programs/{program}/                          200   200   200   200   403   403   401
GET    /api/v1/clients/                                     200   200   200   sees  403   403   401
GET    /api/v1/clients/?name=Vexbridge                      200   200   200   sees  403   403   401
GET    /api/v1/clients/?mrn={mrn}                           200   200   200   sees  403   403   401
POST   /api/v1/clients/                                     403   403   403   201   403   403   401
GET    /api/v1/clients/{client}/                            404   404   404   sees  403   403   401
PATCH  /api/v1/clients/{client}/                            404   404   404   sees  403   403   401
GET    /api/v1/clients/{client}/journey/                    404   404   404   sees  403   403   401
GET    /api/v1/clients/{alumnus}/aftercare-plan/            404   404   sees  sees  403   403   401
PATCH  /api/v1/clients/{alumnus}/aftercare-plan/            404   404   sees  sees  403   403   401
PUT    /api/v1/clients/{alumnus}/aftercare-plan/            404   404   sees  sees  403   403   401
GET    /api/v1/clients/{client}/consents/                   404   404   404   sees  403   403   401
POST   /api/v1/clients/{client}/consents/                   404   404   404   400   403   403   401
GET    /api/v1/clients/{client}/disclosures/                404   404   404   200   403   403   401
GET    /api/v1/clients/{client}/disclosures/?format=csv     404   404   404   200   403   403   401
GET    /api/v1/episodes/                                    200   200   200   sees  403   403   401
GET    /api/v1/episodes/?client={client}                    200   200   200   sees  403   403   401
POST   /api/v1/episodes/                                    400   400   400   409   403   403   401
GET    /api/v1/episodes/{episode}/                          404   404   404   sees  403   403   401
POST   /api/v1/episodes/{episode}/discharge/                404   404   404   400   403   403   401
GET    /api/v1/placements/                                  200   200   200   sees  403   403   401
GET    /api/v1/placements/?client={client}                  200   200   200   sees  403   403   401
GET    /api/v1/placements/{placement}/                      404   404   404   sees  403   403   401
GET    /api/v1/transfers/                                   200   200   200   sees  403   403   401
GET    /api/v1/transfers/?client={client}                   200   200   200   sees  403   403   401
GET    /api/v1/transfers/?from_site={site}                  200   200   200   sees  403   403   401
POST   /api/v1/transfers/                                   400   400   400   409   403   403   401
GET    /api/v1/transfers/{transfer}/                        404   404   404   sees  403   403   401
POST   /api/v1/transfers/{transfer}/approve/                404   404   404   sees  403   403   401
POST   /api/v1/transfers/{transfer}/cancel/                 404   404   404   400   403   403   401
POST   /api/v1/transfers/{transfer}/complete/               404   404   404   409   403   403   401
POST   /api/v1/transfers/{transfer}/decline/                404   404   404   400   403   403   401
GET    /api/v1/handoffs/                                    200   200   200   sees  403   403   401
GET    /api/v1/handoffs/{handoff}/                          404   404   404   sees  403   403   401
POST   /api/v1/handoffs/{handoff}/acknowledge/              404   404   404   409   403   403   401
POST   /api/v1/handoffs/{handoff}/items/{item}/complete/    404   404   404   sees  403   403   401
GET    /api/v1/notifications/                               200   200   200   200   403   403   401
POST   /api/v1/notifications/{notification}/read/           404   404   404   404   403   403   401
GET    /api/v1/follow-ups/                                  200   200   sees  sees  403   403   401
GET    /api/v1/follow-ups/assignees/                        200   200   200   200   403   403   401
GET    /api/v1/follow-ups/assignees/?site={site}            404   404   200   200   403   403   401
POST   /api/v1/follow-ups/reassign/                         404   404   sees  sees  403   403   401
GET    /api/v1/follow-ups/{follow_up}/                      404   404   sees  sees  403   403   401
POST   /api/v1/follow-ups/{follow_up}/attempts/             404   404   400   400   403   403   401
POST   /api/v1/follow-ups/{follow_up}/complete/             404   404   400   400   403   403   401
POST   /api/v1/follow-ups/{follow_up}/reassign/             404   404   400   400   403   403   401
GET    /api/v1/referrals/                                   200   200   sees  sees  403   403   401
GET    /api/v1/referrals/?client={alumnus}                  200   200   sees  sees  403   403   401
GET    /api/v1/referrals/{referral}/                        404   404   sees  sees  403   403   401
POST   /api/v1/referrals/{referral}/admit/                  404   404   403   sees  403   403   401
POST   /api/v1/referrals/{referral}/cancel/                 404   404   400   400   403   403   401
POST   /api/v1/referrals/{partner_referral}/decline/        404   404   404   400   403   403   401
GET    /api/v1/referrals/{partner_referral}/duplicates/     404   404   404   200   403   403   401
POST   /api/v1/referrals/{partner_referral}/match/          404   404   404   400   403   403   401
POST   /api/v1/referrals/{partner_referral}/register/       404   404   404   sees  403   403   401
GET    /api/v1/consents/                                    200   200   200   sees  403   403   401
GET    /api/v1/consents/?client={client}                    200   200   200   sees  403   403   401
GET    /api/v1/consents/{consent}/                          404   404   404   sees  403   403   401
GET    /api/v1/consents/{consent}/document/                 404   404   404   200   403   403   401
POST   /api/v1/consents/{consent}/revoke/                   404   404   404   400   403   403   401
GET    /api/v1/partners/                                    404   404   404   sees  403   403   401
POST   /api/v1/partners/                                    404   404   404   400   403   403   401
GET    /api/v1/partners/{partner}/                          404   404   404   sees  403   403   401
PATCH  /api/v1/partners/{partner}/                          404   404   404   sees  403   403   401
POST   /api/v1/partners/{partner}/credentials/              404   404   404   201   403   403   401
POST   /api/v1/partners/{partner}/credentials/{cid}/revoke/ 404   404   404   400   403   403   401
POST   /api/v1/partners/{partner}/reactivate/               404   404   404   sees  403   403   401
POST   /api/v1/partners/{partner}/suspend/                  404   404   404   sees  403   403   401
GET    /api/v1/partner/availability/                        403   403   403   403   403   200   401
GET    /api/v1/partner/clients/                             403   403   403   403   403   200   401
GET    /api/v1/partner/clients/{client}/                    403   403   403   403   403   404   401
GET    /api/v1/partner/clients/{client}/episodes/           403   403   403   403   403   404   401
GET    /api/v1/partner/consents/{consent}/                  403   403   403   403   403   404   401
GET    /api/v1/partner/consents/{consent}/document/         403   403   403   403   403   404   401
GET    /api/v1/partner/referrals/                           403   403   403   403   403   200   401
POST   /api/v1/partner/referrals/                           403   403   403   403   403   400   401
GET    /api/v1/partner/referrals/{partner_referral}/        403   403   403   403   403   404   401
GET    /api/v1/partner/webhooks/                            403   403   403   403   403   200   401
POST   /api/v1/partner/webhooks/                            403   403   403   403   403   400   401
GET    /api/v1/partner/webhooks/{webhook}/                  403   403   403   403   403   404   401
PATCH  /api/v1/partner/webhooks/{webhook}/                  403   403   403   403   403   404   401
DELETE /api/v1/partner/webhooks/{webhook}/                  403   403   403   403   403   404   401
POST   /api/v1/partner/webhooks/{webhook}/rotate-secret/    403   403   403   403   403   404   401
GET    /api/v1/partner/webhooks/{webhook}/deliveries/       403   403   403   403   403   404   401
POST   /api/v1/partner/webhook-deliveries/{dlv}/redeliver/  403   403   403   403   403   404   401
GET    /fhir/metadata                                       200   200   200   200   200   200   200
GET    /fhir/Patient?_id={client}                           200   200   200   sees  403   200   401
GET    /fhir/Patient/{client}                               404   404   404   sees  403   404   401
GET    /fhir/EpisodeOfCare?patient={client}                 404   404   404   sees  403   404   401
GET    /fhir/EpisodeOfCare/{episode}                        404   404   404   sees  403   404   401
GET    /fhir/Encounter?patient={client}                     404   404   404   sees  403   404   401
GET    /fhir/Encounter/{placement}                          404   404   404   sees  403   404   401
GET    /                                                    302   302   302   302   302   302   302
GET    /board/                                              200   200   403   sees  302   302   302
GET    /board/counts/                                       200   200   403   200   302   302   302
POST   /clients/new/                                        400   400   400   400   302   302   302
GET    /clients/{client}/                                   404   404   404   sees  302   302   302
POST   /clients/{client}/admit/                             404   404   404   400   302   302   302
POST   /clients/{client}/transfer/                          404   404   404   400   302   302   302
POST   /clients/{client}/discharge/                         404   404   404   400   302   302   302
GET    /transfers/                                          200   200   403   sees  302   302   302
POST   /transfers/{transfer}/approve/                       404   404   404   302   302   302   302
POST   /transfers/{transfer}/decline/                       404   404   404   400   302   302   302
POST   /transfers/{transfer}/cancel/                        404   404   404   400   302   302   302
POST   /transfers/{approved}/complete/                      404   404   404   302   302   302   302
POST   /handoffs/{handoff}/acknowledge/                     404   404   404   409   302   302   302
POST   /handoffs/{handoff}/items/{item}/tick/               404   404   404   302   302   302   302
GET    /referrals/                                          200   200   403   sees  302   302   302
POST   /referrals/{partner_referral}/match/                 404   404   404   400   302   302   302
POST   /referrals/{partner_referral}/register/              404   404   404   302   302   302   302
POST   /referrals/{partner_referral}/admit/                 404   404   404   400   302   302   302
POST   /referrals/{partner_referral}/decline/               404   404   404   400   302   302   302
GET    /follow-ups/                                         200   200   sees  sees  302   302   302
POST   /follow-ups/{follow_up}/attempt/                     404   404   400   400   302   302   302
POST   /follow-ups/{follow_up}/outcome/                     404   404   400   400   302   302   302
POST   /follow-ups/{follow_up}/reassign/                    404   404   302   302   302   302   302
GET    /dashboard/census/                                   200   200   200   sees  302   302   302
GET    /dashboard/census/?site={site}                       404   404   200   sees  302   302   302
GET    /dashboard/aftercare/                                200   200   200   200   302   302   302
"""

# Paths of the URL configuration outside the matrix, and why ("*": and
# everything under it).
EXEMPT = {
    "/admin/*": "the Django admin: superusers only (tests/services/test_admin_back_office.py)",
    "/accounts/*": "signing in and out (tests/api/test_sign_in_security.py)",
    "/api/auth/*": "DRF's browsable sign-in, the same views as /accounts/",
    "/api/schema/": "the OpenAPI document: public, holds no record",
    "/api/docs/": "Swagger UI: public, holds no record",
    "/api/redoc/": "ReDoc: public, holds no record",
    "/health/": "database and broker status: public, holds no record",
    "/oauth/*": "partners' tokens (tests/partners/test_partner_auth.py)",
    "/fhir/{}": "FHIR's catch-all: any other path is a 404 OperationOutcome",
    "/api/": "the API's catch-all: any other path is a 404 problem",
}

# Bodies of the writes that name their records in the body, `{name}` as in
# the rows; every other write sends {} (a foreign record is a 404 before its
# body is read).
BODIES = {
    "POST /api/v1/clients/": {
        "first_name": "Ny",
        "last_name": "Newcomer",
        "date_of_birth": "1990-01-01",
        "registered_site": "{site}",
    },
    "POST /api/v1/episodes/": {"client": "{client}", "program": "{houston_iop}"},
    "POST /api/v1/transfers/": {"client": "{client}", "to_program": "{houston_iop}"},
    "POST /api/v1/follow-ups/reassign/": {
        "follow_ups": ["{follow_up}"],
        "assignee": "{alumni_coordinator}",
    },
}

DISTINCT_NAMES = {
    "client": {"first_name": "Ottoline", "last_name": "Vexbridge"},
    "moving": {"first_name": "Percival", "last_name": "Quorndon"},
    "alumnus": {"first_name": "Maribeth", "last_name": "Ulvaston"},
}


def _parse(table: str) -> dict[str, dict[str, str]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header[1:] == ROLES, header
    parsed = {}
    for method, url, *cells in rows:
        assert len(cells) == len(ROLES), (method, url)
        key = f"{method} {url}"
        assert key not in parsed, f"{key} twice in MATRIX"
        parsed[key] = dict(zip(ROLES, cells, strict=True))
    return parsed


ROWS = _parse(MATRIX)


def _shape(path: str) -> str:
    """A path without its query, every placeholder `{}`: "/api/v1/clients/{}/"."""
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


# --- the world ----------------------------------------------------------------


def _world_build() -> SimpleNamespace:
    network = network_build()
    users = users_build(network)
    record = austin_record_build(network, users, names=DISTINCT_NAMES)
    # Austin's partner, with a webhook, a delivery and a referral of its own; the
    # client's consent names it (and no partner that calls in the matrix).
    partner, credential = partner_create(
        name="Brackenholt Clinic",
        kind=PartnerKind.TREATING_PROVIDER,
        scopes=ALL_SCOPES,
        sites=[network.austin],
    )
    subscription, delivery = webhook_with_delivery(
        partner, "https://foreign.example/hooks", status="failed"
    )
    partner_referral = partner_referral_submit(
        partner=partner,
        first_name="Hildegund",
        last_name="Xanthoula",
        date_of_birth=record.client.date_of_birth,
        requested_level="detox",
        requested_site=network.austin,
        referrer_name="Dr. Foreign",
    )
    consent = consent_make(record.client, recorded_by=users.austin, partner=partner)
    # Houston's own client, so that the callers' lists are not empty.
    placed_client(network.houston_residential, users.houston)
    alumnus_episode = record.alumnus.episodes.get()
    objects = {
        "client": record.client,
        "episode": record.episode,
        "placement": record.placement,
        "transfer": record.transfer,
        "moving": record.moving,
        "approved": record.approved,
        "handoff": record.handoff,
        "item": record.handoff.items.first(),
        "notification": record.notification,
        "alumnus": record.alumnus,
        "alumnus_episode": alumnus_episode,
        "follow_up": record.follow_up,
        "referral": record.alumnus.referrals.get(),
        "aftercare_plan": alumnus_episode.aftercare_plan,
        "consent": consent,
        "partner": partner,
        "webhook": subscription,
        "dlv": delivery,
        "partner_referral": partner_referral,
    }
    markers = {name: {str(obj.pk)} for name, obj in objects.items()}
    for name in ("client", "moving", "alumnus"):
        person = objects[name]
        markers[name] |= {person.first_name, person.last_name, person.mrn}
    markers["partner_referral"] |= {"Hildegund", "Xanthoula"}
    markers["partner"] |= {partner.name}
    markers["cid"] = {credential.client_id}
    markers["webhook"] |= {subscription.url}
    ids = {name: obj.pk for name, obj in objects.items()}
    ids.update(
        cid=credential.client_id,
        mrn=record.client.mrn,
        level="detox",
        site=network.austin.pk,
        program=network.austin_detox.pk,
        houston_iop=network.houston_iop.pk,
        alumni_coordinator=users.alumni.pk,
    )
    return SimpleNamespace(network=network, users=users, objects=objects, markers=markers, ids=ids)


def _staff(user) -> APIClient:
    """The API with the user's token, the pages with their session."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.force_login(user)
    return client


def _partner(name, scopes, sites) -> APIClient:
    # A health plan: its reads default to the purpose of payment, so that
    # what answers is the consent, not a missing purpose.
    _, credential = partner_create(
        name=name,
        kind=PartnerKind.HEALTH_PLAN,
        scopes=scopes,
        sites=sites,
        rate_limit="100000/min",
    )
    return partner_client(credential)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The foreign world and the callers, built once in a transaction that is
    rolled back after the module; each test runs in a savepoint inside it.

    Each request's stamp of the session's last activity is rolled back with its
    savepoint, so the sessions would seem idle since the module began: the idle
    timeout is a day here (tests/pages/test_session_timeout.py tests it)."""
    with django_db_blocker.unblock(), override_settings(SESSION_IDLE_TIMEOUT_MINUTES=24 * 60):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = _world_build()
            users, network = world.users, world.network
            world.callers = {
                "coord": _staff(users.houston),
                "mgr": _staff(users.houston_manager),
                "alum": _staff(users.alumni),
                "admin": _staff(users.admin),
                "nosc": _partner("Scopeless Clinic", [], [network.austin]),
                "nocon": _partner(
                    "Unconsented Clinic", ALL_SCOPES, [network.austin, network.houston]
                ),
                "anon": APIClient(),
            }
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# Keys of `world.ids` that are not records of the foreign site: everyone reads them.
NETWORK = {"level", "site", "program", "houston_iop", "alumni_coordinator"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="\w+"')


def _fill(template: str, ids: dict) -> str:
    return PLACEHOLDER.sub(lambda m: str(ids[m.group(1)]), template)


def _named(row: str) -> set[str]:
    """The objects a row names, in its URL or its body."""
    return set(PLACEHOLDER.findall(row + json.dumps(BODIES.get(row, {}))))


def missing_ids(world) -> dict:
    """The world's ids, each foreign record's swapped for an id that exists nowhere."""
    ids = {**world.ids, **{name: uuid.uuid4() for name in world.objects}}
    ids["cid"] = uuid.uuid4().hex
    ids["mrn"] = "NOSUCHMRN"
    return ids


def _body_text(response) -> str:
    """The body as text, with the headers that could carry a record's id."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    headers = " ".join(response.get(name, "") for name in ("Location", "Link", "Content-Location"))
    return f"{headers}\n{content.decode(errors='replace')}"


def send(world, role: str, row: str, ids=None):
    """The request of `row` as `role`: the response, its body as text, and what it sent."""
    ids = world.ids if ids is None else ids
    method, template = row.split(" ", 1)
    url = _fill(template, ids)
    body = json.loads(_fill(json.dumps(BODIES.get(row, {})), ids))
    client = world.callers[role]
    if method == "GET":
        response = client.get(url)
    elif url.startswith(("/api/", "/fhir/")):
        response = getattr(client, method.lower())(url, body, format="json")
    else:  # a workspace form
        response = getattr(client, method.lower())(url, body)
    return response, _body_text(response), f"{url} {body}"


def leaked(world, role: str, text: str, sent: str) -> list[str]:
    """The objects the role may not see whose id or name is in `text`
    (what the request itself carried does not count)."""
    return sorted(
        name
        for name, markers in world.markers.items()
        if name not in SEES[role]
        and any(marker in text and marker not in sent for marker in markers)
    )


def shown(world, role: str, text: str) -> list[str]:
    return sorted(
        name for name in SEES[role] if any(marker in text for marker in world.markers[name])
    )


CELLS = [(row, role) for row in ROWS for role in ROLES]


@pytest.mark.parametrize(("row", "role"), CELLS, ids=[f"{r} | {c}" for r, c in CELLS])
def test_access_matrix(world, row, role):
    # given the foreign world and a caller in `role`
    expected = ROWS[row][role]

    # when the caller sends the row's request
    response, text, sent = send(world, role, row)

    # then the status is the matrix's, and no record the caller may not see is in the body
    status = 200 if expected == "sees" else int(expected)
    assert response.status_code == status, (response.status_code, text[:400])
    assert leaked(world, role, text, sent) == []
    if expected == "sees":
        # (and the foreign site's records the caller may see are: the search works)
        assert shown(world, role, text), text[:400]


def _answered_as_missing(row: str, role: str) -> bool:
    """Cells where a foreign record must be answered as one that does not exist:
    a 404, or a write refused for what its body names, by a caller who sees none
    of the records the row names. (Not the network's sites and programs, which
    everyone may read; nor anon and nosc, refused before any record is looked up.)"""
    cell = ROWS[row][role]
    refused = cell == "404" or (row in BODIES and cell in {"400", "403", "404", "409"})
    records = _named(row) - NETWORK
    return role not in {"anon", "nosc"} and refused and records and not records & SEES[role]


MISSING = [(row, role) for row, role in CELLS if _answered_as_missing(row, role)]


@pytest.mark.parametrize(("row", "role"), MISSING, ids=[f"{r} | {c}" for r, c in MISSING])
def test_a_foreign_record_is_answered_as_one_that_does_not_exist(world, row, role):
    # given the row's request, and the same with ids of records that exist nowhere
    # when the caller sends both
    foreign, foreign_text, _ = send(world, role, row)
    missing_map = missing_ids(world)
    missing, missing_text, _ = send(world, role, row, ids=missing_map)

    # then the answers are the same but for the ids themselves: nothing tells them apart
    def without_ids(text, ids):
        for name in [*world.objects, "cid", "mrn"]:
            text = text.replace(str(ids[name]), "<id>")
        return CSRF_TOKEN.sub("<csrf>", text)  # a new one on every page

    assert missing.status_code == foreign.status_code
    assert without_ids(missing_text, missing_map) == without_ids(foreign_text, world.ids)


# --- completeness ------------------------------------------------------------------


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield "/" + prefix + str(pattern.pattern), pattern


def _path_shape(raw: str) -> str:
    raw = raw.replace("^", "").replace("$", "")
    raw = re.sub(r"\(\?P<(\w+)>[^)]*\)", "{}", raw)
    return re.sub(r"<(?:\w+:)?(\w+)>", "{}", raw)


def _exempt(shape: str) -> bool:
    return any(shape.startswith(key[:-1]) if key.endswith("*") else shape == key for key in EXEMPT)


def _row_operations() -> set[tuple[str, str]]:
    return {(row.split()[0].lower(), _shape(row.split()[1])) for row in ROWS}


def test_every_api_operation_of_the_url_conf_has_a_row_and_every_row_an_operation():
    # given the API's operations, read from the URL resolver
    routes = {(r.method, _shape(r.path)) for r in api_routes()}

    # when they are set beside the matrix's API rows
    rows = {(m, p) for m, p in _row_operations() if p.startswith("/api/")}

    # then they are the same: a new endpoint without a row fails here
    assert sorted(routes - rows) == [], "operations without a row in MATRIX"
    assert sorted(rows - routes) == [], "rows of MATRIX that are no operation"


def test_every_operation_of_the_schema_has_a_row(world):
    # given the OpenAPI schema
    schema = SchemaGenerator().get_schema(request=None, public=True)

    # when its operations are listed
    documented = {
        (method, _shape(path))
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }

    # then each has a row
    assert sorted(documented - _row_operations()) == []


def test_every_page_and_fhir_path_has_a_row():
    # given every path of the URL configuration outside the API and the exemptions
    paths = {_path_shape(raw) for raw, _ in _walk(get_resolver().url_patterns)}
    paths = {p for p in paths if not p.startswith("/api/v1/") and not _exempt(p)}

    # when they are set beside the matrix's rows
    rows = {p for _, p in _row_operations() if not p.startswith("/api/v1/")}

    # then each path has at least one row, and each row is a path
    assert sorted(paths - rows) == [], "paths without a row in MATRIX"
    assert sorted(rows - paths) == [], "rows of MATRIX that are no path"


def test_every_csv_export_has_a_row():
    # given the API's views that render CSV
    exports = {
        _path_shape(raw)
        for raw, pattern in _walk(get_resolver().url_patterns)
        if raw.startswith("/api/v1/")
        and "<format>" not in raw  # DRF's format-suffix twins
        and CSVRenderer in getattr(getattr(pattern.callback, "cls", None), "renderer_classes", ())
    }

    # when the matrix's CSV rows are listed
    csv_rows = {_shape(row.split()[1]) for row in ROWS if "format=csv" in row}

    # then each export has its own row
    assert sorted(exports - csv_rows) == []
