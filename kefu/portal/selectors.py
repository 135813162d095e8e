"""Reads of the customer portal: only the signed-in customer's own records (S2) — another customer's
work order is "not found" (404), exactly like one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound
from kefu.portal import rules
from kefu.portal.models import PortalAccount
from kefu.tickets.models import Ticket, TicketEvent
from kefu.tickets.states import TicketState


def my_tickets(*, account: PortalAccount, limit: int = 30) -> list[Ticket]:
    """The customer's work orders, newest first (index ticket_co_customer)."""
    return list(
        Ticket.objects.filter(company_id=account.company_id, customer_id=account.customer_id)
        .select_related("kind", "sub_kind")
        .only("pk", "number", "state", "received_at", "channel", "kind__name", "sub_kind__name", "content")
        .order_by("-received_at", "-id")[:limit]
    )


def my_ticket(*, account: PortalAccount, ticket_id) -> Ticket:
    """One of the customer's work orders; anybody else's (or none) raises NotFound (404)."""
    try:
        ticket_id = int(ticket_id)
    except (TypeError, ValueError):
        raise NotFound(_("未找到。"), code="not_found") from None
    t = (
        Ticket.objects.select_related("kind", "sub_kind", "owner", "assigned_to")
        .filter(pk=ticket_id, company_id=account.company_id, customer_id=account.customer_id)
        .first()
    )
    if t is None:
        raise NotFound(_("未找到。"), code="not_found")
    return t


@dataclass(frozen=True)
class Step:
    at: datetime
    text: str


def ticket_timeline(ticket: Ticket) -> list[Step]:
    """What the customer sees of the progress: received, passed on, state changes and the replies to
    them — no staff names, no internal notes (rules.PUBLIC_EVENT_KINDS)."""
    states = dict(TicketState.choices)
    steps: list[Step] = []
    for e in TicketEvent.objects.filter(ticket=ticket).only("kind", "at", "payload").order_by("at", "id"):
        p = e.payload or {}
        if e.kind == TicketEvent.Kind.CREATED:
            steps.append(Step(e.at, _("已受理，工单号 %(n)s") % {"n": ticket.number}))
        elif e.kind == TicketEvent.Kind.ASSIGNED:
            steps.append(Step(e.at, _("已派发给处理部门")))
        elif e.kind == TicketEvent.Kind.STATE_CHANGED:
            label = states.get(p.get("to", ""), p.get("to", ""))
            steps.append(Step(e.at, _("状态：%(s)s") % {"s": label}))
        elif e.kind == TicketEvent.Kind.REPLY:
            steps.append(Step(e.at, _("答复：%(t)s") % {"t": p.get("text", "")}))
    for a in ticket.appointments.all().order_by("window_start"):
        start, end = timezone.localtime(a.window_start), timezone.localtime(a.window_end)
        steps.append(
            Step(
                a.booked_at,
                _("预约上门：%(d)s %(a)s–%(b)s（%(s)s）")
                % {
                    "d": f"{start:%m-%d}",
                    "a": f"{start:%H:%M}",
                    "b": f"{end:%H:%M}",
                    "s": a.get_state_display(),
                },
            )
        )
    steps.sort(key=lambda s: s.at)
    return steps


def can_rate(ticket: Ticket) -> bool:
    from kefu.portal.models import PortalRating

    return ticket.state in ("resolved", "closed") and not PortalRating.objects.filter(ticket=ticket).exists()


def interruptions(*, account: PortalAccount) -> list:
    """Current and planned interruptions that include the customer's address (kefu.outages). The
    address is the customer's as loaded with the session (`session_for_token` joins it), so a page
    reads no customer row again."""
    from kefu.outages.selectors import outages_for_premise

    return outages_for_premise(company_ids=[account.company_id], premise_id=account.customer.premise_id)


def open_slots(
    *, account: PortalAccount, purpose: str, now: datetime | None = None, days: int = 7
) -> list[dict]:
    """The field app's open appointment slots for this purpose: slots of teams of the matching
    department kind (inspection, repair) with a place left, from an hour from now."""
    from kefu.field.selectors import slots_open

    now = now or timezone.now()
    dept_kind = rules.APPOINTMENT_KINDS.get(purpose, (None, None, ""))[2]
    from kefu.accounts.models import Team

    teams = set(
        Team.objects.filter(
            company_id=account.company_id, department__kind=dept_kind, is_active=True
        ).values_list("pk", flat=True)
    )
    rows = slots_open(company_id=account.company_id, team_id=None, since=now + timedelta(hours=1), days=days)
    return [r for r in rows if r["left"] > 0 and (not teams or r["team_id"] in teams)]


def commitments(*, company, now: datetime | None = None) -> tuple[object | None, list]:
    """The commitment set published for this year (C17) and its commitments."""
    from kefu.sla.selectors import commitment_set_in_force, set_commitments

    the_set = commitment_set_in_force(company, now or timezone.now())
    if the_set is None:
        return None, []
    return the_set, set_commitments(the_set)


@dataclass(frozen=True)
class Result:
    code: str
    name: str
    value: Decimal
    unit: str
    months: int


def results(*, company, year: int) -> list[Result]:
    """Last year's results (C17): the figures of the year's closed months (kefu.kpi), each indicator
    rolled up over the months by kpi's own rule (`formulas.rolled_up`: the seed's formula over the
    summed numerators and denominators). Empty until the company has closed a month of that year:
    results are published after the year's report."""
    from kefu.kpi import formulas as f
    from kefu.kpi.models import MonthReport
    from kefu.kpi.registry import BY_CODE
    from kefu.kpi.selectors import figure_from_snapshot

    latest: dict[int, MonthReport] = {}
    for r in MonthReport.objects.filter(company=company, year=year).order_by("month", "version"):
        latest[r.month] = r
    per_code: dict[str, list[f.Figure]] = {}
    for report in latest.values():
        for snap in report.figures:
            fig = figure_from_snapshot(snap)
            if fig.has_data and fig.denominator:
                per_code.setdefault(fig.code, []).append(fig)
    out = []
    for code, figures in sorted(per_code.items(), key=lambda kv: int(kv[0][1:])):
        ind = BY_CODE.get(code)
        if ind is not None:
            total = f.rolled_up(code, figures)
            out.append(Result(code, str(ind.name), total.value, ind.unit, len(figures)))
    return out


def access_history(*, account: PortalAccount, limit: int = 20):
    """The customer's own recent log-ins and accesses (shown on the "my account" page)."""
    from kefu.portal.models import PortalAccess

    return list(PortalAccess.objects.filter(Q(account=account)).order_by("-at", "-id")[:limit])


def access_log_rows(*, company_id: int, account_no: str = "", limit: int = 200):
    """The company's portal access log for the auditor (S2), optionally of one account number."""
    from kefu.portal.models import PortalAccess

    qs = PortalAccess.objects.filter(company_id=company_id)
    if account_no:
        from kefu.customers.models import Customer

        ids = Customer.objects.filter(company_id=company_id, account_no=account_no).values("pk")
        qs = qs.filter(customer_id_seen__in=ids)
    return list(qs.order_by("-at", "-id")[:limit])
