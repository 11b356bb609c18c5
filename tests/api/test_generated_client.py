"""The OpenAPI contract, checked by a client generated from it.

openapi-python-client (in the dev extra) generates a Python package from the schema
as drf-spectacular writes it. The package must import module by module, carry the
docs' story for staff over a live server, and parse every list of a seeded demo for
every demo role. Every response on the way is also checked against the schema itself
(types, nullability, enums, required and undeclared fields), because the generated
models accept some lies silently (a null in a non-null string). The client raises on
any status its operation does not list.
"""

import datetime as dt
import importlib
import io
import json
import pkgutil
import re
import subprocess
import sys
import typing
from enum import Enum
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from backend.accounts.management.demo import DEMO_PARTNERS
from backend.partners.models import Partner
from services.partners import credential_add
from tests.api.helpers import as_json_schema, schema_errors

PACKAGE = "continuum_client"
CONFIG = Path(__file__).with_name("openapi-python-client.yml")
PASSWORD = "pw-for-tests-only"  # tests/factories.py UserFactory
DEMO_PASSWORD = "demo-password-for-tests"
DEMO_USERS = ["admin", "coordinator.austin", "coordinator.houston", "manager.austin", "alumni"]
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
# Lists only organisation admins have: anyone else finds no such endpoint (404).
ADMIN_ONLY = {"audit_list", "ops_work_retrieve", "partners_list"}

# Each live-server test commits rows; serialized_rollback restores the levels of care
# that a migration seeded, which the flush after the test would drop.
live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# --- the schema, the generated package, and a check of every response ------------


@pytest.fixture(scope="session")
def schema_document(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


@pytest.fixture(scope="session")
def generated(tmp_path_factory, schema_document):
    """The package openapi-python-client generates, importable as `continuum_client`."""
    root = tmp_path_factory.mktemp("generated")
    schema_file = root / "schema.json"
    schema_file.write_text(json.dumps(schema_document))
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(schema_file),
        "--output-path",
        str(root / PACKAGE),
        "--meta",
        "none",
        "--config",
        str(CONFIG),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield SimpleNamespace(
            output=result.stdout + result.stderr, package=importlib.import_module(PACKAGE)
        )
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def operations(schema_document):
    for path, item in schema_document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


class ContractCheck:
    """An httpx response hook: each JSON answer must match what the schema says of
    its operation and status. Violations are collected, to be asserted at the end."""

    def __init__(self, schema_document):
        self.components = as_json_schema(schema_document["components"])
        self.routes = []
        for method, path, operation in operations(schema_document):
            pattern = re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path))
            # Literal segments first: /follow-ups/reassign/ before /follow-ups/{id}/.
            self.routes.append((path.count("{"), method, re.compile(f"^{pattern}$"), operation))
        self.routes.sort(key=lambda route: route[0])
        self.checked = 0
        self.violations = []

    def __call__(self, response):
        response.read()
        request = response.request
        method, path = request.method.lower(), request.url.path
        operation = next(
            (op for _, m, regex, op in self.routes if m == method and regex.match(path)), None
        )
        where = f"{request.method} {request.url} -> {response.status_code}"
        if operation is None:
            self.violations.append(f"{where}: no such operation in the schema")
            return
        declared = operation["responses"].get(str(response.status_code))
        if declared is None:
            self.violations.append(f"{where}: status not in the schema")
            return
        media_type = response.headers.get("content-type", "").split(";")[0]
        content = declared.get("content", {})
        if media_type not in content:
            self.violations.append(f"{where}: {media_type} not in {sorted(content)}")
            return
        errors = schema_errors(content[media_type]["schema"], self.components, response.json())
        self.checked += 1
        self.violations += [f"{where}: {error}" for error in errors[:3]]


@pytest.fixture
def contract(schema_document):
    return ContractCheck(schema_document)


def api_module(name: str):
    """The module of an operation, found by its operation id (whatever its tag)."""
    for tag in pkgutil.iter_modules(importlib.import_module(f"{PACKAGE}.api").__path__):
        module_name = f"{PACKAGE}.api.{tag.name}.{name}"
        if importlib.util.find_spec(module_name) is not None:
            return importlib.import_module(module_name)
    raise LookupError(name)


