"""Schemathesis against our own OpenAPI schema, in process, as three callers.

The schema is drf-spectacular's, generated here as /api/schema/ would serve it; the
requests go to Django's WSGI handler in this process, inside the test's transaction.
Every operation as an organisation admin and as Austin's care coordinator, and the
partner API as a partner with an OAuth2 access token, with schemathesis's checks
(server errors, status codes, content types, headers, response bodies against the
schema, schema-valid requests refused, schema-violating requests accepted, methods
the schema does not list; CONFIG says which are narrowed where, and why); positive
and negative (invalid) data; then the stateful phase, which chains operations
through the links schemathesis infers from the schema (a listed client's id into
its journey, a webhook created into its deliveries).

Each case runs in a savepoint that is rolled back after it, so that a case that
deletes (a token revoked, a webhook removed, a credential revoked, a partner
suspended) leaves the next case the scene as it was; a stateful scenario is
rolled back as a whole after its last step.

The bound: schemathesis's default is 100 random cases per operation in the fuzzing
phase, 25 times what runs here, for each of 91 operations and each caller. Here the
examples phase
runs each schema example once, the coverage phase its deterministic boundary and
invalid values, the fuzzing phase MAX_EXAMPLES random cases per operation, and the
stateful phase STATEFUL_SCENARIOS scenarios of at most STATEFUL_STEPS steps per
caller. With SEED every run draws the same cases (no example database either), so
a failure in CI is reproduced by running this file. That keeps the whole file under
about five minutes on a 2-core machine (docs/security.md, "Fuzzing the contract").
"""

import itertools
import json
import re
from types import SimpleNamespace

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import unsupported_method

pytestmark = pytest.mark.postgres

SEED = 15  # issue 15
# schemathesis's own list for a schema-valid request: anything but another 4xx.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
# Only organisation admins find these (anyone else a 404, every method alike).
ADMIN_ONLY = re.compile(r"^/api/v1/(audit|partners)/")
MAX_EXAMPLES = 4
STATEFUL_SCENARIOS = 10
STATEFUL_STEPS = 6

# Where a check would hold the API to more than the schema can say, each with why.
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
    "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
    "checks": {
        # The caller's credentials go as a fixed header on every request, so the
        # check's "same request with bad credentials" still carries the good ones.
        # Anonymous and foreign callers are tests/api/test_access.py's, on every route.
        "ignored_auth": {"enabled": False},
    },
    "operations": [
        {
            # A body that names an object which does not exist (a program, a site, an
            # assignee, a client) is a 400 naming that field, as tests/api/test_errors.py
            # asserts; the schema can say an id is a UUID, not that it exists.
            "include-method": ["POST", "PUT", "PATCH"],
            "checks": {
                "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]},
                # DRF reads JSON leniently: 0 for a string field is "0", 0 and 1 for a
                # boolean are false and true. Left (docs/security.md): a strict parse
                # touches every input serializer. Server errors and response schemas
                # are still checked for every invalid body.
                "negative_data_rejection": {"enabled": False},
            },
        },
        {
            # Census and aftercare ranges: `to` before `from`, or more than
            # census.MAX_DAYS days, is a 400 naming `to`; a rule between two
            # parameters that OpenAPI cannot state. The follow-up queue's `assignee`
            # names a user, and one who is not an alumni coordinator is a 400; a
            # partner's availability `site` that is not one of its sites is a 400.
            "include-path-regex": (
                "^/api/v1/(census/|aftercare/metrics/|follow-ups/$|partner/availability/)"
            ),
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
        },
    ],
}


def _document() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


schema = schemathesis.openapi.from_dict(_document(), config=schemathesis.Config.from_dict(CONFIG))
schema.app = WSGIHandler()


class _Undo(Exception):
    """Raised to roll a case's savepoint back after its response was checked."""


def _aimed(case, ids: dict) -> None:
    """Point the path's ids at the scene's records (when the path is meant to be valid):
    a random UUID would only ever find a 404."""
    if (
        case.meta
        and not case.meta.components.get(ParameterLocation.PATH, _POSITIVE).mode.is_positive
    ):
        return
    # The partner API's resources are its own: /partner/referrals/{id} is a partner's
    # referral, not the scene's aftercare referral.
    partner = case.operation.path.startswith("/api/v1/partner/")
    segments = case.operation.path.strip("/").split("/")
    for before, segment in itertools.pairwise(segments):
        name = re.fullmatch(r"\{(\w+)\}", segment)
        key = f"partner/{before}" if partner else before
        if name and key in ids and case.path_parameters:
            case.path_parameters[name.group(1)] = str(ids[key])


_POSITIVE = SimpleNamespace(mode=schemathesis.GenerationMode.POSITIVE)


def _sent(case, caller) -> None:
    """Send the case as the caller in a savepoint, check it, and undo what it did."""
    _aimed(case, caller.ids)
    excluded = []
    if caller.name != "admin" and ADMIN_ONLY.match(case.operation.path):
        # Deny by default: the endpoint does not exist for them, so TRACE is a 404 too.
        excluded.append(unsupported_method)
    try:
        with transaction.atomic():
            case.call_and_validate(headers=caller.headers, excluded_checks=excluded)
            raise _Undo
    except _Undo:
        pass


SETTINGS = hypothesis.settings(
    # The scene is built once per test; each case runs in its own savepoint, rolled back.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
# The partner's token is for the partner API (and the public index): the chained
# scenarios keep to it. Every staff endpoint refuses it with the 403 its schema lists,
# which the single cases below check over every operation.
partner_schema = schema.exclude(path_regex="^/api/v1/(?!partner/).+")


@schema.parametrize()
@SETTINGS
def test_every_operation_keeps_its_contract_for_staff(case, staff_caller):
    # given a case for one operation, aimed at the scene's records
    # when it is sent as an admin or a coordinator, then every check holds
    _sent(case, staff_caller)


@schema.parametrize()
@SETTINGS
def test_every_operation_keeps_its_contract_for_a_partner(case, partner_caller):
    # given a case for any operation: the partner API's, or a staff one it may not call
    # when it is sent with the partner's access token, then every check holds
    _sent(case, partner_caller)


def _scenarios(contract, caller) -> None:
    """Run the stateful phase over `contract` as `caller`, each scenario undone. Ids of
    resources the scene holds are pointed at it, as in the single cases; the others (a
    webhook, a delivery, a partner's referral) come from the links, from the responses
    of the steps before."""

    class Scenarios(contract.as_state_machine()):
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            _aimed(case, caller.ids)
            return {**super().get_call_kwargs(case), "headers": caller.headers}

    Scenarios.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_chained_operations_keep_their_contract_for_staff(staff_caller):
    # given the links inferred from the schema (a listed client's id into its journey)
    # when scenarios of a few steps run as staff, then every step passes every check
    _scenarios(schema, staff_caller)


def test_chained_partner_operations_keep_their_contract(partner_caller):
    # given the links among the partner API's operations (a webhook into its deliveries)
    # when scenarios run with the partner's token, then every step passes every check
    _scenarios(partner_schema, partner_caller)
