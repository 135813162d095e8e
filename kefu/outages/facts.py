"""Facts of the outages app (typed events of kefu.core.events, published on commit by the
services). The clocks of this app (clocks.py) listen to them; docs/events.md lists them."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.core.events import Event


@dataclass(frozen=True)
class OutageChanged(Event):
    """An interruption's clock facts changed: approved, rescheduled, notices complete, started,
    restored, cancelled (`what` says which). Listeners re-derive clocks from the row."""

    outage_id: int
    what: str = ""
