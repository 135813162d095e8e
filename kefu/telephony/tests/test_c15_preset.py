"""C15 (a call or a counter transaction resolved within 3 minutes) is a target measured on reports,
never a clock that escalates: the laizhou-crgas-2024 preset starts no clock on counter work orders."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.sla.models import Clock
from kefu.sla.presets import PRESETS

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_no_c15_clock_on_a_counter_work_order(company_x, agent_x):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish
    from kefu.tickets.services import ticket_create

    manager = UserFactory(company=company_x, role="manager")
    s = commitment_set_from_preset(company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager)
    commitment_set_publish(commitment_set=s, by=manager, at=datetime(2026, 1, 1, tzinfo=SH))
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=SH), tick=False):
        t = ticket_create(
            by=agent_x,
            kind="consultation",
            channel="counter",
            content="咨询过户",
            caller_surname="张",
            caller_title="mr",
            caller_phone="13900001111",
            on_duplicate="create",
        ).ticket
    codes = set(Clock.objects.filter(subject_id=str(t.pk)).values_list("commitment__code", flat=True))
    assert "counter_business" not in codes


def test_c15_commitments_start_on_call_and_counter_events_only():
    for preset in PRESETS.values():
        for c in preset.commitments:
            if c.spec_id == "C15":
                assert not c.start_event.startswith("ticket."), (preset.code, c.code)
