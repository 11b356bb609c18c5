"""What the API tests share: the routes of the API, read from the URL
resolver, and the assertions about problem documents.

The routes are read rather than listed so that a new endpoint joins the
access matrix and the schema check without anyone remembering to add it.
"""

import re
from dataclasses import dataclass

import jsonschema
from django.urls import URLPattern, URLResolver, get_resolver

from backend.api.errors import PROBLEM_CONTENT_TYPE
from services import transfers
from tests.factories import finish_checklist

API_PREFIX = "/api/v1/"
IGNORED_METHODS = {"head", "options", "trace"}


@dataclass(frozen=True)
class Route:
    method: str  # lower case, as Django names view methods
    path: str  # "/api/v1/clients/{pk}/journey/"
    name: str  # the URL name: "client-journey"

    @property
    def resource(self) -> str:
        """The first segment after the prefix: "clients", "levels-of-care", "me"."""
        return self.path.removeprefix(API_PREFIX).split("/")[0]

    @property
    def is_detail(self) -> bool:
        return "{" in self.path

    def url(self, **ids) -> str:
        """The path with its placeholders filled; an id that is not given stays absent."""
        return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), "none")), self.path)

    def __str__(self) -> str:  # the pytest id
        return f"{self.method.upper()} {self.path}"


def _normalise(pattern: str) -> str:
    pattern = pattern.replace("^", "").replace("$", "")
    pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
    pattern = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)
    return "/" + pattern


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _methods(callback) -> list[str]:
    if getattr(callback, "actions", None):
        # A viewset: the router's method -> action map (DRF adds "head" to it
        # in place on the first request, hence the filter).
        methods = set(callback.actions)
    else:
        view = callback.view_class
        methods = {m for m in view.http_method_names if hasattr(view, m)}
    return sorted(methods - IGNORED_METHODS)


def api_routes() -> list[Route]:
    """Every (method, path) the URL resolver answers under /api/v1/."""
    routes = set()
    for raw, pattern in _walk(get_resolver().url_patterns):
        path = _normalise(raw)
        # DRF's `.json` format-suffix twins are the same operations.
        if not path.startswith(API_PREFIX) or "{format}" in path:
            continue
        for method in _methods(pattern.callback):
            routes.add(Route(method, path, pattern.name))
    return sorted(routes, key=lambda r: (r.path, r.method))


# --- the schema's promises, as JSON Schema ------------------------------------


def as_json_schema(node):
    """OpenAPI 3.0's schema objects as JSON Schema: `nullable` becomes a null type,
    and an object with declared properties may have no others."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        if "type" in node and "enum" not in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def schema_errors(schema: dict, components: dict, value) -> list[str]:
    """How `value` breaks `schema` (OpenAPI, its $refs into `components`, already
    converted by as_json_schema), one line each. Formats are checked too: a blank
    email is `oneOf` an empty string or an address, and only the format tells them
    apart."""
    validator = jsonschema.Draft7Validator(
        {**as_json_schema(schema), "components": components},
        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
    )
    return [
        f"at {'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in sorted(validator.iter_errors(value), key=str)
    ]


def assert_problem(response, status: int, *, code: str | None = None, fields=None) -> dict:
    """The response is an RFC 9457 problem document with this status; for a
    400, `errors` names exactly `fields` (when given)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE), response["Content-Type"]
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body), body
    assert body["status"] == status
    assert body["type"] == f"urn:continuum:problem:{body['code']}"
    assert body["title"] and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    if fields is not None:
        assert {e["field"] for e in body.get("errors", [])} == set(fields), body
    return body


def error_for(body: dict, field: str) -> dict:
    """The one entry of `errors` about `field`."""
    matching = [e for e in body["errors"] if e["field"] == field]
    assert len(matching) == 1, body
    return matching[0]


# --- building the story through the services ------------------------------


def transfer_to(to_program, *, client, sender, receiver, status: str = "requested"):
    """A transfer of `client` to `to_program`, taken to `status` by the
    services: `sender` requests and cancels, `receiver` does the rest."""
    transfer = transfers.transfer_request(
        actor=sender, client=client, to_program=to_program, reason="Clinically ready."
    )
    if status == "cancelled":
        transfer = transfers.transfer_cancel(
            actor=sender, transfer=transfer, reason="Plan changed."
        )
    elif status == "declined":
        transfer = transfers.transfer_decline(actor=receiver, transfer=transfer, reason="No bed.")
    elif status in ("approved", "completed"):
        transfer = transfers.transfer_approve(actor=receiver, transfer=transfer)
        finish_checklist(transfer, receiver)  # ready for the client's arrival
        if status == "completed":
            transfer = transfers.transfer_complete(actor=receiver, transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == status
    return transfer
