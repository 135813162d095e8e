"""The roster proposal (W1): a CP-SAT model (OR-Tools) over people × days × shifts.

Pure: no database, no clock. Hard rules (a proposal that breaks one is never returned):
- at most one shift a day per person, and at least 8 h between two shifts (no 连班);
- shifts over 8 h only when the pattern records an exemption reason (劳动法第三十六条);
- at least one rest day in every 7 consecutive days (第三十八条);
- hours ≤ standard hours of the month (working days of kefu/sla's calendar × 8) + 36 h overtime
  (第四十一条; exempt 24 h duty hours count towards neither);
- minimum staffing of every shift with every job on every day, holidays included (C8: 24 h hotline).
Soft, in this order: cover the forecast demand (agents per half-hour that Erlang C requires from the
call forecast, kefu/workforce/erlang.py `demand_from`) as far as the hard rules allow, reporting any
shortfall; then spread hours and holiday duty evenly (minimise the largest deviation from the standard).
Why CP-SAT: docs/decisions.md.
"""

from __future__ import annotations

import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from kefu.workforce.rules import MAX_DAILY_HOURS, MAX_OVERTIME_HOURS_MONTH, MIN_REST_BETWEEN_SHIFTS


@dataclass(frozen=True)
class Person:
    id: int
    job: str
    unavailable: frozenset[date] = frozenset()  # approved leave


@dataclass(frozen=True)
class Pattern:
    id: int
    start_minutes: int  # local minutes after midnight
    hours: int
    exemption: str = ""


@dataclass
class Proposal:
    feasible: bool
    status: str
    seconds: float
    shifts: list[tuple[int, date, int]] = field(default_factory=list)  # person id, day, pattern id
    note: str = ""
    demand_short: int = 0  # agent half-hours of the forecast demand left uncovered


def _start(day: date, p: Pattern) -> datetime:
    return datetime(day.year, day.month, day.day) + timedelta(minutes=p.start_minutes)


def _covers(day: date, p: Pattern, instant: datetime) -> bool:
    """Whether pattern `p` worked on `day` is on duty at the (local, naive) `instant`."""
    start = _start(day, p)
    return start <= instant < start + timedelta(hours=p.hours)


