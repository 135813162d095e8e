"""Benchmark: due-time computations per second in pure Python (target ≥ 100,000/s).

    .venv/bin/python -m bench.due_time [--n 200000] [--seed 1] [--pauses]

Builds N random cases — starts spread over 2026 (every holiday and make-up day included) and the
first weeks of 2027 (fallback year), a mix of the seeds' limits (40 min, 4/6/24/72 h wall clock;
1 and 2 working days, half of them ending at the close of business 08:30–17:30) — then times
`kefu.sla.engine.due_at` over all of them with one company calendar (as a sweep or a bulk import
would) and prints one JSON object: {computations, seconds, per_second, mix, ...}.
No database is touched. `--pauses` adds one closed pause to every case.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo


def build_cases(n: int, seed: int, with_pauses: bool):
    from kefu.sla.engine import BusinessHours, Limit, Pause

    rnd = random.Random(seed)
    sh = ZoneInfo("Asia/Shanghai")
    t0 = datetime(2026, 1, 1, tzinfo=sh)
    bh = BusinessHours(dtime(8, 30), dtime(17, 30))
    limits = [
        (Limit(40, "minutes"), None),  # C8 (004)
        (Limit(4, "hours"), None),  # C3 (000 2.2.3)
        (Limit(6, "hours"), None),  # C4 (000 2.2.4)
        (Limit(24, "hours"), None),  # C2, C12 (004)
        (Limit(72, "hours"), None),  # C6 (000 2.2.6)
        (Limit(1, "working_days"), None),  # C10, C11 (004)
        (Limit(2, "working_days"), None),  # C9, C14
        (Limit(1, "working_days"), bh),
        (Limit(2, "working_days"), bh),
    ]
    cases = []
    for _ in range(n):
        start = t0 + timedelta(seconds=rnd.randrange(0, 380 * 86400))
        limit, hours = limits[rnd.randrange(len(limits))]
        pauses = ()
        if with_pauses:
            a = start + timedelta(minutes=rnd.randrange(0, 600))
            pauses = (Pause(a, a + timedelta(minutes=rnd.randrange(1, 300))),)
        cases.append((start, limit, hours, pauses))
    return cases


def run(n: int, seed: int, with_pauses: bool) -> dict:
    from kefu.sla.calendar import WorkCalendar
    from kefu.sla.engine import due_at

    cases = build_cases(n, seed, with_pauses)
    cal = WorkCalendar()
    due_at(cases[0][0], cases[0][1], cal)  # build the calendar tables once, as a long-lived worker would
    began = time.perf_counter()
    for start, limit, hours, pauses in cases:
        due_at(start, limit, cal, hours, pauses)
    seconds = time.perf_counter() - began
    wall = sum(1 for c in cases if c[1].is_wall_clock)
    return {
        "benchmark": "due_time",
        "computations": n,
        "seconds": round(seconds, 4),
        "per_second": round(n / seconds),
        "target_per_second": 100_000,
        "mix": {
            "wall_clock": wall,
            "working_days": n - wall,
            "with_business_hours": sum(1 for c in cases if c[2]),
        },
        "pauses": with_pauses,
        "python": sys.version.split()[0],
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000, help="number of due-time computations")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pauses", action="store_true", help="one closed pause per case")
    args = p.parse_args(argv)
    if args.n < 1:
        p.error("--n must be ≥ 1")
    print(json.dumps(run(args.n, args.seed, args.pauses), ensure_ascii=False))


if __name__ == "__main__":
    main()
