"""How field facts become commitment clock events (C3, C4, C8–C12): the one place for this rule.

The on-site, handling and repair clocks live on the work order (subject "tickets.workorder", the
adapter of kefu/tickets/clocks.py); this module emits the events that stop them, from facts
recorded with evidence:

| field fact | clock event on the work order |
|---|---|
| arrival that counts (FieldArrived, counts=True) | `ticket.arrived` at the arrival's time |
| exception accepted (FieldArrivalReviewed, accepted) | `ticket.arrived` at the arrival's time |
| arrival exception pending or rejected | nothing: the clock runs on |
| 处理完成 (FieldCompleted, resolved=False) | `ticket.handled` |
| 修复 (FieldCompleted, resolved=True) | `ticket.handled`, `ticket.resolved` |

The work-order states `in_progress`, `resolved` and `closed` stop no on-site clock
(kefu/tickets/clocks.py): only the recorded arrival does. The first countable arrival stops the
clock; a later one finds it stopped.

A work order resolved or closed without a countable arrival (SPEC C8–C12: the promise is to be
*on site*; nobody went, so it was not kept) — `onsite_clocks_settle`:

- every visit called off (job_cancel, with a reason) before the clock's due time: the clock is
  cancelled, not measured (the indicators list it as excluded);
- every visit called off, the last one after the due time: the clock stays breached (late);
- no visit, or any visit not called off: the clock runs on and breaches at its due time (late); an
  arrival recorded later on an open visit still stops it ("met after breach").

Also here: an emergency work order (leak, fire, pipe damage) gets its field job and pages the
on-duty crews at creation.

Every listener is idempotent; the catch-ups (run every minute by kefu.field.tasks) redo from the
database what a lost listener missed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.field.facts import FieldArrivalReviewed, FieldArrived, FieldCompleted, FieldJobCancelled
from kefu.field.models import FieldJob, JobEvent
from kefu.field.states import EventKind, JobState, Review
from kefu.sla.codes import Event as ClockEvent
from kefu.sla.models import Clock, ClockAttachment
from kefu.sla.services import clock_cancel, clocks_on_event
from kefu.sla.states import OPEN_STATES
from kefu.tickets.clocks import SUBJECT_TYPE, ticket_attrs
from kefu.tickets.facts import TicketCreated, TicketStateChanged
from kefu.tickets.models import Ticket
from kefu.tickets.states import TicketState

logger = logging.getLogger("kefu.field")

COUNTING = (Review.NONE, Review.ACCEPTED)
GRACE = timedelta(minutes=1)

#: field event kind → clock events on the work order, in order
EVENT_CLOCKS: dict[str, tuple[str, ...]] = {
    EventKind.ARRIVED: (ClockEvent.TICKET_ARRIVED,),
    EventKind.HANDLED: (ClockEvent.TICKET_HANDLED,),
    EventKind.RESOLVED: (ClockEvent.TICKET_HANDLED, ClockEvent.TICKET_RESOLVED),
}


def event_counts(event: JobEvent) -> bool:
    """What the indicators and the clocks count: an arrival without an exception, or an accepted one."""
    return event.review in COUNTING


def _event_with_work_order(event_id: int) -> JobEvent | None:
    return (
        JobEvent.objects.select_related(
            "job__company",
            "job__ticket__company",
            "job__ticket__kind",
            "job__ticket__sub_kind",
            "job__ticket__customer__category",
            "job__ticket__assigned_department",
        )
        .filter(pk=event_id)
        .first()
    )


def emit_for_event(event_id: int, event: JobEvent | None = None) -> bool:
    """Emit the clock events of one recorded field event on its work order (idempotent: stopped
    clocks stay stopped). `event` is the committed row with its job and work order when the caller
    holds it (the request that recorded it), else it is read. Returns whether it emitted."""
    if event is None or event.pk != event_id:
        event = _event_with_work_order(event_id)
    if event is None or not event_counts(event):
        return False
    job = event.job
    ticket = job.ticket
    attachment = (
        ClockAttachment.objects.select_related("commitment_set")
        .filter(subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk))
        .first()
    )
    if attachment is None:
        return False  # the work order's own catch-up attaches its clocks first; ours comes next
    attrs = ticket_attrs(ticket)
    company = job.company if job.company_id == ticket.company_id else ticket.company  # loaded once
    with transaction.atomic():
        for clock_event in EVENT_CLOCKS.get(event.kind, ()):
            clocks_on_event(
                company=company,
                subject_type=SUBJECT_TYPE,
                subject_id=str(ticket.pk),
                event=clock_event,
                at=max(event.at, ticket.received_at),
                commitment_set=attachment.commitment_set,
                attrs=attrs,
                department=ticket.assigned_department,
            )
    return True


# ---- a work order resolved or closed without an arrival (C8–C12) -------------------------------
SETTLED_TICKET_STATES = (TicketState.RESOLVED, TicketState.CLOSED)


def _open_onsite_clocks(ticket_id: int):
    return Clock.objects.filter(
        subject_type=SUBJECT_TYPE,
        subject_id=str(ticket_id),
        state__in=list(OPEN_STATES),
        commitment__stop_event=ClockEvent.TICKET_ARRIVED,
    )


def onsite_clocks_settle(ticket_id: int) -> list[int]:
    """The defined end of the on-site clocks of a work order resolved or closed without a countable
    arrival (see the module docstring): when every one of its visits was called off,
    the clocks not yet due at the last call-off are cancelled (not measured); otherwise they run on
    and breach. Idempotent. Returns the ids of the clocks it cancelled."""
    state = Ticket.objects.filter(pk=ticket_id).values_list("state", flat=True).first()
    if state not in SETTLED_TICKET_STATES:
        return []
    jobs = list(FieldJob.objects.filter(ticket_id=ticket_id).values_list("state", "finished_at"))
    if not jobs or any(s != JobState.CANCELLED for s, _at in jobs):
        return []
    called_off = max((at for _s, at in jobs if at is not None), default=None)
    if called_off is None:
        return []
    cancelled = []
    with transaction.atomic():
        for clock in _open_onsite_clocks(ticket_id):
            if clock.due_at is not None and called_off > clock.due_at:
                continue  # called off after the promise was already broken: stays breached
            clock_cancel(clock=clock, at=called_off)
            cancelled.append(clock.pk)
    if cancelled:
        logger.info(
            "work order %s: every visit called off, on-site clocks %s not measured", ticket_id, cancelled
        )
    return cancelled


def tickets_with_onsite_clocks_unsettled(
    *, now: datetime, grace: timedelta = GRACE, limit: int = 200
) -> list[int]:
    """Resolved or closed work orders (settled more than `grace` ago) whose visits were all called
    off and that still have an open on-site clock — the catch-up of the two listeners below."""
    waiting = Clock.objects.filter(
        subject_type=SUBJECT_TYPE,
        subject_id=Cast(OuterRef("pk"), output_field=CharField()),
        state__in=list(OPEN_STATES),
        commitment__stop_event=ClockEvent.TICKET_ARRIVED,
    )
    not_cancelled = FieldJob.objects.filter(ticket_id=OuterRef("pk")).exclude(state=JobState.CANCELLED)
    return list(
        Ticket.objects.filter(
            state__in=list(SETTLED_TICKET_STATES),
            updated_at__lte=now - grace,
            updated_at__gte=now - timedelta(days=7),
            field_jobs__state=JobState.CANCELLED,
        )
        .filter(Exists(waiting), ~Exists(not_cancelled))
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


# ---- listeners (docs/events.md) ----------------------------------------------------------------
def on_ticket_settled(event: TicketStateChanged) -> None:
    """A work order resolved or closed: its on-site clocks end as onsite_clocks_settle says.
    Catch-up: tickets_with_onsite_clocks_unsettled."""
    if event.target in SETTLED_TICKET_STATES:
        onsite_clocks_settle(event.ticket_id)


def on_ticket_cancelled(event: TicketStateChanged) -> None:
    """A work order cancelled as a whole calls off its visits nobody has reached yet.
    Catch-up: kefu.field.services.cancelled_tickets_with_open_jobs."""
    from kefu.field.services import jobs_cancel_with_ticket

    if event.target == TicketState.CANCELLED:
        jobs_cancel_with_ticket(event.ticket_id)


def on_job_cancelled(event: FieldJobCancelled) -> None:
    """A visit called off (the work order may be resolved already). Catch-up:
    tickets_with_onsite_clocks_unsettled."""
    onsite_clocks_settle(event.ticket_id)


def on_field_arrived(event: FieldArrived) -> None:
    """A countable arrival stops the on-site clocks (C8–C12). Catch-up: field_events_with_clocks_behind."""
    if event.counts:
        emit_for_event(event.event_id, event.event)


def on_arrival_reviewed(event: FieldArrivalReviewed) -> None:
    """An accepted exception counts at its recorded time. Catch-up: field_events_with_clocks_behind."""
    if event.accepted:
        emit_for_event(event.event_id)


def on_field_completed(event: FieldCompleted) -> None:
    """处理完成 / 修复 stop the handling and repair clocks (C3, C4).
    Catch-up: field_events_with_clocks_behind."""
    emit_for_event(event.event_id, event.event)


def on_ticket_created(event: TicketCreated) -> None:
    """An emergency work order is on the dispatch board at once, and the on-duty crews are paged
    (C8). Catch-up: kefu.field.services.tickets_without_field_jobs."""
    from kefu.field.services import emergency_job_open
    from kefu.field.states import EMERGENCY_KINDS

    ticket = event.ticket
    if ticket is not None and ticket.kind.code not in EMERGENCY_KINDS:
        return  # the committed instance says: not an emergency (no query on the create path)
    emergency_job_open(ticket_id=event.ticket_id)


# ---- catch-ups ---------------------------------------------------------------------------------
def field_events_with_clocks_behind(
    *, now: datetime, grace: timedelta = GRACE, limit: int = 200
) -> list[int]:
    """Countable field events (recorded more than `grace` ago, within a week) whose work order still
    has an open clock waiting for the event they stand for."""
    ids: list[int] = []
    for kind, clock_events in EVENT_CLOCKS.items():
        waiting = Clock.objects.filter(
            subject_type=SUBJECT_TYPE,
            subject_id=Cast(OuterRef("job__ticket_id"), output_field=CharField()),
            state__in=list(OPEN_STATES),
            commitment__stop_event__in=list(clock_events),
            started_at__lte=OuterRef("at"),
        )
        ids += list(
            JobEvent.objects.filter(
                kind=kind, server_at__lte=now - grace, server_at__gte=now - timedelta(days=7)
            )
            .filter(Q(review=Review.NONE) | Q(review=Review.ACCEPTED))
            .filter(Exists(waiting))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
    return ids


def emergency_warnings(*, now: datetime, limit: int = 200) -> int:
    """C8: the 75 % warning of an emergency's clocks goes to the dispatchers and supervisors of the
    company too (the sla sweep tells the owner, the assignee and the team's leads). Exactly once per
    clock and person (the notification's dedupe key). Returns how many were sent."""
    from kefu.accounts.models import User
    from kefu.notify.services import notification_send
    from kefu.tickets.models import Ticket

    emergency_ids = Ticket.objects.filter(kind__code="emergency").annotate(
        sid=Cast("pk", output_field=CharField())
    )
    clocks = list(
        Clock.objects.filter(
            subject_type=SUBJECT_TYPE,
            state__in=list(OPEN_STATES),
            warn_at__lte=now,
            warn_at__gte=now - timedelta(days=1),
            subject_id__in=emergency_ids.values("sid"),
        ).select_related("commitment")[:limit]
    )
    sent = 0
    for clock in clocks:
        number = (
            Ticket.objects.filter(pk=int(clock.subject_id)).values_list("number", flat=True).first() or ""
        )
        for user in User.objects.filter(
            company_id=clock.company_id, is_active=True, role__in=["dispatcher", "supervisor"]
        ):
            _row, created = notification_send(
                recipient=user,
                kind="field.emergency_warning",
                title=_("抢险工单 %(n)s：%(c)s 即将到期") % {"n": number, "c": _(clock.commitment.name)},
                url=f"/tickets/{clock.subject_id}/",
                level="warning",
                dedupe_key=f"clock:{clock.pk}:warn:dispatch",
            )
            sent += created
    return sent


def field_catch_up(*, now: datetime | None = None, limit: int = 200) -> dict:
    """Redo what lost listeners missed: emergency jobs and pages, visits of cancelled work orders,
    clock events of recorded facts."""
    from kefu.field.services import (
        cancelled_tickets_with_open_jobs,
        emergency_job_open,
        jobs_cancel_with_ticket,
        tickets_without_field_jobs,
    )

    now = now or timezone.now()
    jobs = events = 0
    for ticket_id in tickets_without_field_jobs(now=now, limit=limit):
        try:
            if emergency_job_open(ticket_id=ticket_id) is not None:
                jobs += 1
        except Exception:  # one bad work order must not stop the sweep
            logger.exception("opening the emergency job of work order %s failed", ticket_id)
    for event_id in field_events_with_clocks_behind(now=now, limit=limit):
        try:
            events += emit_for_event(event_id)
        except Exception:
            logger.exception("emitting the clock events of field event %s failed", event_id)
    for ticket_id in cancelled_tickets_with_open_jobs(now=now, limit=limit):
        try:
            jobs += jobs_cancel_with_ticket(ticket_id)
        except Exception:
            logger.exception("calling off the visits of cancelled work order %s failed", ticket_id)
    for ticket_id in tickets_with_onsite_clocks_unsettled(now=now, limit=limit):
        try:
            events += bool(onsite_clocks_settle(ticket_id))
        except Exception:
            logger.exception("settling the on-site clocks of work order %s failed", ticket_id)
    if jobs or events:
        logger.warning("field catch-up: %s emergency jobs, %s field events", jobs, events)
    return {"jobs": jobs, "events": events, "warned": emergency_warnings(now=now, limit=limit)}


def register() -> None:
    """Subscribe the listeners (FieldConfig.ready)."""
    from kefu.core.events import subscribe
    from kefu.field.services import cancelled_tickets_with_open_jobs, tickets_without_field_jobs

    subscribe(FieldArrived, on_field_arrived, catch_up=field_events_with_clocks_behind)
    subscribe(FieldArrivalReviewed, on_arrival_reviewed, catch_up=field_events_with_clocks_behind)
    subscribe(FieldCompleted, on_field_completed, catch_up=field_events_with_clocks_behind)
    subscribe(TicketCreated, on_ticket_created, catch_up=tickets_without_field_jobs)
    subscribe(TicketStateChanged, on_ticket_settled, catch_up=tickets_with_onsite_clocks_unsettled)
    subscribe(FieldJobCancelled, on_job_cancelled, catch_up=tickets_with_onsite_clocks_unsettled)
    subscribe(TicketStateChanged, on_ticket_cancelled, catch_up=cancelled_tickets_with_open_jobs)
