"""Reads of the sla app: calendars, commitment sets, business hours, due clocks (C17)."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.scoping import readable_company_ids
from kefu.core.caching import ProcessCache
from kefu.core.errors import NotFound
from kefu.sla import engine
from kefu.sla.calendar import DayInfo, OverrideDay, WorkCalendar
from kefu.sla.models import BusinessHours, CalendarOverride, CalendarYear, Clock, Commitment, CommitmentSet
from kefu.sla.states import ClockState
from kefu.sla.subjects import SubjectAdapter, subject_adapter, subject_adapters

#: Calendar rows per company: {company_id: (override rows, entered years)}; see kefu.core.caching.
calendar_rows: ProcessCache[tuple[list[tuple[date, bool, str, int | None]], frozenset[int]]] = ProcessCache(
    "sla.calendar", max_age=60
)


def _calendar_rows_of(company_id: int) -> tuple[list[tuple[date, bool, str, int | None]], frozenset[int]]:
    company_rows = Q(company__isnull=True) | Q(company_id=company_id)
    rows = list(
        CalendarOverride.objects.filter(company_rows).values_list("date", "is_workday", "name", "company_id")
    )
    years = frozenset(CalendarYear.objects.filter(company_rows).values_list("year", flat=True))
    return rows, years


def calendar_for_company(company, years: Iterable[int] | None = None) -> WorkCalendar:
    """The working-day calendar of a company: chinesecalendar + all-companies overrides + the
    company's own overrides (which win), in the company's zone (SPEC Time rules).

    `years` limits which overrides are used (a clock needs only the years it spans). The rows are
    read at most once a minute per process (kefu.core.caching; saving an override clears it at once).
    """
    company_id = getattr(company, "pk", company)
    rows, entered = calendar_rows.get(company_id, lambda: _calendar_rows_of(company_id))
    if years is not None:
        wanted = set(years)
        rows = [r for r in rows if r[0].year in wanted]
        entered = frozenset(y for y in entered if y in wanted)
    overrides: dict[date, OverrideDay] = {}
    # all-companies rows first, then the company's own rows overwrite them
    for day, is_workday, name, _company in sorted(rows, key=lambda r: r[3] is not None):
        overrides[day] = OverrideDay(is_workday, name)
    tz = getattr(company, "time_zone", None) or "Asia/Shanghai"
    return WorkCalendar(tz=tz, overrides=overrides, entered_years=entered)


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
        raise NotFound(_("未找到该服务承诺方案。"), code="not_found")
    return row


#: Published sets per (company, year), newest version first (kefu.core.caching: publishing clears it in
#: this process; other processes use a new version within a minute of its publication).
published_sets: ProcessCache[list[CommitmentSet]] = ProcessCache("sla.published_sets", max_age=60)


def commitment_set_in_force(company, at: datetime) -> CommitmentSet | None:
    """The published set in force at `at`: the highest published version of that year published
    no later than `at` (a work order keeps the version in force when it was received, C17)."""
    company_id = getattr(company, "pk", company)
    year = at.astimezone(ZoneInfo(getattr(company, "time_zone", "") or "Asia/Shanghai")).year
    sets = published_sets.get(
        (company_id, year),
        lambda: list(
            CommitmentSet.objects.filter(company_id=company_id, year=year, is_published=True).order_by(
                "-version"
            )
        ),
    )
    return next((s for s in sets if s.published_at is not None and s.published_at <= at), None)


def year_commitments_public(company, year: int) -> list[tuple[str, str, str]]:
    """A year's published commitments as the public reads them (C17): name, limit, source clause,
    from the latest published version of the year's set ([] while none is published)."""
    cs = (
        CommitmentSet.objects.filter(company=company, year=year, is_published=True)
        .order_by("-version")
        .first()
    )
    if cs is None:
        return []
    seen, out = set(), []
    for c in set_commitments(cs):
        key = (c.spec_id, c.name)
        if key in seen:
            continue
        seen.add(key)
        out.append((f"{c.spec_id} {c.name}", f"{c.limit_value} {c.get_limit_unit_display()}", c.source))
    return out


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


#: Commitments of published sets: a published set never changes (C17), so they never go stale.
published_commitments: ProcessCache[list[Commitment]] = ProcessCache(
    "sla.published_commitments", max_age=None
)


def set_commitments(commitment_set: CommitmentSet) -> list[Commitment]:
    """The commitments of a set; a published set's list is kept per process (kefu.core.caching), so a
    new work order does not read it again."""
    if not commitment_set.is_published or commitment_set.published_at is None:
        return list(commitment_set.commitments.all())
    return published_commitments.get(
        (commitment_set.pk, commitment_set.published_at), lambda: list(commitment_set.commitments.all())
    )


