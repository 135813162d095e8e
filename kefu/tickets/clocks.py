"""Commitment clocks on work orders (C17): everything the sla engine needs to know about
work orders, in one place — the subject adapter of "tickets.workorder" (kefu.sla.subjects), how
work-order facts become clock events, the listeners of this app's facts (kefu.tickets.facts) and
the catch-up sweeps that redo what a lost listener missed.

How work-order facts become clock events (the mapping is the one place for this rule):

| tickets fact | clock events (in this order) |
|---|---|
| work order created (TicketCreated) | `ticket.received` at `received_at` |
| state → `assigned` | `ticket.responded` |
| state → `in_progress` | `ticket.responded` (not `ticket.arrived`: an arrival is a fact of kefu.field, C8) |
| state → `resolved` | `ticket.responded`, `.replied`, `.handled`, `.resolved` (not `.arrived`) |
| state → `closed` | the `resolved` events, then `ticket.closed` (starts e.g. the C14 return-visit clock) |
| state → `cancelled` | every open clock of the work order is cancelled (not measured) |
| state → `on_hold`, `reopened` | nothing (a pause needs an accepted reason and is explicit, P9) |
| kind changed (TicketKindChanged) | open clocks cancelled; clocks of the new kind started at `received_at` |
| reply to the customer (TicketReplied) | `ticket.replied` at the reply's time |

Not emitted by the tickets app: an arrival on site (`ticket.arrived` — the field app records the
arrival with its evidence and emits it, kefu/field/clocks.py; neither `in_progress` nor `resolved` /
`closed`, which anyone may set, stops an on-site clock: a work order resolved or closed without a
recorded arrival keeps its on-site clock running until it breaches, unless its field jobs were all
cancelled, which cancels the clock — kefu/field/clocks.py), `return_visit.done`, and the
call/chat/outage events.

The commitment set is the one in force when the work order was received (C17); every clock keeps
its set version. A `ClockAttachment` row is written with the clocks, so the sweep can find open
work orders whose creation listener never ran (the process died after the commit).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Exists, IntegerField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound
from kefu.sla.codes import Event as ClockEvent
from kefu.sla.models import Clock, ClockAttachment
from kefu.sla.selectors import (
    clocks_by_subject,
    commitment_set_in_force,
    commitments_matching,
    subject_clocks,
)
from kefu.sla.services import clock_cancel, clock_start, clock_stop, clocks_on_event, clocks_start_new_subject
from kefu.sla.states import OPEN_STATES
from kefu.sla.subjects import CatchUpResult, SubjectInfo
from kefu.tickets.facts import TicketCreated, TicketKindChanged, TicketReplied, TicketStateChanged
from kefu.tickets.models import Channel, Severity, Ticket, TicketEvent
from kefu.tickets.states import OPEN_STATES as TICKET_OPEN
from kefu.tickets.states import TicketState
from kefu.tickets.taxonomy import KindCode

logger = logging.getLogger("kefu.sla")

SUBJECT_TYPE = "tickets.workorder"

#: Not `ticket.arrived`: resolving or closing a work order is not an arrival on site (C8–C12). An
#: on-site clock stops only on the arrival recorded with its evidence by kefu.field; one that never
#: got an arrival runs on and breaches at its due time (kefu/field/clocks.py, docs/field.md).
RESOLVED_EVENTS = (
    ClockEvent.TICKET_RESPONDED,
    ClockEvent.TICKET_REPLIED,
    ClockEvent.TICKET_HANDLED,
    ClockEvent.TICKET_RESOLVED,
)

#: ticket state entered → clock events, in order (see the module docstring).
STATE_EVENTS: dict[str, tuple[str, ...]] = {
    TicketState.ASSIGNED: (ClockEvent.TICKET_RESPONDED,),
    TicketState.IN_PROGRESS: (ClockEvent.TICKET_RESPONDED,),
    TicketState.RESOLVED: RESOLVED_EVENTS,
    TicketState.CLOSED: RESOLVED_EVENTS + (ClockEvent.TICKET_CLOSED,),
}
CANCELLING_STATES = frozenset({TicketState.CANCELLED})

ATTACH_LOOKBACK = timedelta(days=7)
CATCH_UP_GRACE = timedelta(minutes=1)


# ---- work-order facts → clock events -----------------------------------------------------------
def _ticket(ticket_id: int):
    return (
        Ticket.objects.select_related(
            "company", "kind", "sub_kind", "customer__category", "assigned_department"
        )
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
    if state == TicketState.RESOLVED and ticket.resolved_at:
        return ticket.resolved_at
    if state == TicketState.CLOSED and (ticket.closed_at or ticket.resolved_at):
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
    the listener and the sweep racing attach only once). A work order already past `received`
    (resolved on the call, or found late by the sweep) also gets the events of its current state.

    `ticket` is the committed work order when the caller holds it (the create listener): it saves
    reloading it. All clocks are computed in memory and written in one INSERT."""
    ticket = ticket if ticket is not None else _ticket(ticket_id)
    if ticket is None:
        return None
    commitment_set = commitment_set_in_force(ticket.company, ticket.received_at)
    attrs = ticket_attrs(ticket)
    events: list[tuple[str, datetime]] = []
    if ticket.state not in CANCELLING_STATES:
        events.append((ClockEvent.TICKET_RECEIVED, ticket.received_at))
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
    except IntegrityError:  # attached already (the listener and the sweep raced, or a repeated call)
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


