"""Work-order facts (kefu.tickets.facts) → complaint records and return-visit tasks, with the
catch-up sweeps that redo what a lost listener missed (run every minute by the sla sweep through
the complaint adapter's catch-up, kefu/followups/clocks.py).

Field completion (kefu.field.facts.FieldCompleted, 修复 recorded on a job): the job's work order is
decided for a return visit at once, from the repair's time on site, even while the work order is
not yet resolved (C12, C19); the work order reaching `resolved` (TicketStateChanged) also decides it
— whichever comes first, once (`VisitDecision`). Catch-up: `field_finished_without_decision`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef

from kefu.field.facts import FieldCompleted
from kefu.followups.models import Complaint, VisitDecision
from kefu.followups.rules import FULL_VISIT_KINDS, SAMPLED_KINDS
from kefu.tickets.facts import TicketCreated, TicketKindChanged, TicketReplied, TicketStateChanged
from kefu.tickets.models import Ticket, TicketEvent

log = logging.getLogger(__name__)
LOOKBACK = timedelta(days=7)
GRACE = timedelta(minutes=1)
VISIT_KINDS = [*FULL_VISIT_KINDS, *SAMPLED_KINDS]


def on_ticket_created(event: TicketCreated) -> None:
    """A complaint work order gets its complaint record; one created already resolved (answered on
    the call) is considered for a visit. Catch-up: complaints_missing, finished_without_decision."""
    from kefu.followups.services import complaint_open, visits_for_finished

    t = event.ticket
    if t is not None:  # the committed instance: decide without a query (a create is ≥ 250/s)
        kind = t.kind.code
        if kind == "complaint":
            complaint_open(ticket_id=t.pk)
        elif kind in VISIT_KINDS and t.state in ("resolved", "closed"):
            visits_for_finished([t.pk])
        return
    complaint_open(ticket_id=event.ticket_id)
    visits_for_finished([event.ticket_id])


def on_ticket_kind_changed(event: TicketKindChanged) -> None:
    """Reclassified into a complaint: the complaint record. Catch-up: complaints_missing."""
    from kefu.followups.services import complaint_open

    complaint_open(ticket_id=event.ticket_id)


def on_ticket_state_changed(event: TicketStateChanged) -> None:
    """Resolved or closed: the return visit (or the sampling decision); cancelled: the complaint's
    clocks are cancelled. Catch-up: finished_without_decision, complaints_with_clocks_behind."""
    from kefu.followups.clocks import complaint_clocks_sync
    from kefu.followups.services import visits_for_finished

    if event.target in ("resolved", "closed"):
        visits_for_finished([event.ticket_id])
    elif event.target == "cancelled":
        cid = Complaint.objects.filter(ticket_id=event.ticket_id).values_list("pk", flat=True).first()
        if cid:
            Complaint.objects.filter(pk=cid).update(clocks_behind=True)
            complaint_clocks_sync(cid)


def on_ticket_replied(event: TicketReplied) -> None:
    """A reply on a complaint: the promise, or the answer after the judgement (C6).
    Catch-up: complaint_replies_missed."""
    from kefu.followups.services import complaint_on_reply

    complaint_on_reply(ticket_id=event.ticket_id, at=event.at)


def on_field_completed(event: FieldCompleted) -> None:
    """修复 on a field job (resolved=True): its work order's return visit (P6, C12, C19), counted from
    the repair's time. 处理完成 (handled, not yet resolved) waits. Idempotent (VisitDecision).
    Catch-up: field_finished_without_decision."""
    from kefu.field.models import FieldJob
    from kefu.followups.services import visits_for_finished

    if not event.resolved:
        return
    row = FieldJob.objects.filter(pk=event.job_id).values_list("ticket_id", "finished_at").first()
    if row is None or row[1] is None:
        return
    visits_for_finished([row[0]], finished_at={row[0]: row[1]})


# ---- catch-ups ----------------------------------------------------------------------------------
def complaints_missing(*, now: datetime, limit: int) -> list[int]:
    """Complaint work orders received in the last 7 days without a complaint record."""
    return list(
        Ticket.objects.filter(
            kind__code="complaint", received_at__gte=now - LOOKBACK, created_at__lte=now - GRACE
        )
        .exclude(state="cancelled")
        .filter(~Exists(Complaint.objects.filter(ticket_id=OuterRef("pk"))))
        .values_list("id", flat=True)[:limit]
    )


def finished_without_decision(*, now: datetime, limit: int) -> list[int]:
    """Work orders of visited kinds resolved in the last 7 days that were never considered."""
    return list(
        Ticket.objects.filter(
            kind__code__in=VISIT_KINDS,
            state__in=("resolved", "closed"),
            resolved_at__gte=now - LOOKBACK,
            updated_at__lte=now - GRACE,
        )
        .filter(~Exists(VisitDecision.objects.filter(ticket_id=OuterRef("pk"))))
        .values_list("id", flat=True)[:limit]
    )


def field_finished_without_decision(*, now: datetime, limit: int) -> dict[int, datetime]:
    """Work orders of visited kinds whose field job was repaired (修复) in the last 7 days and that
    were never considered: ticket id → the repair's time (the earliest, when several jobs)."""
    from kefu.field.models import FieldJob
    from kefu.field.states import JobState

    out: dict[int, datetime] = {}
    qs = (
        FieldJob.objects.filter(
            state=JobState.RESOLVED,
            finished_at__gte=now - LOOKBACK,
            finished_at__lte=now - GRACE,
            ticket__kind__code__in=VISIT_KINDS,
        )
        .exclude(ticket__state="cancelled")
        .filter(~Exists(VisitDecision.objects.filter(ticket_id=OuterRef("ticket_id"))))
        .order_by("finished_at")
        .values_list("ticket_id", "finished_at")
    )
    for tid, at in qs[: limit * 2]:
        out.setdefault(tid, at)
        if len(out) >= limit:
            break
    return out


