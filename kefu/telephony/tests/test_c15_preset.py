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


def test_migration_moves_old_c15_commitments_to_the_targets(company_x):
    """sla 0003: a set made from the preset before the fix (C15 on ticket.received/resolved, escalating)
    is moved to counter.started/ended without escalation; its open C15 clocks are cancelled; other
    commitments and clocks are untouched."""
    import importlib
    from datetime import timedelta

    from django.apps import apps

    from kefu.accounts.tests.factories import UserFactory
    from kefu.sla.models import ClockPause
    from kefu.sla.services import commitment_set_from_preset

    manager = UserFactory(company=company_x, role="manager")
    s = commitment_set_from_preset(company=company_x, year=2025, preset="laizhou-crgas-2024", by=manager)
    counter = s.commitments.get(code="counter_business")
    counter.start_event, counter.stop_event, counter.escalate_after = "ticket.received", "ticket.resolved", 30
    counter.save()
    other = s.commitments.exclude(spec_id="C15").first()
    before = (other.start_event, other.stop_event, other.escalate_after)
    t = datetime(2025, 6, 1, 10, 0, tzinfo=SH)

    def clock(commitment, subject, state="running"):
        return Clock.objects.create(
            company=company_x,
            subject_type="tickets.workorder",
            subject_id=subject,
            commitment=commitment,
            commitment_version=1,
            clock_kind=commitment.clock_kind,
            limit_value=commitment.limit_value,
            limit_unit=commitment.limit_unit,
            started_at=t,
            due_at=t + timedelta(minutes=3),
            state=state,
        )

    running, breached, paused = (
        clock(counter, "1"),
        clock(counter, "2", "breached"),
        clock(counter, "3", "paused"),
    )
    ClockPause.objects.create(clock=paused, started_at=t, reason="customer_unreachable", by=manager)
    untouched = clock(other, "1")

    importlib.import_module("kefu.sla.migrations.0003_c15_targets_not_clocks").c15_current(apps, None)

    counter.refresh_from_db()
    assert (counter.start_event, counter.stop_event, counter.escalate_after) == (
        "counter.started",
        "counter.ended",
        None,
    )
    for c in (running, breached, paused):
        c.refresh_from_db()
        assert c.state == "cancelled" and c.cancelled_at is not None
    assert not ClockPause.objects.filter(clock=paused, ended_at__isnull=True).exists()
    other.refresh_from_db()
    untouched.refresh_from_db()
    assert (other.start_event, other.stop_event, other.escalate_after) == before
    assert untouched.state == "running"
