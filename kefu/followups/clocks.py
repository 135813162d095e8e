"""Commitment clocks of complaints and return visits (C6 stages, C14, C19): the subject adapters of
"followups.complaint" and "followups.visit" (kefu.sla.subjects), how their facts become clock events,
and the catch-up the sla sweep runs.

| fact (recorded by kefu.followups.services) | clock event on the complaint |
|---|---|
| complaint opened (work order received) | `complaint.received` at the work order's `received_at` |
| first reply to the customer (any, even at creation) | `complaint.promised` (002: promise ≤ 1 working day) |
| first reply after the judgement | `complaint.answered` (C6: 000 72 h, 004 2 working days) |
| 执行: customer informed, feedback collected | `complaint.executed` (002: handled ≤ 3–5 working days) |
| the complaint's return visit made | `return_visit.done` (002: complaint return visit ≤ 24 h) |
| 总结评价 | `complaint.closed` (002: result delivered ≤ 5 working days) |
| work order cancelled | open clocks cancelled |

| fact | clock event on the visit |
|---|---|
| visit task created (all field jobs and complaints; sampled consultations) | `return_visit.created` |
| visit made, or concluded unreachable after the retry plan | `return_visit.done` |
| visit cancelled | open clocks cancelled |

Each event is sent once: the row keeps the events already sent (`clock_events`), and a fact sets
`clocks_behind` in its transaction; `*_clocks_sync` (on commit, and the sweep for a lost one) sends
what is missing, in the order of the facts' times. A consultation that was not drawn has no visit and
so no clock: nothing can breach for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound
from kefu.followups.models import Complaint, ReturnVisit
from kefu.sla.codes import Event as ClockEvent
from kefu.sla.models import Clock
from kefu.sla.selectors import commitment_set_in_force, commitments_matching
from kefu.sla.services import clock_cancel, clocks_on_event, clocks_start_many
from kefu.sla.states import OPEN_STATES
from kefu.sla.subjects import CatchUpResult, SubjectInfo
from kefu.tickets.clocks import ticket_attrs

logger = logging.getLogger("kefu.sla")

COMPLAINT_SUBJECT = "followups.complaint"
VISIT_SUBJECT = "followups.visit"
CATCH_UP_GRACE = timedelta(minutes=1)


def _cancel_open(subject_type: str, subject_id: int) -> None:
    now = timezone.now()
    for clock in Clock.objects.filter(
        subject_type=subject_type, subject_id=str(subject_id), state__in=list(OPEN_STATES)
    ):
        clock_cancel(clock=clock, at=now)


def complaint_facts(c: Complaint) -> list[tuple[str, datetime]]:
    """The clock events a complaint's recorded facts stand for, in time order."""
    facts = [(ClockEvent.COMPLAINT_RECEIVED, c.received_at)]
    for event, at in (
        (ClockEvent.COMPLAINT_PROMISED, c.promised_at),
        (ClockEvent.COMPLAINT_ANSWERED, c.answered_at),
        (ClockEvent.COMPLAINT_EXECUTED, c.informed_at),
        (ClockEvent.COMPLAINT_CLOSED, c.closed_at),
    ):
        if at is not None:
            facts.append((event, max(at, c.received_at)))
    visit_done = (
        ReturnVisit.objects.filter(ticket_id=c.ticket_id, reason="complaint", done_at__isnull=False)
        .values_list("done_at", flat=True)
        .first()
    )
    if visit_done is not None:
        facts.append((ClockEvent.RETURN_VISIT_DONE, max(visit_done, c.received_at)))
    return sorted(facts, key=lambda f: f[1])


def complaint_clocks_sync(complaint_id: int) -> bool:
    """Send the complaint's facts not yet sent to sla (idempotent). Returns whether it did anything."""
    with transaction.atomic():
        c = (
            Complaint.objects.select_for_update(of=("self",))
            .filter(pk=complaint_id)
            .select_related("ticket__kind", "ticket__sub_kind", "ticket__customer__category", "company")
            .first()
        )
        if c is None or (not c.clocks_behind and c.clock_events):
            return False
        ticket = c.ticket
        sent = list(c.clock_events or [])
        if ticket.state == "cancelled":
            _cancel_open(COMPLAINT_SUBJECT, c.pk)
        else:
            cset = commitment_set_in_force(c.company, c.received_at)
            attrs = ticket_attrs(ticket)
            for event, at in complaint_facts(c):
                if event in sent:
                    continue
                clocks_on_event(
                    company=c.company,
                    subject_type=COMPLAINT_SUBJECT,
                    subject_id=str(c.pk),
                    event=event,
                    at=at,
                    commitment_set=cset,
                    attrs=attrs,
                    department=c.responsible_department or ticket.assigned_department,
                )
                sent.append(event)
        Complaint.objects.filter(pk=c.pk).update(clock_events=sent, clocks_behind=False)
    return True


