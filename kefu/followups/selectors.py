"""Reads of follow-ups: visibility (S2), the queues, the knowledge-base search, and the inputs of
indicators K13, K15, K16, K17 per company and month with the records behind each (SPEC K: every
figure reproducible)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Max, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm, role_allows
from kefu.core.caching import ProcessCache
from kefu.core.errors import Forbidden, NotFound
from kefu.followups.models import (
    Article,
    ArticleVersion,
    Campaign,
    Complaint,
    FollowupPolicy,
    ReturnVisit,
    VisitCall,
)
from kefu.sla import engine
from kefu.sla.selectors import calendar_for_company, commitment_set_in_force
from kefu.tickets.models import Ticket, TicketEvent


def _company_id(user) -> int:
    cid = getattr(user, "company_id", None)
    if not cid:
        raise Forbidden(_("您的账号不属于任何公司。"), code="no_company")
    return cid


# ---- policy -------------------------------------------------------------------------------------
def policy_for(company, at: datetime | None = None) -> FollowupPolicy:
    """The follow-up rules in force: those of the commitment set in force at `at`, else the
    company's default, else the built-in defaults (an unsaved row)."""
    rows = {p.commitment_set_id: p for p in FollowupPolicy.objects.filter(company=company)}
    if at is not None and rows:
        cset = commitment_set_in_force(company, at)
        if cset is not None and cset.pk in rows:
            return rows[cset.pk]
    return rows.get(None) or FollowupPolicy(company=company)


# ---- complaints ---------------------------------------------------------------------------------
def complaints_visible_to(user) -> QuerySet[Complaint]:
    """Complaints whose work order the user may see (S2)."""
    from kefu.tickets.selectors import tickets_visible_to

    if not getattr(user, "company_id", None):
        return Complaint.objects.none()
    return Complaint.objects.filter(company_id=user.company_id, ticket__in=tickets_visible_to(user))


def complaint_get(*, user, complaint_id: int) -> Complaint:
    c = (
        complaints_visible_to(user)
        .select_related(
            "ticket",
            "ticket__owner",
            "target_user",
            "target_department",
            "responsible_user",
            "responsible_department",
            "approved_by",
            "repeat_of__ticket",
        )
        .filter(pk=complaint_id)
        .first()
    )
    if c is None:
        raise NotFound(_("没有找到该投诉，或您无权查看。"), code="not_found")
    return c


def complaint_list(*, user, step: str = "", target_user_id: int | None = None) -> QuerySet[Complaint]:
    qs = complaints_visible_to(user).select_related("ticket", "target_user", "responsible_department")
    if step:
        qs = qs.filter(step=step)
    if target_user_id:
        qs = qs.filter(target_user_id=target_user_id)
    return qs.order_by("-received_at", "-id")


def complaints_against(*, user, staff_id: int) -> QuerySet[Complaint]:
    """The complaint history of one staff member, for their supervisors (report.view)."""
    if not role_allows(user, Perm.REPORT_VIEW):
        raise Forbidden(_("只有班长、主管、经理可以查看员工的被投诉记录。"), code="permission_denied")
    return complaint_list(user=user, target_user_id=staff_id)


# ---- return visits ------------------------------------------------------------------------------
def visits_visible_to(user) -> QuerySet[ReturnVisit]:
    """All of the company's visits for those who see every work order, else one's own tasks."""
    if not getattr(user, "company_id", None) or not user.is_active:
        return ReturnVisit.objects.none()
    qs = ReturnVisit.objects.filter(company_id=user.company_id)
    if role_allows(user, Perm.TICKET_VIEW_ALL):
        return qs
    return qs.filter(assigned_to=user)


def visit_get(*, user, visit_id: int) -> ReturnVisit:
    v = (
        visits_visible_to(user)
        .select_related(
            "ticket", "ticket__kind", "ticket__customer", "project", "assigned_to", "linked_ticket"
        )
        .filter(pk=visit_id)
        .first()
    )
    if v is None:
        raise NotFound(_("没有找到该回访，或您无权查看。"), code="not_found")
    return v


def visit_queue(
    *, user, mine: bool = True, status: str = ReturnVisit.Status.PENDING
) -> QuerySet[ReturnVisit]:
    """A return-visit agent's queue: own and unassigned tasks, soonest due (or next retry) first."""
    qs = visits_visible_to(user).select_related("ticket", "ticket__kind", "project", "assigned_to")
    if status:
        qs = qs.filter(status=status)
    if mine:
        qs = qs.filter(Q(assigned_to=user) | Q(assigned_to__isnull=True))
    return qs.order_by("due_at", "id")


