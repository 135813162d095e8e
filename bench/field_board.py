"""Benchmark: the dispatch board and the emergency ranking (targets: board p99 ≤ 150 ms per refresh
with 2,000 open field jobs and 200 crews; ranking p99 ≤ 30 ms among 200 crews).

    .venv/bin/python -m bench.field_board [--jobs 2000] [--crews 200] [--refreshes 60] [--rankings 200]

A refresh is the whole htmx request the board makes every 5 s: GET /field/board/partial/ through
Django's test client (middleware, session, the selectors, ranking of up to 10 undispatched jobs,
the template with its map). A ranking is `kefu.field.selectors.rank_for_job` for an emergency job
(the crews' duty, positions and current jobs read, then ranked). Prints one JSON object.
Use a scratch database (KEFU_DATABASE_URL=postgres://…/kefu_bench_field, or KEFU_VAR_DIR=/tmp/…).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time

from bench.tickets_create import _cpu_seconds
from bench.tickets_data import setup_django, summary


def _backend_pid() -> int | None:
    """This process's PostgreSQL server process (its CPU is read from /proc), None on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def _measure(fn, times: int) -> tuple[list[float], dict]:
    """Wall milliseconds of each call, and the CPU per call: this process (process_time) and, on
    PostgreSQL, the server process of its connection; and the queries of one call."""
    from django.db import connection

    queries = []  # counted by a wrapper: a request resets connection.queries at its start
    with connection.execute_wrapper(lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)):
        fn()
    pid = _backend_pid()
    pids = [pid] if pid else []
    wall: list[float] = []
    cpu0, db0 = time.process_time(), _cpu_seconds(pids)
    for _ in range(times):
        t = time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
    cpu, db = time.process_time() - cpu0, _cpu_seconds(pids) - db0
    return wall, {
        "queries": len(queries),
        "python_cpu_ms": round(cpu * 1000 / times, 2),
        "database_cpu_ms": round(db * 1000 / times, 2) if pids else None,
    }


def run(*, jobs: int, crews: int, refreshes: int, rankings: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from bench.field_data import ensure_field
    from kefu.field.models import FieldJob
    from kefu.field.selectors import board, rank_for_job
    from kefu.field.states import OPEN_STATES

    t0 = time.perf_counter()
    company, dispatcher, crew_rows = ensure_field(jobs=jobs, crews=crews)
    fill_seconds = time.perf_counter() - t0
    client = Client(HTTP_HOST="localhost")
    client.force_login(dispatcher)
    r = client.get("/field/board/partial/")
    assert r.status_code == 200, r.status_code

    def refresh():
        resp = client.get("/field/board/partial/")
        assert resp.status_code == 200, resp.status_code
        return resp

    refresh_ms, refresh_cpu = _measure(refresh, refreshes)
    selector_ms, selector_cpu = _measure(lambda: board(user=dispatcher), max(1, refreshes // 2))
    emergencies = list(
        FieldJob.objects.filter(
            company=company, is_emergency=True, state__in=list(OPEN_STATES)
        ).select_related("premise", "company")[:50]
    )
    turn = itertools.count()

    def rank():
        return rank_for_job(job=emergencies[next(turn) % len(emergencies)], now=timezone.now())

    ranked = rank()
    best = ranked[0].reason if ranked else ""
    rank_ms, rank_cpu = _measure(rank, rankings)
    r = refresh()
    return {
        "benchmark": "field_board",
        "database": connection.vendor,
        "open_jobs": FieldJob.objects.filter(company=company, state__in=list(OPEN_STATES)).count(),
        "crews": len(crew_rows),
        "fill_seconds": round(fill_seconds, 1),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "board_refresh": {**summary(refresh_ms), **refresh_cpu},
        "board_selector": {**summary(selector_ms), **selector_cpu},
        "board_bytes": len(r.content),
        "ranking": {**summary(rank_ms), **rank_cpu},
        "ranking_example": best,
        "targets": {"board_refresh_p99_ms": 150, "ranking_p99_ms": 30},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=2000)
    p.add_argument("--crews", type=int, default=200)
    p.add_argument("--refreshes", type=int, default=60)
    p.add_argument("--rankings", type=int, default=200)
    args = p.parse_args(argv)
    out = run(jobs=args.jobs, crews=args.crews, refreshes=args.refreshes, rankings=args.rankings)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    setup_django()
    sys.exit(main())
