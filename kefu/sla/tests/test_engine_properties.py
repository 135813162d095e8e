"""Hypothesis properties of the clock engine (SPEC Time rules; Civil Code 201–203).

The brute-force oracle counts minute by minute and asks `chinese_calendar` directly (weekdays only
for years it does not know), so it shares no code with the engine's tables.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.sla.calendar import WorkCalendar
from kefu.sla.engine import (
    HOURS,
    MINUTES,
    WORKING_DAYS,
    BusinessHours,
    Limit,
    Pause,
    due_at,
    elapsed,
    warn_at,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
MIN = timedelta(minutes=1)
T0 = datetime(2025, 12, 20, tzinfo=SH)  # range covers the whole of 2026 and early 2027 (fallback)


def oracle_workday(d: date) -> bool:
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


starts = st.one_of(
    st.integers(0, 400 * 1440).map(lambda m: T0 + timedelta(minutes=m)),
    st.integers(0, 400).map(lambda d: T0 + timedelta(days=d)),  # exact local midnights
)
wall_limits = st.one_of(
    st.integers(1, 600).map(lambda v: Limit(v, MINUTES)), st.integers(1, 48).map(lambda v: Limit(v, HOURS))
)
wd_limits = st.integers(1, 3).map(lambda v: Limit(v, WORKING_DAYS))
business_hours = st.one_of(
    st.none(),
    st.tuples(st.integers(12, 22), st.integers(2, 18)).map(
        lambda t: BusinessHours(
            time(t[0] // 2, 30 * (t[0] % 2)), time(min(23, t[0] // 2 + t[1] // 2 + 1), 30 * (t[1] % 2))
        )
    ),
)
pause_lists = st.lists(st.tuples(st.integers(0, 8000), st.integers(0, 3000)), max_size=3)


def make_pauses(start: datetime, raw) -> list[Pause]:
    return [Pause(start + timedelta(minutes=a), start + timedelta(minutes=a + n)) for a, n in raw]


def brute_counted(start: datetime, t: datetime, limit: Limit, bh: BusinessHours | None, pauses) -> bool:
    """Is the minute [t, t+1min) counted by the clock?"""
    if any(p.start <= t < p.end for p in pauses):
        return False
    if limit.unit != WORKING_DAYS:
        return True
    ls = start.astimezone(SH)
    first_day = ls.date() if ls.time() == time(0) else ls.date() + timedelta(days=1)
    lt = t.astimezone(SH)
    if lt.date() < first_day or not oracle_workday(lt.date()):
        return False
    if bh is None:
        return True
    return bh.opens <= lt.time() < bh.closes


def limit_minutes(limit: Limit, bh: BusinessHours | None) -> int:
    if limit.unit == MINUTES:
        return limit.value
    if limit.unit == HOURS:
        return limit.value * 60
    if bh is None:
        return limit.value * 1440
    o = bh.opens.hour * 60 + bh.opens.minute
    c = bh.closes.hour * 60 + bh.closes.minute
    return limit.value * (c - o)


def brute_due(start, limit, bh, pauses) -> datetime:
    need = limit_minutes(limit, bh)
    t = start
    while True:
        if brute_counted(start, t, limit, bh, pauses):
            need -= 1
            if need == 0:
                return t + MIN
        t += MIN


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(starts, st.one_of(wall_limits, wd_limits), business_hours, pause_lists)
def test_due_never_before_start(start, limit, bh, raw):
    assert due_at(start, limit, CAL, bh, make_pauses(start, raw)) >= start


@FAST
@given(starts, st.one_of(wall_limits, wd_limits), business_hours)
def test_due_is_utc(start, limit, bh):
    assert due_at(start, limit, CAL, bh).utcoffset() == timedelta(0)


@FAST
@given(starts, st.integers(1, 300), st.integers(1, 300), st.sampled_from([MINUTES, HOURS]))
def test_two_steps_equal_one_step_wall_clock(start, a, b, unit):
    one = due_at(start, Limit(a + b, unit), CAL)
    two = due_at(due_at(start, Limit(a, unit), CAL), Limit(b, unit), CAL)
    assert one == two


@FAST
@given(starts, st.integers(1, 8), st.integers(1, 8), business_hours)
def test_two_steps_equal_one_step_working_days(start, a, b, bh):
    one = due_at(start, Limit(a + b, WORKING_DAYS), CAL, bh)
    two = due_at(due_at(start, Limit(a, WORKING_DAYS), CAL, bh), Limit(b, WORKING_DAYS), CAL, bh)
    assert one == two


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(starts, st.one_of(wall_limits, wd_limits), business_hours, pause_lists)
def test_agrees_with_minute_by_minute_count(start, limit, bh, raw):
    pauses = make_pauses(start, raw)
    assert due_at(start, limit, CAL, bh, pauses) == brute_due(start, limit, bh, pauses)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(starts, st.one_of(wall_limits, wd_limits), business_hours, pause_lists, st.integers(0, 6000))
def test_elapsed_agrees_with_minute_by_minute_count(start, limit, bh, raw, after):
    pauses = make_pauses(start, raw)
    now = start + timedelta(minutes=after)
    counted = sum(1 for i in range(after) if brute_counted(start, start + i * MIN, limit, bh, pauses))
    kind = limit.unit
    assert elapsed(start, now, kind, CAL, pauses, bh) == counted * MIN


@FAST
@given(starts, st.one_of(wall_limits, wd_limits), business_hours, pause_lists)
def test_pauses_shift_due_by_exactly_their_working_length(start, limit, bh, raw):
    """The shift, measured in the clock's own time, equals the pauses' length measured the same way
    (pauses wholly before the unpaused due time, not overlapping each other)."""
    plain = due_at(start, limit, CAL, bh)
    pauses, cursor = [], start
    for a, n in raw:
        p = Pause(cursor + timedelta(minutes=a % 500), cursor + timedelta(minutes=a % 500 + n % 400))
        if p.end > plain:
            break
        pauses.append(p)
        cursor = p.end
    shifted = due_at(start, limit, CAL, bh, pauses)
    kind = limit.unit
    shift = elapsed(start, shifted, kind, CAL, (), bh) - elapsed(start, plain, kind, CAL, (), bh)
    paused_length = (
        sum(
            (
                sum(
                    1
                    for i in range(int((p.end - p.start) / MIN))
                    if brute_counted(start, p.start + i * MIN, limit, bh, ())
                )
                for p in pauses
            ),
            0,
        )
        * MIN
    )
    assert shift == paused_length
    assert shifted >= plain
    # at the due time the clock has used exactly its limit
    assert elapsed(start, shifted, kind, CAL, pauses, bh) == limit_minutes(limit, bh) * MIN


@FAST
@given(starts, st.one_of(wall_limits, wd_limits), business_hours, st.integers(1, 100))
def test_warning_comes_before_due(start, limit, bh, percent):
    w = warn_at(start, limit, CAL, percent, bh)
    assert start <= w <= due_at(start, limit, CAL, bh)


@FAST
@given(
    st.lists(st.tuples(st.dates(date(2004, 1, 1), date(2027, 12, 31)), st.booleans()), max_size=6),
    st.dates(date(2004, 1, 1), date(2027, 12, 1)),
    st.integers(1, 15),
)
def test_calendar_tables_agree_with_a_naive_walk(overrides, start, n):
    """The shared prefix tables (copied up to the first override) and the lazily built years give
    the same answer as walking day by day through day_info."""
    from kefu.sla.calendar import OverrideDay

    cal = WorkCalendar(overrides={d: OverrideDay(w) for d, w in overrides})
    d, left = start, n
    while left:
        d += timedelta(days=1)
        if cal.day_info(d).is_workday:
            left -= 1
    assert cal.add_working_days(start, n) == d