def visit_calls(*, visit: ReturnVisit) -> list[VisitCall]:
    """The click-to-calls of a visit, each with its call record (`telephony.Call`) once the PBX
    reported it — linked by the call id kefu gave the PBX (filled in here when it has arrived)."""
    from kefu.telephony.models import Call

    calls = list(visit.calls.select_related("by", "call"))
    missing = {c.call_ref: c for c in calls if c.call_id is None}
    if missing:
        for call in Call.objects.filter(company_id=visit.company_id, call_id__in=list(missing)):
            vc = missing[call.call_id]
            VisitCall.objects.filter(pk=vc.pk, call__isnull=True).update(call=call)
            vc.call = call
    return calls


# ---- knowledge base -----------------------------------------------------------------------------
#: per process: the searchable text of each company's published articles, with the stamp (count and
#: last change) it was read at; a search checks the stamp (one indexed aggregate) and reloads when an
#: approval changed anything, so an approved answer is found at once in every process.
_kb_corpus: ProcessCache[tuple[tuple, "_Corpus"]] = ProcessCache("followups.kb", max_age=None)


def _kb_stamp(company_id: int) -> tuple:
    # Max over the (company, updated_at) index: one index probe. Every change (a new proposal, an
    # approval, a withdrawal) sets updated_at to now.
    return (Article.objects.filter(company_id=company_id).aggregate(last=Max("updated_at"))["last"],)


@dataclass(frozen=True)
class _Corpus:
    """A company's published texts, newest first, joined into one string (`\x00` between them) so a
    term is found by str.find over the whole corpus in C, not by a Python loop over 10,000 rows;
    `starts[i]` is where row i begins."""

    rows: list[tuple[int, str, str, str, float]]
    blob: str
    starts: list[int]
    titles: str  # the lower-cased titles joined the same way
    title_starts: list[int]

    def hits(self, term: str, *, in_titles: bool = False):
        """Indexes of the rows whose text (or title) contains `term`, newest first."""
        blob, starts = (self.titles, self.title_starts) if in_titles else (self.blob, self.starts)
        pos = 0
        while True:
            pos = blob.find(term, pos)
            if pos < 0:
                return
            i = bisect_right(starts, pos) - 1
            yield i
            pos = starts[i + 1] if i + 1 < len(starts) else len(blob)


def _kb_rows(company_id: int) -> _Corpus:
    stamp = _kb_stamp(company_id)
    cached = _kb_corpus.get(company_id, lambda: (None, None))
    if cached[0] == stamp and cached[1] is not None:
        return cached[1]
    rows = [
        (pk, text, title.lower(), category, updated.timestamp())
        for pk, text, title, category, updated in Article.objects.filter(
            company_id=company_id, is_published=True
        )
        .order_by("-updated_at", "-id")
        .values_list("id", "search_text", "title", "category", "updated_at")
    ]

    def offsets(texts: list[str]) -> list[int]:
        out, pos = [], 0
        for t in texts:
            out.append(pos)
            pos += len(t) + 1
        return out

    texts, titles = [r[1] for r in rows], [r[2] for r in rows]
    corpus = _Corpus(rows, "\x00".join(texts), offsets(texts), "\x00".join(titles), offsets(titles))
    _kb_corpus.forget(company_id)
    _kb_corpus.get(company_id, lambda: (stamp, corpus))
    return corpus


def kb_search(*, user, q: str = "", category: str = "", limit: int = 10) -> list[Article]:
    """Approved articles matching every word of `q` (Chinese text matched as typed: each
    space-separated part must appear in the title, keywords or answer), titles first, newest first
    (P3). Matched in memory over the company's published texts (kept per process, reloaded when an
    approval changes them): a desk query at 10,000 articles is a few milliseconds."""
    cid = _company_id(user)
    limit = max(1, min(limit, 50))
    terms = [t.lower() for t in (q or "").replace("\x00", " ").split() if t][:5]
    if not terms:
        qs = Article.objects.filter(company_id=cid, is_published=True)
        if category:
            qs = qs.filter(category=category)
        return list(qs.order_by("-updated_at", "-id")[:limit])
    # The rows are newest first: the first `limit` rows with every term in the title, then the first
    # `limit` others with every term in the text, are all that can be shown. Each is found with
    # str.find over the joined titles / texts (in C; the titles are short), so a common word stops
    # early and a rare one costs one pass in C, never a Python loop over 10,000 rows.
    corpus = _kb_rows(cid)
    rows = corpus.rows
    lead = max(terms, key=len)

    def ok(i: int) -> bool:
        return (not category or rows[i][3] == category) and all(t in rows[i][1] for t in terms)

    in_title: list[int] = []
    for i in corpus.hits(lead, in_titles=True):
        if all(t in rows[i][2] for t in terms) and ok(i):
            in_title.append(rows[i][0])
            if len(in_title) >= limit:
                break
    elsewhere: list[int] = []
    if len(in_title) < limit:
        for i in corpus.hits(lead):
            if ok(i) and not all(t in rows[i][2] for t in terms):
                elsewhere.append(rows[i][0])
                if len(elsewhere) >= limit - len(in_title):
                    break
    ids = (in_title + elsewhere)[:limit]
    by_id = Article.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def article_get(*, user, article_id: int) -> Article:
    a = Article.objects.filter(company_id=_company_id(user), pk=article_id).first()
    if a is None:
        raise NotFound(_("没有找到该知识条目。"), code="not_found")
    return a