def _attachment(ticket_id: int) -> ClockAttachment | None:
    return ClockAttachment.objects.filter(subject_type=SUBJECT_TYPE, subject_id=str(ticket_id)).first()


def _open_clocks(ticket_id: int) -> list[Clock]:
    return list(
        Clock.objects.filter(
            subject_type=SUBJECT_TYPE, subject_id=str(ticket_id), state__in=list(OPEN_STATES)
        )
    )


# ---- listeners (subscribed in TicketsConfig.ready; docs/events.md) -----------------------------
def on_ticket_created(event: TicketCreated) -> None:
    """Start the clocks of the commitments that apply. Catch-up: tickets_without_clocks."""
    ticket_clocks_attach(event.ticket_id, ticket=event.ticket)


def on_ticket_state_changed(event: TicketStateChanged) -> None:
    """Stop (or cancel) clocks per STATE_EVENTS. Catch-up: tickets_with_clocks_behind."""
    ticket = _ticket(event.ticket_id)
    if ticket is None:
        return
    attachment = _attachment(ticket.pk)
    if attachment is None:  # the creation listener was lost: attach now (it applies the current state)
        ticket_clocks_attach(event.ticket_id)
        return
    now = timezone.now()
    with transaction.atomic():
        if event.target in CANCELLING_STATES:
            for clock in _open_clocks(ticket.pk):
                clock_cancel(clock=clock, at=now)
            return
        events = STATE_EVENTS.get(event.target, ())
        if events:
            _emit(ticket, attachment.commitment_set, events, _state_time(ticket, event.target))


def on_ticket_replied(event: TicketReplied) -> None:
    """A reply to the customer recorded on the work order stops its "answered within …" clocks
    (C6 complaints, C14 consultations) at the reply's time. Catch-up: tickets_with_clocks_behind."""
    ticket = _ticket(event.ticket_id)
    if ticket is None:
        return
    attachment = _attachment(ticket.pk)
    if attachment is None:  # the creation listener was lost: attach first (or the sweep just did), then reply
        ticket_clocks_attach(event.ticket_id, ticket=ticket)
        attachment = _attachment(ticket.pk)
    if attachment is None or ticket.state in CANCELLING_STATES:
        return
    with transaction.atomic():
        _emit(ticket, attachment.commitment_set, (ClockEvent.TICKET_REPLIED,), event.at)


def on_ticket_kind_changed(event: TicketKindChanged) -> None:
    """Cancel the old kind's open clocks and start the new kind's, counted from the original
    `received_at` in the same commitment set version (C17). Catch-up: tickets_with_clocks_behind."""
    ticket_clocks_rekind(event.ticket_id)


def ticket_clocks_rekind(ticket_id: int) -> None:
    """The clocks of a work order whose kind changed (idempotent: a second call restarts the same
    clocks from `received_at`)."""
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
        if ticket.state in CANCELLING_STATES or ticket.state == TicketState.CLOSED:
            return
        # Cancelled clocks no longer block the one-open-clock-per-commitment rule.
        _emit(ticket, attachment.commitment_set, (ClockEvent.TICKET_RECEIVED,), ticket.received_at)
        events = STATE_EVENTS.get(ticket.state, ())
        if events:
            _emit(ticket, attachment.commitment_set, events, now)


