"""Smaller holes of the hardening review (S1, S3): open redirects, 401 for refused tokens on writes,
the session key rotated at the second factor, API docs behind log-in in production, the CSV formula
guard for full-width characters, and a Content-Security-Policy on every HTML page."""

from __future__ import annotations

import re
from base64 import b32decode
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django_otp.oath import totp

from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_create, token_revoke
from kefu.accounts.tests.factories import TEST_PASSWORD
from kefu.accounts.views import csv_safe

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "https://testserver/tickets/",
        "javascript:alert(1)",
    ],
)
def test_called_again_next_is_not_an_open_redirect(client, agent_x, target):
    from kefu.tickets.services import ticket_create

    t = ticket_create(
        by=agent_x,
        kind="consultation",
        content="开户材料",
        caller_surname="张",
        caller_title="mr",
        caller_phone="13900001111",
        on_duplicate="create",
    ).ticket
    client.force_login(agent_x)
    r = client.post(f"/tickets/{t.pk}/called-again/", {"next": target})
    assert r.status_code == 302 and r["Location"] == f"/tickets/{t.pk}/"
    r = client.post(f"/tickets/{t.pk}/called-again/", {"next": "/tickets/"})
    assert r["Location"] == "/tickets/"


def test_revoked_or_unknown_token_on_a_write_is_401_not_a_csrf_failure(supervisor_x):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # as a real integration client: CSRF is checked
    row, secret = token_create(user=supervisor_x, name="x", scopes=[ApiToken.Scope.WRITE])
    token_revoke(token=row, by=supervisor_x)
    for token in (secret, "kefu_unknown-token"):
        r = client.post(
            "/api/v1/accounts/tokens",
            {"name": "y"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert r.status_code == 401, r.content
        assert "CSRF" not in r.json()["detail"]


def test_session_key_is_rotated_at_the_second_factor(client, supervisor_x):
    client.post("/accounts/login/", {"username": "supervisor_x", "password": TEST_PASSWORD})
    page = client.get("/accounts/mfa/").content.decode()
    key = b32decode(re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1))
    before = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    r = client.post("/accounts/mfa/", {"otp_token": f"{totp(key):06d}"})
    assert r.status_code == 302
    after = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert after != before
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=before).exists()
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_api_docs_need_a_login_in_production(settings, client, agent_x, path):
    settings.PRODUCTION = True
    r = client.get(path)
    assert r.status_code in (302, 401)
    if r.status_code == 302:
        assert r["Location"].startswith("/accounts/login/")
    secret = token_create(user=agent_x, name="docs", scopes=[])[1]
    assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    client.force_login(agent_x)
    assert client.get(path).status_code == 200
    settings.PRODUCTION = False
    client.logout()
    assert client.get(path).status_code == 200  # development: open (the fuzz tests read the schema)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "＝1+1", "＋1", "－1", "＠SUM(A1)", "\tx"])
def test_csv_formula_guard_covers_full_width(text):
    assert csv_safe(text) == "'" + text


def test_csv_guard_leaves_plain_text():
    assert csv_safe("张三 = 1") == "张三 = 1"


@pytest.mark.parametrize("path", ["/accounts/login/", "/"])
def test_html_pages_carry_a_content_security_policy(client, agent_x, path):
    client.force_login(agent_x)
    r = client.get(path, follow=True)
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp


def test_no_inline_scripts_or_event_handlers_in_templates():
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("templates/**/*.html"):
        text = path.read_text()
        if re.search(r"\son[a-z]+\s*=", text) or re.search(
            r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text
        ):
            offenders.append(str(path.relative_to(root)))
    assert not offenders
