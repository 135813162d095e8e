"""The typed event registry: how an app reacts to another app's facts without importing it upward.

An event is a frozen dataclass, a subclass of `Event`, defined by the app where the fact happens
(e.g. `kefu.tickets.facts.TicketCreated`). The service that makes the fact publishes it inside its
transaction; the listeners run after the commit (`transaction.on_commit`), so they only ever see
committed data and a failing listener is logged and never undoes the fact nor breaks the request.

A listening app subscribes in its `AppConfig.ready()` and names the catch-up that covers it:

    subscribe(TicketCreated, on_ticket_created, catch_up=tickets_without_clocks)

because a process can die between the commit and the listener: every listener is idempotent and a
periodic sweep over database state (the catch-up) redoes whatever a lost listener missed. The
registry keeps, per listener, which catch-up covers it; docs/events.md lists every event and
listener, and a test checks the table against this registry.

The kernel imports no other kefu app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """A fact that has happened (past tense), published after the commit of the transaction that
    made it. Subclasses are frozen dataclasses with typed fields; a new field gets a default so
    existing publishers keep working."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _event_types.append(cls)


E = TypeVar("E", bound=Event)

_event_types: list[type[Event]] = []


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


@dataclass(frozen=True)
class Listener:
    """One subscription: `fn(event)` runs after the commit; `catch_up` is the sweep over database
    state that redoes its work when the listener was lost (a dotted function name, or a callable)."""

    event_type: type[Event]
    fn: Callable[[Any], None]
    catch_up: str

    @property
    def name(self) -> str:
        return _qualname(self.fn)


_listeners: dict[type[Event], list[Listener]] = {}


def subscribe(event_type: type[E], fn: Callable[[E], None], *, catch_up: Callable[..., Any] | str) -> None:
    """Run `fn(event)` after the commit of every published `event_type` (idempotent: subscribing the
    same function twice keeps one). `catch_up` names the sweep that covers a lost call — required."""
    if not (isinstance(event_type, type) and issubclass(event_type, Event)):
        raise TypeError(f"{event_type!r} is not an Event subclass")
    name = catch_up if isinstance(catch_up, str) else _qualname(catch_up)
    if not name.strip():
        raise ValueError(f"listener {_qualname(fn)} must name its catch-up sweep")
    subs = _listeners.setdefault(event_type, [])
    if not any(s.fn == fn for s in subs):
        subs.append(Listener(event_type, fn, name))


def unsubscribe(event_type: type[Event], fn: Callable[..., None]) -> None:
    """Remove a subscription (tests)."""
    subs = _listeners.get(event_type, [])
    subs[:] = [s for s in subs if s.fn != fn]


def listeners(event_type: type[Event] | None = None) -> list[Listener]:
    """The subscriptions of one event type, or of all, in subscription order."""
    if event_type is not None:
        return list(_listeners.get(event_type, []))
    return [s for subs in _listeners.values() for s in subs]


def event_types() -> list[type[Event]]:
    """Every Event subclass defined so far (imported modules only)."""
    return list(_event_types)


def dispatch(event: Event) -> None:
    """Run the listeners of `event` now (what `publish` schedules after the commit). A listener's
    failure is logged and the next listener still runs."""
    for sub in listeners(type(event)):
        try:
            sub.fn(event)
        except Exception:  # a listener's failure must not break the request that made the fact
            log.exception("listener %s of %s failed", sub.name, type(event).__name__)


def publish(event: Event) -> None:
    """Publish `event`: its listeners run after the current transaction commits (at once outside
    a transaction), never if it rolls back."""
    if not isinstance(event, Event):
        raise TypeError(f"{event!r} is not an Event")
    transaction.on_commit(lambda: dispatch(event))