def model(name: str):
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


class Caller:
    """One user's session through the generated client: `call("clients_list", ...)`
    answers the Response, whose `.parsed` is the model the operation promises."""

    def __init__(
        self,
        base_url: str,
        contract: ContractCheck,
        token: str | None = None,
        prefix: str = "Token",
    ):
        client_module = importlib.import_module(f"{PACKAGE}.client")
        options = {
            "base_url": base_url,
            "raise_on_unexpected_status": True,
            "timeout": httpx.Timeout(30.0),
            "httpx_args": {"event_hooks": {"response": [contract]}},
        }
        if token is None:
            self.client = client_module.Client(**options)
        else:
            self.client = client_module.AuthenticatedClient(token=token, prefix=prefix, **options)

    def call(self, operation_id: str, **kwargs):
        return api_module(operation_id).sync_detailed(client=self.client, **kwargs)

    def ok(self, operation_id: str, **kwargs):
        """The parsed 2xx answer; anything else fails the test."""
        response = self.call(operation_id, **kwargs)
        assert 200 <= response.status_code < 300, (operation_id, response.content[:500])
        assert response.parsed is not None
        assert not isinstance(response.parsed, model("Problem")), response.parsed
        return response.parsed


@pytest.fixture
def api_as(live_server, contract):
    """`api_as(username, password)`: a Caller signed in with a token (`api_as()`:
    anonymous). Each is closed at the end: a kept-alive connection would hold a
    database session open in the live server's thread."""
    opened = []

    def open_caller(username=None, password=None) -> Caller:
        caller = Caller(live_server.url, contract)
        opened.append(caller)
        if username is None:
            return caller
        credentials = model("CredentialsRequest")(username=username, password=password)
        token = caller.ok("auth_token_create", body=credentials).token
        return open_caller_with(token)

    def open_caller_with(token, prefix="Token") -> Caller:
        caller = Caller(live_server.url, contract, token, prefix)
        opened.append(caller)
        return caller

    def open_partner(credential) -> Caller:
        """As a partner's system: client credentials at POST /oauth/token/ (HTTP
        Basic, as docs/partners.md shows), then the generated client with Bearer."""
        answer = httpx.post(
            f"{live_server.url}/oauth/token/",
            data={"grant_type": "client_credentials"},
            auth=(credential.client_id, credential.client_secret),
        )
        assert answer.status_code == 200, answer.text
        return open_caller_with(answer.json()["access_token"], prefix="Bearer")

    open_caller.partner = open_partner
    yield open_caller
    for caller in opened:
        caller.client.get_httpx_client().close()


# --- the package itself -------------------------------------------------------------


def test_the_generator_reads_the_schema_without_a_warning(generated):
    # given the client generated from today's schema
    # then openapi-python-client skipped nothing and warned of nothing
    assert "warning" not in generated.output.lower(), generated.output
    assert "error" not in generated.output.lower(), generated.output


def test_every_module_of_the_generated_client_imports(generated):
    # given every module of the package
    failures = {}
    for module in pkgutil.walk_packages(generated.package.__path__, f"{PACKAGE}."):
        # when it is imported
        try:
            importlib.import_module(module.name)
        except Exception as exc:
            failures[module.name] = repr(exc)

    # then none fails
    assert failures == {}


def test_each_operation_is_a_module_named_by_its_id_under_its_tag(generated, schema_document):
    # given the operations of the schema, as (tag, operation id)
    expected = {
        (operation["tags"][0], operation["operationId"])
        for _, _, operation in operations(schema_document)
    }

    # when the generated api package is listed
    api = importlib.import_module(f"{PACKAGE}.api")
    found = {
        (tag.name, module.name)
        for tag in pkgutil.iter_modules(api.__path__)
        for module in pkgutil.iter_modules([str(Path(api.__path__[0]) / tag.name)])
    }

    # then each operation is `continuum_client.api.<tag>.<operation id>`
    assert found == expected


