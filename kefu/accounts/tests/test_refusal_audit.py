"""Refused access is audited (S3 越权访问) with actor, object and address, rate-limited per actor:
cross-company objects (404) and role refusals (403) on the API and the web pages."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from kefu.accounts.audit import Action
from kefu.accounts.models import ApiToken, AuditEvent
from kefu.accounts.services import token_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ticket_x(agent_x):
    from kefu.tickets.services import ticket_create

    return ticket_create(
        by=agent_x,
        kind="consultation",
        content="开户材料",
        caller_surname="张",
        caller_title="mr",
        caller_phone="13900001111",
        on_duplicate="create",
    ).ticket


def test_another_companys_work_order_on_the_api_is_audited(client, agent_y, ticket_x):
    secret = token_create(user=agent_y, name="y", scopes=[ApiToken.Scope.WRITE])[1]
    r = client.get(
        f"/api/v1/tickets/{ticket_x.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}", REMOTE_ADDR="203.0.113.9"
    )
    assert r.status_code == 404
    row = AuditEvent.objects.get(action=Action.NOT_FOUND)
    assert row.actor == agent_y and row.result == "denied" and row.source_ip == "203.0.113.9"
    assert row.object_id == f"ticket_id={ticket_x.pk}" and str(ticket_x.pk) in row.object_repr
    assert row.company == agent_y.company


def test_another_companys_work_order_page_is_audited(client, agent_y, ticket_x):
    client.force_login(agent_y)
    assert client.get(f"/tickets/{ticket_x.pk}/").status_code in (403, 404)
    assert (
        AuditEvent.objects.filter(
            action__in=[Action.NOT_FOUND, Action.PERMISSION_DENIED], actor=agent_y
        ).count()
        == 1
    )


def test_role_refusal_on_the_api_is_audited(client, agent_x):
    secret = token_create(user=agent_x, name="x", scopes=[ApiToken.Scope.WRITE])[1]
    r = client.get("/api/v1/sla/overrides", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert r.status_code == 403
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, actor=agent_x).count() == 1


def test_unknown_addresses_are_not_refusals(client, agent_x):
    client.force_login(agent_x)
    assert client.get("/no-such-page/").status_code == 404
    assert not AuditEvent.objects.filter(action=Action.NOT_FOUND).exists()


def test_a_flood_writes_one_row_per_minute_with_the_count(client, agent_y, ticket_x, time_machine):
    time_machine.move_to("2026-03-02 09:00:00+08:00", tick=False)
    secret = token_create(user=agent_y, name="y", scopes=[])[1]
    for i in range(50):
        client.get(f"/api/v1/tickets/{ticket_x.pk + i}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert AuditEvent.objects.filter(action=Action.NOT_FOUND).count() == 1
    cache.delete(f"kefu:refusal:u{agent_y.pk}:{Action.NOT_FOUND}")  # the minute is over (cache expiry)
    client.get(f"/api/v1/tickets/{ticket_x.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    rows = list(AuditEvent.objects.filter(action=Action.NOT_FOUND).order_by("id"))
    assert len(rows) == 2 and rows[1].detail["suppressed"] == 49


def test_explicit_refusal_rows_are_not_doubled(client, admin_x):
    from kefu.accounts.tests.conftest import verified_client

    verified_client(client, admin_x)
    assert client.get("/accounts/audit/").status_code == 403
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED).count() == 1
