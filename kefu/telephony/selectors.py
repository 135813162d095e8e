"""Telephony reads: the wallboard, the indicator inputs per company and month (K5, K14, C13, C15,
C18) with the records behind them, calls and chats for the screens.

Indicator figures show numerator and denominator and the rows they count (SPEC §K): the `*_calls`
and `*_periods` selectors return the records behind each figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import Forbidden
from kefu.sla.models import Clock, ClockState
from kefu.telephony import rules
from kefu.telephony.models import AgentProfile, Call, CallInterval, ChatSession, Hotline, HotlineOutage
from kefu.telephony.states import AgentState, CallStatus

WAITING = (CallStatus.IVR, CallStatus.QUEUED, CallStatus.RINGING)
#: C15: a call resolved within 3 minutes is a target measured on reports, never an escalating clock.
C15_LIMIT_MS = 3 * 60 * 1000
C18_GREETING_MS = 15_000
C18_ANSWER_MS = 20_000


def month_range(company, year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in the company's time zone, as aware datetimes."""
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValueError("month out of range")
    tz = ZoneInfo(getattr(company, "time_zone", "") or "Asia/Shanghai")
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def _day_start(company, now: datetime) -> datetime:
    tz = ZoneInfo(getattr(company, "time_zone", "") or "Asia/Shanghai")
    local = now.astimezone(tz)
    return datetime(local.year, local.month, local.day, tzinfo=tz)


def can_see_calls(user) -> bool:
    return role_allows(user, Perm.REPORT_VIEW) or role_allows(user, Perm.TICKET_CREATE)


def _assert_reader(user) -> None:
    if not can_see_calls(user):
        raise Forbidden(_msg_forbidden())


def _msg_forbidden() -> str:
    from django.utils.translation import gettext as _

    return _("您的角色无权查看话务数据。")


# ----------------------------------------------------------------------------------- wallboard


@dataclass(frozen=True)
class Wallboard:
    waiting: int
    longest_wait_s: int | None
    agents: dict[str, int]
    answered_today: int
    within_rings_today: int
    share_within_rings: float | None
    offered_today: int
    abandoned_today: int
    short_abandoned_today: int
    abandon_rate: float | None
    open_emergencies: int
    breaches: int
    hotline_down: bool


def wallboard(*, user, now: datetime | None = None) -> Wallboard:
    """The wall TV (item 6): calls waiting and the longest wait, agents by state, today's share
    answered within the rings target (C13), abandon rate (short abandons excluded), open
    emergencies (running C8 clocks) and breached clocks. A handful of indexed queries: the waiting
    calls and today's pre-aggregated half-hours (CallInterval), never the whole table."""
    _assert_reader(user)
    now = now or timezone.now()
    company = user.company
    day = _day_start(company, now)
    waiting = Call.objects.filter(
        company=company, status__in=WAITING, started_at__gte=now - timedelta(hours=12)
    )
    wait_row = waiting.aggregate(n=Count("id"), first=_min("queued_at"), first_start=_min("started_at"))
    first = wait_row["first"] or wait_row["first_start"]
    agents = dict(
        AgentProfile.objects.filter(company=company).values_list("state").annotate(n=Count("id")).order_by()
    )
    # Today's counts from the pre-aggregated half-hours kept on ingest (≤ 48 rows a hotline), not
    # from the calls: the same figures, independent of how many calls are stored.
    t = {
        k: v or 0
        for k, v in CallInterval.objects.filter(
            company=company, start__gte=day, start__lt=day + timedelta(days=1)
        )
        .aggregate(
            offered=Sum("offered"),
            answered=Sum("answered"),
            within=Sum("within_rings"),
            abandoned=Sum("abandoned"),
            short=Sum("short_abandoned"),
        )
        .items()
    }
    clocks = Clock.objects.filter(company=company)
    open_states = [ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED]
    emergencies = clocks.filter(commitment__spec_id="C8", state__in=open_states).count()
    breaches = clocks.filter(
        Q(state=ClockState.BREACHED) | Q(state=ClockState.RUNNING, due_at__lt=now)
    ).count()
    counted = t["offered"] - t["short"]
    return Wallboard(
        waiting=wait_row["n"],
        longest_wait_s=int((now - first).total_seconds()) if first else None,
        agents={s: agents.get(s, 0) for s in AgentState.values},
        answered_today=t["answered"],
        within_rings_today=t["within"],
        share_within_rings=rules.ratio(t["within"], t["answered"]),
        offered_today=t["offered"],
        abandoned_today=t["abandoned"],
        short_abandoned_today=t["short"],
        abandon_rate=rules.ratio(t["abandoned"] - t["short"], counted),
        open_emergencies=emergencies,
        breaches=breaches,
        hotline_down=HotlineOutage.objects.filter(company=company, ended_at__isnull=True).exists(),
    )


