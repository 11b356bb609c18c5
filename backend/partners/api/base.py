"""What every partner endpoint shares: a partner's Bearer access token with a scope,
the partner's rate limit, and the schema's account of them."""

from drf_spectacular.utils import OpenApiParameter
from rest_framework.views import APIView

from backend.api.permissions import PartnerScope
from backend.api.throttling import PartnerRateThrottle

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
