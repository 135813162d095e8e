"""Work orders as a subject of the sla engine (kefu/tickets/clocks.py; C17): the presets name
only codes of the tickets taxonomy, sla imports no domain app, and the catch-up sweep brings clocks up
to the work order's facts when a state, reply or kind listener was lost (a process died after the
commit)."""

from __future__ import annotations

import ast
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.sla.models import Clock, ClockAttachment
from kefu.sla.presets import PRESETS
from kefu.sla.services import commitment_set_publish
from kefu.sla.states import ClockState
from kefu.sla.subjects import subject_adapter
from kefu.sla.sweep import sweep
from kefu.tickets.clocks import SUBJECT_TYPE, work_order_clocks
from kefu.tickets.models import Channel, Severity
from kefu.tickets.taxonomy import STANDARD_KINDS, KindCode
from kefu.tickets.tests.test_clocks_worker import clocks_by_spec

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


def test_every_preset_code_exists_in_the_tickets_taxonomy():
    """The presets of kefu.sla refer to kinds, sub-kinds, severities and channels by plain code (sla
    imports no domain app): each must be a code of the standard taxonomy."""
    sub_kinds = {spec.code: {c for c, _ in spec.sub_kinds} for spec in STANDARD_KINDS}
    assert set(KindCode.values) == set(sub_kinds)
    for preset in PRESETS.values():
        for c in preset.commitments:
            where = f"{preset.code}/{c.code}"
            assert not c.ticket_kind or c.ticket_kind in sub_kinds, where
            assert not c.ticket_sub_kind or c.ticket_sub_kind in sub_kinds.get(c.ticket_kind, set()), where
            assert not c.severity or c.severity in Severity.values, where
            assert not c.channel or c.channel in Channel.values, where


def test_sla_imports_no_domain_app():
    """ARCHITECTURE.md: sla is an engine; it knows work orders only through the adapter."""
    domain = ("kefu.tickets", "kefu.customers", "kefu.field", "kefu.outages", "kefu.followups")
    root = Path(__file__).resolve().parents[2] / "sla"
    for path in root.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                assert not name.startswith(domain), f"{path.relative_to(root)} imports {name}"


def test_the_work_order_adapter_is_registered():
    assert subject_adapter(SUBJECT_TYPE) is work_order_clocks
    assert ("emergency", "报警抢险") in [
        (c, str(label)) for c, label in work_order_clocks.attribute_choices()["ticket_kind"]
    ]


@pytest.fixture
def published(laizhou_set, manager_x):
    return commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=L(2026, 1, 1))


def _repair(agent, **kw):
    from kefu.tickets.services import ticket_create

    params = dict(
        kind="repair",
        content="燃气灶打不着火",
        caller_surname="张",
        caller_title="mr",
        caller_phone="13900001111",
        address="幸福小区3号楼2单元501室",
        on_duplicate="create",
    )
    params.update(kw)
    return ticket_create(by=agent, **params).ticket


@pytest.mark.django_db
def test_catch_up_stops_clocks_a_lost_state_listener_left_running(
    published, agent_x, django_capture_on_commit_callbacks
):
    """A suggestion resolved (the state stands for the reply, C6 opinion answered) while its state
    listener was lost: the sweep's catch-up stops the reply clock after the grace minute."""
    from kefu.tickets.services import ticket_transition

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = _repair(agent_x, kind="suggestion", content="建议延长营业厅周末营业时间")
    with time_machine.travel(L(2026, 3, 2, 11, 0), tick=False):
        ticket_transition(ticket_id=ticket.pk, by=agent_x, to="resolved", version=ticket.version)  # lost
    clock = Clock.objects.get(subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk))
    assert clock.commitment.code == "opinion_reply" and clock.state == ClockState.RUNNING
    with time_machine.travel(L(2026, 3, 2, 11, 0, 30), tick=False):
        assert sweep().repaired == 0  # within the grace minute the listener may still come
    with time_machine.travel(L(2026, 3, 2, 11, 5), tick=False):
        assert sweep().repaired == 1
        assert sweep().repaired == 0
    clock.refresh_from_db()
    assert clock.state == ClockState.MET