def complaint_replies_missed(*, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """Complaints with a reply recorded that their promise / answer does not reflect."""
    out = []
    qs = Complaint.objects.filter(answered_at__isnull=True, updated_at__gte=now - LOOKBACK).values_list(
        "ticket_id", "judged_at", "promised_at"
    )[: limit * 5]
    for ticket_id, judged_at, promised_at in qs:
        replies = TicketEvent.objects.filter(
            ticket_id=ticket_id, kind=TicketEvent.Kind.REPLY, at__lte=now - GRACE
        )
        after = (
            replies.filter(at__gte=judged_at).order_by("at").values_list("at", flat=True).first()
            if judged_at
            else None
        )
        first = None if promised_at else replies.order_by("at").values_list("at", flat=True).first()
        for at in (first, after):
            if at is not None:
                out.append((ticket_id, at))
    return out[:limit]


def followups_catch_up(*, now: datetime, limit: int) -> int:
    """Everything above, once (idempotent). Returns how many records it made or repaired."""
    from kefu.followups.services import complaint_on_reply, complaint_open, visits_for_finished

    done = 0
    from kefu.followups.clocks import complaint_clocks_sync

    for tid in complaints_missing(now=now, limit=limit):
        c = complaint_open(ticket_id=tid)
        if c is not None:
            complaint_clocks_sync(c.pk)  # now: the sweep may itself run inside a transaction
            done += 1
    ids = finished_without_decision(now=now, limit=limit)
    if ids:
        done += visits_for_finished(ids) or len(ids)
    field = field_finished_without_decision(now=now, limit=limit)
    if field:
        done += visits_for_finished(list(field), finished_at=field) or len(field)
    for tid, at in complaint_replies_missed(now=now, limit=limit):
        done += complaint_on_reply(ticket_id=tid, at=at)
    if done:
        log.warning("follow-ups catch-up made or repaired %d records", done)
    return done


def register() -> None:
    from kefu.core.events import subscribe

    subscribe(TicketCreated, on_ticket_created, catch_up=followups_catch_up)
    subscribe(TicketKindChanged, on_ticket_kind_changed, catch_up=complaints_missing)
    subscribe(TicketStateChanged, on_ticket_state_changed, catch_up=finished_without_decision)
    subscribe(TicketReplied, on_ticket_replied, catch_up=complaint_replies_missed)
    subscribe(FieldCompleted, on_field_completed, catch_up=field_finished_without_decision)
