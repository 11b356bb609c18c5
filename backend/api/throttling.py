"""Per-partner rate limits (DRF throttling): a 429 with Retry-After."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from backend.api.permissions import partner_of


class PartnerRateThrottle(SimpleRateThrottle):
    scope = "partner"

    def get_rate(self):
        # The rate is per partner; allow_request reads it once the partner is known.
        return settings.PARTNER_RATE_LIMIT

    def allow_request(self, request, view):
        partner = partner_of(request)
        if partner is None:
            return True
        self.rate = partner.rate_limit or settings.PARTNER_RATE_LIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        partner = partner_of(request)
        return None if partner is None else f"throttle_partner_{partner.pk}"
