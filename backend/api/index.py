"""GET /api/v1/: the index of the API, as DRF's DefaultRouter root answers it: a map
from each resource to its URL. It is public, like the schema: it tells a new client
where to ask for a token, and names no record."""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api.schema import problem_responses

# Key -> path. Keys are the paths below /api/v1/, with "-" for "/" (they become
# attribute names in a generated client: `index.census_daily`).
LINKS = {
    "auth-token": "/api/v1/auth/token/",
    "me": "/api/v1/me/",
    "levels-of-care": "/api/v1/levels-of-care/",
    "sites": "/api/v1/sites/",
    "programs": "/api/v1/programs/",
    "clients": "/api/v1/clients/",
    "episodes": "/api/v1/episodes/",
    "placements": "/api/v1/placements/",
    "transfers": "/api/v1/transfers/",
    "handoffs": "/api/v1/handoffs/",
    "notifications": "/api/v1/notifications/",
    "census": "/api/v1/census/",
    "census-daily": "/api/v1/census/daily/",
    "census-movement": "/api/v1/census/movement/",
    "census-length-of-stay": "/api/v1/census/length-of-stay/",
    "follow-ups": "/api/v1/follow-ups/",
    "referrals": "/api/v1/referrals/",
    "consents": "/api/v1/consents/",
    "aftercare-metrics": "/api/v1/aftercare/metrics/",
    "ops-work": "/api/v1/ops/work/",
    "audit": "/api/v1/audit/",
    "partners": "/api/v1/partners/",
    "partner-availability": "/api/v1/partner/availability/",
    "partner-referrals": "/api/v1/partner/referrals/",
    "partner-webhooks": "/api/v1/partner/webhooks/",
    "partner-clients": "/api/v1/partner/clients/",
    "oauth-token": "/oauth/token/",
    "fhir-metadata": "/fhir/metadata",
    "schema": "/api/schema/",
    "docs": "/api/docs/",
}

ApiIndexSerializer = inline_serializer("ApiIndex", {key: serializers.URLField() for key in LINKS})


class ApiIndexView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The index of the API: each resource and its URL",
        operation_id="api_index",
        tags=["api"],
        # No credentials needed; a bad token is still a 401, as everywhere.
        responses={200: ApiIndexSerializer, **problem_responses()},
        examples=[
            OpenApiExample(
                "On the demo",
                value={key: f"http://127.0.0.1:8000{path}" for key, path in LINKS.items()},
                response_only=True,
            )
        ],
        auth=[],
    )
    def get(self, request):
        return Response({key: request.build_absolute_uri(path) for key, path in LINKS.items()})
