"""Reads of work orders, always through `tickets_visible_to` (S2 company isolation; P1 visibility).

Visibility: a user sees work orders of the companies they may read (kefu.accounts.scoping). With
Perm.TICKET_VIEW_ALL that is every work order of those companies; with only
Perm.TICKET_VIEW_ASSIGNED (technicians) it is the ones assigned to them, plus — P1 — the ones they
own until they are closed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import readable_company_ids
from kefu.customers.normalize import fold, normalize_phone
from kefu.errors import NotFound
from kefu.tickets.models import HandOver, Ticket
from kefu.tickets.states import FINAL_STATES, OPEN_STATES, TicketState

NUMBER_RE = re.compile(r"^GD\d{8}-\d{4,}$", re.IGNORECASE)


def tickets_visible_to(user) -> QuerySet[Ticket]:
    company_ids = readable_company_ids(user)
    qs = Ticket.objects.filter(company_id__in=company_ids)
    if not company_ids:
        return qs.none()
    if role_allows(user, Perm.TICKET_VIEW_ALL):
        return qs
    if role_allows(user, Perm.TICKET_VIEW_ASSIGNED):
        return qs.filter(Q(assigned_to=user) | (Q(owner=user) & ~Q(state__in=FINAL_STATES)))
    return qs.none()


def ticket_get(*, user, ticket_id: int) -> Ticket:
    """One work order with what its page shows, or NotFound (also for other companies' ones)."""
    try:
        return (
            tickets_visible_to(user)
            .select_related(
                "kind", "sub_kind", "owner", "created_by", "assigned_department", "assigned_team", "assigned_to",
                "customer", "premise", "company",
            )
            .get(pk=ticket_id)
        )
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("没有找到该工单，或您无权查看。"), code="not_found")


def open_duplicates(*, company_id: int, kind_id: int, customer=None, premise=None) -> QuerySet[Ticket]:
    """Open work orders of the same kind for the same customer or premise (duplicate detection)."""
    cond = Q()
    if customer is not None:
        cond |= Q(customer=customer)
    if premise is not None:
        cond |= Q(premise=premise)
    if not cond:
        return Ticket.objects.none()
    return (
        Ticket.objects.filter(company_id=company_id, kind_id=kind_id, state__in=OPEN_STATES)
        .filter(cond)
        .order_by("-received_at")[:10]
    )


@dataclass(frozen=True)
class TicketFilter:
    """The filters of the work-order list and the API (all optional)."""

    states: tuple[str, ...] = ()
    open_only: bool = False
    kind: str = ""
    owner_id: int | None = None
    assigned_to_id: int | None = None
    department_id: int | None = None
    channel: str = ""
    date_from: date | None = None
    date_to: date | None = None
    number: str = ""
    phone: str = ""
    address: str = ""
    content: str = ""
    customer_id: int | None = None
    q: str = ""  # one box: a number, a phone or words of the content


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def _without_nul(f: TicketFilter) -> TicketFilter:
    """NUL characters cannot be stored, so they can never match: drop them (PostgreSQL refuses them)."""
    changes = {k: v.replace("\x00", "") for k, v in f.__dict__.items() if isinstance(v, str) and "\x00" in v}
    if f.states and any("\x00" in s for s in f.states):
        changes["states"] = tuple(s.replace("\x00", "") for s in f.states)
    return replace(f, **changes) if changes else f


def ticket_search(*, user, f: TicketFilter) -> QuerySet[Ticket]:
    """Work orders matching the filter, newest first. Number and phone are exact (indexed) lookups;
    address and content are substring searches."""
    f = _without_nul(f)
    qs = tickets_visible_to(user)
    if f.states:
        qs = qs.filter(state__in=f.states)
    if f.open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    if f.kind:
        qs = qs.filter(kind__code=f.kind)
    if f.owner_id:
        qs = qs.filter(owner_id=f.owner_id)
    if f.assigned_to_id:
        qs = qs.filter(assigned_to_id=f.assigned_to_id)
    if f.department_id:
        qs = qs.filter(assigned_department_id=f.department_id)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    if f.date_from:
        qs = qs.filter(received_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(received_at__lt=_day_start(f.date_to + timedelta(days=1)))
    if f.number:
        qs = qs.filter(number=fold(f.number).upper())
    if f.phone:
        area = getattr(getattr(user, "company", None), "area_code", "") or ""
        qs = qs.filter(caller_phone=normalize_phone(f.phone, area) or fold(f.phone))
    if f.address:
        qs = qs.filter(address__contains=fold(f.address))
    if f.content:
        qs = qs.filter(content__contains=fold(f.content))
    if f.q:
        text = fold(f.q)
        area = getattr(getattr(user, "company", None), "area_code", "") or ""
        if NUMBER_RE.match(text):
            qs = qs.filter(number=text.upper())
        elif phone := normalize_phone(text, area):
            qs = qs.filter(caller_phone=phone)
        else:
            qs = qs.filter(Q(content__contains=text) | Q(address__contains=text))
    return qs.order_by("-received_at", "-id")


def counts_by_state(qs: QuerySet[Ticket]) -> dict[str, int]:
    """{state: count} of a filtered list (the counts above the list)."""
    rows = qs.order_by().values("state").annotate(n=Count("id"))
    counts = {s: 0 for s in TicketState.values}
    for row in rows:
        counts[row["state"]] = row["n"]
    return counts


def tickets_for_caller(*, user, customer_id: int | None = None, phone: str = "", limit: int = 10) -> list[Ticket]:
    """The desk's list for a caller: open work orders first, then the most recent ones (P1: the agent
    sees what is already open before opening a new one)."""
    qs = tickets_visible_to(user).select_related("kind", "owner", "assigned_department")
    cond = Q()
    if customer_id:
        cond |= Q(customer_id=customer_id)
    if phone:
        cond |= Q(caller_phone=phone)
    if not cond:
        return []
    qs = qs.filter(cond)
    open_ = list(qs.filter(state__in=OPEN_STATES).order_by("-received_at")[:limit])
    recent = list(qs.exclude(state__in=OPEN_STATES).order_by("-received_at")[: max(limit - len(open_), 3)])
    return open_ + recent


def pending_hand_overs_for(*, user) -> QuerySet[HandOver]:
    """Hand-overs waiting for `user` to accept or decline."""
    return (
        HandOver.objects.filter(to_user=user, status=HandOver.Status.PENDING, company_id=user.company_id)
        .select_related("ticket", "from_user")
        .order_by("created_at")
    )
