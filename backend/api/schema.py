"""OpenAPI helpers: the schema class (tags, operation ids, the 404 of a page that does
not exist), the problem document and the error responses each endpoint declares."""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from backend.api.errors import MSG_BODY_TOO_LARGE, PROBLEM_CONTENT_TYPE
from backend.api.pagination import MSG_PAGE_SIZE
from backend.api.permissions import MSG_PARTNER_ON_STAFF, StaffOnly

# One tag per resource: a generated client has one module per tag
# (`continuum_client.api.transfers`). Keyed by the first segment of the path after
# /api/v1/; a view may name its own with extend_schema(tags=[...]). Each tag is
# described in SPECTACULAR_SETTINGS["TAGS"].
TAG_OF_SEGMENT = {
    "auth": "auth",
    "me": "auth",
    "levels-of-care": "network",
    "sites": "network",
    "programs": "network",
    "clients": "clients",
    "episodes": "episodes",
    "placements": "placements",
    "transfers": "transfers",
    "handoffs": "handoffs",
    "notifications": "notifications",
    "census": "census",
    "follow-ups": "aftercare",
    "aftercare": "aftercare",
    "referrals": "referrals",
    "ops": "ops",
    "audit": "audit",
    "partner": "partner",
    "partners": "partners",
    "consents": "consents",
    "webhooks": "partner",
}

# The partner API's security scheme (OAuth2 client credentials); a partner view
# declares it with extend_schema(auth=[partner_auth("referrals:write")]).
PARTNER_SCHEME = "partnerOAuth2"


def partner_auth(scope: str) -> dict:
    return {PARTNER_SCHEME: [scope]}


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    """Staff API tokens as `Authorization: Bearer <key>`: what a generated client
    sends. (`Token <key>` is accepted too; partners' Bearer tokens are described
    by the partnerOAuth2 scheme on the partner endpoints.)"""

    target_class = "backend.api.authentication.BearerAuthentication"
    name = "staffBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A staff API token from POST /api/v1/auth/token/.",
        }


class LocalTimeOfDay(OpenApiSerializerFieldExtension):
    """A time field is a wall-clock time at a site, with no offset ("09:00:00", what DRF
    sends). OpenAPI's `format: time` is RFC 3339's, which requires an offset ("09:00:00Z"),
    so a validator refused every value sent (schemathesis's 4.32.5 run, issue 15)."""

    target_class = "rest_framework.fields.TimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
            "example": "09:00:00",
        }


