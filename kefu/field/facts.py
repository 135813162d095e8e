"""Facts of the field (typed events of kefu.core.events, docs/events.md). The services publish them
inside their transaction; kefu/field/clocks.py maps them to commitment clock events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kefu.core.events import Event


@dataclass(frozen=True)
class FieldArrived(Event):
    """An arrival on site was recorded with its evidence (C8). `counts` is False while it waits
    for a supervisor's review (an exception) — it then stops no clock. `event` is the committed
    JobEvent with its job and work order when the publisher holds them (the clock listener saves
    reloading them); listeners must accept None."""

    job_id: int
    event_id: int
    counts: bool
    event: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FieldArrivalReviewed(Event):
    """A supervisor accepted (counts from its recorded time) or rejected an arrival exception."""

    job_id: int
    event_id: int
    accepted: bool


@dataclass(frozen=True)
class FieldCompleted(Event):
    """处理完成 (`resolved` False) or 修复 (`resolved` True) was recorded on a job (C4). `event` as
    in FieldArrived."""

    job_id: int
    event_id: int
    resolved: bool
    event: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FieldJobCancelled(Event):
    """A visit was called off before anyone arrived (job_cancel, with a reason): when every visit of
    a resolved or closed work order was called off, its on-site clocks are not measured (C8–C12)."""

    job_id: int
    ticket_id: int
