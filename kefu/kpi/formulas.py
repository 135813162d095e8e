"""The seventeen indicators of seed 004 第十条 as pure functions.

No database and no clock inside: each function takes the records a domain app's selector returns
(already limited to one company and one month or year), the period and, where a record may still be
open, the moment the figure is taken (`as_of`). Each returns a `Figure` with the numerator, the
denominator, the value and the references of the records behind it, so every figure can be
reproduced and opened onto its records (docs/indicators.md).

A figure with nothing to count is "无数据" (`value is None`), never 0 % or 100 %.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from zoneinfo import ZoneInfo

HUNDRED = Fraction(100)
COUNTED = "counted"  # the records key of K1 and K5: the interruptions / outages in the figure
NOBODY_HOME = "nobody_home"  # the records key of K4's households reached only when nobody was home


class Outcome(StrEnum):
    """How one record counts in a "within the limit / all" indicator."""

    MET = "met"  # done by its limit: numerator and denominator
    MISSED = "missed"  # done late, or its limit passed undone: denominator only
    PENDING = "pending"  # undone and its limit still ahead at `as_of`: not counted yet, listed
    EXCLUDED = "excluded"  # left out for a recorded reason (e.g. C9 not installable): listed


@dataclass(frozen=True)
class Month:
    """A calendar month in the company's time zone (the period of every monthly indicator)."""

    year: int
    month: int
    tz: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not 1–12")

    @property
    def days(self) -> int:
        """B of K1: the natural days of the month (29 in a leap-year February)."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=ZoneInfo(self.tz))

    @property
    def end(self) -> datetime:
        """The first instant after the month (exclusive)."""
        nxt = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return datetime(nxt.year, nxt.month, 1, tzinfo=ZoneInfo(self.tz))

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"


@dataclass(frozen=True)
class Figure:
    """One indicator's value for one period, with what it was computed from.

    `value` is a percentage (or a 1–10 mean for K15/K16) rounded half up to two places, or None
    ("无数据"). `numerator` and `denominator` are exact. `records` maps an outcome to the
    references of the records that had it; `method` names a documented variant (K14's fallback).
    """

    code: str
    value: Decimal | None
    numerator: Fraction
    denominator: Fraction
    records: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    method: str = "primary"

    @property
    def has_data(self) -> bool:
        return self.value is not None


HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)


def _in(span: timedelta, unit: timedelta) -> Fraction:
    """`span` in `unit`s, exactly (timedelta.total_seconds is a float)."""
    return Fraction(span // timedelta(microseconds=1), unit // timedelta(microseconds=1))


def _round(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def _no_data(code: str, method: str = "primary", records: dict | None = None) -> Figure:
    return Figure(code, None, Fraction(0), Fraction(0), records or {}, method)


def _share(code: str, numerator: int | Fraction, denominator: int | Fraction, **kw) -> Figure:
    """numerator / denominator × 100 %, "无数据" when the denominator is zero."""
    if not denominator:
        return _no_data(code, **kw)
    num, den = Fraction(numerator), Fraction(denominator)
    return Figure(code, _round(num / den * HUNDRED), num, den, **kw)


# --- "within the limit / all" (K2, K3, K6–K12, K17) ------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """One record of a "served within the limit" indicator, as its domain selector found it.

    `due_at` is the limit computed by the commitment clock (wall-clock hours or working days, pauses
    included; None while the clock is paused); `done_at` the recorded fact that stops it (arrival,
    notice, restoration, answer); `excluded` a recorded reason that leaves the record out (C9
    不具备安装条件的不计时); `verdict` the clock's own decision once it stopped (met, or late), which
    the formula takes as it is: the clock engine is the one place that weighs pauses.
    """

    ref: str
    due_at: datetime | None
    done_at: datetime | None = None
    excluded: str = ""
    verdict: Outcome | None = None


def deadline_outcome(record: Deadline, *, as_of: datetime) -> Outcome:
    """Met when done by its limit (the limit itself included); missed when done late or when the
    limit passed at `as_of` with nothing done; pending while undone with the limit still ahead (or
    paused). A recorded exclusion or the clock's own verdict decides first."""
    if record.excluded:
        return Outcome.EXCLUDED
    if record.verdict is not None:
        return record.verdict
    if record.due_at is None:
        return Outcome.PENDING if record.done_at is None else Outcome.MET
    if record.done_at is not None:
        return Outcome.MET if record.done_at <= record.due_at else Outcome.MISSED
    return Outcome.MISSED if record.due_at <= as_of else Outcome.PENDING


def within_limit(code: str, records: Iterable[Deadline], *, as_of: datetime) -> Figure:
    """B/A × 100 %: records met by their limit over records met or missed (K2, K3, K6–K12, K17).
    Pending and excluded records are listed, not counted."""
    by_outcome: dict[str, list[str]] = {o.value: [] for o in Outcome}
    for record in records:
        by_outcome[deadline_outcome(record, as_of=as_of)].append(record.ref)
    listed = {k: tuple(v) for k, v in by_outcome.items()}
    return counted_within(code, {k: len(v) for k, v in listed.items()}, listed)


def counted_within(code: str, counts: Mapping[str, int], records: Mapping[str, tuple[str, ...]]) -> Figure:
    """`within_limit` from the number of records of each outcome (counted where they are stored)."""
    met, missed = counts.get(Outcome.MET, 0), counts.get(Outcome.MISSED, 0)
    return _share(code, met, met + missed, records=records)


class LazyRecords(Mapping[str, tuple[str, ...]]):
    """The references behind a figure whose records were counted where they are stored: the count of
    each outcome is known at once, the references are read, once, only when somebody opens them (the
    records page, a month's closing). `load` returns outcome → references."""

    def __init__(self, counts: Mapping[str, int], load: Callable[[], Mapping[str, Sequence[str]]]):
        self.counts = {o.value: int(counts.get(o.value, 0)) for o in Outcome}
        self._load = load
        self._refs: dict[str, tuple[str, ...]] | None = None

    def _loaded(self) -> dict[str, tuple[str, ...]]:
        if self._refs is None:
            got = self._load()
            self._refs = {k: tuple(got.get(k, ())) for k in self.counts}
        return self._refs

    def __getitem__(self, outcome: str) -> tuple[str, ...]:
        return self._loaded()[outcome]

    def __iter__(self):
        return iter(self.counts)

    def __len__(self) -> int:
        return len(self.counts)


def record_counts(figure: Figure) -> dict[str, int]:
    """How many records of each outcome are behind a figure, without reading lazy references."""
    counts = getattr(figure.records, "counts", None)
    return dict(counts) if counts is not None else {k: len(v) for k, v in figure.records.items()}


# --- K1 continuous supply, K5 emergency hotline ---------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A stretch of lost service: a supply interruption with the customers it affected (K1), or a
    time the emergency hotline was out of service (K5, `affected` unused). An open one has no end."""

    ref: str
    start: datetime
    end: datetime | None
    affected: int = 0


def _clipped(interval: Interval, month: Month, as_of: datetime) -> timedelta:
    """The part of `interval` inside the month and before `as_of` (an interruption crossing a month
    end counts in each month for the hours it lies there)."""
    end = interval.end if interval.end is not None else as_of
    start, stop = max(interval.start, month.start), min(end, month.end, as_of)
    return max(stop - start, timedelta(0))


def continuous_supply(
    interruptions: Sequence[Interval], *, active_customers: int, month: Month, as_of: datetime
) -> Figure:
    """K1 保证连续供气 = (1 − Σ(Aₙ·Tₙ) / (N·B·24)) × 100 %: Aₙ the customers affected by interruption
    n, Tₙ its hours in the month, N the month's active customers, B its natural days. Every
    interruption counts, planned and emergency alike (the seed names no exception). 无数据 without
    active customers. The numerator returned is the customer-hours lost, the denominator N·B·24."""
    if active_customers <= 0:
        return _no_data("K1")
    lost = sum(
        (Fraction(i.affected) * _in(_clipped(i, month, as_of), HOUR) for i in interruptions),
        Fraction(0),
    )
    possible = Fraction(active_customers * month.days * 24)
    counted = tuple(dict.fromkeys(i.ref for i in interruptions if _clipped(i, month, as_of)))
    value = _round((1 - lost / possible) * HUNDRED)
    return Figure("K1", value, lost, possible, {COUNTED: counted})


def hotline_availability(
    outages: Sequence[Interval], *, month: Month, as_of: datetime, tracked: bool
) -> Figure:
    """K5 紧急抢险电话 = (1 − B/A) × 100 %: B the minutes in the month the emergency hotline was out of
    service (overlapping outages counted once), A the month's minutes. 无数据 when the hotline's
    events were not tracked for the month (`tracked` False): no outage recorded is not proof of
    service. The numerator returned is B, the denominator A."""
    if not tracked:
        return _no_data("K5")
    spans = [(max(o.start, month.start), min(o.end or as_of, month.end, as_of)) for o in outages]
    minutes = _in(_union_length(spans), MINUTE)
    total = Fraction(month.days * 24 * 60)
    refs = tuple(o.ref for o in outages if _clipped(o, month, as_of))
    return Figure("K5", _round((1 - minutes / total) * HUNDRED), minutes, total, {COUNTED: refs})


def _union_length(spans: Iterable[tuple[datetime, datetime]]) -> timedelta:
    """The time covered by the spans, overlaps counted once."""
    covered, reach = timedelta(0), None
    for start, stop in sorted(s for s in spans if s[1] > s[0]):
        start = max(start, reach) if reach is not None else start
        if stop > start:
            covered += stop - start
        reach = max(reach, stop) if reach is not None else stop
    return covered


# --- K4 household inspection, K13 return visits ---------------------------------------------


def household_inspection(
    served: Collection[str], *, active_households: int, nobody_home: Collection[str] = ()
) -> Figure:
    """K4 入户安全检查 = B/A × 100 %: B the distinct households served this year, visits where nobody
    was home included (含上门无人情况); A the year's active households. The households reached only
    by visits where nobody was home are listed apart (`nobody_home`) though they count."""
    households = sorted(set(served) | set(nobody_home))
    away = set(nobody_home)
    records = {
        Outcome.MET.value: tuple(h for h in households if h not in away),
        NOBODY_HOME: tuple(h for h in households if h in away),
    }
    return _share("K4", len(households), active_households, records=records)


def return_visits(jobs: Iterable[tuple[str, bool]]) -> Figure:
    """K13 百尊安装维修回访: return visits made / appliance installations and repairs completed.
    The seed leaves the formula blank; kefu reads it as C12's 100 % phone return visit after an
    installation or repair (docs/indicators.md). `jobs`: (reference, a return visit was made)."""
    visited, not_visited = [], []
    for ref, made in jobs:
        (visited if made else not_visited).append(ref)
    records = {Outcome.MET.value: tuple(visited), Outcome.MISSED.value: tuple(not_visited)}
    return _share("K13", len(visited), len(visited) + len(not_visited), records=records)


# --- K14 service phone ----------------------------------------------------------------------

RING_LIMIT = 3


def service_phone(
    answered_rings: Sequence[tuple[str, int | None]],
    *,
    survey_answers: Sequence[tuple[str, bool]] = (),
    ring_limit: int = RING_LIMIT,
) -> Figure:
    """K14 客户服务电话 = B/A × 100 %: calls answered within `ring_limit` rings / calls answered.

    The seed's fallback (如无法统计): when the rings of the answered calls cannot be counted (any
    answered call without a ring count, or no call event at all), the figure is taken from the
    return visits of customers who used the service phone — those who said it was answered within
    the rings over all of them — and `method` says "survey"."""
    if answered_rings and all(rings is not None for _ref, rings in answered_rings):
        met = tuple(ref for ref, rings in answered_rings if rings <= ring_limit)
        missed = tuple(ref for ref, rings in answered_rings if rings > ring_limit)
        return _share("K14", len(met), len(answered_rings), records={"met": met, "missed": missed})
    met = tuple(ref for ref, ok in survey_answers if ok)
    missed = tuple(ref for ref, ok in survey_answers if not ok)
    return _share(
        "K14", len(met), len(survey_answers), records={"met": met, "missed": missed}, method="survey"
    )


# --- K15, K16 scores ------------------------------------------------------------------------


def mean_score(code: str, scores: Sequence[tuple[str, int]]) -> Figure:
    """K15 服务态度 / K16 专业能力 = (C₁+…+Cₙ)/n: the mean of the 1–10 scores given at phone return
    visits in the month. A score outside 1–10 is refused (ValueError), not clipped."""
    for ref, score in scores:
        if not 1 <= score <= 10:
            raise ValueError(f"{ref}: score {score} is not 1–10")
    if not scores:
        return _no_data(code)
    total = Fraction(sum(s for _r, s in scores))
    n = Fraction(len(scores))
    refs = tuple(r for r, _s in scores)
    return Figure(code, _round(total / n), total, n, {Outcome.MET.value: refs})


# --- group roll-up and the year's targets (P15, C17) -----------------------------------------

COMPLEMENT = frozenset({"K1", "K5"})  # (1 − lost / possible) × 100 %
MEAN = frozenset({"K15", "K16"})  # Σ scores / n


def value_of(code: str, numerator: Fraction, denominator: Fraction) -> Decimal | None:
    """An indicator's value from its exact numerator and denominator, as its formula states it."""
    if not denominator:
        return None
    ratio = numerator / denominator
    if code in MEAN:
        return _round(ratio)
    return _round((1 - ratio) * HUNDRED if code in COMPLEMENT else ratio * HUNDRED)


def rolled_up(code: str, figures: Iterable[Figure]) -> Figure:
    """One indicator over several member companies: the seed's formula applied to the summed
    numerators and denominators (Σ household-hours lost over Σ N·B·24 for K1, Σ scores over Σ
    visits for K15 and K16), never a mean of the companies' percentages. 无数据 companies add
    nothing; all 无数据 is 无数据."""
    counted = [x for x in figures if x.has_data]
    numerator = sum((x.numerator for x in counted), Fraction(0))
    denominator = sum((x.denominator for x in counted), Fraction(0))
    return Figure(code, value_of(code, numerator, denominator), numerator, denominator)


class Verdict(StrEnum):
    """A figure against the year's published target (C17, P15)."""

    MET = "met"
    MISSED = "missed"
    NO_DATA = "no_data"
    NO_TARGET = "no_target"


def against_target(value: Decimal | None, target: Decimal | None, *, strict: bool = False) -> Verdict:
    """`value` ≥ `target` (or > when the published target says 超过, e.g. K1 超过99.9 %)."""
    if target is None:
        return Verdict.NO_TARGET
    if value is None:
        return Verdict.NO_DATA
    return Verdict.MET if (value > target if strict else value >= target) else Verdict.MISSED