# ---- catch-up sweeps (run by the sla sweep through the adapter) --------------------------------
def tickets_without_clocks(*, now: datetime, lookback: timedelta, grace: timedelta, limit: int) -> list[int]:
    """Open work orders received within `lookback`, created more than `grace` ago, that have no
    attachment row (their TicketCreated listener never ran) — the catch-up of on_ticket_created."""
    has = ClockAttachment.objects.filter(
        subject_type=SUBJECT_TYPE, subject_id=Cast(OuterRef("pk"), output_field=CharField())
    )
    return list(
        Ticket.objects.filter(
            state__in=list(TICKET_OPEN) + [TicketState.RESOLVED],
            received_at__gte=now - lookback,
            created_at__lte=now - grace,
        )
        .filter(~Exists(has))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def _open_clocks_of_kind() -> QuerySet[Clock]:
    return Clock.objects.filter(subject_type=SUBJECT_TYPE, state__in=list(OPEN_STATES))


def tickets_with_clocks_behind(*, now: datetime, grace: timedelta, limit: int) -> list[int]:
    """Work orders (changed more than `grace` ago) whose clocks lag behind the facts the database
    holds — the catch-up of the state, reply and kind listeners when one was lost:

    - an open clock waits for an event the work order's current state already stands for
      (STATE_EVENTS), or the work order is cancelled;
    - an open clock waits for `ticket.replied` and a reply was recorded after it started (and not
      before the clock was made: a kind change restarts the clocks, earlier replies do not count);
    - the attachment's kind signature is not the work order's kind any more."""
    settled = Ticket.objects.filter(updated_at__lte=now - grace)
    ids: set[int] = set()
    for state, events in [*STATE_EVENTS.items(), (TicketState.CANCELLED, ())]:
        clocks = _open_clocks_of_kind()
        if events:
            clocks = clocks.filter(commitment__stop_event__in=list(events))
        tickets = settled.filter(state=state).annotate(sid=Cast("pk", output_field=CharField())).values("sid")
        ids.update(
            int(s) for s in clocks.filter(subject_id__in=tickets).values_list("subject_id", flat=True)[:limit]
        )
    replied = TicketEvent.objects.filter(
        ticket_id=Cast(OuterRef("subject_id"), output_field=IntegerField()),
        kind=TicketEvent.Kind.REPLY,
        at__gte=OuterRef("started_at"),
        at__lte=now - grace,
    ).filter(at__gte=OuterRef("created_at") - grace)
    ids.update(
        int(s)
        for s in _open_clocks_of_kind()
        .filter(commitment__stop_event=ClockEvent.TICKET_REPLIED)
        .filter(Exists(replied))
        .values_list("subject_id", flat=True)[:limit]
    )
    signature = Concat(
        "kind__code", Value("/"), Coalesce("sub_kind__code", Value("")), output_field=CharField()
    )
    stale = ClockAttachment.objects.filter(
        subject_type=SUBJECT_TYPE, subject_id=Cast(OuterRef("pk"), output_field=CharField())
    ).exclude(kind_signature=OuterRef("signature"))
    ids.update(
        settled.filter(state__in=list(TICKET_OPEN))
        .annotate(signature=signature)
        .filter(Exists(stale))
        .values_list("id", flat=True)[:limit]
    )
    return sorted(ids)[:limit]


def ticket_clocks_catch_up(ticket_id: int) -> bool:
    """Bring a work order's clocks up to its facts (idempotent): a changed kind restarts them; an
    event its state stands for stops the clocks waiting for it (and starts the clocks it starts
    that the work order never had); a cancelled work order's clocks are cancelled; a recorded reply
    stops the reply clocks at the reply's time. Returns whether anything was done."""
    ticket = _ticket(ticket_id)
    attachment = _attachment(ticket_id) if ticket is not None else None
    if ticket is None or attachment is None:
        return False
    attrs = ticket_attrs(ticket)
    if attachment.kind_signature != _signature(attrs) and ticket.state in TICKET_OPEN:
        ticket_clocks_rekind(ticket_id)
        return True
    done = False
    with transaction.atomic():
        open_clocks = list(
            Clock.objects.select_related("commitment").filter(
                subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk), state__in=list(OPEN_STATES)
            )
        )
        if ticket.state in CANCELLING_STATES:
            for clock in open_clocks:
                clock_cancel(clock=clock, at=timezone.now())
            return bool(open_clocks)
        for clock in open_clocks:
            if clock.commitment.stop_event != ClockEvent.TICKET_REPLIED:
                continue
            reply_at = (
                TicketEvent.objects.filter(
                    ticket_id=ticket.pk,
                    kind=TicketEvent.Kind.REPLY,
                    at__gte=max(clock.started_at, clock.created_at - CATCH_UP_GRACE),
                )
                .order_by("at")
                .values_list("at", flat=True)
                .first()
            )
            if reply_at is not None:
                clock_stop(clock=clock, at=reply_at)
                done = True
        events = STATE_EVENTS.get(ticket.state, ())
        at = max(_state_time(ticket, ticket.state), ticket.received_at)
        had = set(
            Clock.objects.filter(subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk)).values_list(
                "commitment_id", flat=True
            )
        )
        for event in events:
            for clock in open_clocks:
                clock.refresh_from_db(fields=["state"])
                if clock.commitment.stop_event == event and clock.state in OPEN_STATES:
                    clock_stop(clock=clock, at=at)
                    done = True
            if attachment.commitment_set is None:
                continue
            for commitment in commitments_matching(attachment.commitment_set, start_event=event, **attrs):
                if commitment.pk not in had:
                    clock_start(
                        company=ticket.company,
                        subject_type=SUBJECT_TYPE,
                        subject_id=str(ticket.pk),
                        commitment=commitment,
                        started_at=at,
                        department=ticket.assigned_department,
                    )
                    had.add(commitment.pk)
                    done = True
    if done:
        logger.warning("work order %s: clocks caught up with its facts by the sweep", ticket.pk)
    return done


