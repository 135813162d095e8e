"""Clocks on work orders (issue 4 §3; C1–C20, C17): the listeners the sla app registers on the
tickets app's hooks (`kefu.tickets.hooks`), and the catch-up the periodic sweep runs.

How work-order facts become clock events (the mapping is the one place for this rule):

| tickets fact | clock events (in this order) |
|---|---|
| work order created (TICKET_CREATED) | `ticket.received` at `received_at` |
| state → `assigned` | `ticket.responded` |
| state → `in_progress` | `ticket.responded`, `ticket.arrived` (field kinds: the crew starts work on site) |
| state → `resolved` | `ticket.responded`, `ticket.arrived`, `ticket.replied`, `ticket.handled`, `ticket.resolved` |
| state → `closed` | the `resolved` events, then `ticket.closed` (starts e.g. the C14 return-visit clock) |
| state → `cancelled` | every open clock of the work order is cancelled (not measured) |
| state → `on_hold`, `reopened` | nothing (a pause needs an accepted reason and is explicit, P9 / SPEC Time rules) |
| kind changed (TICKET_KIND_CHANGED) | open clocks cancelled; clocks of the new kind started at `received_at` |
| reply to the customer (TICKET_REPLIED) | `ticket.replied` at the reply's time |

Not emitted by the tickets app yet: an explicit arrival on site, `return_visit.done`, and the
call/chat/outage events — until then the state changes above stand in for them.

The commitment set is the one in force when the work order was received (C17); every clock keeps
its set version. A `ClockAttachment` row is written with the clocks, so the sweep can find open
work orders whose creation hook never ran (the process died after the commit).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from kefu.sla.models import Clock, ClockAttachment
from kefu.sla.selectors import commitment_set_in_force
from kefu.sla.services import clock_cancel, clocks_on_event, clocks_start_new_subject
from kefu.sla.states import OPEN_STATES

logger = logging.getLogger("kefu.sla")

SUBJECT_TYPE = "tickets.workorder"

RESOLVED_EVENTS = (
    "ticket.responded",
    "ticket.arrived",
    "ticket.replied",
    "ticket.handled",
    "ticket.resolved",
)

#: ticket state entered → clock events, in order (see the module docstring).
STATE_EVENTS: dict[str, tuple[str, ...]] = {
    "assigned": ("ticket.responded",),
    "in_progress": ("ticket.responded", "ticket.arrived"),
    "resolved": RESOLVED_EVENTS,
    "closed": RESOLVED_EVENTS + ("ticket.closed",),
}
CANCELLING_STATES = frozenset({"cancelled"})


def _ticket(ticket_id: int):
    from kefu.tickets.models import Ticket

    return (
        Ticket.objects.select_related("company", "kind", "sub_kind", "customer__category", "assigned_department")
        .filter(pk=ticket_id)
        .first()
    )


def ticket_attrs(ticket) -> dict[str, str]:
    """The applies-to attributes of a work order (kind, sub-kind, customer category, severity,
    channel) in the codes commitments filter on."""
    category = ""
    if ticket.customer_id and ticket.customer.category_id:
        category = ticket.customer.category.code
    return {
        "kind": ticket.kind.code,
        "sub_kind": ticket.sub_kind.code if ticket.sub_kind_id else "",
        "customer_category": category,
        "severity": ticket.severity or "",
        "channel": ticket.channel or "",
    }


def _signature(attrs: dict[str, str]) -> str:
    return f"{attrs['kind']}/{attrs['sub_kind']}"[:120]


def _state_time(ticket, state: str) -> datetime:
    """When the state was entered, as the work order recorded it (now for the other states)."""
    if state == "resolved" and ticket.resolved_at:
        return ticket.resolved_at
    if state == "closed" and (ticket.closed_at or ticket.resolved_at):
        return ticket.closed_at or ticket.resolved_at
    return timezone.now()


def _emit(ticket, commitment_set, events: tuple[str, ...], at: datetime) -> None:
    attrs = ticket_attrs(ticket)
    for event in events:
        clocks_on_event(
            company=ticket.company,
            subject_type=SUBJECT_TYPE,
            subject_id=str(ticket.pk),
            event=event,
            at=max(at, ticket.received_at),
            commitment_set=commitment_set,
            attrs=attrs,
            department=ticket.assigned_department,
        )


def ticket_clocks_attach(ticket_id: int, *, by_sweep: bool = False, ticket=None) -> ClockAttachment | None:
    """Give a work order its clocks once (idempotent; the attachment row's unique key decides, so
    the hook and the sweep racing attach only once). A work order already past `received`
    (resolved on the call, or found late by the sweep) also gets the events of its current state.

    `ticket` is the committed work order when the caller holds it (the create hook): it saves
    reloading it. All clocks are computed in memory and written in one INSERT (issue 3 speed)."""
    ticket = ticket if ticket is not None else _ticket(ticket_id)
    if ticket is None:
        return None
    commitment_set = commitment_set_in_force(ticket.company, ticket.received_at)
    attrs = ticket_attrs(ticket)
    events: list[tuple[str, datetime]] = []
    if ticket.state not in CANCELLING_STATES:
        events.append(("ticket.received", ticket.received_at))
        at = max(_state_time(ticket, ticket.state), ticket.received_at)
        events.extend((event, at) for event in STATE_EVENTS.get(ticket.state, ()))
    own_transaction = not connection.in_atomic_block
    try:
        with transaction.atomic():
            if own_transaction:
                _commit_without_waiting_for_disk()
            row = ClockAttachment.objects.create(
                company=ticket.company,
                subject_type=SUBJECT_TYPE,
                subject_id=str(ticket.pk),
                commitment_set=commitment_set,
                kind_signature=_signature(attrs),
                by_sweep=by_sweep,
            )
            if commitment_set is not None and events:
                clocks_start_new_subject(
                    company=ticket.company,
                    subject_type=SUBJECT_TYPE,
                    subject_id=str(ticket.pk),
                    commitment_set=commitment_set,
                    events=events,
                    attrs=attrs,
                    department=ticket.assigned_department,
                )
    except IntegrityError:  # attached already (the hook and the sweep raced, or a repeated call)
        return None
    if by_sweep:
        logger.warning("work order %s had no clocks: attached by the sweep", ticket.pk)
    return row


def _commit_without_waiting_for_disk() -> None:
    """PostgreSQL: this transaction's commit does not wait for the WAL flush (about half a
    millisecond per create on the benchmark machine). Safe because the transaction holds only the
    attachment and its clocks: if a server crash loses them, the sweep's catch-up
    (`tickets_without_clocks`) makes them again from the work order, which was committed durably."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit TO OFF")