def kb_pending(*, user) -> QuerySet[ArticleVersion]:
    return ArticleVersion.objects.filter(
        company_id=_company_id(user), status=ArticleVersion.Status.PENDING
    ).select_related("article", "proposed_by")


def campaign_get(*, user, campaign_id: int) -> Campaign:
    if not role_allows(user, Perm.REPORT_VIEW) and not role_allows(user, Perm.TICKET_VIEW_ALL):
        raise Forbidden(_("您的角色无权查看满意度调查。"), code="permission_denied")
    c = (
        Campaign.objects.filter(company_id=_company_id(user), pk=campaign_id)
        .select_related("questionnaire")
        .first()
    )
    if c is None:
        raise NotFound(_("没有找到该调查。"), code="not_found")
    return c


# ---- indicator inputs (K13, K15, K16, K17) ------------------------------------------------------
@dataclass
class IndicatorInput:
    """One indicator's numerator and denominator (or mean and n) for a company and month, with the
    records behind it (SPEC K: the report lists them)."""

    k: str
    numerator: float
    denominator: int
    value: float | None
    records: list[dict] = field(default_factory=list)


def month_bounds(company, year: int, month: int) -> tuple[datetime, datetime]:
    """The month in the company's zone, as aware datetimes [start, end)."""
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        from kefu.core.errors import DomainError

        raise DomainError(_("年份或月份无效。"), field="month")
    tz = ZoneInfo(getattr(company, "time_zone", None) or "Asia/Shanghai")
    start = datetime.combine(date(year, month, 1), time(0), tz)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, datetime.combine(nxt, time(0), tz)


K13_KINDS = Q(kind__code="appliance") | Q(kind__code="repair", sub_kind__code="appliance")


def k13_inputs(company, year: int, month: int) -> IndicatorInput:
    """K13 appliance install & repair return visits: work orders of gas-appliance installation or
    repair resolved in the month (denominator) and those whose return visit was made (numerator)."""
    start, end = month_bounds(company, year, month)
    tickets = list(
        Ticket.objects.filter(company=company, resolved_at__gte=start, resolved_at__lt=end)
        .filter(K13_KINDS)
        .exclude(state="cancelled")
        .order_by("resolved_at", "id")
        .values("id", "number", "resolved_at")
    )
    visits = {
        v["ticket_id"]: v
        for v in ReturnVisit.objects.filter(
            ticket_id__in=[t["id"] for t in tickets], status=ReturnVisit.Status.DONE
        ).values("ticket_id", "id", "done_at")
    }
    records = [
        {
            "ticket": t["number"],
            "resolved_at": t["resolved_at"],
            "visit_id": visits.get(t["id"], {}).get("id"),
            "visited_at": visits.get(t["id"], {}).get("done_at"),
        }
        for t in tickets
    ]
    num = sum(1 for r in records if r["visit_id"])
    return IndicatorInput("K13", num, len(records), (num / len(records)) if records else None, records)


def _score_inputs(k: str, fieldname: str, company, year: int, month: int) -> IndicatorInput:
    start, end = month_bounds(company, year, month)
    rows = list(
        ReturnVisit.objects.filter(
            company=company, status=ReturnVisit.Status.DONE, done_at__gte=start, done_at__lt=end
        )
        .exclude(**{f"{fieldname}__isnull": True})
        .order_by("done_at", "id")
        .values("id", "ticket__number", "project__name", "done_at", fieldname)
    )
    total = sum(r[fieldname] for r in rows)
    records = [
        {
            "visit_id": r["id"],
            "ticket": r["ticket__number"] or r["project__name"],
            "done_at": r["done_at"],
            "score": r[fieldname],
        }
        for r in rows
    ]
    return IndicatorInput(k, total, len(rows), round(total / len(rows), 3) if rows else None, records)


def k15_inputs(company, year: int, month: int) -> IndicatorInput:
    """K15 service attitude: mean of the 1–10 scores of return visits made in the month (C16)."""
    return _score_inputs("K15", "attitude_score", company, year, month)


