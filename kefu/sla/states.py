"""Clock states of a commitment clock and their transition table.

The only way to change a clock's state is a service that locks the row, checks
`assert_transition`, and records the change. `clock_state` is the pure rule that says which state
a clock is in, given its due time, the current time, its stop time and whether it is paused.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClockState(models.TextChoices):
    RUNNING = "running", _("计时中")  # started, not stopped, not paused, not yet due
    PAUSED = "paused", _("已暂停")  # suspended for an accepted reason; no due time while paused
    MET = "met", _("已达标")  # stopped at or before the due time
    BREACHED = "breached", _("已超时")  # due time passed, not stopped yet (escalation runs)
    MET_AFTER_BREACH = "met_after_breach", _("超时后完成")  # stopped after the due time (counts as a breach)
    CANCELLED = "cancelled", _("已撤销")  # the work order was reclassified or cancelled: not measured


#: Allowed moves. A breached clock cannot be paused: a pause cannot undo a breach that happened.
TRANSITIONS: dict[str, frozenset[str]] = {
    ClockState.RUNNING: frozenset(
        {ClockState.PAUSED, ClockState.MET, ClockState.BREACHED, ClockState.CANCELLED}
    ),
    ClockState.PAUSED: frozenset({ClockState.RUNNING, ClockState.MET, ClockState.CANCELLED}),
    ClockState.BREACHED: frozenset({ClockState.MET_AFTER_BREACH, ClockState.CANCELLED}),
    ClockState.MET: frozenset(),
    ClockState.MET_AFTER_BREACH: frozenset(),
    ClockState.CANCELLED: frozenset(),
}

OPEN_STATES = frozenset({ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED})
FINAL_STATES = frozenset({ClockState.MET, ClockState.MET_AFTER_BREACH, ClockState.CANCELLED})


class IllegalTransition(ValueError):
    """A state change the table does not allow."""


def can_transition(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())


def assert_transition(old: str, new: str) -> None:
    if not can_transition(old, new):
        raise IllegalTransition(f"clock cannot go from {old} to {new}")


def clock_state(
    *,
    due_at: datetime | None,
    now: datetime,
    stopped_at: datetime | None = None,
    paused: bool = False,
    breached_at: datetime | None = None,
) -> ClockState:
    """The state of a clock at `now`. The due instant itself is still in time (24:00 belongs to
    the last day, Civil Code art. 203): a clock is breached only when `now > due_at`.

    `breached_at` is set once a breach was recorded; it stays a breach even if the due time moves.
    """
    late = breached_at is not None
    if stopped_at is not None:
        if late or (due_at is not None and stopped_at > due_at):
            return ClockState.MET_AFTER_BREACH
        return ClockState.MET
    if late:
        return ClockState.BREACHED
    if paused:
        return ClockState.PAUSED
    if due_at is not None and now > due_at:
        return ClockState.BREACHED
    return ClockState.RUNNING


#: How a clock is shown (countdown colours, queues): its state, with "due soon" for a running
#: clock past its warning time and "breached" for one past due that no sweep has marked yet.
DISPLAY_LABELS: dict[str, str] = {
    "running": _("计时中"),
    "due_soon": _("即将到期"),
    "breached": _("已超时"),
    "paused": _("已暂停"),
    "met": _("已达标"),
    "met_after_breach": _("超时后完成"),
    "cancelled": _("已撤销"),
}


def clock_display(*, state: str, due_at: datetime | None, warn_at: datetime | None, now: datetime) -> str:
    """The display state of a clock at `now` (pure): running / due_soon / breached / paused / met /
    met_after_breach / cancelled."""
    if state == ClockState.RUNNING:
        if due_at is not None and now > due_at:
            return "breached"
        if warn_at is not None and now >= warn_at:
            return "due_soon"
    return str(state)
