"""Personas across companies (S2): the agent of company Y sees nothing of company X — not its users,
not its tokens, not its audit rows — and neither does Y's administrator or auditor."""

from __future__ import annotations

import pytest

from kefu.accounts import services
from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditEvent
from kefu.accounts.tests.conftest import verified_client
from kefu.core.errors import Forbidden

pytestmark = pytest.mark.django_db


@pytest.fixture
def x_world(clock, agent_x, supervisor_x):
    token, raw = services.token_create(user=agent_x, name="X来电弹屏", scopes=["write"])
    audit_record(action=Action.LOGIN, actor=agent_x, obj=agent_x, detail={"marker": "x-secret"})
    return token, raw


def test_agent_y_sees_no_tokens_of_x(client, agent_y, x_world):
    token, _raw = x_world
    client.force_login(agent_y)
    assert client.get("/api/v1/accounts/tokens").json() == []
    r = client.post(f"/api/v1/accounts/tokens/{token.pk}/revoke")
    assert r.status_code == 404 and r.json()["detail"]
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert "X来电弹屏" not in client.get("/accounts/tokens/").content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_agent_y_sees_no_audit_and_no_users(client, agent_y, agent_x, x_world):
    client.force_login(agent_y)
    assert client.get("/accounts/audit/").status_code == 403
    assert client.get("/accounts/audit/export.csv").status_code == 403
    assert client.get("/admin/accounts/user/").status_code == 302  # to the admin log-in: no access
    me = client.get("/api/v1/accounts/me").json()
    assert me["company_id"] == agent_y.company_id and "agent_x" not in str(me)
    with pytest.raises(Forbidden):
        services.user_disable(user=agent_x, by=agent_y)


def test_admin_and_auditor_of_y_see_nothing_of_x(client, admin_y, auditor_y, agent_x, x_world):
    token, _raw = x_world
    verified_client(client, admin_y)
    page = client.get("/admin/accounts/user/").content.decode()
    assert "agent_x" not in page and "supervisor_x" not in page
    assert client.post(f"/api/v1/accounts/tokens/{token.pk}/revoke").status_code == 404
    with pytest.raises(Forbidden):
        services.token_revoke(token=token, by=admin_y)
    client.logout()

    verified_client(client, auditor_y)
    r = client.get("/accounts/audit/", {"actor": "agent"})
    assert r.status_code == 200 and r.context["page"].paginator.count == 0
    r = client.get("/accounts/audit/", {"action": "auth."})
    assert {e.company_id for e in r.context["page"]} == {auditor_y.company_id}
    text = b"".join(client.get("/accounts/audit/export.csv").streaming_content).decode()
    assert "x-secret" not in text and "agent_x" not in text and "X来电弹屏" not in text
    assert "X市燃气" not in text
    assert AuditEvent.objects.filter(detail__marker="x-secret").count() == 1  # it exists, just not for Y
