"""Benchmark: `kefu.workforce.selectors.on_duty` (target p99 ≤ 5 ms).

    .venv/bin/python -m bench.workforce_on_duty [--companies 10] [--people 60] [--months 12] [--queries 2000]

Fills a scratch database with published rosters (three 8 h shifts a day, each person 5 days in 7)
for every company over N months — 60 people × 12 months ≈ 16,000 assignments a company — then asks
who is on duty at random moments (and by skill / role),
in process — first at random moments over the year (each company's day is loaded once into the
per-process cache, so these are mostly cache misses), then at moments within one day (what paging
and night notifications ask: the cached day answers). Prints one JSON object with wall-clock and
CPU-time percentiles of both (on a loaded machine the wall clock mostly measures waiting for a core).

Use a scratch database: KEFU_VAR_DIR=/tmp/kefu-bench-wf for SQLite, or
KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench_wf for PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from datetime import date, datetime, time, timedelta
from time import monotonic, perf_counter, thread_time


def _fill(companies: int, people: int, months: int, year: int) -> int:
    from zoneinfo import ZoneInfo

    from kefu.accounts.models import Company, Department, Team, User
    from kefu.workforce.models import Assignment, Roster, ShiftPattern

    tz = ZoneInfo("Asia/Shanghai")
    made = 0
    for c in range(companies):
        code = f"wfbench{c}"
        if Company.objects.filter(code=code).exists():
            continue
        company = Company.objects.create(code=code, name=f"基准燃气{c}", short_name=f"基准{c}")
        dept = Department.objects.create(company=company, code="kf", name="客服部")
        team = Team.objects.create(company=company, department=dept, name="热线")
        users = User.objects.bulk_create(
            [
                User(username=f"{code}_{i}", company=company, team=team, role="agent", full_name=f"员工{i}")
                for i in range(people)
            ]
        )
        users = list(User.objects.filter(company=company).order_by("pk"))
        pats = [
            ShiftPattern.objects.create(company=company, team=team, code=k, name=k, start=time(h), hours=8)
            for k, h in (("Z", 8), ("M", 16), ("Y", 0))
        ]
        rows = []
        for m in range(months):
            month = date(year + (m // 12), m % 12 + 1, 1)
            roster = Roster.objects.create(company=company, team=team, month=month, status="published")
            d = month
            while d.month == month.month:
                for i, u in enumerate(users):
                    if (d.toordinal() + i) % 7 < 5:
                        p = pats[i % 3]
                        start = datetime(d.year, d.month, d.day, tzinfo=tz) + timedelta(hours=p.start.hour)
                        rows.append(
                            Assignment(
                                company=company,
                                roster=roster,
                                user=u,
                                day=d,
                                pattern=p,
                                skill="hotline",
                                start_at=start,
                                end_at=start + timedelta(hours=8),
                                published=True,
                            )
                        )
                d += timedelta(days=1)
        Assignment.objects.bulk_create(rows, batch_size=2000)
        made += len(rows)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.lookup import summary
    from kefu.accounts.models import Company
    from kefu.workforce.models import Assignment
    from kefu.workforce.selectors import on_duty

    call_command("migrate", verbosity=0)
    year = 2026
    began = monotonic()
    made = _fill(args.companies, args.people, args.months, year)
    fill_seconds = round(monotonic() - began, 1)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    ids = list(Company.objects.filter(code__startswith="wfbench").values_list("pk", flat=True))
    rnd = random.Random(args.seed)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    start = datetime(year, 1, 1, tzinfo=tz)
    span = args.months * 28 * 86400
    ms: list[float] = []
    cpu: list[float] = []
    found = 0
    for q in range(args.queries):
        at = start + timedelta(seconds=rnd.randrange(span))
        kw = {"skill": "hotline"} if q % 3 == 1 else {"role": "agent"} if q % 3 == 2 else {}
        t, tc = perf_counter(), thread_time()
        users = on_duty(rnd.choice(ids), at, **kw)
        ms.append((perf_counter() - t) * 1000)
        cpu.append((thread_time() - tc) * 1000)
        found += bool(users)
    # What production asks: "who is on duty now" (paging, night notifications) — moments within one
    # day, so after the first question per company and day the cached day answers.
    live_ms: list[float] = []
    live_cpu: list[float] = []
    day0 = start + timedelta(days=rnd.randrange(args.months * 28))
    for q in range(args.queries):
        at = day0 + timedelta(seconds=rnd.randrange(86400))
        kw = {"skill": "hotline"} if q % 3 == 1 else {"role": "agent"} if q % 3 == 2 else {}
        t, tc = perf_counter(), thread_time()
        on_duty(rnd.choice(ids), at, **kw)
        live_ms.append((perf_counter() - t) * 1000)
        live_cpu.append((thread_time() - tc) * 1000)
    print(
        json.dumps(
            {
                "benchmark": "workforce_on_duty",
                "database": connection.vendor,
                "companies": len(ids),
                "assignments": Assignment.objects.count(),
                "made_now": made,
                "fill_seconds": fill_seconds,
                "queries": args.queries,
                "answered_with_people": found,
                # random moments over the whole year: nearly every question is a day not yet cached
                "on_duty": summary(ms),
                "on_duty_cpu": summary(cpu),
                # moments within one day ("now"): the cached day answers
                "on_duty_live": summary(live_ms),
                "on_duty_live_cpu": summary(live_cpu),
                "target_p99_ms": 5,
                "load_average": os.getloadavg(),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
