"""The one personal-data view service (S2): who may see personal data in full, the audit row of each
full view and of each refusal, and the masked values every screen shows."""

from __future__ import annotations

import pytest

from kefu.accounts.models import AuditEvent
from kefu.core.errors import Forbidden
from kefu.customers.privacy import can_view_unmasked, personal_data_view, show_address, show_name, show_phone

pytestmark = pytest.mark.django_db


def test_full_view_is_logged_with_its_fields(supervisor_x, company_x):
    assert can_view_unmasked(supervisor_x)
    personal_data_view(user=supervisor_x, obj=company_x, fields=("name", "phones"))
    row = AuditEvent.objects.get(action="privacy.unmasked_view")
    assert (
        row.actor == supervisor_x
        and row.object_id == str(company_x.pk)
        and row.detail == {"fields": ["name", "phones"]}
    )


def test_refusal_is_forbidden_and_logged(agent_x, company_x):
    assert not can_view_unmasked(agent_x)
    with pytest.raises(Forbidden):
        personal_data_view(user=agent_x, obj=company_x, fields=("name",))
    assert not AuditEvent.objects.filter(action="privacy.unmasked_view").exists()
    denied = AuditEvent.objects.get(action="auth.permission_denied")
    assert denied.actor == agent_x and denied.result == AuditEvent.Result.DENIED


def test_show_masks_unless_unmasked():
    assert show_name("张三丰") == "张**" and show_name("张三丰", unmasked=True) == "张三丰"
    assert (
        show_phone("13812345678") == "138****5678"
        and show_phone("13812345678", unmasked=True) == "13812345678"
    )
    assert show_address("幸福小区3号楼2单元501室", "501") == "幸福小区3号楼2单元***室"
    assert show_address("幸福小区3号楼2单元501室", "501", unmasked=True) == "幸福小区3号楼2单元501室"
    assert show_address("") == ""
