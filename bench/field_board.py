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
import json
import sys
import time

from bench.tickets_data import setup_django, summary


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
    refresh_ms = []
    for _ in range(refreshes):
        t = time.perf_counter()
        r = client.get("/field/board/partial/")
        refresh_ms.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    selector_ms = []
    for _ in range(max(1, refreshes // 2)):
        t = time.perf_counter()
        board(user=dispatcher)
        selector_ms.append((time.perf_counter() - t) * 1000)
    emergencies = list(
        FieldJob.objects.filter(
            company=company, is_emergency=True, state__in=list(OPEN_STATES)
        ).select_related("premise", "company")[:50]
    )
    rank_ms = []
    best = None
    for i in range(rankings):
        job = emergencies[i % len(emergencies)]
        t = time.perf_counter()
        ranked = rank_for_job(job=job, now=timezone.now())
        rank_ms.append((time.perf_counter() - t) * 1000)
        best = best or (ranked[0].reason if ranked else "")
    return {
        "benchmark": "field_board",
        "database": connection.vendor,
        "open_jobs": FieldJob.objects.filter(company=company, state__in=list(OPEN_STATES)).count(),
        "crews": len(crew_rows),
        "fill_seconds": round(fill_seconds, 1),
        "board_refresh": summary(refresh_ms),
        "board_selector": summary(selector_ms),
        "board_bytes": len(r.content),
        "ranking": summary(rank_ms),
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
