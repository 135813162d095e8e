"""Benchmark: a day of transcripts checked end to end through the worker (target: 50,000 in ≤ 2 min).

    .venv/bin/python -m bench.quality_worker [--transcripts 50000] [--batch 500] [--seed 1]

Bulk-inserts N pending call transcripts of 40 turns (bench.quality_data) for a bench company's 20
agents, then times the worker's sweep (`kefu.quality.tasks.sweep`: claim by conditional UPDATE,
check against the company's rules, write the findings and the scores, batch after batch) until none
is pending. Prints one JSON object. Use a scratch database: KEFU_VAR_DIR=/tmp/kefu-bench for SQLite,
or KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench for PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

BENCH_CODE = "bench-quality"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--transcripts", type=int, default=50_000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if not os.environ.get("PYTEST_CURRENT_TEST"):
        _setup_django()
    from django.db import connection
    from django.utils import timezone

    from bench.quality_data import transcript
    from kefu.accounts.models import Company, User
    from kefu.core.bulk import bulk_insert
    from kefu.quality import services
    from kefu.quality.models import CheckStatus, Finding, Transcript
    from kefu.quality.tasks import sweep

    company, _ = Company.objects.get_or_create(
        code=BENCH_CODE, defaults={"name": "压测燃气有限公司", "short_name": "安泰燃气"}
    )
    agents = [
        User.objects.get_or_create(
            username=f"bench_q_agent{i}", defaults={"company": company, "role": "agent"}
        )[0]
        for i in range(20)
    ]
    services.quality_seed(company=company)
    Finding.objects.filter(company=company).delete()
    Transcript.objects.filter(company=company).delete()
    rng = random.Random(args.seed)
    now = timezone.now()
    made = time.perf_counter()
    rows = []
    for n in range(args.transcripts):
        d = transcript(rng)
        rows.append(
            {
                "company_id": company.pk,
                "source": "call",
                "external_id": f"B{n}",
                "agent_id": agents[n % 20].pk,
                "turns": d["turns"],
                "customer_surname": d["customer_surname"],
                "hangup_by": d["hangup_by"],
                "occurred_at": now,
                "received_at": now,
            }
        )
        if len(rows) == 5000:
            bulk_insert(Transcript, rows)
            rows = []
    bulk_insert(Transcript, rows)
    insert_seconds = time.perf_counter() - made
    began = time.perf_counter()
    checked = 0
    while True:
        r = sweep(time_budget=3600, batch=args.batch)
        checked += r["checked"]
        if not r["checked"]:
            break
    seconds = time.perf_counter() - began
    left = Transcript.objects.filter(company=company).exclude(status=CheckStatus.CHECKED).count()
    out = {
        "benchmark": "quality_worker",
        "database": connection.vendor,
        "transcripts": args.transcripts,
        "turns": 40,
        "checked": checked,
        "not_checked": left,
        "findings": Finding.objects.filter(company=company).count(),
        "insert_seconds": round(insert_seconds, 1),
        "seconds": round(seconds, 1),
        "per_second": round(checked / seconds, 1) if seconds else None,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