def test_a_contact_hour_as_the_server_sends_it_parses_as_text(generated):
    # given a follow-up's plan with the contact hours as the API writes them
    plan = {
        "id": "6b8d0f2a-4c6e-4d8a-8b0c-2e4a6c8e0f22",
        "consent_to_contact": True,
        "consented_channels": ["phone"],
        "contact_hours_from": "09:00:00",
        "contact_hours_to": "18:30:00",
        "contact_days": [1, 2],
        "time_zone": "America/Chicago",
    }

    # when the generated model parses it (openapi-python-client has no time type)
    parsed = model("FollowUpPlan").from_dict(plan)

    # then the hours are the same text, and the plan writes back as it came
    assert (parsed.contact_hours_from, parsed.contact_hours_to) == ("09:00:00", "18:30:00")
    assert parsed.to_dict() == plan


# --- the docs' story, through the generated client ----------------------------------


@live
def test_the_docs_story_runs_through_the_generated_client(
    live_server, generated, contract, api_as, network, users
):
    # given the Austin coordinator, signed in with a token
    austin = api_as(users.austin.username, PASSWORD)
    me = austin.ok("me_retrieve")
    assert me.username == users.austin.username
    assert [str(r.site) for r in me.roles] == [str(network.austin.pk)]
    index = api_as().ok("api_index")
    assert index.clients == f"{live_server.url}/api/v1/clients/"

    site = austin.ok("sites_list", code="austin").results[0]
    # `level` is one of the level codes, an enum of the generated client
    level = model("ProgramsListLevel")
    detox = austin.ok("programs_list", site=site.id, level=level.DETOX).results[0]
    residential = austin.ok("programs_list", site=site.id, level=level.RESIDENTIAL).results[0]

    # 1. register a client, leaving out the registering site
    client = austin.ok(
        "clients_create",
        body=model("ClientCreateRequest")(
            first_name="Jordan",
            last_name="Rivera",
            date_of_birth=dt.date(1990, 4, 12),
        ),
    )
    assert client.current_placement is None

    # 2. admit to Austin detox
    episode = austin.ok(
        "episodes_create",
        body=model("AdmitRequest")(
            client=client.id,
            program=detox.id,
            referral_source=model("ReferralSourceEnum")("family"),
        ),
    )
    assert episode.is_open

    # 3. request a step-down to residential, with no planned date (as the docs do)
    transfer = austin.ok(
        "transfers_create",
        body=model("TransferRequestRequest")(
            client=client.id,
            to_program=residential.id,
            reason="Withdrawal complete; medically cleared.",
            handoff_notes="On a taper; see MAR.",
        ),
    )
    assert (transfer.status.value, transfer.direction.value) == ("requested", "step_down")
    assert transfer.planned_for is None

    # 4. the receiving side approves: the place is reserved
    approved = austin.ok(
        "transfers_approve",
        id=transfer.id,
        body=model("TransferApproveRequest")(reason="Bed 4 held."),
    )
    assert approved.status.value == "approved"
    assert austin.ok("programs_retrieve", id=residential.id).reserved == residential.reserved + 1
    again = austin.call("transfers_approve", id=transfer.id, body=model("TransferApproveRequest")())
    assert (again.status_code, again.parsed.code) == (409, "illegal_transition")

    # 5. the hand-off: listed, acknowledged, its checklist ticked
    handoff_id = austin.ok("transfers_retrieve", id=transfer.id).handoff
    assert [h.id for h in austin.ok("handoffs_list").results] == [handoff_id]
    handoff = austin.ok("handoffs_acknowledge", id=handoff_id)
    assert (handoff.status.value, handoff.planned_for) == ("acknowledged", None)
    for item in handoff.items:
        ticked = austin.ok(
            "handoffs_items_complete",
            id=handoff_id,
            item_id=item.id,
            body=model("HandoffItemCompleteRequest")(note="Done."),
        )
        assert ticked.completed_by == users.austin.username

    # 6. the client arrives: the transfer completes and the hand-off closes
    completed = austin.ok(
        "transfers_complete", id=transfer.id, body=model("TransferCompleteRequest")()
    )
    assert completed.status.value == "completed"
    assert austin.ok("handoffs_retrieve", id=handoff_id).status.value == "closed"

    # 7. the journey: detox, then residential, joined by the transfer
    journey = austin.ok("clients_journey", id=client.id)
    assert [p.program for p in journey.placements] == [detox.id, residential.id]
    assert [t.status.value for t in journey.transfers] == ["completed"]

    # 8. discharge, and aftercare begins: the episode's plan and its follow-ups
    discharged = austin.ok(
        "episodes_discharge",
        id=episode.id,
        body=model("DischargeRequest")(
            discharge_type=model("DischargeTypeEnum")("completed"), notes="Completed."
        ),
    )
    assert not discharged.is_open
    plan = austin.ok("clients_aftercare_plan_retrieve", id=client.id)
    assert (plan.client, plan.episode, plan.consent_to_contact) == (client.id, episode.id, False)
    upcoming = austin.ok("follow_ups_list", status=model("FollowUpsListStatus")("upcoming"))
    mine = [f for f in upcoming.results if f.client.id == client.id]
    assert mine and all(f.self_reported_status is None for f in mine)

    # (the approval's notices are work for a worker: with Redis, none ran here)
    austin.ok("notifications_list")

    # then every answer on the way was the one the schema describes
    assert contract.violations == []
    assert contract.checked >= 25