def _min(field: str):
    from django.db.models import Min

    return Min(field)


# ----------------------------------------------------------------------------- indicator inputs


@dataclass(frozen=True)
class K14Inputs:
    """K14 service phone (seed 004 第十条14): answered within the rings target / calls answered.
    `method` is "calls" when the PBX recorded rings; "fallback" when no answered call of the month
    has rings recorded: then the seed's fallback applies (return visits to customers who used the
    service phone: those answered within the rings / all visited), which the return-visit records
    give, not telephony — numerator and denominator are None here."""

    year: int
    month: int
    answered: int
    within: int
    without_rings: int
    value: float | None
    method: str


def k14_inputs(*, company, year: int, month: int) -> K14Inputs:
    """K14 (and C13) for one company and month: one aggregate over the month's calls."""
    start, end = month_range(company, year, month)
    row = Call.objects.filter(company=company, started_at__gte=start, started_at__lt=end).aggregate(
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        within=Count("id", filter=Q(within_rings=True)),
        no_rings=Count("id", filter=Q(answered_at__isnull=False, rings__isnull=True)),
    )
    with_rings = row["answered"] - row["no_rings"]
    if row["answered"] and with_rings == 0:
        return K14Inputs(year, month, row["answered"], 0, row["no_rings"], None, "fallback")
    return K14Inputs(
        year,
        month,
        with_rings,
        row["within"],
        row["no_rings"],
        rules.ratio(row["within"], with_rings),
        "calls",
    )


def k14_calls(*, company, year: int, month: int, within: bool | None = None) -> QuerySet[Call]:
    """The calls behind K14: answered calls of the month (optionally only those within / beyond)."""
    start, end = month_range(company, year, month)
    qs = Call.objects.filter(
        company=company, started_at__gte=start, started_at__lt=end, answered_at__isnull=False
    )
    if within is not None:
        qs = qs.filter(within_rings=within)
    return qs.order_by("started_at")


@dataclass(frozen=True)
class K5Inputs:
    """K5 emergency hotline (seed 004 第十条5): 1 − minutes out of service / minutes in the month.
    Overlapping periods (link lost while the trunk is down) count once."""

    year: int
    month: int
    minutes_out: float
    minutes_in_month: float
    value: float
    periods: int


