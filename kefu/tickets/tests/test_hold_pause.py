"""Putting a work order on hold pauses its commitment clocks only for the reasons the standard accepts
(C4 "除和客户另有约定外"; SPEC time rules: customer asked for another time, customer unreachable,
agreed otherwise), with the agreed time; taking it up again resumes them. Both on the timeline and in
the audit log; the API does the same. Time frozen with time-machine."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from kefu.accounts.models import AuditEvent
from kefu.core.errors import DomainError
from kefu.sla.models import Clock, ClockPause
from kefu.sla.services import commitment_set_publish
from kefu.sla.states import ClockState
from kefu.tickets.clocks import SUBJECT_TYPE
from kefu.tickets.events import TimelineEntry
from kefu.tickets.models import TicketEvent
from kefu.tickets.services import ticket_assign, ticket_create, ticket_transition
from kefu.tickets.states import PAUSING_HOLD_REASONS, HoldReason

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture
def published(laizhou_set, manager_x):
    return commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=L(2026, 1, 1))


@pytest.fixture
def repair(published, agent_x, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return ticket_create(
            by=agent_x,
            kind="repair",
            sub_kind="appliance",
            content="燃气灶打不着火",
            caller_surname="张",
            caller_title="mr",
            caller_phone="13900001111",
            address="幸福小区3号楼2单元501室",
            on_duplicate="create",
        ).ticket


def _clocks(ticket):
    return {
        c.commitment.code: c
        for c in Clock.objects.select_related("commitment").filter(subject_id=str(ticket.pk))
    }


def _last_state_event(ticket):
    return TicketEvent.objects.filter(ticket=ticket, kind="state_changed").order_by("-id").first()


def test_the_pausing_hold_reasons_are_the_pause_reasons_of_sla():
    from kefu.sla.models import PauseReason

    assert set(PAUSING_HOLD_REASONS) == set(PauseReason.values)
    assert HoldReason.OTHER not in PAUSING_HOLD_REASONS


def test_hold_for_another_time_pauses_the_clocks_and_resume_restarts_them(repair, agent_x):
    """C4: "客户另约明天下午" — the clocks that accept the reason stop counting from the hold, with
    the agreed time; taking the work order up the next afternoon moves their due time by the pause."""
    before = {code: c.due_at for code, c in _clocks(repair).items()}
    assert before and all(c.state == ClockState.RUNNING for c in _clocks(repair).values())
    with time_machine.travel(L(2026, 3, 2, 10, 30), tick=False):
        t = ticket_transition(
            ticket_id=repair.pk,
            by=agent_x,  # an agent who owns the work order: the hold's rule decides, not sla.pause
            to="on_hold",
            version=repair.version,
            reason="客户另约明天下午",
            hold_reason="customer_requested_time",
            agreed_at=L(2026, 3, 3, 14, 0),
        )
    clocks = _clocks(repair)
    paused = {code for code, c in clocks.items() if c.state == ClockState.PAUSED}
    accepting = {
        code for code, c in clocks.items() if "customer_requested_time" in c.commitment.pause_reasons
    }
    assert paused and paused == accepting
    pause = ClockPause.objects.filter(clock__in=[clocks[c] for c in paused]).first()
    assert pause.by == agent_x and pause.reason == "customer_requested_time"
    assert pause.started_at == L(2026, 3, 2, 10, 30) and "2026-03-03 14:00" in pause.note
    event = _last_state_event(repair)
    assert event.payload["hold_reason"] == "customer_requested_time"
    assert event.payload["agreed_at"].startswith("2026-03-03T06:00")  # stored in UTC
    assert len(event.payload["paused_clocks"]) == len(paused)
    text = TimelineEntry(event).text
    assert "客户要求另约时间" in text and "约定时间 2026-03-03 14:00" in text and "计时暂停" in text
    assert AuditEvent.objects.filter(action="sla.clock_paused", actor=agent_x).count() == len(paused)
    assert AuditEvent.objects.filter(action="ticket.on_hold", object_repr=repair.number).exists()

    with time_machine.travel(L(2026, 3, 3, 14, 0), tick=False):
        ticket_transition(ticket_id=repair.pk, by=agent_x, to="in_progress", version=t.version)
    clocks = _clocks(repair)
    for code in paused:
        c = clocks[code]
        assert c.state != ClockState.PAUSED
        assert ClockPause.objects.get(clock=c).ended_at == L(2026, 3, 3, 14, 0)
    resumed = _last_state_event(repair)
    assert len(resumed.payload["resumed_clocks"]) == len(paused)
    assert "计时恢复" in TimelineEntry(resumed).text
    assert AuditEvent.objects.filter(action="sla.clock_resumed", actor=agent_x).count() == len(paused)
    # A wall-clock limit moved by the whole pause (27.5 h); a clock not accepting the reason did not move.
    wall = [code for code in paused if clocks[code].limit.is_wall_clock]
    for code in wall:
        clock = Clock.objects.get(pk=clocks[code].pk)
        if clock.state == ClockState.RUNNING:
            assert clock.due_at == before[code] + timedelta(hours=27, minutes=30)


def test_hold_for_a_reason_the_standard_does_not_accept_does_not_pause(repair, agent_x):
    with time_machine.travel(L(2026, 3, 2, 10, 30), tick=False):
        ticket_transition(
            ticket_id=repair.pk,
            by=agent_x,
            to="on_hold",
            version=repair.version,
            reason="等配件",
            hold_reason="other",
        )
    assert all(c.state == ClockState.RUNNING for c in _clocks(repair).values())
    assert not ClockPause.objects.exists()
    event = _last_state_event(repair)
    assert "paused_clocks" not in event.payload
    assert (
        "其他原因（计时不暂停）" in TimelineEntry(event).text and "计时暂停" not in TimelineEntry(event).text
    )


def test_hold_without_a_reason_code_keeps_the_clocks_running(repair, agent_x):
    """The API before hold reasons existed: a hold with only a text reason pauses nothing."""
    with time_machine.travel(L(2026, 3, 2, 10, 30), tick=False):
        ticket_transition(
            ticket_id=repair.pk, by=agent_x, to="on_hold", version=repair.version, reason="客户另约"
        )
    assert all(c.state == ClockState.RUNNING for c in _clocks(repair).values())
    assert _last_state_event(repair).payload["hold_reason"] == "other"


@pytest.mark.parametrize(
    "hold_reason, agreed_at, field",
    [
        ("customer_requested_time", None, "agreed_at"),
        ("agreed_otherwise", None, "agreed_at"),
        ("customer_requested_time", L(2026, 3, 1, 9, 0), "agreed_at"),  # in the past
        ("nonsense", None, "hold_reason"),
        ("customer_requested_time", L(2036, 3, 3, 14, 0), "agreed_at"),  # a typo of the year
        ("other", datetime(1, 1, 1), "agreed_at"),  # out of range once in UTC
    ],
)
def test_hold_refuses_a_missing_past_or_absurd_agreed_time(repair, agent_x, hold_reason, agreed_at, field):
    with time_machine.travel(L(2026, 3, 2, 10, 30), tick=False), pytest.raises(DomainError) as exc:
        ticket_transition(
            ticket_id=repair.pk,
            by=agent_x,
            to="on_hold",
            version=repair.version,
            reason="客户另约",
            hold_reason=hold_reason,
            agreed_at=agreed_at,
        )
    assert exc.value.field == field
    assert not ClockPause.objects.exists()


def test_unreachable_needs_no_agreed_time_and_dispatch_resumes(repair, agent_x, dispatcher_x, technician_x):
    with time_machine.travel(L(2026, 3, 2, 10, 30), tick=False):
        t = ticket_transition(
            ticket_id=repair.pk,
            by=agent_x,
            to="on_hold",
            version=repair.version,
            reason="电话三次无人接听",
            hold_reason="customer_unreachable",
        )
    assert any(c.state == ClockState.PAUSED for c in _clocks(repair).values())
    with time_machine.travel(L(2026, 3, 2, 15, 0), tick=False):
        ticket_assign(ticket_id=repair.pk, by=dispatcher_x, version=t.version, user_id=technician_x.pk)
    assert not any(c.state == ClockState.PAUSED for c in _clocks(repair).values())
    assert _last_state_event(repair).payload.get("resumed_clocks")


def test_cancelling_a_held_work_order_ends_the_pause(repair, agent_x, django_capture_on_commit_callbacks):
    with time_machine.travel(L(2026, 3, 2, 10, 30), tick=False):
        t = ticket_transition(
            ticket_id=repair.pk,
            by=agent_x,
            to="on_hold",
            version=repair.version,
            reason="联系不上",
            hold_reason="customer_unreachable",
        )
    with (
        time_machine.travel(L(2026, 3, 2, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket_transition(
            ticket_id=repair.pk,
            by=agent_x,
            to="cancelled",
            version=t.version,
            reason="客户撤回",
            cancel_reason="withdrawn",
        )
    assert {c.state for c in _clocks(repair).values()} == {ClockState.CANCELLED}
    assert not ClockPause.objects.filter(ended_at__isnull=True).exists()


def test_a_breached_clock_stays_breached_on_hold(repair, agent_x):
    """A pause cannot undo a breach: a hold after the due time pauses only the clocks still in time."""
    with time_machine.travel(L(2026, 3, 2, 17, 0), tick=False):  # past the 6-hour C4 handling limit
        ticket_transition(
            ticket_id=repair.pk,
            by=agent_x,
            to="on_hold",
            version=repair.version,
            reason="客户另约",
            hold_reason="customer_requested_time",
            agreed_at=L(2026, 3, 3, 9, 0),
        )
    for c in _clocks(repair).values():
        if c.due_at is not None and c.due_at < L(2026, 3, 2, 17, 0):
            assert c.state == ClockState.RUNNING  # left for the sweep to mark breached


# ---- API ------------------------------------------------------------------------------------------
def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_api_hold_with_agreed_time_pauses_and_resume_restarts(repair, agent_x):
    c = _client(agent_x)
    url = f"/api/v1/tickets/{repair.pk}/transition"
    with time_machine.travel(L(2026, 3, 2, 10, 30), tick=False):
        r = c.post(
            url,
            {
                "to": "on_hold",
                "version": repair.version,
                "reason": "客户另约明天下午",
                "hold_reason": "customer_requested_time",
                "agreed_at": "2026-03-03T14:00:00+08:00",
            },
            content_type="application/json",
        )
        assert r.status_code == 200, r.content
        clocks = c.get(f"/api/v1/sla/tickets/{repair.pk}/clocks").json()
    states = [k["state"] for k in (clocks["items"] if isinstance(clocks, dict) else clocks)]
    assert "paused" in states
    with time_machine.travel(L(2026, 3, 3, 14, 0), tick=False):
        c.force_login(agent_x)  # the next day: a new session (idle sessions expire)
        r = c.post(
            url, {"to": "in_progress", "version": r.json()["version"]}, content_type="application/json"
        )
    assert r.status_code == 200, r.content
    assert not Clock.objects.filter(
        subject_type=SUBJECT_TYPE, subject_id=str(repair.pk), state="paused"
    ).exists()


@pytest.mark.parametrize(
    "body, status",
    [
        ({"hold_reason": "customer_requested_time"}, 400),  # agreed time missing
        ({"hold_reason": "weather"}, 422),  # not a hold reason
        ({"hold_reason": "agreed_otherwise", "agreed_at": "tomorrow"}, 422),
    ],
)
def test_api_refuses_bad_hold_input_with_a_message(repair, agent_x, body, status):
    r = _client(agent_x).post(
        f"/api/v1/tickets/{repair.pk}/transition",
        {"to": "on_hold", "version": repair.version, "reason": "客户另约", **body},
        content_type="application/json",
    )
    assert r.status_code == status, r.content
    assert r.json()["detail"]
    assert not ClockPause.objects.exists()
