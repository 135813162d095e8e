"""Reads of the sla app: calendars, commitment sets, business hours, due clocks (C1–C20, C17)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet

from kefu.accounts.scoping import readable_company_ids
from kefu.errors import NotFound
from kefu.sla import engine
from kefu.sla.calendar import DayInfo, OverrideDay, WorkCalendar
from kefu.sla.models import BusinessHours, CalendarOverride, CalendarYear, Clock, Commitment, CommitmentSet
from kefu.sla.states import ClockState


def calendar_for_company(company, years: Iterable[int] | None = None) -> WorkCalendar:
    """The working-day calendar of a company: chinesecalendar + all-companies overrides + the
    company's own overrides (which win), in the company's zone (SPEC Time rules).

    `years` limits which overrides are loaded (a clock needs only the years it spans).
    """
    company_id = getattr(company, "pk", company)
    qs = CalendarOverride.objects.filter(Q(company__isnull=True) | Q(company_id=company_id))
    yq = CalendarYear.objects.filter(Q(company__isnull=True) | Q(company_id=company_id))
    if years is not None:
        years = sorted(set(years))
        qs = qs.filter(date__year__in=years)
        yq = yq.filter(year__in=years)
    overrides: dict[date, OverrideDay] = {}
    rows = list(qs.values("date", "is_workday", "name", "company_id"))
    # all-companies rows first, then the company's own rows overwrite them
    for row in sorted(rows, key=lambda r: r["company_id"] is not None):
        overrides[row["date"]] = OverrideDay(row["is_workday"], row["name"])
    tz = getattr(company, "time_zone", None) or "Asia/Shanghai"
    return WorkCalendar(tz=tz, overrides=overrides, entered_years=yq.values_list("year", flat=True))


def calendar_year_days(cal: WorkCalendar, year: int) -> list[tuple[date, DayInfo]]:
    """Every day of a year with what the calendar says about it (the calendar page)."""
    d = date(year, 1, 1)
    out = []
    while d.year == year:
        out.append((d, cal.day_info(d)))
        d += timedelta(days=1)
    return out


def business_hours_for(company, department=None) -> engine.BusinessHours | None:
    """The department's business hours, else the company's default, else None (24:00 ends the day)."""
    qs = BusinessHours.objects.filter(company=company)
    if department is not None:
        row = qs.filter(department=department).first()
        if row is not None:
            return row.as_engine()
    row = qs.filter(department__isnull=True).first()
    return row.as_engine() if row is not None else None


def commitment_sets_visible(user) -> QuerySet[CommitmentSet]:
    """Commitment sets of the companies the user may read (S2)."""
    return CommitmentSet.objects.filter(company_id__in=readable_company_ids(user)).select_related("company")


def commitment_set_get(user, set_id: int) -> CommitmentSet:
    row = commitment_sets_visible(user).filter(pk=set_id).first()
    if row is None:
        from django.utils.translation import gettext as _

        raise NotFound(_("未找到该服务承诺方案。"), code="not_found")
    return row


def commitment_set_in_force(company, at: datetime) -> CommitmentSet | None:
    """The published set in force at `at`: the highest published version of that year published
    no later than `at` (a work order keeps the version in force when it was received, C17)."""
    year = at.astimezone(WorkCalendar(tz=getattr(company, "time_zone", "Asia/Shanghai")).tz).year
    return (
        CommitmentSet.objects.filter(company=company, year=year, is_published=True, published_at__lte=at)
        .order_by("-version")
        .first()
    )


def commitment_applies(
    c: Commitment,
    *,
    kind: str = "",
    sub_kind: str = "",
    customer_category: str = "",
    severity: str = "",
    channel: str = "",
) -> bool:
    """Does commitment `c` apply to a request with these attributes? Empty filter = any."""
    return all(
        not want or want == got
        for want, got in (
            (c.ticket_kind, kind),
            (c.ticket_sub_kind, sub_kind),
            (c.customer_category, customer_category),
            (c.severity, severity),
            (c.channel, channel),
        )
    )


def commitments_matching(
    commitment_set: CommitmentSet, *, start_event: str | None = None, **attrs: str
) -> list[Commitment]:
    """The timed commitments of a set that apply to a request (what clocks to start), optionally
    only those started by `start_event` (e.g. "ticket.received" when a work order is created)."""
    return [
        c
        for c in commitment_set.commitments.all()
        if c.is_timed
        and (start_event is None or c.start_event == start_event)
        and commitment_applies(c, **attrs)
    ]


@dataclass
class ClocksDue:
    """What a sweep must act on at `now` (issue 4 §4). Both are indexed queries."""

    warn: QuerySet[Clock]  # running, warning time reached, not yet warned
    breach: QuerySet[Clock]  # running, past the due time: to be marked breached and escalated
    escalate: QuerySet[Clock]  # breached, not yet escalated beyond the supervisor (P9)


def clocks_due(now: datetime, *, company=None) -> ClocksDue:
    """Clocks a worker must act on at `now`, using the (state, warn_at) and (state, due_at)
    indexes. The worker claims rows from these with a conditional UPDATE (or skip-locked)."""
    base = Clock.objects.all()
    if company is not None:
        base = base.filter(company=company)
    return ClocksDue(
        warn=base.filter(state=ClockState.RUNNING, warn_at__lte=now, warned_at__isnull=True).order_by(
            "warn_at"
        ),
        breach=base.filter(state=ClockState.RUNNING, due_at__lt=now).order_by("due_at"),
        escalate=base.filter(state=ClockState.BREACHED, escalation_level__lt=2).order_by("due_at"),
    )


def clocks_of(subject_type: str, subject_id: str) -> QuerySet[Clock]:
    return Clock.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).select_related(
        "commitment"
    )