def commitments_matching(
    commitment_set: CommitmentSet, *, start_event: str | None = None, **attrs: str
) -> list[Commitment]:
    """The timed commitments of a set that apply to a request (what clocks to start), optionally
    only those started by `start_event` (e.g. Event.TICKET_RECEIVED when a work order is created)."""
    return [
        c
        for c in set_commitments(commitment_set)
        if c.is_timed
        and (start_event is None or c.start_event == start_event)
        and commitment_applies(c, **attrs)
    ]


@dataclass
class ClocksDue:
    """What a sweep must act on at `now`. Both are indexed queries."""

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


def nearest_due_at(subject_type: str, subject_pk_ref):
    """A subquery expression: the earliest due time of the subject's ticking clocks (running or
    already breached; paused, stopped and cancelled ones have none to count down), for a list
    sorted by time left (C1–C4, C6, C8–C12, C14 deadlines). `subject_pk_ref` is the outer query's key, e.g.
    `OuterRef("pk")`; the engine stays ignorant of the subject's model."""
    from django.db.models import CharField, Subquery
    from django.db.models.functions import Cast

    return Subquery(
        Clock.objects.filter(
            subject_type=subject_type,
            subject_id=Cast(subject_pk_ref, output_field=CharField()),
            state__in=(ClockState.RUNNING, ClockState.BREACHED),
        )
        .order_by("due_at")
        .values("due_at")[:1]
    )


# ---- clocks as people see them ------------------------------------------------
def subject_clocks(subject_type: str, subject_id) -> QuerySet[Clock]:
    """Every clock of a subject, oldest first (visibility is the caller's check)."""
    return (
        Clock.objects.filter(subject_type=subject_type, subject_id=str(subject_id))
        .select_related("commitment")
        .prefetch_related("pauses__by", "pauses__ended_by")
        .order_by("started_at", "id")
    )


def clocks_by_subject(subject_type: str, subject_ids) -> dict[int, list[Clock]]:
    """The live (not cancelled) clocks of many subjects in one query, keyed by (integer) subject id
    — for a list page that shows a countdown per row."""
    out: dict[int, list[Clock]] = {int(i): [] for i in subject_ids}
    qs = (
        Clock.objects.filter(subject_type=subject_type, subject_id__in=[str(i) for i in out])
        .exclude(state=ClockState.CANCELLED)
        .select_related("commitment")
        .order_by("started_at", "id")
    )
    for clock in qs:
        out[int(clock.subject_id)].append(clock)
    return out


def _adapter(subject_type: str) -> SubjectAdapter:
    adapter = subject_adapter(subject_type)
    if adapter is None:
        raise NotFound(_("未找到该计时，或您无权查看。"))
    return adapter


def subject_clocks_for_user(user, subject_type: str, subject_id) -> QuerySet[Clock]:
    """The clocks of a subject the user may see — the subject's own visibility decides (its
    adapter's `assert_visible`, e.g. a work order's ticket_get; NotFound otherwise, S2)."""
    _adapter(subject_type).assert_visible(user, str(subject_id))
    return subject_clocks(subject_type, subject_id)


def clock_for_user(user, clock_id: int) -> Clock:
    """One clock the user may see: a registered subject's clock if they may see the subject; any
    other subject's clock within their companies. NotFound otherwise (S2)."""
    clock = (
        Clock.objects.select_related("commitment", "company")
        .filter(pk=clock_id, company_id__in=readable_company_ids(user))
        .first()
    )
    if clock is None:
        raise NotFound(_("未找到该计时，或您无权查看。"))
    adapter = subject_adapter(clock.subject_type)
    if adapter is not None:
        try:
            adapter.assert_visible(user, clock.subject_id)
        except (NotFound, ValueError):
            raise NotFound(_("未找到该计时，或您无权查看。")) from None
    return clock


def _queue_clocks(user, team_id: int | None) -> QuerySet[Clock]:
    """Clocks of the subjects the user may see (of a team: as each subject type's adapter says)."""
    parts = [
        Q(subject_type=a.subject_type, subject_id__in=a.visible_ids(user, team_id=team_id))
        for a in subject_adapters()
    ]
    if not parts:
        return Clock.objects.none()
    return Clock.objects.filter(reduce(operator.or_, parts))


def queue_due_soon(user, *, team_id: int | None, now: datetime) -> QuerySet[Clock]:
    """Running clocks past their warning time and not yet due, on subjects of the team the user
    may see (work orders: passed to the team or owned by its people, P1) — the "due soon" queue,
    soonest first."""
    return (
        _queue_clocks(user, team_id)
        .filter(state=ClockState.RUNNING, warn_at__lte=now, due_at__gte=now)
        .select_related("commitment")
        .order_by("due_at")
    )


