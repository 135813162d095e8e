"""`manage.py check --deploy` passes with production settings (S1, 等保 level 3): run in
a subprocess so the production settings module is loaded fresh."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from django.conf import settings


def _check(tmp_path, **extra: str) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KEFU_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        KEFU_PRODUCTION="1",
        KEFU_SECRET_KEY=secrets.token_urlsafe(64),
        KEFU_ALLOWED_HOSTS="kefu.example.com",
        KEFU_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="kefu.settings",
        **extra,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = _check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_debug_is_forced_on(tmp_path):
    """The check is real: production with DEBUG on is reported."""
    result = _check(tmp_path, KEFU_DEBUG="1")
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


def test_check_deploy_reports_a_policy_weaker_than_level_3(tmp_path):
    result = _check(tmp_path, KEFU_AUDIT_RETENTION_DAYS="30", KEFU_MFA_ENFORCED="0")
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "kefu.W001" in out and "AUDIT_RETENTION_DAYS=30" in out and "MFA_ENFORCED" in out


def test_policy_weaknesses_of_the_shipped_settings_are_none():
    from kefu.accounts.checks import policy_weaknesses

    assert policy_weaknesses(settings.KEFU_SECURITY) == []
    weaker = {**settings.KEFU_SECURITY, "PASSWORD_MIN_LENGTH": 8, "LOCKOUT_THRESHOLD": 10}
    assert len(policy_weaknesses(weaker)) == 2


def test_production_refuses_to_start_without_secret_key(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KEFU_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(KEFU_PRODUCTION="1", KEFU_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="kefu.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "KEFU_SECRET_KEY" in result.stderr
