"""Settings shared by every environment, read from the process environment.

Every value that differs between a laptop, CI and production comes from an
environment variable (see .env.example); the defaults are the embedded demo:
a SQLite file next to the code and no Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: never used once DEBUG is off (checked above).
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "guardian",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "backend.network",
    "backend.care",
    "backend.audit",
    "backend.accounts",
    "backend.work",
    "backend.handoffs",
    "backend.notifications",
    "backend.dashboard",
    "backend.aftercare",
    "backend.census",
    "backend.workspaces",
    "backend.partners",
    "backend.fhir",
    "backend.webhooks",
    "django_htmx",
    "oauth2_provider",
    "axes",
    "corsheaders",
]

MIDDLEWARE = [
    # First, so that every log line of the request carries its id (backend/logs.py).
    "backend.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # High, as django-cors-headers asks: it answers a partner origin's preflight itself.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so static files keep their caching (backend/security.py).
    "backend.security.NoStoreMiddleware",
    "backend.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "backend.workspaces.middleware.IdleSessionTimeoutMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Sets where the request came from for the audit rows it writes.
    "backend.audit.middleware.AuditOriginMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in (backend/accounts/lockout.py).
    "axes.middleware.AxesMiddleware",
]

# Passwords: Argon2id first (argon2-cffi); older hashes are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Sign-in lockout (django-axes, docs/security.md): after AXES_FAILURE_LIMIT failed
# sign-ins for one username from one address, that pair is refused for
# AXES_COOLOFF_TIME, on every way in (the API's token endpoint, the sign-in page,
# the admin); a success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "backend.accounts.lockout.locked_out"
AXES_VERBOSE = False

# Staff API tokens end this long after they were issued (sign in again for a new one).
STAFF_TOKEN_TTL = timedelta(hours=env.int("STAFF_TOKEN_TTL_HOURS", default=12))

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded default is a SQLite file; production and CI set DATABASE_URL
# to PostgreSQL (postgres://user:password@host:5432/name).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'continuum.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer lock instead of failing at once when the demo's web
    # process and a management command write at the same time.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out sign-in before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Roles are django-guardian object permissions on sites; there are no
# permissions for anonymous users, so guardian needs no anonymous user row.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Everything is stored in UTC; each site carries its own time zone for days.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Uploaded files: the signed consent documents (never served as static files;
# staff and partners fetch a copy through the API, which checks access).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Staff sign in on the site's own form (the admin's login is for Django staff
# users only); `/` then takes each user to the workspace of their roles.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# A signed-in session ends after this many minutes without a request made by
# the user (the board's own refresh does not count), as HIPAA workstations
# expect (backend/workspaces/middleware.py).
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=15)
# A shared workstation's browser forgets the session when it closes.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# The workspaces' "act once" tokens (a double-submitted form acts once) must be
# seen by every web process: Redis when there is one, else this process's memory.
_cache_url = env.str("REDIS_URL", default="")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
    if _cache_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# CORS (django-cors-headers): closed by default, no origin listed here. Only the partner
# surfaces below answer cross-origin requests, and only for an origin an active partner
# lists (Partner.allowed_origins, backend/partners/cors.py). Partners send a bearer token,
# never cookies, so credentials stay off.
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_URLS_REGEX = r"^/(api/v1/partner/|oauth/token/|fhir/)"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
]
CORS_EXPOSE_HEADERS = ["location", "part2-notice", "retry-after", "x-request-id"]
CORS_PREFLIGHT_MAX_AGE = 600

# Partner systems sign in with OAuth2 client credentials (django-oauth-toolkit):
# POST /oauth/token/, then `Authorization: Bearer <token>` (docs/partners.md).
# Client secrets are stored hashed; each partner's scopes are its own
# (backend.partners.scopes.PartnerScopes).
OAUTH2_PROVIDER = {
    "SCOPES": {
        "availability:read": "Read de-identified availability",
        "referrals:write": "Send referrals",
        "referrals:read": "Read the status of the partner's own referrals",
        "clients:read": "Read consented clients' demographics",
        "episodes:read": "Read consented clients' episodes and levels of care",
        "fhir:read": "Read consented clients as FHIR R4",
        "webhooks:manage": "Manage webhook subscriptions",
    },
    "SCOPES_BACKEND_CLASS": "backend.partners.scopes.PartnerScopes",
    "OAUTH2_VALIDATOR_CLASS": "backend.partners.oauth.PartnerOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("PARTNER_TOKEN_SECONDS", default=3600),
    "PKCE_REQUIRED": True,
    # RFC 9700 (OAuth 2.0 Security BCP), which `check --deploy` asks for: partners use the
    # client-credentials grant only, so the legacy grants and behaviours below go, and
    # access tokens are stored hashed (a copy of the database holds no usable token).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
# Requests a partner may make, per partner (Partner.rate_limit overrides it).
PARTNER_RATE_LIMIT = env.str("PARTNER_RATE_LIMIT", default="300/min")
# Webhooks (docs/webhooks.md): receivers must be https; http://127.0.0.1 and
# http://localhost are allowed with DEBUG on, or with this setting (tests, a demo).
WEBHOOKS_ALLOW_HTTP_LOCALHOST = env.bool("WEBHOOKS_ALLOW_HTTP_LOCALHOST", default=False)
# Seconds to connect to a receiver and to wait for its answer.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# The largest request body Django reads (its default is 2.5 MB). A consent's signed
# document may be 10 MB (services.consent.MAX_DOCUMENT_BYTES): 13.4 MB base64-encoded
# in its JSON body, with the form's other fields. A larger body is a 413 problem.
DATA_UPLOAD_MAX_MEMORY_SIZE = 14 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # "Bearer <key>": a staff API token (what a generated client sends) or,
        # failing that, a partner's OAuth2 access token.
        "backend.api.authentication.BearerAuthentication",
        "backend.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Staff endpoints: a signed-in staff user, never a partner token (403).
    "DEFAULT_PERMISSION_CLASSES": ["backend.api.permissions.StaffOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "backend.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "backend.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["backend.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "backend.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "backend.api.errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "backend.api.renderers.JSONRenderer",
        "backend.api.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "backend.api.negotiation.ContentNegotiation",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Continuum API",
    "DESCRIPTION": (
        "Care coordination across the levels of care of a behavioral-health provider "
        "network: clients, episodes of care, placements and transfers between programs. "
        "Every error is an RFC 9457 problem document (application/problem+json); "
        "objects the caller may not see answer 404. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags (the first segment after the prefix) and operation ids without "v1_".
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # One per resource (backend.api.schema.TAG_OF_SEGMENT), in the order the docs show them.
    "TAGS": [
        {"name": "api", "description": "The index of the API."},
        {"name": "auth", "description": "Tokens, and who the caller is."},
        {"name": "network", "description": "Levels of care, sites, programs, occupancy."},
        {"name": "clients", "description": "Clients and their journeys."},
        {"name": "episodes", "description": "Admission and discharge."},
        {"name": "placements", "description": "Stays in a program."},
        {"name": "transfers", "description": "Transfers between programs, step by step."},
        {"name": "handoffs", "description": "Hand-offs: acknowledgement and checklists."},
        {"name": "notifications", "description": "The caller's in-app notifications."},
        {"name": "census", "description": "Census figures, in JSON or CSV."},
        {"name": "aftercare", "description": "Aftercare plans, follow-ups, outcome metrics."},
        {
            "name": "referrals",
            "description": "Referrals into care: back from aftercare, and partners'.",
        },
        {
            "name": "partner",
            "description": "Partner systems (OAuth2): availability, referrals, reads, webhooks.",
        },
        {
            "name": "partners",
            "description": "Partner organisations and their credentials, for organisation admins.",
        },
        {
            "name": "webhooks",
            "description": "Partner systems' signed webhooks: subscriptions, delivery logs.",
        },
        {
            "name": "consents",
            "description": "42 CFR Part 2 consents, revocations, the accounting of disclosures.",
        },
        {"name": "ops", "description": "Durable work, for organisation admins."},
        {
            "name": "audit",
            "description": "The audit trail of reads and writes, for organisation admins.",
        },
    ],
    # Request bodies are JSON in the contract. The form and multipart parsers stay on
    # the views for the browsable API's forms, but a client generated from a body
    # offered three ways cannot be imported (openapi-python-client).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "partnerOAuth2": {
                "type": "oauth2",
                "description": "Partner systems: OAuth2 client credentials (docs/partners.md).",
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "/oauth/token/",
                        "scopes": OAUTH2_PROVIDER["SCOPES"],
                    }
                },
            }
        }
    },
    "ENUM_NAME_OVERRIDES": {
        "TransferStatusEnum": "backend.care.models.TransferStatus",
        "DischargeTypeEnum": "backend.care.models.DischargeType",
        "LevelCodeEnum": "backend.network.models.LevelCode",
        "WebhookEventTypeEnum": "backend.webhooks.models.WebhookEventType",
        "WebhookDeliveryStatusEnum": "backend.webhooks.models.DeliveryStatus",
        "WebhookPurposeEnum": "backend.webhooks.models.PURPOSE_CHOICES",
        "PurposeEnum": "backend.partners.models.Purpose",
        "InformationKindEnum": "backend.partners.models.InformationKind",
        "RecipientClassEnum": "backend.partners.models.RecipientClass",
        "ExpiryEnum": "backend.partners.models.ConsentExpiry",
        "DisclosureChannelEnum": "backend.partners.models.DisclosureChannel",
        "ChannelEnum": "backend.aftercare.models.ContactChannel",
    },
}

# Celery: Redis carries wake-ups only; pending work lives in PostgreSQL rows.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without Redis (the embedded demo) tasks run in-process, at once.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker's lines carry the id of the request or sweep their task works for
# (workers/logs.py puts `request_id` on every record).
CELERY_WORKER_LOG_FORMAT = (
    "[%(asctime)s: %(levelname)s/%(processName)s] [%(request_id)s] %(message)s"
)
CELERY_WORKER_TASK_LOG_FORMAT = (
    "[%(asctime)s: %(levelname)s/%(processName)s] [%(request_id)s] "
    "%(task_name)s[%(task_id)s]: %(message)s"
)
# A wake-up is sent after a commit, inside a web request: with Redis down it
# must fail fast (the sweep re-sends it), not hold the response for seconds.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    # kombu's publisher: one quick second try, then give up (and log).
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
}

# "plain" lines here, "json" in production; the worker's lines follow it (workers/logs.py).
LOG_FORMAT = "plain"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backend.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Channels besides the in-app notification (services/notifications.py).
NOTIFICATION_CHANNELS = [
    path.strip()
    for path in env.list("NOTIFICATION_CHANNELS", default=["services.notifications.EmailChannel"])
    if path.strip()
]
# EMAIL_URL (smtp+tls://user:password@host:587, smtp://host:25, consolemail://) configures
# the whole email backend; the default prints emails to the console (the demo).
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="continuum@localhost")

# The nightly census snapshot (services/census.py) looks back this many days
# for midnights it has not recorded yet, so that missed nights are filled in.
CENSUS_SNAPSHOT_BACKFILL_DAYS = env.int("CENSUS_SNAPSHOT_BACKFILL_DAYS", default=92)

# Follow-up work (services/followup_work.py): the nudges sent to clients when a
# follow-up becomes due, on the channels they consented to. Each channel is a
# class of services/client_contact.py (or your own), by dotted path; a channel
# left out sends nothing. CLIENT_SMS_BACKEND names the SMS gateway's class
# (a subclass of services.client_contact.SMSBackend); the default only logs.
CLIENT_CONTACT_CHANNELS = {
    "email": "services.client_contact.EmailNudge",
    "sms": env.str("CLIENT_SMS_BACKEND", default="services.client_contact.ConsoleSMS"),
}
# Who the nudge says it is from, and the number to call back when the site
# responsible for the follow-up has none. Choose a name that does not reveal
# treatment: the message may be read by anyone holding the client's phone.
CLIENT_CONTACT_SENDER = env.str("CLIENT_CONTACT_SENDER", default="Continuum")
CLIENT_CONTACT_PHONE = env.str("CLIENT_CONTACT_PHONE", default="")