@live
def test_a_partner_referral_runs_through_the_generated_client(
    live_server, generated, contract, api_as, network, users, make_partner
):
    # given a discharge planner's system holding credentials for Austin
    hospital = make_partner("St. Example Hospital", sites=[network.austin])
    partner = api_as.partner(hospital.credential)
    coordinator = api_as(users.austin.username, PASSWORD)

    # 1. which sites have a detox bed free now
    free = partner.ok("partner_availability_list", level=model("LevelCodeEnum")("detox"))
    (detox,) = free.results
    assert (detox.site_name, detox.accepting) == ("Austin", True)

    # 2. refer a person there, safely retried with one Idempotency-Key
    body = model("PartnerReferralCreateRequest")(
        first_name="Jordan",
        last_name="Example",
        date_of_birth=dt.date(1990, 4, 1),
        requested_level=model("RequestedLevelEnum")("detox"),
        site=detox.site,
        urgency=model("UrgencyEnum")("urgent"),
        referrer_name="Dana Planner, RN",
        clinical_summary="Alcohol withdrawal; medically stable for transport.",
    )
    sent = partner.ok("partner_referrals_create", body=body, idempotency_key="ref-0412")
    again = partner.ok("partner_referrals_create", body=body, idempotency_key="ref-0412")
    assert again.id == sent.id and sent.status.value == "received"

    # 3. the Austin coordinator finds it in the queue, checks for duplicates, registers
    queue = coordinator.ok(
        "referrals_list", source=[model("ReferralsListSourceItem")("partner")], site=detox.site
    )
    assert [r.id for r in queue.results] == [sent.id]
    assert queue.results[0].client is None
    assert coordinator.ok("referrals_duplicates", id=sent.id) == []
    registered = coordinator.ok(
        "referrals_register", id=sent.id, body=model("ReferralRegisterRequest")()
    )
    assert registered.client.first_name == "Jordan"
    assert partner.ok("partner_referrals_retrieve", id=sent.id).status.value == "accepted"

    # 4. and admits into Austin detox
    admitted = coordinator.ok(
        "referrals_admit",
        id=sent.id,
        body=model("ReferralAdmitRequest")(program=network.austin_detox.pk),
    )
    assert admitted.status.value == "admitted"

    # then the partner reads that the person was admitted, and their list says so
    assert partner.ok("partner_referrals_retrieve", id=sent.id).status.value == "admitted"
    mine = partner.ok("partner_referrals_list")
    assert [(r.id, r.status.value) for r in mine.results] == [(sent.id, "admitted")]
    assert contract.violations == []


