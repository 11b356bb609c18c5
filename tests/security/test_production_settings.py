"""The production settings pass Django's deployment checklist, with secrets from the environment."""

import os
import secrets
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "backend.settings.production",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "continuum.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://continuum.example.org",
}


def run_deploy_check(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        # A fresh, long, random key: what .env.example asks the operator for.
        "SECRET_KEY": secrets.token_urlsafe(50),
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_the_production_settings():
    # given the production settings and the variables .env.example asks for
    # when Django's deployment checklist runs at the strictest level
    result = run_deploy_check()

    # then it finds nothing, not even a warning
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_hsts_is_switched_off():
    # given production settings whose operator turned HSTS off
    # when the checklist runs
    result = run_deploy_check(SECURE_HSTS_SECONDS="0")

    # then it fails and names the setting (so the clean run above means something)
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    # given no SECRET_KEY in the environment
    # when the production settings load
    result = run_deploy_check(SECRET_KEY="")

    # then they refuse: no default secret exists to fall back on
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
