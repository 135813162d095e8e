"""The clock engine: due times and elapsed time of commitment clocks (SPEC "Time rules").

Pure maths — no database, no `now()` (ARCHITECTURE): every function takes the start, the limit,
the calendar, the business hours and the pauses as arguments. Inputs are aware datetimes; working
days are evaluated in the calendar's zone (Asia/Shanghai by default); results are returned in UTC.

Two ways of counting time
-------------------------
**Wall clock** (`seconds`, `minutes`, `hours`): the limit runs day and night, weekends and holidays included
(emergency and repair services are 24 h, SPEC Time rules). A pause shifts the due time by its
length in wall-clock time.

**Working days** (`working_days`), Civil Code (民法典) arts. 201–203:

* art. 201 — the day the period starts is not counted; counting starts with the next day. A start
  at exactly 00:00 local time starts with a whole day, so that day counts (only a *partial* first
  day is dropped; this also makes "N days, then M more days" equal "N+M days").
* a working day is a day the calendar says is one: official holidays and rest-in-lieu weekdays are
  not, make-up weekend days (调休) are.
* art. 203 — the period ends at 24:00 local time of the last working day; where the department
  keeps business hours (e.g. 08:30–17:30) and the commitment ends at the close of business, it ends
  at the close on that day. Because only working days are counted, the last day is always a
  working day ("last day a holiday → the next working day" is built in).

We turn working days into a measure of **working time**: each working day contributes its
window — 00:00–24:00, or open–close with business hours — and other days contribute nothing;
the start day (if partial) contributes nothing either. A limit of N working days is N windows of
working time, and the due time is the earliest instant at which that much working time has
elapsed: the end of the N-th working day's window.

**Pauses** (customer asked for another time, customer unreachable, agreed otherwise) are
measured in the same working time: a pause counts only for the part of it that falls inside a
counted window. So a pause on a Sunday or at night under business hours costs the customer
nothing and shifts nothing; a pause from 10:00 to 12:00 on a working day shifts the due time by
two hours of working time — e.g. from 17:30 on the last day to 10:30 on the next working day
(business hours 08:30–17:30), or from 24:00 to 02:00 of the next working day without business
hours. Pauses never move the due time earlier, and the shift is exactly the pauses' working length.
Working time is counted in local wall-clock time (Asia/Shanghai has no daylight saving).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from kefu.sla.calendar import WorkCalendar

SECONDS = "seconds"  # C18 online chat (15 s / 20 s)
MINUTES = "minutes"
HOURS = "hours"
WORKING_DAYS = "working_days"
UNITS = (SECONDS, MINUTES, HOURS, WORKING_DAYS)

US = 1_000_000  # microseconds per second: all working-time arithmetic is in integer microseconds
DAY_US = 86_400 * US
_UNIT_US = {SECONDS: US, MINUTES: 60 * US, HOURS: 3600 * US}
_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Limit:
    """A commitment's limit: `value` minutes, hours (wall clock) or working days."""

    value: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown limit unit {self.unit!r}")
        if not isinstance(self.value, int) or isinstance(self.value, bool) or self.value < 1:
            raise ValueError("limit value must be a positive integer")

    @property
    def is_wall_clock(self) -> bool:
        return self.unit != WORKING_DAYS


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """A department's daily window on working days, e.g. 08:30–17:30 (Civil Code art. 203)."""

    opens: time
    closes: time
    open_us: int = field(init=False, repr=False, compare=False)
    length_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("business hours are local wall-clock times without a zone")
        if not self.opens < self.closes:
            raise ValueError("business hours must open before they close")
        # precomputed once: the engine reads them on every due-time computation
        object.__setattr__(self, "open_us", _time_us(self.opens))
        object.__setattr__(self, "length_us", _time_us(self.closes) - _time_us(self.opens))


@dataclass(frozen=True, slots=True)
class Pause:
    """A pause of a clock; `end` None means it is still going on."""

    start: datetime
    end: datetime | None = None


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * US + t.microsecond


