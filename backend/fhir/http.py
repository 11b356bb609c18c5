"""What every FHIR view shares on the wire: FHIR JSON out, content negotiation
by `Accept` and `_format`, who may call, and errors as OperationOutcome."""

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from oauth2_provider.models import AccessToken
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from backend.api.errors import DOMAIN_STATUS
from backend.api.permissions import PartnerScope
from backend.fhir.resources import FHIR_JSON, operation_outcome
from services.errors import DomainError

MSG_NOT_ACCEPTABLE = "Only FHIR JSON is served: application/fhir+json (or application/json)."

# What a caller may ask for and get FHIR JSON: by Accept, or by _format.
ACCEPTED_MEDIA = {FHIR_JSON, "application/json", "application/json+fhir", "*/*", "application/*"}
ACCEPTED_FORMATS = {"json", FHIR_JSON, "application/json", "application/json+fhir"}


class FHIRJSONRenderer(BaseRenderer):
    media_type = FHIR_JSON
    format = "json"
    charset = None  # JSON is UTF-8 by definition

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else orjson.dumps(data)


def _accepted(header: str) -> list[str]:
    """The media ranges of an Accept header, without parameters; q=0 excluded."""
    ranges = []
    for part in header.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media and not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00") for p in params):
            ranges.append(media.lower())
    return ranges


class FHIRContentNegotiation(BaseContentNegotiation):
    """FHIR JSON whenever the caller takes JSON of any kind (the answer's type is
    always application/fhir+json); `_format` overrides Accept, as FHIR says.
    Anything else (XML, Turtle, HTML) is a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        requested = request.query_params.get("_format")
        if requested is not None:
            if requested.strip().lower() in ACCEPTED_FORMATS:
                return renderer, FHIR_JSON
            raise exceptions.NotAcceptable(MSG_NOT_ACCEPTABLE)
        header = request.META.get("HTTP_ACCEPT", "").strip() or "*/*"
        if any(media in ACCEPTED_MEDIA for media in _accepted(header)):
            return renderer, FHIR_JSON
        raise exceptions.NotAcceptable(MSG_NOT_ACCEPTABLE)


class StaffOrPartnerScope(BasePermission):
    """A signed-in member of staff (what they see is services/access.py's
    business), or a partner's token with the view's `required_scope`."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, AccessToken):
            return PartnerScope().has_permission(request, view)
        return bool(request.user and request.user.is_authenticated)


def fhir_exception_handler(exc, context):
    """The FHIR views' EXCEPTION_HANDLER: every error is an OperationOutcome,
    with the HTTP status the JSON API would give it."""
    headers = {}
    field = None
    if isinstance(exc, DomainError):
        status = next(code for cls, code, _ in DOMAIN_STATUS if isinstance(exc, cls))
        message, field = exc.message, exc.field
    else:
        if isinstance(exc, Http404):
            exc = exceptions.NotFound()
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied()
        if not isinstance(exc, exceptions.APIException):
            return None  # a bug: Django logs it and answers 500
        status = exc.status_code
        message = str(exc.detail)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    set_rollback()
    return Response(
        operation_outcome(status, message, field),
        status=status,
        headers=headers,
        content_type=FHIR_JSON,
    )
