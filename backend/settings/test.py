"""The test suite: the database and Redis come from DATABASE_URL and REDIS_URL."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded consent documents go to a directory of this run, removed at exit.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

MEDIA_ROOT = tempfile.mkdtemp(prefix="continuum-media-")
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Static files are not collected for tests; WhiteNoise would only warn about it.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405

# The webhook tests run their receiver on http://127.0.0.1 (tests/partners/test_webhooks.py).
WEBHOOKS_ALLOW_HTTP_LOCALHOST = True
