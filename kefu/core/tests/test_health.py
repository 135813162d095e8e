"""`/healthz` and `kefu health` (kefu.core.health): database, last completed clock sweep, import
heartbeat; no login, no personal data; failing when the sweep is older than the configured age."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kefu.core.models import Lease
from kefu.sla.tasks import SWEEP_LEASE

pytestmark = pytest.mark.django_db


def _swept(ago: timedelta) -> None:
    Lease.objects.update_or_create(name=SWEEP_LEASE, defaults={"completed_at": timezone.now() - ago})


def test_healthz_fails_without_any_completed_sweep(client):
    r = client.get("/healthz")
    assert r.status_code == 503
    data = r.json()
    assert data["status"] == "fail" and data["checks"]["database"]["ok"] is True
    assert data["checks"]["sla_sweep"] == {
        "ok": False,
        "last_completed": None,
        "age_seconds": None,
        "max_age_seconds": 300,
    }


def test_healthz_ok_after_a_recent_sweep_and_fails_when_it_is_old(client, settings):
    _swept(timedelta(seconds=30))
    r = client.get("/healthz")
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["status"] == "ok" and 30 <= data["checks"]["sla_sweep"]["age_seconds"] < 60
    assert data["checks"]["imports"]["ok"] is True and "last_heartbeat" in data["checks"]["imports"]
    settings.KEFU_HEALTH_SWEEP_MAX_AGE = 20
    assert client.get("/healthz").status_code == 503


def test_healthz_scope_web_checks_only_the_database(client):
    r = client.get("/healthz?scope=web")
    assert r.status_code == 200 and list(r.json()["checks"]) == ["database"]


def test_healthz_shows_no_personal_data(client, agent_x):
    _swept(timedelta(seconds=1))
    body = client.get("/healthz").content.decode()
    assert "agent_x" not in body and "@" not in body


def test_kefu_health_command_exit_codes():
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("health", stdout=out)
    assert exc.value.returncode == 1 and "sla_sweep" in str(exc.value)
    _swept(timedelta(seconds=5))
    out = StringIO()
    call_command("health", stdout=out)
    assert json.loads(out.getvalue())["status"] == "ok"