@live
def test_the_alumni_morning_runs_through_the_generated_client(
    live_server, generated, contract, api_as, network, users, austin_record
):
    # given the alumni coordinator, and an Austin alumnus discharged eight days ago
    # (their 7-day follow-up due; a referral back into Austin IOP from the 48-hour one)
    alumni = api_as(users.alumni.username, PASSWORD)
    client_id = austin_record.alumnus.pk
    due = alumni.ok("follow_ups_list")
    follow_up = next(f for f in due.results if f.id == austin_record.follow_up.pk)
    assert follow_up.self_reported_status is None  # in the due bucket, no outcome yet
    assert alumni.ok("follow_ups_assignees_list").results

    # 1. the client agrees to calls on weekday afternoons (hours sent as "HH:MM")
    plan = alumni.ok(
        "clients_aftercare_plan_partial_update",
        id=client_id,
        body=model("PatchedAftercarePlanWriteRequest")(
            consent_to_contact=True,
            consent_phone=True,
            contact_hours_from="13:00",
            contact_hours_to="18:00",
            contact_days=[1, 2, 3, 4, 5],
        ),
    )
    assert (plan.contact_hours_from, plan.contact_hours_to) == ("13:00:00", "18:00:00")
    assert [c.value for c in plan.consented_channels] == ["phone"]

    # 2. a call, and its outcome: reached, in recovery
    attempt = alumni.ok(
        "follow_ups_attempts",
        id=follow_up.id,
        body=model("AttemptRequest")(
            channel=model("ChannelEnum")("phone"), result=model("ResultEnum")("reached")
        ),
    )
    assert attempt.by == users.alumni.username
    completed = alumni.ok(
        "follow_ups_complete",
        id=follow_up.id,
        body=model("FollowUpCompleteRequest")(
            reached=True,
            self_reported_status=model("SelfReportedStatusEnum")("in_recovery"),
            engaged_meetings=True,
        ),
    )
    assert (completed.status.value, completed.self_reported_status.value) == (
        "completed",
        "in_recovery",
    )
    assert completed.plan.contact_hours_from == "13:00:00"

    # 3. Austin's coordinator admits the alumnus from the open referral
    austin = api_as(users.austin.username, PASSWORD)
    referrals = austin.ok(
        "referrals_list",
        status=[model("ReferralsListStatusItem")("open")],
        to_site=network.austin.pk,
    )
    (referral,) = referrals.results
    assert (referral.new_episode, referral.closed_at) == (None, None)
    admitted = austin.ok("referrals_admit", id=referral.id, body=model("ReferralAdmitRequest")())
    assert admitted.status.value == "admitted"
    assert admitted.new_episode is not None

    # and the outcome figures parse
    alumni.ok("aftercare_metrics_list")

    # then every answer on the way was the one the schema describes
    assert contract.violations == []


# --- a seeded demo, every list as every role ---------------------------------------


def _list_operations(schema_document) -> list[str]:
    """Every GET without a path parameter: the lists, and me, ops/work, the index."""
    return sorted(
        operation["operationId"]
        for method, path, operation in operations(schema_document)
        if method == "get" and "{" not in path
    )


def _enum_of(function, parameter: str) -> type[Enum]:
    hints = typing.get_type_hints(function)
    (enum,) = [
        t for t in typing.get_args(hints[parameter]) if isinstance(t, type) and issubclass(t, Enum)
    ]
    return enum


def _every_page(caller: Caller, operation_id: str, **query) -> list:
    """Each page of a list (one answer for what is not paginated), parsed."""
    pages, page = [], 1
    while True:
        parsed = caller.ok(operation_id, **query, **({"page": page} if page > 1 else {}))
        pages.append(parsed)
        if not getattr(parsed, "next_", None):  # a page's `next` (a list has none)
            return pages
        page += 1


