"""Pure rules of follow-ups: no database, no clock inside (ARCHITECTURE.md). Tested with tables and
hypothesis.

- which finished work gets a return visit (P6, C12, C14, C19) and the deterministic C14 sample;
- calling hours (C19 "never in rest time") and time counted only inside them;
- the due time of a visit task and the retry plan of its calls;
- W5 penalties; C20 project visit dates; survey statistics (P16).
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

# ---- which work gets a return visit ----------------------------------------------------------------
#: work-order kind (and sub-kind) → reason; 100 % of these are visited (C12, C19, P6)
FULL_VISIT_KINDS: dict[str, str] = {
    "installation": "installation",
    "repair": "repair",
    "appliance": "appliance",
}
SAMPLED_KINDS: dict[str, str] = {"consultation": "consultation"}  # C14: a random share


def visit_reason(kind: str, sub_kind: str = "") -> str | None:
    """The return-visit reason of a finished work order of this kind, None if it gets none here
    (complaints get theirs when the customer has been informed, not when the order is finished)."""
    if kind == "repair" and sub_kind == "appliance":
        return "appliance"
    return FULL_VISIT_KINDS.get(kind) or SAMPLED_KINDS.get(kind)


def is_sampled(seed: str, ticket_id: int, percent: int) -> bool:
    """C14: is this consultation drawn for a return visit? Deterministic (the same seed and work
    order always give the same answer, so a sweep and a listener agree and a test can predict it);
    uniform over ids: SHA-256 of "seed:id" read as a number in [0, 100)."""
    if percent <= 0:
        return False
    if percent >= 100:
        return True
    digest = hashlib.sha256(f"{seed}:{ticket_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < percent * 100


# ---- calling hours -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallingHours:
    """When return-visit calls may be made (C19: never in rest time): one window a day with an
    optional midday rest."""

    opens: time
    closes: time
    rest_starts: time | None = None
    rest_ends: time | None = None

    def windows(self) -> list[tuple[time, time]]:
        if (
            self.rest_starts
            and self.rest_ends
            and self.opens < self.rest_starts < self.rest_ends < self.closes
        ):
            return [(self.opens, self.rest_starts), (self.rest_ends, self.closes)]
        return [(self.opens, self.closes)]

    def day_minutes(self) -> int:
        return sum(_minutes(b) - _minutes(a) for a, b in self.windows())


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def in_calling_hours(at: datetime, hours: CallingHours, tz: str) -> bool:
    """True when `at` (aware) falls inside a calling window in the company's zone."""
    local = at.astimezone(ZoneInfo(tz)).time()
    return any(a <= local < b for a, b in hours.windows())


def add_calling_time(
    start: datetime,
    minutes: float,
    hours: CallingHours,
    tz: str,
    counts: Callable[[date], bool] = lambda d: True,
) -> datetime:
    """`start` plus `minutes` counted only inside calling windows of days for which `counts(day)`
    (the clock is paused outside them). Returns an aware UTC-comparable datetime in `tz`."""
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    day = local.date()
    left = max(minutes, 0.0)
    for _ in range(3660):
        if counts(day):
            for a, b in hours.windows():
                w_start = datetime.combine(day, a, zone)
                w_end = datetime.combine(day, b, zone)
                begin = max(w_start, local)
                if begin >= w_end:
                    continue
                span = (w_end - begin).total_seconds() / 60
                if left <= span:
                    return begin + timedelta(minutes=left)
                left -= span
        day += timedelta(days=1)
        local = datetime.combine(day, time(0), zone)
    raise ValueError("no calling time within ten years")


def next_calling_instant(at: datetime, hours: CallingHours, tz: str) -> datetime:
    """`at` if it is inside calling hours, else the next opening."""
    return add_calling_time(at, 0, hours, tz)


