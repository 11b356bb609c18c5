"""Where a request came from, for the audit rows written while it is served."""

from services.audit import audit_origin


class AuditOriginMiddleware:
    """Every audit row written during the request records its client address and
    user agent (services/audit.py reads them; no call site passes them).

    The address is REMOTE_ADDR, the peer the server saw: X-Forwarded-For is not
    trusted, as any client can send it. Behind a reverse proxy, the proxy must set
    REMOTE_ADDR (gunicorn's --forwarded-allow-ips) for the address to be the user's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_origin(
            address=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT"),
        ):
            return self.get_response(request)