def _aware(dt: datetime, what: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")


def _window(business_hours: BusinessHours | None) -> tuple[int, int]:
    """(open, length) of a working day's counted window in microseconds after local midnight."""
    if business_hours is None:
        return 0, DAY_US
    return business_hours.open_us, business_hours.length_us


def limit_length(limit: Limit, business_hours: BusinessHours | None = None) -> timedelta:
    """The limit as an amount of (wall-clock or working) time."""
    if limit.is_wall_clock:
        return timedelta(microseconds=limit.value * _UNIT_US[limit.unit])
    return timedelta(microseconds=limit.value * _window(business_hours)[1])


# ---- the working-time measure W ------------------------------------------------------------
class _Measure:
    """W(t): working time (µs) from the calendar's base date to instant t, and its inverse.

    For wall-clock limits W(t) is simply microseconds since the epoch.
    """

    __slots__ = ("cal", "day_us", "open_us", "wall")

    def __init__(self, cal: WorkCalendar, business_hours: BusinessHours | None, wall: bool) -> None:
        self.cal = cal
        self.wall = wall
        self.open_us, self.day_us = _window(business_hours)

    def w(self, t: datetime) -> int:
        if self.wall:
            return (t - _EPOCH) // _ONE_US
        loc = t.astimezone(self.cal.tz)
        before, working = self.cal.count_and_flag(loc.toordinal())
        w = before * self.day_us
        if working:
            s = ((loc.hour * 60 + loc.minute) * 60 + loc.second) * US + loc.microsecond - self.open_us
            if s > 0:
                w += s if s < self.day_us else self.day_us
        return w

    def origin(self, start: datetime) -> int:
        """W at the moment counting begins (Civil Code art. 201: the partial start day is dropped)."""
        if self.wall:
            return self.w(start)
        loc = start.astimezone(self.cal.tz)
        o = loc.toordinal()
        if loc.hour or loc.minute or loc.second or loc.microsecond:
            o += 1
        return self.cal.workdays_before(o) * self.day_us

    def inverse(self, w: int) -> datetime:
        """The earliest instant t with W(t) ≥ w, in UTC."""
        if self.wall:
            return _EPOCH + timedelta(microseconds=w)
        q, r = divmod(w, self.day_us)
        if r == 0:
            o = self.cal.nth_workday(q - 1)
            us = self.open_us + self.day_us
        else:
            o = self.cal.nth_workday(q)
            us = self.open_us + r
        local = datetime.fromordinal(o) + timedelta(microseconds=us)
        return local.replace(tzinfo=self.cal.tz).astimezone(UTC)


def _pause_spans(m: _Measure, pauses: Iterable[Pause], upto: datetime | None) -> list[tuple[int, int]]:
    """Pauses as sorted (a, b) intervals of W. An open pause runs to `upto` (error if none given)."""
    spans = []
    for p in pauses:
        _aware(p.start, "pause start")
        end = p.end if p.end is not None else upto
        if end is None:
            raise ValueError("a clock with an open pause has no due time")
        _aware(end, "pause end")
        if end < p.start:
            raise ValueError("a pause cannot end before it starts")
        spans.append((m.w(p.start), m.w(end)))
    spans.sort()
    return spans


def _reach(
    start: datetime,
    amount_us: int,
    unit: str,
    calendar: WorkCalendar,
    business_hours: BusinessHours | None,
    pauses: Sequence[Pause],
) -> datetime:
    """Earliest instant at which `amount_us` of counted, unpaused time has elapsed since `start`."""
    _aware(start, "start")
    wall = unit != WORKING_DAYS
    if not pauses:
        if wall:
            return (start + timedelta(microseconds=amount_us)).astimezone(UTC)
        # Fast path (the common case): whole working days, no pause — the end of the k-th window.
        open_us, day_us = _window(business_hours)
        q, r = divmod(amount_us, day_us)
        if r == 0:
            loc = start.astimezone(calendar.tz)
            o = loc.toordinal()
            if loc.hour or loc.minute or loc.second or loc.microsecond:
                o += 1
            due_o = calendar.nth_workday(calendar.workdays_before(o) + q - 1)
            local = datetime.fromordinal(due_o) + timedelta(microseconds=open_us + day_us)
            return local.replace(tzinfo=calendar.tz).astimezone(UTC)
    if wall:
        # Wall clock with pauses: plain datetime arithmetic (the same walk as below, in time).
        cursor, left = start, timedelta(microseconds=amount_us)
        for p in sorted(pauses, key=lambda p: p.start):
            _aware(p.start, "pause start")
            if p.end is None:
                raise ValueError("a clock with an open pause has no due time")
            _aware(p.end, "pause end")
            if p.end < p.start:
                raise ValueError("a pause cannot end before it starts")
            if p.end <= cursor:
                continue
            if p.start > cursor:
                if p.start - cursor >= left:
                    break
                left -= p.start - cursor
            cursor = p.end
        return (cursor + left).astimezone(UTC)
    m = _Measure(calendar, business_hours, False)
    cursor = m.origin(start)
    remaining = amount_us
    for a, b in _pause_spans(m, pauses, None):
        if b <= cursor:
            continue
        if a > cursor:
            if a - cursor >= remaining:
                break
            remaining -= a - cursor
        cursor = b
    return m.inverse(cursor + remaining)


def due_at(
    start: datetime,
    limit: Limit,
    calendar: WorkCalendar,
    business_hours: BusinessHours | None = None,
    pauses: Sequence[Pause] = (),
) -> datetime:
    """When a clock started at `start` with `limit` is due, in UTC (Civil Code 201–203).

    `business_hours` only matters for working-day limits whose commitment ends at the close of
    business. Pauses must be closed (a paused clock has no due time until it resumes).
    """
    if limit.is_wall_clock:
        amount = limit.value * _UNIT_US[limit.unit]
    else:
        amount = limit.value * _window(business_hours)[1]
    return _reach(start, amount, limit.unit, calendar, business_hours, pauses)


def warn_at(
    start: datetime,
    limit: Limit,
    calendar: WorkCalendar,
    percent: int = 75,
    business_hours: BusinessHours | None = None,
    pauses: Sequence[Pause] = (),
) -> datetime:
    """When `percent` % of the limit has elapsed (the 75 % warning), in UTC."""
    if not 0 < percent <= 100:
        raise ValueError("percent must be in 1..100")
    amount = limit_length(limit, business_hours) // _ONE_US * percent // 100
    return _reach(start, max(amount, 1), limit.unit, calendar, business_hours, pauses)


def elapsed(
    start: datetime,
    now: datetime,
    limit_kind: str,
    calendar: WorkCalendar,
    pauses: Sequence[Pause] = (),
    business_hours: BusinessHours | None = None,
) -> timedelta:
    """Counted, unpaused time between `start` and `now`: wall-clock time for minute and hour
    limits, working time (see the module docstring) for working-day limits. An open pause counts
    up to `now`. Never negative."""
    _aware(start, "start")
    _aware(now, "now")
    wall = limit_kind != WORKING_DAYS
    m = _Measure(calendar, None if wall else business_hours, wall)
    w0 = m.origin(start)
    wn = m.w(now)
    if wn <= w0:
        return timedelta(0)
    counted = wn - w0
    cursor = w0
    for a, b in _pause_spans(m, pauses, now):
        a, b = max(a, cursor), min(b, wn)
        if b > a:
            counted -= b - a
            cursor = b
    return timedelta(microseconds=counted)


def lead_deadline(event_at: datetime, limit: Limit) -> datetime:
    """The latest instant a notice may be given before an event, e.g. C1: a planned supply
    interruption announced ≥ 48 h before it starts (004 附表). Wall-clock limits only."""
    _aware(event_at, "event_at")
    if not limit.is_wall_clock:
        raise ValueError("notice lead times are wall-clock limits")
    return (event_at - timedelta(microseconds=limit.value * _UNIT_US[limit.unit])).astimezone(UTC)


def fraction_elapsed(
    elapsed_time: timedelta, limit: Limit, business_hours: BusinessHours | None = None
) -> float:
    """Elapsed time as a share of the limit (1.0 = due); what the countdown colours use."""
    return elapsed_time / limit_length(limit, business_hours)
