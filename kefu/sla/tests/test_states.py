"""Clock states and their transition table. Time is an argument, never read."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.sla.states import (
    TRANSITIONS,
    ClockState,
    IllegalTransition,
    assert_transition,
    can_transition,
    clock_state,
)

SH = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 10, 9, tzinfo=SH)  # 24:00 of 10.8
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"now": DUE - S}, ClockState.RUNNING),
        ({"now": DUE}, ClockState.RUNNING),  # 24:00 still belongs to the last day (art. 203)
        ({"now": DUE + S}, ClockState.BREACHED),
        ({"now": DUE + S, "paused": True, "due_at": None}, ClockState.PAUSED),
        ({"now": DUE + S, "stopped_at": DUE}, ClockState.MET),
        ({"now": DUE + S, "stopped_at": DUE + S}, ClockState.MET_AFTER_BREACH),
        ({"now": DUE + S, "breached_at": DUE + S}, ClockState.BREACHED),
        # a breach once recorded stays a breach, even if a later stop is before a moved due time
        ({"now": DUE, "stopped_at": DUE - S, "breached_at": DUE - 2 * S}, ClockState.MET_AFTER_BREACH),
    ],
)
def test_clock_state(kwargs, expected):
    kwargs = {"due_at": DUE, **kwargs}
    assert clock_state(**kwargs) == expected


@pytest.mark.parametrize(
    "old,new,ok",
    [
        ("running", "paused", True),
        ("running", "met", True),
        ("running", "breached", True),
        ("paused", "running", True),
        ("paused", "met", True),
        ("paused", "breached", False),  # a paused clock has no due time
        ("breached", "paused", False),  # a pause cannot undo a breach
        ("breached", "met_after_breach", True),
        ("breached", "met", False),
        ("met", "running", False),
        ("met_after_breach", "breached", False),
    ],
)
def test_transition_table(old, new, ok):
    assert can_transition(old, new) is ok
    if not ok:
        with pytest.raises(IllegalTransition):
            assert_transition(old, new)


def test_every_state_has_a_row():
    assert set(TRANSITIONS) == set(ClockState.values)