def ticket_clocks(ticket_id: int):
    """Every clock of a work order, oldest first (visibility is the caller's check)."""
    return subject_clocks(SUBJECT_TYPE, ticket_id)


def clocks_by_ticket(ticket_ids) -> dict[int, list[Clock]]:
    """The live clocks of many work orders in one query, keyed by work-order id (the list page)."""
    return clocks_by_subject(SUBJECT_TYPE, ticket_ids)


# ---- the subject adapter of work orders (kefu.sla.subjects) ------------------------------------
_URL_PLACEHOLDER = 987654321


@lru_cache(maxsize=1)
def _ticket_url_template() -> str:
    try:
        return reverse("tickets:detail", args=[_URL_PLACEHOLDER])
    except NoReverseMatch:
        return ""


def _ticket_url(ticket_id: str) -> str:
    """The work order's page (reversed once per process, not once per notification)."""
    template = _ticket_url_template()
    if not template or not str(ticket_id).isdigit():
        return ""
    return template.replace(str(_URL_PLACEHOLDER), str(int(ticket_id)))


class WorkOrderClocks:
    """The adapter of work orders: subject type "tickets.workorder", subject id the work order's pk."""

    subject_type = SUBJECT_TYPE
    api_segment = "tickets"  # GET /api/v1/sla/tickets/{id}/clocks
    model_label = "tickets.ticket"

    def attrs(self, subject) -> dict[str, str]:
        return ticket_attrs(subject)

    def attribute_choices(self) -> dict[str, list[tuple[str, str]]]:
        return {
            "ticket_kind": list(KindCode.choices),
            "severity": list(Severity.choices),
            "channel": list(Channel.choices),
        }

    def describe(self, subject_ids: Iterable[str]) -> dict[str, SubjectInfo]:
        """Number, page, owner and the team / department whose leads are told: the assigned one,
        else the owner's (P1: the owner stays accountable)."""
        pks = [int(i) for i in subject_ids if str(i).isdigit()]
        if not pks:
            return {}
        rows = Ticket.objects.filter(pk__in=pks).values(
            "id",
            "number",
            "owner_id",
            "assigned_to_id",
            "assigned_team_id",
            "assigned_department_id",
            "owner__team_id",
            "owner__department_id",
            "owner__full_name",
            "owner__username",
        )
        return {
            str(r["id"]): SubjectInfo(
                label=_("工单 %(n)s") % {"n": r["number"]},
                reference=r["number"],
                url=_ticket_url(str(r["id"])),
                owner_name=r["owner__full_name"] or r["owner__username"] or "",
                warn_user_ids=tuple(i for i in (r["owner_id"], r["assigned_to_id"]) if i is not None),
                team_id=r["assigned_team_id"] or r["owner__team_id"],
                department_id=r["assigned_department_id"] or r["owner__department_id"],
            )
            for r in rows
        }

    def visible_ids(self, user, *, team_id: int | None = None) -> QuerySet:
        """Work orders the user may see (S2); of a team: those passed to it, and those its people
        own as first contact (P1: the owner stays accountable while another department works on it)."""
        from kefu.tickets.selectors import tickets_visible_to

        qs = tickets_visible_to(user)
        if team_id is not None:
            qs = qs.filter(Q(assigned_team_id=team_id) | Q(owner__team_id=team_id))
        return qs.annotate(sid=Cast("pk", output_field=CharField())).values("sid")

    def assert_visible(self, user, subject_id: str) -> None:
        """The work order's own visibility decides (kefu.tickets.selectors.ticket_get, S2)."""
        from kefu.tickets.selectors import ticket_get

        try:
            ticket_id = int(subject_id)
        except (TypeError, ValueError):
            raise NotFound(_("没有找到该工单，或您无权查看。"), code="not_found") from None
        ticket_get(user=user, ticket_id=ticket_id)

    def catch_up(self, *, now: datetime, limit: int) -> CatchUpResult:
        """Work orders whose clocks a lost listener did not attach (received within
        KEFU_SLA_ATTACH_LOOKBACK_DAYS, default 7) or did not bring up to date."""
        result = CatchUpResult()
        lookback = timedelta(
            days=int(getattr(settings, "KEFU_SLA_ATTACH_LOOKBACK_DAYS", ATTACH_LOOKBACK.days))
        )
        for ticket_id in tickets_without_clocks(
            now=now, lookback=lookback, grace=CATCH_UP_GRACE, limit=limit
        ):
            try:
                if ticket_clocks_attach(ticket_id, by_sweep=True) is not None:
                    result.attached += 1
            except Exception as exc:  # one bad work order must not stop the sweep
                logger.exception("attaching clocks to work order %s failed", ticket_id)
                result.errors.append(f"attach {ticket_id}: {exc}")
        for ticket_id in tickets_with_clocks_behind(now=now, grace=CATCH_UP_GRACE, limit=limit):
            try:
                if ticket_clocks_catch_up(ticket_id):
                    result.repaired += 1
            except Exception as exc:
                logger.exception("catching up the clocks of work order %s failed", ticket_id)
                result.errors.append(f"catch up {ticket_id}: {exc}")
        return result