def visit_attrs(v: ReturnVisit) -> dict[str, str]:
    if v.ticket_id:
        return ticket_attrs(v.ticket)
    return {"kind": "", "sub_kind": "", "customer_category": "", "severity": "", "channel": ""}


def visit_facts(v: ReturnVisit) -> list[tuple[str, datetime]]:
    facts = [(ClockEvent.RETURN_VISIT_CREATED, v.finished_at)]
    if v.status in (ReturnVisit.Status.DONE, ReturnVisit.Status.UNREACHABLE) and v.done_at:
        facts.append((ClockEvent.RETURN_VISIT_DONE, max(v.done_at, v.finished_at)))
    return facts


def visit_clocks_sync(visit_id: int) -> bool:
    """Send the visit's facts not yet sent to sla (idempotent)."""
    with transaction.atomic():
        v = (
            ReturnVisit.objects.select_for_update(of=("self",))
            .filter(pk=visit_id)
            .select_related("ticket__kind", "ticket__sub_kind", "ticket__customer__category", "company")
            .first()
        )
        if v is None or not v.clocks_behind:
            return False
        sent = list(v.clock_events or [])
        if v.status == ReturnVisit.Status.CANCELLED:
            _cancel_open(VISIT_SUBJECT, v.pk)
        else:
            cset = commitment_set_in_force(v.company, v.finished_at)
            for event, at in visit_facts(v):
                if event in sent:
                    continue
                clocks_on_event(
                    company=v.company,
                    subject_type=VISIT_SUBJECT,
                    subject_id=str(v.pk),
                    event=event,
                    at=at,
                    commitment_set=cset,
                    attrs=visit_attrs(v),
                )
                sent.append(event)
        ReturnVisit.objects.filter(pk=v.pk).update(clock_events=sent, clocks_behind=False)
    return True


def visits_start_clocks_bulk(
    visits: list[tuple[int, object, datetime]], attrs_list: list[dict[str, str]]
) -> int:
    """The clocks of many new visits at once (the daily creation of 20,000 tasks): the commitments
    that start on `return_visit.created` are matched once per set and kind, and only visits with a
    matching commitment cost a row. `visits` are (pk, company, finished_at) of visits saved with
    `clocks_behind=False` and `clock_events=["return_visit.created"]`. Returns the clocks started."""
    cache: dict[tuple, list] = {}
    sets: dict[tuple[int, int, int], object] = {}
    starts: dict[int, list] = {}  # company id → (subject id, commitment, started at)
    companies: dict[int, object] = {}
    for (pk, company, finished_at), attrs in zip(visits, attrs_list, strict=True):
        key_set = (company.pk, finished_at.year, finished_at.month)
        if key_set not in sets:
            sets[key_set] = commitment_set_in_force(company, finished_at)
        cset = sets[key_set]
        if cset is None:
            continue
        key = (cset.pk, *sorted(attrs.items()))
        if key not in cache:
            cache[key] = list(
                commitments_matching(cset, start_event=ClockEvent.RETURN_VISIT_CREATED, **attrs)
            )
        for commitment in cache[key]:
            companies.setdefault(company.pk, company)
            starts.setdefault(company.pk, []).append((str(pk), commitment, finished_at))
    # one multi-row insert per company (the visits are new: no open clock can exist yet)
    return sum(
        clocks_start_many(company=companies[cid], subject_type=VISIT_SUBJECT, starts=rows)
        for cid, rows in starts.items()
    )


