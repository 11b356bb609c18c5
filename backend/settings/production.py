"""Production: DEBUG off, SECRET_KEY and ALLOWED_HOSTS required, HTTPS assumed.

`python manage.py check --deploy --fail-level WARNING` is clean with these settings
(tests/test_production_settings.py runs it). Secrets come only from the environment
(.env.example lists every variable); nothing secret has a default here.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEBUG, env

# base.py already refuses a missing SECRET_KEY when DEBUG is off.
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off with the production settings.")
if not env.str("ALLOWED_HOSTS", default=""):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set with the production settings.")

# --- Transport ------------------------------------------------------------------------------
# TLS ends at the proxy in front of gunicorn, which says so in X-Forwarded-Proto; the proxy
# must set (not pass through) that header, or a client could claim HTTPS over plain HTTP.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The container's health check asks http://127.0.0.1:8000/health/ directly, without the
# proxy: a redirect there would read as unhealthy. /health/ carries no personal data.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# One year, subdomains included. Preload is off by default: a domain on the browsers' preload
# list is HTTPS-only for every subdomain for months after it asks to leave, which is the
# operator's decision for the whole domain, not the application's. Django warns about
# preload being off (security.W021); that warning alone is silenced, and only while it is off.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Cookies --------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Headers --------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logs -----------------------------------------------------------------------------------
# JSON lines for the log collector, each with its request's id (backend/logs.py); the
# worker's lines too (workers/logs.py).
LOG_FORMAT = "json"
LOGGING = {
    **LOGGING,  # noqa: F405
    "formatters": {"json": {"()": "backend.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
}
