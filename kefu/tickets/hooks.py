"""The one place other apps attach to work-order life events (e.g. kefu.sla starts commitment clocks).

Services call `fire(...)` through `transaction.on_commit`, so a listener only ever sees committed
work orders and a failing listener cannot undo the work order. Listeners register once, typically in
their AppConfig.ready():

    from kefu.tickets import hooks
    hooks.register(hooks.TICKET_CREATED, start_clocks_for_ticket)      # fn(ticket_id: int) -> None
    hooks.register(hooks.TICKET_KIND_CHANGED, restart_clocks_for_ticket)

State lives in the database: a listener that must not miss an event should also be able to sweep
(e.g. "work orders without clocks") because a process can die between commit and hook.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Callable

from django.db import transaction

log = logging.getLogger(__name__)

TICKET_CREATED = "ticket_created"
TICKET_KIND_CHANGED = "ticket_kind_changed"
TICKET_STATE_CHANGED = "ticket_state_changed"

_listeners: dict[str, list[Callable[..., None]]] = defaultdict(list)


def register(event: str, fn: Callable[..., None]) -> None:
    if fn not in _listeners[event]:
        _listeners[event].append(fn)


def unregister(event: str, fn: Callable[..., None]) -> None:
    if fn in _listeners[event]:
        _listeners[event].remove(fn)


def fire(event: str, **kwargs) -> None:
    for fn in list(_listeners[event]):
        try:
            fn(**kwargs)
        except Exception:  # a listener's failure must not break the agent's request
            log.exception("work-order hook %s failed in %r", event, fn)


def fire_on_commit(event: str, **kwargs) -> None:
    transaction.on_commit(lambda: fire(event, **kwargs))
