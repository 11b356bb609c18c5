"""The OpenAPI document: valid, served, complete, and honest about errors."""

import json
import re

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from backend.api.errors import PROBLEM_CONTENT_TYPE
from tests.api.helpers import api_routes, as_json_schema, schema_errors

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def _shape(path: str) -> str:
    """/api/v1/clients/{id}/ and /api/v1/clients/{pk}/ are the same route."""
    return re.sub(r"\{\w+\}", "{}", path)


def test_the_schema_validates_without_a_single_warning(db, tmp_path):
    # given a clean slate of generator warnings
    reset_generator_stats()
    target = tmp_path / "schema.yml"

    # when the schema is generated as CI does
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    # then it is written, and it is OpenAPI 3
    document = yaml.safe_load(target.read_text())
    assert document["openapi"].startswith("3.")
    assert document["paths"]


def test_the_schema_is_served_without_credentials(api, db):
    # given an anonymous caller
    # when they fetch the schema
    response = api.get("/api/schema/")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert "/api/v1/clients/" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_pages_answer(api, db, path):
    # when the human-readable docs are opened
    response = api.get(path)

    # then they render
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_schema_lists_every_route_of_the_api_and_nothing_else(schema):
    # given every (method, route) the URL resolver answers under /api/v1/
    routes = {(r.method, _shape(r.path)) for r in api_routes()}

    # when the schema's operations are listed
    documented = {(method, _shape(path)) for method, path, _ in operations(schema)}

    # then they are the same: a new endpoint without a schema fails here
    assert documented == routes


def test_every_operation_documents_a_4xx_problem_response(schema):
    # given every operation
    missing = []
    for method, path, operation in operations(schema):
        # when its 4xx responses are read
        problems = [
            code
            for code, response in operation["responses"].items()
            if code.startswith("4")
            and response.get("content", {})
            .get(PROBLEM_CONTENT_TYPE, {})
            .get("schema", {})
            .get("$ref", "")
            .endswith("/Problem")
        ]
        if not problems:
            missing.append(f"{method.upper()} {path}")

    # then each has at least one, served as application/problem+json
    assert missing == []


def test_every_operation_has_an_example_of_its_request_or_its_success(schema):
    # given every operation
    missing = []
    for method, path, operation in operations(schema):
        # when its request body and its 2xx responses are read
        request = operation.get("requestBody", {}).get("content", {}).values()
        success = [
            content
            for code, response in operation["responses"].items()
            if code.startswith("2")
            for content in response.get("content", {}).values()
        ]
        if not any("examples" in content for content in [*request, *success]):
            missing.append(f"{method.upper()} {path}")

    # then each shows at least one (error examples alone do not count)
    assert missing == []


def test_every_problem_status_the_schema_promises_is_documented_with_an_example(schema):
    # given every documented 4xx response
    for method, path, operation in operations(schema):
        for code, response in operation["responses"].items():
            if not code.startswith("4"):
                continue
            content = response["content"][PROBLEM_CONTENT_TYPE]

            # then its example is a problem of that very status
            (example,) = content["examples"].values()
            assert example["value"]["status"] == int(code), (method, path, code)


# --- the contract a generated client reads ------------------------------------------


@pytest.fixture(scope="module")
def document(schema) -> dict:
    """The schema as it is served: plain JSON."""
    return json.loads(OpenApiJsonRenderer().render(schema))


def test_every_request_body_is_offered_as_json_only(schema):
    # given every operation that takes a body
    offered = {
        f"{method.upper()} {path}": sorted(operation["requestBody"]["content"])
        for method, path, operation in operations(schema)
        if "requestBody" in operation
    }

    # then each is JSON, and JSON only (the browsable API's forms are not the contract)
    assert offered
    assert {media for types in offered.values() for media in types} == {"application/json"}