def propose(
    *,
    people: list[Person],
    patterns: list[Pattern],
    days: list[date],
    needs: dict[tuple[int, str], int],
    standard_hours: int,
    holidays: frozenset[date] = frozenset(),
    demand: Mapping[tuple[date, int], int] | None = None,
    demand_job: str = "hotline",
    time_limit: float = 50.0,
    workers: int = 2,
) -> Proposal:
    """A month's roster meeting the hard rules, or `feasible=False` with the solver's status.
    `demand` maps (day, local minute of a half-hour's start) to the people of `demand_job` wanted on
    duty then (a soft rule: the roster covers what the hard rules allow)."""
    from ortools.sat.python import cp_model

    began = _time.monotonic()
    usable = [p for p in patterns if p.hours <= MAX_DAILY_HOURS or p.exemption.strip()]
    model = cp_model.CpModel()
    x: dict[tuple[int, int, int], cp_model.IntVar] = {}
    for pi, person in enumerate(people):
        for di, day in enumerate(days):
            if day in person.unavailable:
                continue
            for ki, pat in enumerate(usable):
                if any(
                    need and job == person.job for (pid, job), need in needs.items() if pid == pat.id
                ) or not any(pid == pat.id for pid, _ in needs):
                    x[pi, di, ki] = model.NewBoolVar(f"x{pi}_{di}_{ki}")

    def on(pi, di):
        return [x[pi, di, ki] for ki in range(len(usable)) if (pi, di, ki) in x]

    # Two shifts too close (across midnight too): forbid each pair of (day, pattern) that clash.
    clashes = []
    for k1, a in enumerate(usable):
        for k2, b in enumerate(usable):
            for gap in (0, 1):
                end_a = _start(days[0], a) + timedelta(hours=a.hours)
                start_b = _start(days[0] + timedelta(days=gap), b)
                if (
                    (gap, k1) != (0, k2)
                    and start_b > _start(days[0], a)
                    and start_b - end_a < MIN_REST_BETWEEN_SHIFTS
                ):
                    clashes.append((k1, k2, gap))
    worked: dict[tuple[int, int], cp_model.IntVar] = {}
    for pi in range(len(people)):
        for di in range(len(days)):
            vars_ = on(pi, di)
            w = model.NewBoolVar(f"w{pi}_{di}")
            if vars_:
                model.Add(sum(vars_) == w)
            else:
                model.Add(w == 0)
            worked[pi, di] = w
        for di in range(len(days)):
            for k1, k2, gap in clashes:
                if di + gap < len(days) and (pi, di, k1) in x and (pi, di + gap, k2) in x:
                    model.AddBoolOr([x[pi, di, k1].Not(), x[pi, di + gap, k2].Not()])
        for di in range(0, len(days) - 6):
            model.Add(sum(worked[pi, d] for d in range(di, di + 7)) <= 7 - 1)
        counted = [
            x[pi, di, ki] * usable[ki].hours
            for di in range(len(days))
            for ki in range(len(usable))
            if (pi, di, ki) in x and not usable[ki].exemption.strip()
        ]
        if counted:
            model.Add(sum(counted) <= standard_hours + MAX_OVERTIME_HOURS_MONTH)

    by_id = {p.id: ki for ki, p in enumerate(usable)}
    for (pattern_id, job), need in needs.items():
        ki = by_id.get(pattern_id)
        if ki is None or not need:
            continue
        for di in range(len(days)):
            model.Add(
                sum(
                    x[pi, di, ki]
                    for pi, person in enumerate(people)
                    if person.job == job and (pi, di, ki) in x
                )
                >= need
            )

    # The forecast demand: the people of `demand_job` on duty in each half-hour, short[] what is missing.
    shorts = []
    day_index = {d: di for di, d in enumerate(days)}
    for (day, minute), wanted in sorted((demand or {}).items()):
        if wanted <= 0 or day not in day_index:
            continue
        instant = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
        span = max(1, max((p.hours for p in usable), default=0) // 24 + 1)  # earlier days still on duty
        on_duty = [
            x[pi, di, ki]
            for di in range(max(0, day_index[day] - span), day_index[day] + 1)
            for ki, pat in enumerate(usable)
            if _covers(days[di], pat, instant)
            for pi, person in enumerate(people)
            if person.job == demand_job and (pi, di, ki) in x
        ]
        short = model.NewIntVar(0, wanted, f"short{day_index[day]}_{minute}")
        model.Add(sum(on_duty) + short >= wanted)
        shorts.append(short)

    # Fairness: minimise the largest deviation of anyone's hours from the standard, and the spread
    # of holiday duties.
    dev = model.NewIntVar(0, 24 * len(days), "dev")
    hol_max = model.NewIntVar(0, len(days), "hol_max")
    holiday_idx = [di for di, d in enumerate(days) if d in holidays]
    for pi in range(len(people)):
        hours = sum(
            x[pi, di, ki] * usable[ki].hours
            for di in range(len(days))
            for ki in range(len(usable))
            if (pi, di, ki) in x
        )
        model.Add(hours - standard_hours <= dev)
        model.Add(standard_hours - hours <= dev)
        if holiday_idx:
            model.Add(sum(worked[pi, di] for di in holiday_idx) <= hol_max)
    fairness = dev * 10 + hol_max
    worst_fairness = 10 * 24 * len(days) + len(days)  # covering one more half-hour outweighs it all
    model.Minimize(sum(shorts) * (worst_fairness + 1) + fairness)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_search_workers = workers
    status = solver.Solve(model)
    name = solver.StatusName(status)
    seconds = round(_time.monotonic() - began, 2)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Proposal(False, name, seconds, note=f"{name}")
    shifts = [
        (people[pi].id, days[di], usable[ki].id)
        for (pi, di, ki), var in x.items()
        if solver.BooleanValue(var)
    ]
    short = sum(solver.Value(v) for v in shorts)
    note = f"{name}; max deviation {solver.Value(dev)} h" + (
        f"; demand short {short} agent-half-hours" if demand else ""
    )
    return Proposal(True, name, seconds, shifts, note=note, demand_short=short)


def local_span(day: date, start_minutes: int, hours: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of a shift that starts `start_minutes` after local midnight of `day`."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=start_minutes)
    start = start.astimezone(ZoneInfo("UTC"))
    return start, start + timedelta(hours=hours)