def k16_inputs(company, year: int, month: int) -> IndicatorInput:
    """K16 professional ability: mean of the 1–10 scores of return visits made in the month (C16)."""
    return _score_inputs("K16", "ability_score", company, year, month)


def k17_inputs(company, year: int, month: int) -> IndicatorInput:
    """K17 customer opinions: complaints and suggestions received in the month (not cancelled), and
    those answered within 2 working days (received + 2 working days, to 24:00 — Civil Code art. 201–203
    on the company's calendar). A complaint is answered by the reply after its judgement
    (Complaint.answered_at); a suggestion by its first reply, or its resolution on the call."""
    start, end = month_bounds(company, year, month)
    cal = calendar_for_company(company)
    limit = engine.Limit(2, engine.WORKING_DAYS)
    tickets = list(
        Ticket.objects.filter(
            company=company,
            received_at__gte=start,
            received_at__lt=end,
            kind__code__in=["complaint", "suggestion"],
        )
        .exclude(state="cancelled")
        .order_by("received_at", "id")
        .values("id", "number", "kind__code", "received_at", "resolved_at", "resolved_at_first_contact")
    )
    ids = [t["id"] for t in tickets]
    answered_c = dict(Complaint.objects.filter(ticket_id__in=ids).values_list("ticket_id", "answered_at"))
    first_reply: dict[int, datetime] = {}
    for tid, at in (
        TicketEvent.objects.filter(ticket_id__in=ids, kind=TicketEvent.Kind.REPLY)
        .order_by("at")
        .values_list("ticket_id", "at")
    ):
        first_reply.setdefault(tid, at)
    records = []
    for t in tickets:
        if t["kind__code"] == "complaint":
            answered = answered_c.get(t["id"])
        else:
            answered = first_reply.get(t["id"]) or (
                t["resolved_at"] if t["resolved_at_first_contact"] else None
            )
        due = engine.due_at(t["received_at"], limit, cal)
        records.append(
            {
                "ticket": t["number"],
                "kind": t["kind__code"],
                "received_at": t["received_at"],
                "due_at": due,
                "answered_at": answered,
                "in_time": answered is not None and answered <= due,
            }
        )
    num = sum(1 for r in records if r["in_time"])
    return IndicatorInput("K17", num, len(records), (num / len(records)) if records else None, records)


def indicator_inputs(*, user, year: int, month: int) -> list[IndicatorInput]:
    """K13, K15, K16, K17 of the user's company for a month (report.view)."""
    if not role_allows(user, Perm.REPORT_VIEW):
        raise Forbidden(_("您的角色无权查看指标。"), code="permission_denied")
    company = user.company
    _company_id(user)
    return [f(company, year, month) for f in (k13_inputs, k15_inputs, k16_inputs, k17_inputs)]


def local_today(company) -> date:
    from django.utils import timezone

    return timezone.now().astimezone(ZoneInfo(getattr(company, "time_zone", None) or "Asia/Shanghai")).date()


__all__ = ["timedelta"]


def complaints_received_between(company, start: datetime, end: datetime) -> int:
    """How many complaints the company received in [start, end) (the weekly summary, P15)."""
    return Complaint.objects.filter(company=company, received_at__gte=start, received_at__lt=end).count()


def complaint_month_summary(company, year: int, month: int) -> dict:
    """The complaints received in a month for the monthly report (P15, P4): how many, by category
    and by the step reached, how many stood, and the causes recorded for those that did."""
    from kefu.followups.states import ComplaintStep

    start, end = month_bounds(company, year, month)
    rows = list(
        Complaint.objects.filter(company=company, received_at__gte=start, received_at__lt=end)
        .select_related("ticket")
        .order_by("received_at", "id")
    )
    categories = dict(Complaint.Category.choices)
    steps = dict(ComplaintStep.choices)
    by_category: dict[str, int] = {}
    by_step: dict[str, int] = {}
    for c in rows:
        category, step = str(categories.get(c.category, c.category)), str(steps.get(c.step, c.step))
        by_category[category] = by_category.get(category, 0) + 1
        by_step[step] = by_step.get(step, 0) + 1
    return {
        "total": len(rows),
        "stood": sum(1 for c in rows if c.stands),
        "not_stood": sum(1 for c in rows if c.stands is False),
        "closed": sum(1 for c in rows if c.step == ComplaintStep.CLOSED),
        "by_category": sorted(by_category.items(), key=lambda kv: -kv[1]),
        "by_step": sorted(by_step.items(), key=lambda kv: -kv[1]),
        "causes": [(c.ticket.number, c.cause) for c in rows if c.stands and c.cause][:50],
    }
