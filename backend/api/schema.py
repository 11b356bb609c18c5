"""OpenAPI helpers: the problem document and the error responses each endpoint declares."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from backend.api.errors import PROBLEM_CONTENT_TYPE


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
}


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
    "TokenRequest",
    {"username": serializers.CharField(), "password": serializers.CharField()},
)
TokenResponse = inline_serializer("TokenResponse", {"token": serializers.CharField()})
