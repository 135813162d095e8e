"""The sla_preset command (C17)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from kefu.accounts.models import AuditEvent
from kefu.sla.models import CommitmentSet


def test_sla_preset_creates_and_publishes(company_x, capsys):
    call_command("sla_preset", "--company", "x", "--year", "2026", "--preset", "taian-antai", "--publish")
    row = CommitmentSet.objects.get(company=company_x, year=2026)
    assert row.is_published and row.published_at and row.commitments.filter(spec_id="C3").count() == 2
    # Published through the publish service (kefu.sla.services.commitment_set_publish): its audit row.
    audit = AuditEvent.objects.get(action="sla.set_published", object_id=str(row.pk))
    assert (
        audit.detail == {"version": 1, "year": 2026}
        and audit.actor is None
        and audit.actor_label == "command"
    )
    call_command("sla_preset", "--company", "x", "--year", "2026", "--preset", "taian-antai", "--if-missing")
    assert CommitmentSet.objects.filter(company=company_x).count() == 1
    assert "已有服务承诺方案" in capsys.readouterr().out


def test_sla_preset_unknown_company(db):
    with pytest.raises(CommandError):
        call_command("sla_preset", "--company", "nope", "--preset", "taian-antai")