def on_ticket_created(*, ticket_id: int, ticket=None, **_kw) -> None:
    """TICKET_CREATED listener: start the clocks of the commitments that apply (C1–C20)."""
    ticket_clocks_attach(ticket_id, ticket=ticket)


def on_ticket_state_changed(*, ticket_id: int, source: str = "", target: str = "", **_kw) -> None:
    """TICKET_STATE_CHANGED listener: stop (or cancel) clocks per STATE_EVENTS."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return
    attachment = _attachment(ticket.pk)
    if attachment is None:  # the creation hook was lost: attach now (it applies the current state)
        ticket_clocks_attach(ticket_id)
        return
    now = timezone.now()
    with transaction.atomic():
        if target in CANCELLING_STATES:
            for clock in _open_clocks(ticket.pk):
                clock_cancel(clock=clock, at=now)
            return
        events = STATE_EVENTS.get(target, ())
        if events:
            _emit(ticket, attachment.commitment_set, events, _state_time(ticket, target))


def on_ticket_replied(*, ticket_id: int, at: datetime, **_kw) -> None:
    """TICKET_REPLIED listener: a reply to the customer recorded on the work order stops its
    "answered within …" clocks (C6 complaints, C14 consultations) at the reply's time."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return
    attachment = _attachment(ticket.pk)
    if attachment is None:  # the creation hook was lost: attach first (or the sweep just did), then reply
        ticket_clocks_attach(ticket_id, ticket=ticket)
        attachment = _attachment(ticket.pk)
    if attachment is None or ticket.state in CANCELLING_STATES:
        return
    with transaction.atomic():
        _emit(ticket, attachment.commitment_set, ("ticket.replied",), at)


def _attachment(ticket_id: int) -> ClockAttachment | None:
    return ClockAttachment.objects.filter(subject_type=SUBJECT_TYPE, subject_id=str(ticket_id)).first()


def _open_clocks(ticket_id: int) -> list[Clock]:
    return list(
        Clock.objects.filter(subject_type=SUBJECT_TYPE, subject_id=str(ticket_id), state__in=list(OPEN_STATES))
    )


def on_ticket_kind_changed(*, ticket_id: int, **_kw) -> None:
    """TICKET_KIND_CHANGED listener: cancel the old kind's open clocks and start the new kind's,
    counted from the original `received_at` in the same commitment set version (C17)."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return
    with transaction.atomic():
        attachment = (
            ClockAttachment.objects.select_for_update()
            .filter(subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk))
            .first()
        )
        if attachment is None:
            transaction.on_commit(lambda: ticket_clocks_attach(ticket_id))
            return
        now = timezone.now()
        for clock in _open_clocks(ticket.pk):
            clock_cancel(clock=clock, at=now)
        attrs = ticket_attrs(ticket)
        attachment.kind_signature = _signature(attrs)
        attachment.save(update_fields=["kind_signature"])
        if ticket.state in CANCELLING_STATES or ticket.state == "closed":
            return
        # Cancelled clocks no longer block the one-open-clock-per-commitment rule.
        _emit(ticket, attachment.commitment_set, ("ticket.received",), ticket.received_at)
        events = STATE_EVENTS.get(ticket.state, ())
        if events:
            _emit(ticket, attachment.commitment_set, events, now)


def tickets_without_clocks(*, now: datetime, lookback: timedelta, grace: timedelta, limit: int) -> list[int]:
    """Open work orders received within `lookback`, created more than `grace` ago, that have no
    attachment row (their creation hook never ran) — the sweep's catch-up list."""
    from django.db.models import CharField, Exists, OuterRef
    from django.db.models.functions import Cast

    from kefu.tickets.models import Ticket
    from kefu.tickets.states import OPEN_STATES as TICKET_OPEN

    has = ClockAttachment.objects.filter(
        subject_type=SUBJECT_TYPE, subject_id=Cast(OuterRef("pk"), output_field=CharField())
    )
    return list(
        Ticket.objects.filter(
            state__in=list(TICKET_OPEN) + ["resolved"],
            received_at__gte=now - lookback,
            created_at__lte=now - grace,
        )
        .filter(~Exists(has))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def register() -> None:
    """Attach the listeners to the tickets hooks (called from SlaConfig.ready)."""
    from kefu.tickets import hooks

    hooks.register(hooks.TICKET_CREATED, on_ticket_created)
    hooks.register(hooks.TICKET_STATE_CHANGED, on_ticket_state_changed)
    hooks.register(hooks.TICKET_KIND_CHANGED, on_ticket_kind_changed)
    hooks.register(hooks.TICKET_REPLIED, on_ticket_replied)
