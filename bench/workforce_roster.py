"""Benchmark: a monthly roster proposal (W1) for a 60-person centre with three shifts (target ≤ 60 s).

    .venv/bin/python -m bench.workforce_roster [--people 60] [--month 2026-10] [--time-limit 55]

Pure solver run (kefu.workforce.solver, OR-Tools CP-SAT on 2 workers) with the month's standard hours
from kefu/sla's working-day calendar (October 2026: National Day, a make-up working day). Needs per
day: 早 and 中 each 40 % of the people, 夜 15 % (hotline 24 h, C8). Prints one JSON object: seconds,
solver status, shifts, and whether every hard rule holds on the result (checked again by rules.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime, timedelta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--time-limit", type=float, default=55.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()
    from zoneinfo import ZoneInfo

    from kefu.sla.calendar import WorkCalendar
    from kefu.workforce import rules, solver
    from kefu.workforce.services import is_public_holiday, month_days

    month = date.fromisoformat(args.month + "-01")
    cal = WorkCalendar()
    days = month_days(month)
    holidays = frozenset(d for d in days if is_public_holiday(cal, d))
    standard = sum(1 for d in days if cal.is_workday(d)) * rules.MAX_DAILY_HOURS
    patterns = [solver.Pattern(1, 8 * 60, 8), solver.Pattern(2, 16 * 60, 8), solver.Pattern(3, 0, 8)]
    n = args.people
    needs = {(1, "hotline"): int(n * 0.23), (2, "hotline"): int(n * 0.23), (3, "hotline"): int(n * 0.13)}
    people = [solver.Person(i, "hotline") for i in range(n)]
    began = time.monotonic()
    result = solver.propose(
        people=people,
        patterns=patterns,
        days=days,
        needs=needs,
        standard_hours=standard,
        holidays=holidays,
        time_limit=args.time_limit,
    )
    seconds = round(time.monotonic() - began, 2)
    tz = ZoneInfo("Asia/Shanghai")
    by_person: dict[int, list] = {}
    counts: dict = {}
    for pid, day, pat in result.shifts:
        p = patterns[pat - 1]
        start = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=p.start_minutes)
        by_person.setdefault(pid, []).append(
            rules.ShiftFact(day=day, start_at=start, end_at=start + timedelta(hours=8), hours=8)
        )
        counts[(day, pat, "hotline")] = counts.get((day, pat, "hotline"), 0) + 1
    law = sum(
        bool(rules.person_month_problems(shifts=s, days=days, standard_hours=standard))
        for s in by_person.values()
    )
    short = rules.staffing_shortfalls(counts=counts, needs=needs, days=days)
    print(
        json.dumps(
            {
                "benchmark": "workforce_roster",
                "people": n,
                "shifts_per_day": 3,
                "month": args.month,
                "needs_per_day": sum(needs.values()),
                "standard_hours": standard,
                "holidays": len(holidays),
                "feasible": result.feasible,
                "status": result.status,
                "seconds": seconds,
                "target_seconds": 60,
                "assignments": len(result.shifts),
                "people_breaking_law": law,
                "understaffed_shifts": len(short),
                "note": result.note,
                "load_average": os.getloadavg(),
            },
            ensure_ascii=False,
        )
    )
    return 0 if result.feasible and not law and not short else 1


if __name__ == "__main__":
    sys.exit(main())