def visit_due(
    reason: str,
    finished_at: datetime,
    *,
    hours: CallingHours,
    tz: str,
    window_hours: int,
    complaint_hours: int,
    consultation_working_days: int,
    is_workday: Callable[[date], bool],
) -> datetime:
    """When a return visit is due (P6): complaint 24 h, consultation 2 working days, others C19's
    3 days — all counted in calling time (a full day = one day's calling windows), so a job
    finished at night is not overdue before the first morning: the clock is paused outside them."""
    per_day = hours.day_minutes()
    if reason == "consultation":
        return add_calling_time(finished_at, consultation_working_days * per_day, hours, tz, is_workday)
    limit = complaint_hours if reason == "complaint" else window_hours
    return add_calling_time(finished_at, limit / 24 * per_day, hours, tz)


def next_attempt_at(now: datetime, *, retry_minutes: int, hours: CallingHours, tz: str) -> datetime:
    """The retry plan: the next call `retry_minutes` later, moved into calling hours."""
    return next_calling_instant(now + timedelta(minutes=retry_minutes), hours, tz)


# ---- W5 penalties --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Penalty:
    amount: Decimal
    manager_amount: Decimal
    dismissal: bool
    rule: str


def penalty_for(nth: int, rules: Iterable[tuple[int, Decimal, Decimal, bool, str]]) -> Penalty | None:
    """W5: the penalty of the `nth` upheld complaint against one person. `rules` are (nth, amount,
    manager multiplier, dismissal, name); the highest rule at or below `nth` applies."""
    best = None
    for n, amount, multiplier, dismissal, name in sorted(rules):
        if n <= nth:
            best = Penalty(Decimal(amount), Decimal(amount) * Decimal(multiplier), dismissal, name)
    return best


# ---- C20 project visits --------------------------------------------------------------------------
def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


def project_visit_dates(handed_over_on: date, until: date) -> list[date]:
    """C20 (seed 001 篇3 五): a visit every month in the first year after hand-over, every quarter
    after — the dates up to `until`."""
    out = []
    k = 1
    while True:
        months = k if k <= 12 else 12 + (k - 12) * 3
        d = _add_months(handed_over_on, months)
        if d > until:
            return out
        out.append(d)
        k += 1


# ---- survey statistics (P16) ---------------------------------------------------------------------
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
        20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}  # fmt: skip


def t95(df: int) -> float:
    """Two-sided 95 % Student t critical value (table; 1.96 beyond 120 degrees of freedom)."""
    if df <= 0:
        return math.nan
    for k in sorted(_T95):
        if df <= k:
            return _T95[k]
    return 1.96


@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float | None
    low: float | None
    high: float | None


def mean_ci(values: list[float]) -> MeanCI:
    """Mean with its 95 % confidence interval (Student t); n < 2 gives no interval."""
    n = len(values)
    if n == 0:
        return MeanCI(0, None, None, None)
    m = statistics.fmean(values)
    if n < 2:
        return MeanCI(1, round(m, 3), None, None)
    half = t95(n - 1) * statistics.stdev(values) / math.sqrt(n)
    return MeanCI(n, round(m, 3), round(m - half, 3), round(m + half, 3))


QUESTION_TYPES = ("score", "likert", "choice", "text")


def check_answer(question: dict, value) -> str | None:
    """None when `value` is a valid answer to `question`, else the reason (for the message)."""
    kind = question.get("type")
    if value in (None, ""):
        return None
    if kind in ("score", "likert"):
        top = 10 if kind == "score" else 5
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            return f"1–{top}"
    elif kind == "choice":
        if value not in (question.get("choices") or []):
            return "choice"
    elif kind == "text":
        if not isinstance(value, str) or len(value) > 1000:
            return "text"
    return None


def check_questions(questions) -> str | None:
    """None when a questionnaire's questions are well formed, else what is wrong."""
    if not isinstance(questions, list) or not questions or len(questions) > 50:
        return "questions"
    keys = set()
    for q in questions:
        if not isinstance(q, dict) or q.get("type") not in QUESTION_TYPES:
            return "type"
        key, text = q.get("key"), q.get("text")
        if not isinstance(key, str) or not key or len(key) > 20 or key in keys:
            return "key"
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            return "text"
        if q["type"] == "choice" and not (
            isinstance(q.get("choices"), list)
            and q["choices"]
            and all(isinstance(c, str) for c in q["choices"])
        ):
            return "choices"
        keys.add(key)
    return None
