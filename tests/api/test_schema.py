"""The OpenAPI document: valid, served, complete, and honest about errors."""

import re

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats
from drf_spectacular.generators import SchemaGenerator

from backend.api.errors import PROBLEM_CONTENT_TYPE
from tests.api.helpers import api_routes

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