# ---- catch-up (run by the sla sweep through the adapters) ---------------------------------------
def complaints_with_clocks_behind(*, now: datetime, limit: int) -> list[int]:
    """Complaints whose facts were recorded but whose on-commit sync did not run."""
    return list(
        Complaint.objects.filter(clocks_behind=True, updated_at__lte=now - CATCH_UP_GRACE)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def visits_with_clocks_behind(*, now: datetime, limit: int) -> list[int]:
    """Visits whose facts were recorded but whose on-commit sync did not run."""
    return list(
        ReturnVisit.objects.filter(clocks_behind=True, updated_at__lte=now - CATCH_UP_GRACE)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def _sid(qs: QuerySet) -> QuerySet:
    return qs.annotate(sid=Cast("pk", output_field=CharField())).values("sid")


class ComplaintClocks:
    """Adapter of complaint stages: subject id = the Complaint's pk."""

    subject_type = COMPLAINT_SUBJECT
    api_segment = "complaints"  # GET /api/v1/sla/complaints/{id}/clocks
    model_label = "followups.complaint"

    def attrs(self, subject) -> dict[str, str]:
        return ticket_attrs(subject.ticket)

    def attribute_choices(self) -> dict[str, list[tuple[str, str]]]:
        return {}

    def describe(self, subject_ids: Iterable[str]) -> dict[str, SubjectInfo]:
        pks = [int(i) for i in subject_ids if str(i).isdigit()]
        rows = Complaint.objects.filter(pk__in=pks).values(
            "id",
            "ticket__number",
            "ticket__owner_id",
            "ticket__owner__full_name",
            "ticket__owner__team_id",
            "ticket__owner__department_id",
            "responsible_user_id",
            "responsible_department_id",
        )
        return {
            str(r["id"]): SubjectInfo(
                label=_("投诉 %(n)s") % {"n": r["ticket__number"]},
                reference=r["ticket__number"],
                url=reverse("followups:complaint", args=[r["id"]]),
                owner_name=r["ticket__owner__full_name"] or "",
                warn_user_ids=tuple(i for i in (r["ticket__owner_id"], r["responsible_user_id"]) if i),
                team_id=r["ticket__owner__team_id"],
                department_id=r["responsible_department_id"] or r["ticket__owner__department_id"],
            )
            for r in rows
        }

    def visible_ids(self, user, *, team_id: int | None = None) -> QuerySet:
        from kefu.tickets.selectors import tickets_visible_to

        qs = Complaint.objects.filter(ticket__in=tickets_visible_to(user))
        if team_id is not None:
            qs = qs.filter(ticket__owner__team_id=team_id)
        return _sid(qs)

    def assert_visible(self, user, subject_id: str) -> None:
        from kefu.followups.selectors import complaint_get

        if not str(subject_id).isdigit():
            raise NotFound(_("没有找到该投诉，或您无权查看。"), code="not_found")
        complaint_get(user=user, complaint_id=int(subject_id))

    def catch_up(self, *, now: datetime, limit: int) -> CatchUpResult:
        """Complaints whose clocks lag behind their facts; and the follow-ups' own catch-ups of
        work-order facts (complaint records, return-visit tasks: kefu.followups.listeners)."""
        from kefu.followups.listeners import followups_catch_up

        result = CatchUpResult()
        for cid in complaints_with_clocks_behind(now=now, limit=limit):
            try:
                if complaint_clocks_sync(cid):
                    result.repaired += 1
            except Exception as exc:  # one bad row must not stop the sweep
                logger.exception("complaint %s clocks", cid)
                result.errors.append(f"complaint {cid}: {exc}")
        try:
            result.attached += followups_catch_up(now=now, limit=limit)
        except Exception as exc:
            logger.exception("follow-ups catch-up failed")
            result.errors.append(f"followups: {exc}")
        return result


class VisitClocks:
    """Adapter of return visits: subject id = the ReturnVisit's pk."""

    subject_type = VISIT_SUBJECT
    api_segment = "visits"  # GET /api/v1/sla/visits/{id}/clocks
    model_label = "followups.returnvisit"

    def attrs(self, subject) -> dict[str, str]:
        return visit_attrs(subject)

    def attribute_choices(self) -> dict[str, list[tuple[str, str]]]:
        return {}

    def describe(self, subject_ids: Iterable[str]) -> dict[str, SubjectInfo]:
        pks = [int(i) for i in subject_ids if str(i).isdigit()]
        rows = ReturnVisit.objects.filter(pk__in=pks).values(
            "id",
            "ticket__number",
            "project__name",
            "assigned_to_id",
            "assigned_to__full_name",
            "assigned_to__team_id",
            "assigned_to__department_id",
        )
        return {
            str(r["id"]): SubjectInfo(
                label=_("回访 %(n)s") % {"n": r["ticket__number"] or r["project__name"]},
                reference=r["ticket__number"] or r["project__name"] or "",
                url=reverse("followups:visit", args=[r["id"]]),
                owner_name=r["assigned_to__full_name"] or "",
                warn_user_ids=tuple(i for i in (r["assigned_to_id"],) if i),
                team_id=r["assigned_to__team_id"],
                department_id=r["assigned_to__department_id"],
            )
            for r in rows
        }

    def visible_ids(self, user, *, team_id: int | None = None) -> QuerySet:
        from kefu.followups.selectors import visits_visible_to

        qs = visits_visible_to(user)
        if team_id is not None:
            qs = qs.filter(assigned_to__team_id=team_id)
        return _sid(qs)

    def assert_visible(self, user, subject_id: str) -> None:
        from kefu.followups.selectors import visit_get

        if not str(subject_id).isdigit():
            raise NotFound(_("没有找到该回访，或您无权查看。"), code="not_found")
        visit_get(user=user, visit_id=int(subject_id))

    def catch_up(self, *, now: datetime, limit: int) -> CatchUpResult:
        result = CatchUpResult()
        for vid in visits_with_clocks_behind(now=now, limit=limit):
            try:
                if visit_clocks_sync(vid):
                    result.repaired += 1
            except Exception as exc:
                logger.exception("visit %s clocks", vid)
                result.errors.append(f"visit {vid}: {exc}")
        return result


def register() -> None:
    """Register both adapters (FollowupsConfig.ready)."""
    from kefu.sla.subjects import register_subject

    register_subject(ComplaintClocks())
    register_subject(VisitClocks())