STANDARD_ACTIONS = {"list", "create", "retrieve", "update", "partial_update", "destroy"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with tags per resource and operation ids that read
    well as function names of a generated client: `clients_list`, `clients_create`,
    `transfers_approve`, `census_daily_list`."""

    def get_tags(self) -> list[str]:
        segments = self._tokenize_path()
        if not segments:
            return ["api"]
        return [TAG_OF_SEGMENT.get(segments[0], segments[0])]

    def get_operation_id(self) -> str:
        tokens = [t.replace("-", "_") for t in self._tokenize_path()] or ["root"]
        action = getattr(self.view, "action", None)
        if action is not None and action not in STANDARD_ACTIONS:
            # A viewset's own action says what it does: transfers_approve, clients_journey.
            return "_".join(tokens)
        if self.method == "GET":
            verb = "list" if self._answers_a_list() else "retrieve"
        else:
            verb = self.method_mapping[self.method.lower()]
        return "_".join([*tokens, verb])

    def _success_serializer(self):
        """The serializer of the 2xx response (the errors sit beside it in the dict)."""
        responses = self.get_response_serializers()
        if not isinstance(responses, dict):
            return responses
        for code, serializer in responses.items():
            if str(code[0] if isinstance(code, tuple) else code).startswith("2"):
                return serializer
        return None

    def _answers_a_list(self) -> bool:
        serializer = self._success_serializer()
        if isinstance(serializer, OpenApiResponse):
            serializer = serializer.response
        return isinstance(serializer, serializers.ListSerializer) or (
            getattr(self.view, "action", None) == "list"
        )

    def _get_pagination_parameters(self):
        # drf-spectacular finds a list by the first response of the dict, which is an
        # error's when a view declares its responses (`(400, "application/problem+json")`
        # sorts before `200`): a paginated GenericAPIView lost `page` and `page_size`.
        if self.method == "GET" and self._answers_a_list():
            paginator = self._get_paginator()
            if paginator is not None:
                return paginator.get_schema_operation_parameters(self.view)
        return super()._get_pagination_parameters()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        # Answers that come from what every view shares, whatever the view declared:
        implied = []
        if self.method == "GET" and self._get_paginator() is not None and self._answers_a_list():
            # a paginated list answers 404 for a page that does not exist (`page=0`, past
            # the end, not a number), and 400 for a `page_size` that is not a whole number
            # of 1 or more;
            implied += [("404", PAGE_NOT_FOUND), ("400", PAGE_SIZE_INVALID)]
        if any(isinstance(p, StaffOnly) for p in self.view.get_permissions()):
            # a staff endpoint refuses a partner's access token (backend/api/permissions.py);
            implied.append(("403", PARTNER_ON_STAFF))
        if self.method in ("POST", "PUT", "PATCH"):
            # and Django reads no body over DATA_UPLOAD_MAX_MEMORY_SIZE.
            implied.append(("413", BODY_TOO_LARGE))
        for code, (description, example) in implied:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ProblemSerializer, description=description, examples=[example]),
                    code,
                    (PROBLEM_CONTENT_TYPE,),
                    direction,
                )
        return dict(sorted(responses.items()))


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="The bad field (dotted path), or null."
    )
    code = serializers.CharField(help_text="A stable, machine-readable reason.")
    message = serializers.CharField(help_text="The reason, for people.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, served as application/problem+json."""

    type = serializers.CharField(help_text="urn:continuum:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = ProblemFieldErrorSerializer(many=True, required=False)


def _example(status: int, code: str, title: str, detail: str, errors=None) -> OpenApiExample:
    value = {
        "type": f"urn:continuum:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        value["errors"] = errors
    return OpenApiExample(
        f"{status} {title}", value=value, response_only=True, status_codes=[str(status)]
    )


PROBLEMS = {
    400: (
        "Invalid input: each bad field is named in `errors`.",
        _example(
            400,
            "invalid",
            "Invalid input",
            "date_of_birth: Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            [
                {
                    "field": "date_of_birth",
                    "code": "invalid",
                    "message": "Date has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DD.",
                }
            ],
        ),
    ),
    401: (
        "No or bad credentials.",
        _example(
            401,
            "not_authenticated",
            "Not authenticated",
            "Authentication credentials were not provided.",
        ),
    ),
    403: (
        "Visible to the caller, but this action is not theirs to take.",
        _example(
            403,
            "not_permitted",
            "Not permitted",
            "You are not on the care team of this program's site.",
        ),
    ),
    404: (
        "Missing, or not visible to the caller (the two are not told apart).",
        _example(404, "not_found", "Not found", "Not found."),
    ),
    409: (
        "The current state forbids it (capacity, an illegal transition, an open episode).",
        _example(
            409,
            "capacity_exceeded",
            "Capacity exceeded",
            "Austin Detox is full: 11 occupied and 1 reserved of 12.",
        ),
    ),
    422: (
        "An Idempotency-Key already used with another request body.",
        _example(
            422,
            "idempotency_key_reused",
            "Unprocessable request",
            "Idempotency-Key: This Idempotency-Key was used with a different request in the "
            "last 24 hours; use a new key for a new request.",
        ),
    ),
    429: (
        "Over the partner's rate limit: wait for the seconds in Retry-After.",
        _example(
            429,
            "throttled",
            "Too many requests",
            "Request was throttled. Expected available in 12 seconds.",
        ),
    ),
}


PAGE_NOT_FOUND = (
    "A page that does not exist: `page` below 1, past the end, or not a number.",
    _example(404, "not_found", "Not found", "Invalid page."),
)


PAGE_SIZE_INVALID = (
    "`page_size` that is not a whole number of 1 or more.",
    _example(
        400,
        "invalid",
        "Invalid input",
        f"page_size: {MSG_PAGE_SIZE}",
        [{"field": "page_size", "code": "invalid", "message": MSG_PAGE_SIZE}],
    ),
)


PARTNER_ON_STAFF = (
    "A partner's access token: staff endpoints refuse it (partners use /api/v1/partner/), "
    "or a role that may not take this action.",
    _example(403, "permission_denied", "Permission denied", MSG_PARTNER_ON_STAFF),
)


BODY_TOO_LARGE = (
    "A request body over the limit Django reads (DATA_UPLOAD_MAX_MEMORY_SIZE, 14 MB).",
    _example(413, "payload_too_large", "Payload too large", MSG_BODY_TOO_LARGE.format(mb=14)),
)


def problem_responses(*codes: int) -> dict[tuple[int, str], OpenApiResponse]:
    """The documented error responses; 401 is implied by every authenticated endpoint.

    Keyed by (status, media type): errors are served as application/problem+json,
    not as the application/json of the success responses.
    """
    out = {}
    for code in sorted({401, *codes}):
        description, example = PROBLEMS[code]
        out[code, PROBLEM_CONTENT_TYPE] = OpenApiResponse(
            ProblemSerializer, description=description, examples=[example]
        )
    return out


TokenRequest = inline_serializer(
    "Credentials",
    {
        "username": serializers.CharField(max_length=150),
        "password": serializers.CharField(max_length=4096),
    },
)
TokenResponse = inline_serializer("TokenResponse", {"token": serializers.CharField()})