@live
def test_every_list_of_a_seeded_demo_parses_for_every_demo_role(
    live_server, generated, contract, api_as, schema_document
):
    # given a small demo (30 clients over 60 days) and every list operation
    call_command(
        "seed_demo",
        "--clients",
        "30",
        "--days",
        "60",
        "--password",
        DEMO_PASSWORD,
        stdout=io.StringIO(),
    )
    lists = _list_operations(schema_document)
    buckets = list(_enum_of(api_module("follow_ups_list").sync_detailed, "status"))
    rows = 0

    for username in DEMO_USERS:
        # when each demo user reads each list, page after page
        caller = api_as(username, DEMO_PASSWORD)
        for operation_id in lists:
            if operation_id == "follow_ups_list":
                pages = [
                    p
                    for bucket in buckets
                    for p in _every_page(caller, operation_id, status=bucket)
                ]
            elif operation_id.startswith("partner_"):
                response = caller.call(operation_id)
                assert response.status_code == 403  # staff tokens never reach the partner API
                continue
            elif operation_id in ADMIN_ONLY and username != "admin":
                response = caller.call(operation_id)
                assert response.status_code == 404  # not an organisation admin: no such endpoint
                continue
            else:
                pages = _every_page(caller, operation_id)
            # then each answer parsed into the model it promises
            for parsed in pages:
                results = getattr(parsed, "results", parsed)
                rows += len(results) if isinstance(results, list) else 1

    # and when each demo partner's system reads each partner list it holds the scope of
    scopes_of = {
        operation["operationId"]: operation["security"][0]["partnerOAuth2"]
        for method, path, operation in operations(schema_document)
        if operation["operationId"] in lists and operation["operationId"].startswith("partner_")
    }
    partner_rows = 0
    for partner in Partner.objects.filter(name__in=DEMO_PARTNERS):
        caller = api_as.partner(credential_add(partner=partner))
        for operation_id, (scope,) in scopes_of.items():
            if scope not in partner.scopes:
                assert caller.call(operation_id).status_code == 403, (partner, operation_id)
                continue
            for parsed in _every_page(caller, operation_id):
                partner_rows += len(getattr(parsed, "results", [parsed]))

    # then every answer was the one the schema describes
    assert contract.violations == []
    assert rows > 200  # the demo was read, not an empty database
    assert partner_rows > 5  # the partners read availability, referrals and consented clients


@live
def test_a_partner_manages_its_webhooks_through_the_generated_client(
    live_server, generated, contract, api_as, make_partner, network, users, receiver
):
    # given a partner of Austin that reads availability, signed in as a generated
    # client would be (its OAuth2 access token as Bearer)
    from backend.work.models import WorkItem
    from services import episodes
    from services.work import work_run
    from tests.factories import ClientFactory

    partner = make_partner("Planner", scopes=["availability:read", "webhooks:manage"])
    token = partner.api._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    caller = api_as()
    caller.client = importlib.import_module(f"{PACKAGE}.client").AuthenticatedClient(
        base_url=live_server.url,
        token=token,
        prefix="Bearer",
        raise_on_unexpected_status=True,
        httpx_args={"event_hooks": {"response": [contract]}},
    )

    # when it subscribes, an admission is delivered after one failed attempt, and
    # it reads, rotates, redelivers and deletes through the generated functions
    event = model("WebhookEventTypeEnum")("availability.changed")
    created = caller.ok(
        "partner_webhooks_create",
        body=model("WebhookSubscriptionCreateRequest")(url=receiver.url, events=[event]),
    )
    receiver.secret, receiver.fail_first = created.secret, 1
    now = dt.datetime.now(dt.UTC)
    client = ClientFactory(registered_site=network.austin)
    episodes.episode_admit(actor=users.austin, client=client, program=network.austin_iop, now=now)
    (item,) = WorkItem.objects.filter(kind="webhook.deliver")  # its wake-up went to Redis
    for minutes in (0, 1):
        work_run(item.pk, now=now + dt.timedelta(minutes=minutes))
    listed = caller.ok("partner_webhooks_list")
    one = caller.ok("partner_webhooks_retrieve", id=created.id)
    (delivery,) = caller.ok("partner_webhooks_deliveries_list", id=created.id).results
    rotated = caller.ok("partner_webhooks_rotate_secret", id=created.id)
    again = caller.ok("partner_webhook_deliveries_redeliver", id=delivery.id)
    paused = caller.ok(
        "partner_webhooks_partial_update",
        id=created.id,
        body=model("PatchedWebhookSubscriptionUpdateRequest")(is_active=False),
    )
    deleted = caller.ok("partner_webhooks_destroy", id=created.id)

    # then every answer parsed into its model, and was what the schema describes
    assert [s.id for s in listed.results] == [created.id] and one.url == receiver.url
    assert [a.status_code for a in delivery.attempt_log] == [500, 204]
    assert delivery.status.value == "delivered" and delivery.next_attempt_at is None
    assert rotated.secret != created.secret
    assert again.status.value == "pending"
    assert (paused.is_active, deleted.is_active) == (False, False)
    assert contract.violations == []
