"""API tokens (S1, S2): stored hashed, scoped, revocable, expiring, of active users only,
company-scoped; /api/v1/accounts/me; JSON errors with a Chinese `detail`."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.accounts import services
from kefu.accounts.audit import Action
from kefu.accounts.models import ApiToken, AuditEvent
from kefu.accounts.roles import ROLE_PERMISSIONS
from kefu.accounts.tests.conftest import verified_client
from kefu.core.errors import DomainError

pytestmark = pytest.mark.django_db

ME = "/api/v1/accounts/me"
TOKENS = "/api/v1/accounts/tokens"


def _bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def test_token_is_stored_hashed_and_shown_once(clock, agent_x):
    row, raw = services.token_create(user=agent_x, name="来电弹屏", scopes=[])
    assert raw.startswith("kefu_") and len(raw) > 40
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.filter(pk=row.pk).values().get())
    assert row.scopes == ["read"]


def test_me_with_token(clock, client, agent_x):
    _row, raw = services.token_create(user=agent_x, name="t", scopes=[])
    r = client.get(ME, **_bearer(raw))
    assert r.status_code == 200
    body = r.json()
    assert (body["username"], body["company_id"], body["role_label"]) == (
        "agent_x",
        agent_x.company_id,
        "坐席",
    )
    assert body["permissions"] == sorted(ROLE_PERMISSIONS["agent"])
    assert ApiToken.objects.get(pk=_row.pk).last_used_at == timezone.now()


def test_read_only_token_refused_on_post(clock, client, agent_x):
    _row, raw = services.token_create(user=agent_x, name="只读", scopes=["read"])
    r = client.post(TOKENS, {"name": "x"}, content_type="application/json", **_bearer(raw))
    assert r.status_code == 403
    assert _has_chinese(r.json()["detail"])
    assert not ApiToken.objects.filter(name="x").exists()
    _row, raw_w = services.token_create(user=agent_x, name="读写", scopes=["write"])
    r = client.post(TOKENS, {"name": "x"}, content_type="application/json", **_bearer(raw_w))
    assert r.status_code == 201 and r.json()["token"].startswith("kefu_")


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired", "user_disabled"])
def test_unusable_tokens_give_401(clock, client, agent_x, admin_x, case):
    row, raw = services.token_create(
        user=agent_x, name="t", scopes=["write"], expires_at=timezone.now() + timedelta(days=1)
    )
    if case == "unknown":
        raw = raw[:-4] + "abcd"
    elif case == "revoked":
        services.token_revoke(token=row, by=agent_x)
    elif case == "expired":
        clock.shift(timedelta(days=1, seconds=1))
    elif case == "user_disabled":
        services.user_disable(user=agent_x, by=admin_x)
    r = client.get(ME, **_bearer(raw))
    assert r.status_code == 401
    assert r.json()["detail"] == "未登录或令牌无效。"
    rejected = AuditEvent.objects.get(action=Action.TOKEN_REJECTED)
    assert rejected.result == "denied" and rejected.detail["reason"] == case


def test_token_create_validation(clock, client, agent_x):
    with pytest.raises(DomainError):
        services.token_create(user=agent_x, name="  ", scopes=[])
    with pytest.raises(DomainError):
        services.token_create(user=agent_x, name="t", scopes=["admin"])
    with pytest.raises(DomainError):
        services.token_create(
            user=agent_x, name="t", scopes=[], expires_at=timezone.now() - timedelta(seconds=1)
        )
    services.token_create(user=agent_x, name="t", scopes=[])
    client.force_login(agent_x)
    r = client.post(TOKENS, {"name": "t"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["detail"] == "已有同名令牌。"
    r = client.post(TOKENS, {"name": 5, "scopes": "x"}, content_type="application/json")
    assert r.status_code == 422 and _has_chinese(r.json()["detail"])
    r = client.post(TOKENS, "{not json", content_type="application/json")
    assert 400 <= r.status_code < 500


def test_expiry_without_zone_is_local_time(clock, client, agent_x):
    client.force_login(agent_x)
    r = client.post(
        TOKENS, {"name": "n", "expires_at": "2026-03-03T09:00:00"}, content_type="application/json"
    )
    assert r.status_code == 201
    assert ApiToken.objects.get(name="n").expires_at == timezone.now() + timedelta(days=1)
    r = client.post(
        TOKENS, {"name": "m", "expires_at": "2020-01-01T00:00:00+08:00"}, content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["field"] == "expires_at"


def test_session_api_revoke_and_list(clock, client, agent_x):
    client.force_login(agent_x)
    r = client.post(TOKENS, {"name": "脚本", "scopes": ["write"]}, content_type="application/json")
    assert r.status_code == 201
    token_id = r.json()["id"]
    assert [t["name"] for t in client.get(TOKENS).json()] == ["脚本"]
    r = client.post(f"{TOKENS}/{token_id}/revoke")
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert AuditEvent.objects.filter(action=Action.TOKEN_REVOKED, actor=agent_x).count() == 1


def test_colleague_cannot_revoke_but_admin_can(clock, client, agent_x, supervisor_x, admin_x):
    row, _raw = services.token_create(user=supervisor_x, name="t", scopes=[])
    client.force_login(agent_x)
    assert client.post(f"{TOKENS}/{row.pk}/revoke").status_code == 404
    client.logout()
    verified_client(client, admin_x)
    assert client.post(f"{TOKENS}/{row.pk}/revoke").status_code == 200


def test_web_token_page(clock, client, agent_x):
    client.force_login(agent_x)
    r = client.post("/accounts/tokens/", {"name": "网页令牌", "write": "on", "expires_days": "30"})
    assert r.status_code == 200
    raw = r.context["created_secret"]
    row = ApiToken.objects.get(name="网页令牌")
    assert row.scopes == ["read", "write"] and row.expires_at == timezone.now() + timedelta(days=30)
    assert client.get(ME, **_bearer(raw)).status_code == 200
    r = client.post(f"/accounts/tokens/{row.pk}/revoke/")
    assert r.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None


@pytest.mark.parametrize("name", ["x" * 101, "脚本\x00"])
def test_token_name_too_long_or_with_nul_is_a_clear_400(client, agent_x, name):
    client.force_login(agent_x)
    r = client.post(TOKENS, {"name": name, "scopes": []}, content_type="application/json")
    assert r.status_code == 400
    assert "令牌名称" in r.json()["detail"] or r.json()["field"] == "name"  # NUL: refused by the API parser


def test_token_expiry_with_an_offset_postgresql_refuses_is_stored_in_utc(client, agent_x):
    """ISO 8601 allows offsets up to ±23:59; PostgreSQL only ±15:59: the API keeps UTC."""
    client.force_login(agent_x)
    r = client.post(
        TOKENS,
        {"name": "远期", "scopes": [], "expires_at": "3173-05-03T21:31:48-16:17"},
        content_type="application/json",
    )
    assert r.status_code == 201
    assert r.json()["expires_at"].startswith("3173-05-04T13:48:48")
