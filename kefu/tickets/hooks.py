"""The one place other apps attach to work-order life events (e.g. kefu.sla starts commitment clocks).

Services call `fire(...)` through `transaction.on_commit`, so a listener only ever sees committed
work orders and a failing listener cannot undo the work order. Listeners register once, typically in
their AppConfig.ready():

    from kefu.tickets import hooks
    hooks.register(hooks.TICKET_CREATED, start_clocks_for_ticket)      # fn(ticket_id: int) -> None
    hooks.register(hooks.TICKET_KIND_CHANGED, restart_clocks_for_ticket)

The events and the keyword arguments each listener receives (listeners should accept `**_kw` too,
so a new argument never breaks them):

| event | kwargs | fired by |
|---|---|---|
| TICKET_CREATED | ticket_id, ticket (the instance just saved) | ticket_create |
| TICKET_KIND_CHANGED | ticket_id | ticket_reclassify |
| TICKET_STATE_CHANGED | ticket_id, source, target | every state move |
| TICKET_REPLIED | ticket_id, at (aware datetime of the reply event), event_id, via | ticket_reply; ticket_create with an `answer` (after TICKET_CREATED) |

TICKET_REPLIED is a reply to the customer recorded on a work order (what stops the "reply within
N working days" clocks, C6/C14). The answer given when a work order is created already resolved on
the call is NOT fired as TICKET_REPLIED: that work order is created in state `resolved`, and the
state already stands for the reply.

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
TICKET_REPLIED = "ticket_replied"

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
