"""Benchmark: a day of transcripts checked end to end through the worker (target: 50,000 in ≤ 2 min).

    .venv/bin/python -m bench.quality_worker [--transcripts 50000] [--batch 500] [--seed 1]

Bulk-inserts N pending call transcripts of 40 turns (bench.quality_data) for a bench company's 20
agents, then times the worker's sweep (`kefu.quality.tasks.sweep`: claim by conditional UPDATE,
check against the company's rules, write the findings and the scores, batch after batch) until none
is pending. Prints one JSON object: wall time, this process's CPU (`cpu_seconds`, which includes
SQLite's work) and, on PostgreSQL, the CPU of the database backend serving it (`db_cpu_seconds`, from
/proc), the number of queries, and a digest of the findings and scores (`findings_sha256`,
independent of row ids) so a change of the worker can be shown not to change what it finds.
Use a scratch database: KEFU_VAR_DIR=/tmp/kefu-bench for SQLite,
or KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench for PostgreSQL.
"""

from __future__ import annotations

import argparse
import hashlib
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


def _backend_cpu(connection) -> float | None:
    """CPU seconds (user + system) of the PostgreSQL backend serving `connection`, when it runs on
    this machine; None on SQLite (its work is in this process's own CPU) or when /proc is not ours."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _digest(company) -> str:
    """sha256 of every finding and score of the bench company, keyed by external id and rule code
    (not row ids), in a fixed order."""
    from kefu.quality.models import Finding, Transcript

    h = hashlib.sha256()
    rows = Finding.objects.filter(company=company).values_list(
        "transcript__external_id",
        "rule__code",
        "rule_version",
        "turn",
        "start",
        "end",
        "at_ms",
        "phrase",
        "missing",
        "severity",
        "agent_id_copy",
        "occurred_at",
        "transcript__occurred_at",  # the bench's occurred_at is its start time: compared, not hashed
    )
    for *r, at, tr_at in sorted(rows, key=repr):
        h.update(repr((*r, at == tr_at)).encode())
    scores = Transcript.objects.filter(company=company).values_list(
        "external_id", "status", "score", "hit_count"
    )
    for r in sorted(scores):
        h.update(repr(r).encode())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--transcripts", type=int, default=50_000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile", help="write a cProfile (CPU time) of the sweep to this file (pstats)")
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
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: meaningful on a loaded machine
    db_cpu = _backend_cpu(connection)
    if profiler:
        profiler.enable()
    began, cpu = time.perf_counter(), time.process_time()
    checked = 0
    with connection.execute_wrapper(count):
        while True:
            r = sweep(time_budget=3600, batch=args.batch)
            checked += r["checked"]
            if not r["checked"]:
                break
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    db_cpu = None if db_cpu is None else _backend_cpu(connection) - db_cpu
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
        "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_transcript": round(cpu * 1000 / checked, 3) if checked else None,
        "db_cpu_seconds": None if db_cpu is None else round(db_cpu, 2),
        "db_cpu_ms_per_transcript": round(db_cpu * 1000 / checked, 3)
        if checked and db_cpu is not None
        else None,
        "queries": queries[0],
        "findings_sha256": _digest(company),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