def test_every_operation_has_one_tag_of_its_resource_described_at_the_top(schema):
    # given the tags the document describes
    described = [tag["name"] for tag in schema["tags"]]

    # when each operation's tags are read
    tags = {f"{m.upper()} {p}": op.get("tags") for m, p, op in operations(schema)}

    # then each has exactly one of those, and each described tag is used
    assert all(len(t) == 1 and t[0] in described for t in tags.values()), tags
    assert {t[0] for t in tags.values()} == set(described)
    assert tags["POST /api/v1/transfers/{id}/approve/"] == ["transfers"]
    assert tags["GET /api/v1/follow-ups/"] == ["aftercare"]
    assert tags["GET /api/v1/clients/{id}/aftercare-plan/"] == ["aftercare"]
    assert tags["GET /api/v1/census/daily/"] == ["census"]


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("get", "/api/v1/clients/", "clients_list"),
        ("post", "/api/v1/clients/", "clients_create"),
        ("patch", "/api/v1/clients/{id}/", "clients_partial_update"),
        ("get", "/api/v1/clients/{id}/journey/", "clients_journey"),
        ("post", "/api/v1/transfers/{id}/approve/", "transfers_approve"),
        ("post", "/api/v1/episodes/{id}/discharge/", "episodes_discharge"),
        ("post", "/api/v1/handoffs/{id}/acknowledge/", "handoffs_acknowledge"),
        ("get", "/api/v1/census/", "census_list"),
        ("get", "/api/v1/census/length-of-stay/", "census_length_of_stay_list"),
        ("get", "/api/v1/me/", "me_retrieve"),
        ("get", "/api/v1/", "api_index"),
    ],
)
def test_operation_ids_read_as_function_names(schema, method, path, operation_id):
    # when an operation's id is read
    # then it names the resource and the action, without the version
    assert schema["paths"][path][method]["operationId"] == operation_id


def test_operation_ids_are_unique_and_unversioned(schema):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    assert not [i for i in ids if i.startswith("v1")]


def test_every_paginated_list_documents_the_404_of_a_page_that_does_not_exist(schema):
    # given every operation that takes a `page`
    paginated = [
        (method, path, operation)
        for method, path, operation in operations(schema)
        if any(p["name"] == "page" for p in operation.get("parameters", []))
    ]
    assert len(paginated) >= 10

    for method, path, operation in paginated:
        # then a page below 1 is outside the parameter, and 404 is among the answers
        (page,) = [p for p in operation["parameters"] if p["name"] == "page"]
        assert page["schema"]["minimum"] == 1, path
        assert "404" in operation["responses"], (method, path)


def test_every_example_is_what_its_schema_describes(document):
    # given every example of a request or response body
    components = as_json_schema(document["components"])
    failures, seen = [], 0
    for method, path, operation in operations(document):
        bodies = {"request": operation.get("requestBody", {})} | operation["responses"]
        for status, body in bodies.items():
            for content in body.get("content", {}).values():
                for name, example in content.get("examples", {}).items():
                    # when it is checked against the body's schema
                    seen += 1
                    errors = schema_errors(content["schema"], components, example["value"])
                    failures += [f"{method} {path} {status} {name}: {e}" for e in errors[:2]]

    # then it fits (a list's example is not wrapped twice, an enum holds its values)
    assert seen > 100
    assert failures == []


def test_every_staff_operation_documents_the_403_of_a_partners_token(schema):
    # given every operation outside the partner API, the sign-in and the index
    staff = [
        (method, path, operation)
        for method, path, operation in operations(schema)
        if path.startswith("/api/v1/")
        and not path.startswith("/api/v1/partner/")
        and path not in ("/api/v1/", "/api/v1/auth/token/")
    ]
    assert len(staff) >= 50

    # then each lists the 403 a partner's access token gets (test_partner_auth.py shows it)
    missing = [
        (method, path) for method, path, operation in staff if "403" not in operation["responses"]
    ]
    assert missing == []


def test_every_operation_that_takes_a_body_documents_the_413_of_one_too_large(schema):
    # given every POST, PUT and PATCH
    writes = [
        (method, path, operation)
        for method, path, operation in operations(schema)
        if method in ("post", "put", "patch")
    ]
    assert len(writes) >= 20

    # then each lists the 413 of a body over DATA_UPLOAD_MAX_MEMORY_SIZE
    missing = [(m, p) for m, p, operation in writes if "413" not in operation["responses"]]
    assert missing == []