def k5_periods(*, company, year: int, month: int) -> QuerySet[HotlineOutage]:
    """The out-of-service periods of the emergency hotlines that touch the month (records behind K5)."""
    start, end = month_range(company, year, month)
    return (
        HotlineOutage.objects.filter(company=company, hotline__is_emergency=True, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .select_related("hotline", "recorded_by")
        .order_by("started_at")
    )


def k5_inputs(*, company, year: int, month: int, now: datetime | None = None) -> K5Inputs:
    now = now or timezone.now()
    start, end = month_range(company, year, month)
    periods = list(k5_periods(company=company, year=year, month=month))
    out = rules.merged_minutes([(p.started_at, p.ended_at) for p in periods], start, end, now)
    total = (end - start) / timedelta(minutes=1)
    return K5Inputs(year, month, round(out, 2), total, rules.k5_availability(out, total), len(periods))


@dataclass(frozen=True)
class CallFigures:
    """C13/C15 and the call-centre figures of a month: service level, abandon rate (short abandons
    excluded), average handling time; C15 = answered calls ended within 3 minutes (a target, never a
    clock that escalates)."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    abandon_rate: float | None
    service_level: float | None
    average_talk_s: float | None
    c15_within: int
    c15_share: float | None
    hung_up_by_agent: int


def call_figures(*, company, year: int, month: int) -> CallFigures:
    from django.db.models import Avg

    start, end = month_range(company, year, month)
    line = Hotline.objects.filter(company=company).first()
    short_ms = line.short_abandon_ms if line else 5000
    sl_ms = line.service_level_ms if line else 20000
    r = Call.objects.filter(company=company, started_at__gte=start, started_at__lt=end).aggregate(
        offered=Count(
            "id", filter=Q(status__in=[CallStatus.ENDED, CallStatus.ABANDONED, CallStatus.CONNECTED])
        ),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        abandoned=Count("id", filter=Q(status=CallStatus.ABANDONED)),
        short=Count("id", filter=Q(status=CallStatus.ABANDONED, wait_ms__lt=short_ms)),
        sl=Count("id", filter=Q(answered_at__isnull=False, wait_ms__lte=sl_ms)),
        talk=Avg("talk_ms"),
        c15=Count("id", filter=Q(talk_ms__lte=C15_LIMIT_MS)),
        ended=Count("id", filter=Q(talk_ms__isnull=False)),
        agent_first=Count("id", filter=Q(hangup_by="agent")),
    )
    counted = r["offered"] - r["short"]
    return CallFigures(
        offered=r["offered"],
        answered=r["answered"],
        abandoned=r["abandoned"],
        short_abandoned=r["short"],
        abandon_rate=rules.ratio(r["abandoned"] - r["short"], counted),
        service_level=rules.ratio(r["sl"], counted),
        average_talk_s=round(r["talk"] / 1000, 1) if r["talk"] is not None else None,
        c15_within=r["c15"],
        c15_share=rules.ratio(r["c15"], r["ended"]),
        hung_up_by_agent=r["agent_first"],
    )


@dataclass(frozen=True)
class ChatFigures:
    """C18: chats greeted within 15 s / chats greeted or owed a greeting; answers within 20 s / answers."""

    chats: int
    greeted_in_time: int
    greeting_owed: int
    answers: int
    answers_late: int
    greeting_share: float | None
    answer_share: float | None


def chat_figures(*, company, year: int, month: int) -> ChatFigures:
    from django.db.models import Sum

    start, end = month_range(company, year, month)
    qs = ChatSession.objects.filter(company=company, arrived_at__gte=start, arrived_at__lt=end)
    r = qs.aggregate(
        n=Count("id"),
        in_time=Count("id", filter=Q(greeting_ms__lte=C18_GREETING_MS)),
        owed=Count("id", filter=Q(greeting_ms__isnull=False) | ~Q(status="bot")),
        answers=Sum("answers"),
        late=Sum("answers_late"),
    )
    answers, late = r["answers"] or 0, r["late"] or 0
    return ChatFigures(
        chats=r["n"],
        greeted_in_time=r["in_time"],
        greeting_owed=r["owed"],
        answers=answers,
        answers_late=late,
        greeting_share=rules.ratio(r["in_time"], r["owed"]),
        answer_share=rules.ratio(answers - late, answers),
    )


# ----------------------------------------------------------------------------------- screens


def calls_for(user, *, day: date | None = None) -> QuerySet[Call]:
    """Calls of the user's company (newest first)."""
    _assert_reader(user)
    qs = Call.objects.filter(company_id=user.company_id).select_related("hotline", "answered_by")
    if day is not None:
        start = datetime(
            day.year, day.month, day.day, tzinfo=ZoneInfo(user.company.time_zone or "Asia/Shanghai")
        )
        qs = qs.filter(started_at__gte=start, started_at__lt=start + timedelta(days=1))
    return qs.order_by("-started_at")


def call_get(user, call_pk: int) -> Call:
    from django.utils.translation import gettext as _

    from kefu.core.errors import NotFound

    _assert_reader(user)
    call = (
        Call.objects.filter(company_id=user.company_id, pk=call_pk)
        .select_related("hotline", "answered_by")
        .prefetch_related("offers", "transfer_rows", "tickets", "transcripts")
        .first()
    )
    if call is None:
        raise NotFound(_("未找到该通话。"))
    return call


def calls_of_ticket(user, ticket_id: int) -> list[Call]:
    """The calls a work order was made during (P2), for the work-order page."""
    return list(
        Call.objects.filter(company_id=user.company_id, tickets__ticket_id=ticket_id).order_by("started_at")
    )


def chats_open(user) -> QuerySet[ChatSession]:
    _assert_reader(user)
    return (
        ChatSession.objects.filter(company_id=user.company_id).exclude(status="closed").order_by("arrived_at")
    )


def cti_connected() -> bool:
    """Whether a PBX is connected for click-to-call (adapters/cti.py): screens show a dial button."""
    from django.conf import settings

    return bool(getattr(settings, "KEFU_CTI_URL", ""))


def hotlines_for(user) -> QuerySet[Hotline]:
    """The hotlines of the user's company, for the configuration screen and API (telephony.configure)."""
    if not role_allows(user, Perm.TELEPHONY_CONFIGURE):
        raise Forbidden(_msg_configure())
    return Hotline.objects.filter(company_id=user.company_id).order_by("-is_emergency", "number")


def _msg_configure() -> str:
    from django.utils.translation import gettext as _

    return _("您的角色无权配置服务热线。")


# ------------------------------------------------------------------------- staffing inputs (Erlang C)


@dataclass(frozen=True)
class IntervalVolume:
    """Calls offered in one local half-hour (mean over the history days) and their mean handle time."""

    start: datetime  # the half-hour of the day asked for
    calls: float
    aht_s: float | None  # None when no answered call of that half-hour has ended in the history


@dataclass(frozen=True)
class CallForecast:
    """Inputs of the Erlang C staffing for one day (W1): per half-hour the calls offered (mean of the
    same weekday over `weeks` earlier weeks), the mean handle time, and the answer target of the
    company's hotlines (C13: answer_rings × ring cycle, 15 s by default)."""

    day: date
    history: list[date]
    intervals: list[IntervalVolume]
    aht_s: float | None  # over the whole history, the fallback of a half-hour without ended calls
    target_s: float


def call_forecast(*, company, day: date, weeks: int = 4, today: date | None = None) -> CallForecast:
    """Calls offered per half-hour of `day` and mean handle time (talk time of the answered calls),
    from the same weekday of the `weeks` weeks before `day` — before today when `day` is later (a
    roster is made for next month). Read from the pre-aggregated CallInterval rows."""
    from collections import defaultdict

    tz = ZoneInfo(getattr(company, "time_zone", "") or "Asia/Shanghai")
    today = today or timezone.localtime(timezone.now(), tz).date()
    last = day - timedelta(days=7)
    while last >= min(day, today):  # the latest same weekday before today
        last -= timedelta(days=7)
    history = [last - timedelta(days=7 * k) for k in range(weeks)]
    offered: dict[int, int] = defaultdict(int)
    talked: dict[int, int] = defaultdict(int)
    talk_ms: dict[int, int] = defaultdict(int)
    for h in history:
        start = datetime(h.year, h.month, h.day, tzinfo=tz)
        rows = CallInterval.objects.filter(
            company=company, start__gte=start, start__lt=start + timedelta(days=1)
        ).values_list("start", "offered", "talked", "talk_ms")
        for at, n, t, ms in rows:
            slot = int((at - start) / timedelta(minutes=30))
            offered[slot] += n
            talked[slot] += t
            talk_ms[slot] += ms
    all_talked = sum(talked.values())
    overall = sum(talk_ms.values()) / all_talked / 1000 if all_talked else None
    day_start = datetime(day.year, day.month, day.day, tzinfo=tz)
    slots = int((day_start + timedelta(days=1) - day_start) / timedelta(minutes=30))
    intervals = [
        IntervalVolume(
            start=day_start + timedelta(minutes=30 * s),
            calls=offered[s] / len(history),
            aht_s=talk_ms[s] / talked[s] / 1000 if talked[s] else None,
        )
        for s in range(slots)
    ]
    lines = list(Hotline.objects.filter(company=company).values_list("answer_rings", "ring_cycle_ms"))
    target_s = min((r * c / 1000 for r, c in lines), default=15.0)
    return CallForecast(day, history, intervals, overall, target_s)
