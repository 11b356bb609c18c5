"""Who may call an endpoint at all: staff, or a partner with a scope.

Staff endpoints (the default) refuse a partner's access token with a 403
before any view code runs, so a partner never reaches staff data; partner
endpoints refuse staff credentials the same way. Object visibility is the
services' business (services/access.py, services/consent.py).
"""

from oauth2_provider.models import AccessToken
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated

MSG_PARTNER_ON_STAFF = "Partner credentials cannot call staff endpoints; see /api/v1/partner/."
MSG_STAFF_ON_PARTNER = "This endpoint is for partner systems' OAuth2 tokens (docs/partners.md)."
MSG_MISSING_SCOPE = "The access token lacks the scope {scope}."
MSG_PARTNER_INACTIVE = "This partner is suspended."


def partner_of(request):
    """The Partner behind the request's access token, or None for staff."""
    if not isinstance(request.auth, AccessToken):
        return None
    user = request.auth.user or getattr(request.auth.application, "user", None)
    return getattr(user, "partner", None)


class StaffOnly(IsAuthenticated):
    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, AccessToken):
            raise PermissionDenied(MSG_PARTNER_ON_STAFF)
        return super().has_permission(request, view)


class PartnerScope(BasePermission):
    """A partner's token carrying the view's `required_scope` (a Scope value, or a
    tuple of them of which any one will do),
    of a partner that is active and still holds that scope."""

    def has_permission(self, request, view) -> bool:
        if request.auth is None:
            return False
        partner = partner_of(request)
        if partner is None:
            raise PermissionDenied(MSG_STAFF_ON_PARTNER)
        if not partner.is_active:
            raise PermissionDenied(MSG_PARTNER_INACTIVE)
        scope = view.required_scope
        if isinstance(scope, dict):
            scope = scope.get(request.method, scope.get("*"))
        if scope is None:
            # A method the view does not serve (TRACE): permissions run before DRF
            # looks for its handler, so say so here (it was a 500).
            raise MethodNotAllowed(request.method)
        # A tuple: any one of these scopes will do.
        wanted = scope if isinstance(scope, tuple) else (scope,)
        if not any(s in partner.scopes and request.auth.allow_scopes([s]) for s in wanted):
            raise PermissionDenied(MSG_MISSING_SCOPE.format(scope=" or ".join(wanted)))
        request.partner = partner
        return True
