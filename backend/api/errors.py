"""One error format for the whole API: RFC 9457 problem details.

    {"type": "urn:continuum:problem:invalid", "title": "Invalid input",
     "status": 400, "detail": "date_of_birth: Enter a valid date.",
     "code": "invalid",
     "errors": [{"field": "date_of_birth", "code": "invalid", "message": "..."}]}

Domain errors from services/ and DRF's own exceptions both come through
here; this is the only place that knows which HTTP status each one gets.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from backend.api.renderers import JSONRenderer
from services import errors as domain

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Most specific first; DomainError itself (a bug if raised bare) falls to 409.
DOMAIN_STATUS = [
    (domain.NotFound, status.HTTP_404_NOT_FOUND, "Not found"),
    (domain.NotPermitted, status.HTTP_403_FORBIDDEN, "Not permitted"),
    (domain.InvalidInput, status.HTTP_400_BAD_REQUEST, "Invalid input"),
    (domain.Unprocessable, status.HTTP_422_UNPROCESSABLE_ENTITY, "Unprocessable request"),
    (domain.CapacityExceeded, status.HTTP_409_CONFLICT, "Capacity exceeded"),
    (domain.IllegalTransition, status.HTTP_409_CONFLICT, "Illegal transition"),
    (domain.Conflict, status.HTTP_409_CONFLICT, "Conflict"),
    (domain.DomainError, status.HTTP_409_CONFLICT, "Conflict"),
]

DRF_TITLES = {
    400: "Invalid input",
    401: "Not authenticated",
    403: "Not permitted",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Payload too large",
    415: "Unsupported media type",
    429: "Too many requests",
}


MSG_BODY_TOO_LARGE = "The request body is larger than {mb} MB."


class PayloadTooLarge(exceptions.APIException):
    """Django refused to read a body over DATA_UPLOAD_MAX_MEMORY_SIZE."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def problem(
    *, status_code: int, code: str, title: str, detail: str, errors: list[dict] | None = None
) -> dict:
    body = {
        "type": f"urn:continuum:problem:{code}",
        "title": title,
        "status": status_code,
        "detail": _encodable(detail),
        "code": code,
    }
    if errors:
        body["errors"] = [
            {key: _encodable(value) for key, value in error.items()} for error in errors
        ]
    return body


def _encodable(value):
    """Escape lone surrogates: valid in a JSON string ("\\ud800"), not in UTF-8.
    Messages that echo the input ('"..." is not a valid choice.') would
    otherwise fail to render, and the 400 would become a 500."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _flatten(detail, path: str = "") -> list[dict]:
    """DRF's nested error dict/list -> [{"field": "a.0.b", "code", "message"}]."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "detail") else str(key)
            out += _flatten(value, f"{path}.{name}" if path and name else (name or path))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            out += _flatten(value, f"{path}.{index}" if nested and path else path)
        return out
    return [
        {
            "field": path or None,
            "code": getattr(detail, "code", "invalid"),
            "message": str(detail),
        }
    ]


def _summary(errors: list[dict]) -> str:
    return "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
    )


def _respond(body: dict, headers: dict | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error leaves the API as a problem document,
    in JSON even where the caller asked for CSV."""
    response = _problem_for(exc)
    request = context.get("request")
    if response is not None and request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = PROBLEM_CONTENT_TYPE
    return response


def _problem_for(exc):
    if isinstance(exc, domain.DomainError):
        set_rollback()
        status_code, title = next(
            (code, title) for cls, code, title in DOMAIN_STATUS if isinstance(exc, cls)
        )
        errors = (
            [{"field": exc.field, "code": exc.code, "message": exc.message}] if exc.field else None
        )
        return _respond(
            problem(
                status_code=status_code,
                code=exc.code,
                title=title,
                detail=_summary(errors) if errors else exc.message,
                errors=errors,
            )
        )

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        exc = PayloadTooLarge(MSG_BODY_TOO_LARGE.format(mb=limit))
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django log it and answer 500

    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        return _respond(
            problem(
                status_code=status_code,
                code="invalid",
                title="Invalid input",
                detail=_summary(errors),
                errors=errors,
            ),
            headers,
        )
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else "error"
    return _respond(
        problem(
            status_code=status_code,
            code=code,
            title=DRF_TITLES.get(status_code, "Error"),
            detail=str(exc.detail),
        ),
        headers,
    )


NO_SUCH_ENDPOINT = "No such endpoint."


def _no_such_endpoint(detail: str = NO_SUCH_ENDPOINT) -> JsonResponse:
    body = problem(status_code=404, code="not_found", title="Not found", detail=detail)
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


def api_not_found(request, exception=None):
    """handler404 for URLs that match no route: JSON under /api/, HTML elsewhere."""
    if request.path.startswith("/api/"):
        return _no_such_endpoint()
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


@csrf_exempt  # it changes nothing; a POST without a CSRF token gets the 404, not a 403 page
def api_unknown_path(request):
    """The last route of all: any /api/ URL that no other route answers.

    handler404 is not used while DEBUG is on (Django shows its technical page
    instead), so without this route an API client would get HTML on a developer's
    machine. Because this route matches, CommonMiddleware no longer adds a missing
    final slash: a GET of a real endpoint without it is redirected here, as
    CommonMiddleware would; another method gets the 404 with the right path."""
    path = request.path_info
    slash_missing = settings.APPEND_SLASH and not path.endswith("/")
    if slash_missing and resolve(path + "/").func is not api_unknown_path:
        if request.method in ("GET", "HEAD"):
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        return _no_such_endpoint(f"{NO_SUCH_ENDPOINT} Did you mean {path}/?")
    return _no_such_endpoint()


def api_server_error(request):
    """handler500: even a bug answers in the documented format under /api/."""
    if request.path.startswith("/api/"):
        body = problem(
            status_code=500,
            code="server_error",
            title="Server error",
            detail="An unexpected error occurred; it has been logged.",
        )
        return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    from django.views.defaults import server_error

    return server_error(request)
