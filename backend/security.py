"""Response headers that every environment sends: no caching of anything but static files,
and a Content-Security-Policy on every HTML page (docs/security.md, "Production settings").

Static files never reach these middlewares: WhiteNoise (earlier in MIDDLEWARE) answers them
itself, with their long-lived caching headers.
"""

from __future__ import annotations

from django.conf import settings

# Nothing of ours may load or run anything but our own static files: no inline script, no
# <style> element or stylesheet from elsewhere, nothing from another origin, and no framing
# of our pages. One relaxation: style attributes set at run time on the workspace pages
# (Chromium reports them as style-src-attr in the browser tests) are allowed by
# style-src-attr, which lets no script run and loads nothing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)

# ReDoc (styled-components) writes its styles into <style> elements at run time and builds
# its search worker from a blob: URL; it cannot work under the policy above. Its page holds
# no personal data and loads only our own static files, so it alone gets these two relaxations.
REDOC_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)
REDOC_PATH = "/api/redoc/"


def _static_path(path: str) -> bool:
    return path.startswith("/" + settings.STATIC_URL.lstrip("/"))


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response but static files.

    Deny by default: API responses, FHIR, the workspace pages, the dashboards and the admin
    all carry personal data, so no browser, proxy or shared cache may keep any of them;
    a response that set its own caching is overridden too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not _static_path(request.path):
            response["Cache-Control"] = "no-store"
        return response


class ContentSecurityPolicyMiddleware:
    """The Content-Security-Policy above on every HTML response (REDOC's on ReDoc's page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            policy = (
                REDOC_CONTENT_SECURITY_POLICY
                if request.path == REDOC_PATH
                else CONTENT_SECURITY_POLICY
            )
            response["Content-Security-Policy"] = policy
        return response