@pytest.mark.django_db
def test_resolving_is_not_an_arrival_even_through_the_catch_up(
    published, agent_x, django_capture_on_commit_callbacks
):
    """C8–C12: a repair resolved without a recorded arrival keeps its on-site clock running (it
    breaches at its due time); neither the listener nor the catch-up stops it."""
    from kefu.tickets.services import ticket_transition

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = _repair(agent_x)
    with (
        time_machine.travel(L(2026, 3, 2, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket_transition(ticket_id=ticket.pk, by=agent_x, to="resolved", version=ticket.version)
    clock = Clock.objects.get(subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk))
    assert clock.commitment.code == "repair_on_site" and clock.state == ClockState.RUNNING
    with time_machine.travel(L(2026, 3, 2, 11, 5), tick=False):
        assert sweep().repaired == 0
    clock.refresh_from_db()
    assert clock.state == ClockState.RUNNING
    sweep(now=L(2026, 3, 4, 0, 1))
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED


@pytest.mark.django_db
def test_catch_up_cancels_the_clocks_of_a_cancelled_work_order(
    published, agent_x, django_capture_on_commit_callbacks
):
    from kefu.tickets.services import ticket_transition

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = _repair(agent_x)
    with time_machine.travel(L(2026, 3, 2, 11, 0), tick=False):
        ticket_transition(
            ticket_id=ticket.pk,
            by=agent_x,
            to="cancelled",
            version=ticket.version,
            reason="客户撤回",
            cancel_reason="withdrawn",
        )
    with time_machine.travel(L(2026, 3, 2, 11, 5), tick=False):
        assert sweep().repaired == 1
    assert set(Clock.objects.filter(subject_id=str(ticket.pk)).values_list("state", flat=True)) == {
        "cancelled"
    }


@pytest.mark.django_db
def test_catch_up_stops_a_reply_clock_at_the_lost_reply(
    published, agent_x, django_capture_on_commit_callbacks
):
    from kefu.tickets.services import ticket_create, ticket_reply

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = ticket_create(
            by=agent_x,
            kind="suggestion",
            content="抄表员态度差",
            caller_surname="李",
            caller_phone="13900003333",
            on_duplicate="create",
        ).ticket
    with time_machine.travel(L(2026, 3, 2, 14, 0), tick=False):
        ticket_reply(ticket_id=ticket.pk, by=agent_x, text="已核实并致歉")  # listener lost
    with time_machine.travel(L(2026, 3, 2, 14, 5), tick=False):
        assert sweep().repaired == 1
        assert sweep().repaired == 0
    clock = Clock.objects.get(subject_id=str(ticket.pk), clock_kind="reply")
    assert clock.state == ClockState.MET and clock.met_at == L(2026, 3, 2, 14, 0)


@pytest.mark.django_db
def test_catch_up_restarts_the_clocks_of_a_lost_kind_change(
    published, agent_x, django_capture_on_commit_callbacks
):
    from kefu.tickets.services import ticket_reclassify

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = _repair(agent_x)
    with time_machine.travel(L(2026, 3, 2, 11, 0), tick=False):
        ticket_reclassify(
            ticket_id=ticket.pk, by=agent_x, version=ticket.version, kind="complaint", reason="误分类"
        )
    with time_machine.travel(L(2026, 3, 2, 11, 5), tick=False):
        assert sweep().repaired == 1
        assert sweep().repaired == 0
    clocks = clocks_by_spec(ticket)
    assert clocks["C10"].state == ClockState.CANCELLED
    assert clocks["C6"].state == ClockState.RUNNING and clocks["C6"].started_at == L(2026, 3, 2, 10, 0)
    assert ClockAttachment.objects.get(subject_id=str(ticket.pk)).kind_signature == "complaint/"


@pytest.mark.django_db
def test_catch_up_leaves_up_to_date_clocks_alone(published, agent_x, django_capture_on_commit_callbacks):
    """Listeners that ran leave nothing to catch up (a closed work order's return-visit clock runs on)."""
    from kefu.tickets.services import ticket_create, ticket_reply, ticket_transition

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        repair = _repair(agent_x)
        complaint = ticket_create(
            by=agent_x,
            kind="complaint",
            content="抄表员态度差",
            caller_surname="李",
            caller_phone="13900003333",
            on_duplicate="create",
        ).ticket
        ticket_reply(ticket_id=complaint.pk, by=agent_x, text="已核实并致歉")
        ticket_transition(ticket_id=repair.pk, by=agent_x, to="resolved", version=repair.version)
        repair.refresh_from_db()
        ticket_transition(ticket_id=repair.pk, by=agent_x, to="closed", version=repair.version)
    before = list(Clock.objects.order_by("id").values_list("id", "state"))
    with time_machine.travel(L(2026, 3, 2, 12, 0), tick=False):
        assert sweep().repaired == 0
    assert list(Clock.objects.order_by("id").values_list("id", "state")) == before
