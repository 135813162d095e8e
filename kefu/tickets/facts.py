"""Facts of a work order's life that other apps (and this app's own clocks) react to — typed events
of the kernel registry (`kefu.core.events`). The services publish them inside their transaction;
listeners run after the commit. docs/events.md lists every event with its publishers, listeners and
catch-up sweeps.

The answer given when a work order is created already resolved on the call is NOT a TicketReplied:
that work order is created in state `resolved`, and the state already stands for the reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kefu.core.events import Event


@dataclass(frozen=True)
class TicketCreated(Event):
    """A work order was recorded (ticket_create). `ticket` is the committed instance when the
    publisher holds it (a listener saves reloading it); listeners must accept None."""

    ticket_id: int
    ticket: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TicketKindChanged(Event):
    """The kind or sub-kind of a work order changed (ticket_reclassify)."""

    ticket_id: int


@dataclass(frozen=True)
class TicketStateChanged(Event):
    """A work order moved from state `source` to `target` (every state move, kefu.tickets.states)."""

    ticket_id: int
    source: str
    target: str


@dataclass(frozen=True)
class TicketReplied(Event):
    """A reply to the customer was recorded on a work order (ticket_reply; ticket_create with an
    `answer` when not resolved on the call): what stops the "answer within N working days" clocks
    (C6 complaints, C14 consultations). `at` is the reply's time, `event_id` its timeline entry."""

    ticket_id: int
    at: datetime
    event_id: int
    via: str = ""