def queue_breached(user, *, team_id: int | None, now: datetime) -> QuerySet[Clock]:
    """Clocks past due and not stopped (marked or not yet swept), oldest breach first."""
    return (
        _queue_clocks(user, team_id)
        .filter(Q(state=ClockState.BREACHED) | Q(state=ClockState.RUNNING, due_at__lt=now))
        .select_related("commitment")
        .order_by("due_at")
    )


def board_counts(company_ids: Iterable[int], *, now: datetime, since: datetime) -> list[dict]:
    """The supervisor board: per commitment (SPEC id, code, name) the number of clocks
    started since `since` in each display state; open clocks are counted whenever they started."""
    from django.db.models import Count

    running = Q(state=ClockState.RUNNING)
    qs = Clock.objects.filter(company_id__in=list(company_ids)).filter(
        Q(started_at__gte=since) | Q(state__in=[ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED])
    )
    rows = (
        qs.values("commitment__spec_id", "commitment__code", "commitment__name")
        .annotate(
            running=Count("id", filter=running & (Q(warn_at__gt=now) | Q(warn_at__isnull=True))),
            due_soon=Count("id", filter=running & Q(warn_at__lte=now, due_at__gte=now)),
            breached=Count("id", filter=Q(state=ClockState.BREACHED) | (running & Q(due_at__lt=now))),
            paused=Count("id", filter=Q(state=ClockState.PAUSED)),
            met=Count("id", filter=Q(state=ClockState.MET)),
            met_after_breach=Count("id", filter=Q(state=ClockState.MET_AFTER_BREACH)),
            cancelled=Count("id", filter=Q(state=ClockState.CANCELLED)),
        )
        .order_by("commitment__spec_id", "commitment__code")
    )
    merged: dict[tuple, dict] = {}
    for r in rows:  # several set versions share a code: one line per SPEC id + code
        key = (r["commitment__spec_id"], r["commitment__code"])
        line = merged.setdefault(
            key,
            {
                "spec_id": key[0],
                "code": key[1],
                "name": r["commitment__name"],
                **{k: 0 for k in BOARD_STATES},
            },
        )
        for k in BOARD_STATES:
            line[k] += r[k]
    return list(merged.values())


BOARD_STATES = ("running", "due_soon", "breached", "paused", "met", "met_after_breach", "cancelled")


def clocks_late_started_between(company_id: int, *, start: datetime, end: datetime) -> QuerySet[Clock]:
    """The clocks a company started in [start, end) that passed their limit, stopped late or not
    yet stopped (the monthly report's breaches, P15: counted in the month they started, as the
    indicators count them), oldest first, with their commitment."""
    return (
        Clock.objects.filter(
            company_id=company_id,
            started_at__gte=start,
            started_at__lt=end,
            state__in=[ClockState.BREACHED, ClockState.MET_AFTER_BREACH],
        )
        .select_related("commitment")
        .order_by("started_at", "pk")
    )


def clocks_started_between(
    company_id: int, *, spec_id: str, start: datetime, end: datetime, clock_kind: str = "", sub_kind: str = ""
) -> QuerySet[Clock]:
    """The clocks of one SPEC commitment a company started in [start, end), optionally of one clock
    kind or work-order sub-kind: what an indicator counts (millions of clocks a month at a large
    company, so the caller aggregates in the database and reads rows only when asked)."""
    commitments = Commitment.objects.filter(commitment_set__company_id=company_id, spec_id=spec_id)
    if clock_kind:
        commitments = commitments.filter(clock_kind=clock_kind)
    if sub_kind:
        commitments = commitments.filter(ticket_sub_kind=sub_kind)
    ids = list(commitments.values_list("pk", flat=True))  # a few rows: the clocks' index does the rest
    return Clock.objects.filter(
        company_id=company_id, commitment_id__in=ids, started_at__gte=start, started_at__lt=end
    )


def clocks_with_ids(company_id: int, ids: Iterable[int]) -> QuerySet[Clock]:
    """A company's clocks by id, with their commitment (the records behind a closed figure)."""
    return Clock.objects.filter(company_id=company_id, pk__in=list(ids)).select_related("commitment")


def describe_subjects(subject_type: str, subject_ids: Iterable[str]) -> dict:
    """Label and link of clock subjects of one type (the registered adapter's `describe`); {} for a
    type no app registers any more."""
    adapter = subject_adapter(subject_type)
    return {} if adapter is None else adapter.describe(list(subject_ids))
