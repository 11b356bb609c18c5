"""What every partner endpoint shares: a partner's Bearer access token with a scope,
the partner's rate limit, and the schema's account of them."""

import json
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.permissions import PartnerScope
from backend.api.throttling import PartnerRateThrottle
from services.idempotency import idempotency_claim, idempotency_store, request_fingerprint

RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    type=int,
    location=OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before the next request (429 only).",
)


class PartnerAPIMixin:
    """For partner views: `required_scope` is a Scope value, a tuple of them (any
    one will do), or a dict by method."""

    # The default authenticators: a staff caller is recognised, and refused with a 403.
    permission_classes = [PartnerScope]
    throttle_classes = [PartnerRateThrottle]
    required_scope: str | tuple | dict = ""


class PartnerAPIView(PartnerAPIMixin, APIView):
    pass


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    # A blank key is a 400 naming it: say so (schemathesis sent one).
    type={"type": "string", "minLength": 1, "maxLength": 255},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string up to 255 characters (a UUID, say). A retry with the same key "
        "and the same body gets the first answer again (with `Idempotent-Replayed: true`) "
        "and does nothing more; the same key with another body is a 422. Kept 24 hours."
    ),
)
REPLAYED_HEADER = "Idempotent-Replayed"


def idempotent(request, act: Callable[[], Response]) -> Response:
    """Run `act` (which returns the success Response) under the request's
    Idempotency-Key, if it sent one: the key's claim, the work and the stored
    answer commit together (services/idempotency.py)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return act()
    fingerprint = request_fingerprint(request.method, request.path, request.data)
    with transaction.atomic():
        claim = idempotency_claim(
            partner=request.partner, key=key, fingerprint=fingerprint, now=timezone.now()
        )
        if claim.replay:
            body = claim.record.response_body
            return Response(
                body,
                status=claim.record.status_code,
                headers={REPLAYED_HEADER: "true", **_location(request, claim.record)},
            )
        response = act()
        # Stored as it is sent: JSON, not the serializer's UUIDs and datetimes.
        body = json.loads(JSONRenderer().render(response.data) or b"null")
        idempotency_store(claim, status_code=response.status_code, body=body)
        return response


def _location(request, record) -> dict:
    """A replayed 201 names what it created, as the first answer did: a POST to a
    collection creates `<collection>/<id>/`."""
    body = record.response_body
    if record.status_code == 201 and isinstance(body, dict) and body.get("id"):
        return {"Location": f"{request.path}{body['id']}/"}
    return {}