work_order_clocks = WorkOrderClocks()


def register() -> None:
    """Register the adapter and the clock listeners (TicketsConfig.ready)."""
    from kefu.core.events import subscribe
    from kefu.sla.subjects import register_subject

    register_subject(work_order_clocks)
    subscribe(TicketCreated, on_ticket_created, catch_up=tickets_without_clocks)
    subscribe(TicketStateChanged, on_ticket_state_changed, catch_up=tickets_with_clocks_behind)
    subscribe(TicketKindChanged, on_ticket_kind_changed, catch_up=tickets_with_clocks_behind)
    subscribe(TicketReplied, on_ticket_replied, catch_up=tickets_with_clocks_behind)


# ---- hold and resume (C4 "除和客户另有约定外"; SPEC time rules) -----------------------------------
# Called by the state-change service (kefu.tickets.services.workflow._apply_state) inside its
# transaction, so the timeline entry of the hold names the clocks it paused.
def _clock_name(clock: Clock) -> str:
    return f"{clock.commitment.spec_id} {clock.commitment.name}".strip()


def ticket_clocks_hold(ticket, by, *, reason: str, agreed_at: datetime | None, at: datetime) -> list[str]:
    """A work order put on hold for a reason the standard accepts (HoldReason: customer asked for
    another time, customer unreachable, agreed otherwise) pauses every running clock whose
    commitment accepts that reason, from `at`, with who and why (ClockPause, audited). A clock
    already past due stays breached (a pause cannot undo a breach); a clock whose commitment does
    not accept the reason keeps running. Returns the paused clocks' names."""
    from kefu.sla.services import clock_pause_on_fact
    from kefu.sla.states import ClockState

    note = str(_("工单 %(n)s 挂起") % {"n": ticket.number})
    if agreed_at is not None:
        note += str(_("，约定 %(t)s") % {"t": timezone.localtime(agreed_at).strftime("%Y-%m-%d %H:%M")})
    paused = []
    for clock in Clock.objects.select_related("commitment").filter(
        subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk), state=ClockState.RUNNING
    ):
        if reason not in (clock.commitment.pause_reasons or []):
            continue
        if clock.due_at is not None and at > clock.due_at:
            continue
        clock_pause_on_fact(clock=clock, by=by, reason=reason, at=max(at, clock.started_at), note=note)
        paused.append(_clock_name(clock))
    return paused


def ticket_clocks_release(ticket, by, *, at: datetime) -> list[str]:
    """A held work order taken up again (resumed, dispatched): its paused clocks run again, their
    due times moved by the pause's length (audited). Returns the resumed clocks' names."""
    from kefu.sla.services import clock_resume_on_fact
    from kefu.sla.states import ClockState

    resumed = []
    for clock in Clock.objects.select_related("commitment").filter(
        subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk), state=ClockState.PAUSED
    ):
        clock_resume_on_fact(clock=clock, by=by, at=at)
        resumed.append(_clock_name(clock))
    return resumed
