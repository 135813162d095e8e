"""Benchmark: one clock sweep over N open clocks (target ≤ 2 s at 1,000,000, memory flat in N).

    .venv/bin/python -m bench.sla_sweep [--sizes 100000,1000000] [--due-fraction 0.01]
                                        [--batch-size 500] [--seed 1]

For each N: bulk-inserts N running clocks of a bench company (reusing them when the company already
holds exactly N), of which `due-fraction` are due — half past due (to be marked breached, the
supervisor told) and half past their 75 % warning time (the owner and the team lead warned), on
real work orders — and the rest due in 1–5 days. Then one `kefu.sla.sweep.sweep` (breach,
escalate, warn and the catch-up of work orders without clocks) is timed; the clocks and
notifications are reset and the same sweep runs again under tracemalloc for its peak Python
memory. Prints one JSON object: per N the seconds, the peak MiB, the clocks found and the
notifications written.

Use a scratch database: KEFU_VAR_DIR=/tmp/kefu-bench for SQLite, or
KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench for PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import tracemalloc
from datetime import datetime, timedelta

BENCH_CODE = "bench-sla"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")  # Django must not keep every SQL statement in memory
    import django

    django.setup()


def _people(company):
    """The bench company's people: 20 agents in 4 teams with their leads, a supervisor, a manager."""
    from kefu.accounts.models import Department, Team, User

    dept, _ = Department.objects.get_or_create(company=company, code="svc", defaults={"name": "客服中心"})
    agents = []
    for t in range(4):
        team, _ = Team.objects.get_or_create(company=company, department=dept, name=f"{t + 1}班")
        lead, created = User.objects.get_or_create(
            username=f"bench_lead{t}",
            defaults=dict(company=company, role="team_lead", team=team, department=dept),
        )
        for a in range(5):
            u, _ = User.objects.get_or_create(
                username=f"bench_agent{t}_{a}",
                defaults=dict(company=company, role="agent", team=team, department=dept),
            )
            agents.append(u)
    for role in ("supervisor", "manager"):
        User.objects.get_or_create(
            username=f"bench_{role}", defaults=dict(company=company, role=role, department=dept)
        )
    return agents


def _company():
    from kefu.accounts.models import Company, User
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish
    from kefu.tickets.taxonomy import taxonomy_seed

    company, _ = Company.objects.get_or_create(
        code=BENCH_CODE, defaults={"name": "基准测试燃气有限公司", "short_name": "基准燃气"}
    )
    taxonomy_seed(company=company)
    admin, _ = User.objects.get_or_create(
        username="bench_admin", defaults=dict(company=company, role="manager")
    )
    the_set = company.commitment_sets.filter(is_published=True).first()
    if the_set is None:
        the_set = commitment_set_from_preset(
            company=company, year=2026, preset="laizhou-crgas-2024", by=admin
        )
        the_set = commitment_set_publish(
            commitment_set=the_set, by=admin, at=datetime(2026, 1, 1, tzinfo=_tz())
        )
    return company, the_set


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


def _wipe(company) -> None:
    from django.db import connection

    from kefu.notify.models import Notification
    from kefu.sla.models import Clock, ClockAttachment
    from kefu.tickets.models import Ticket, TicketEvent

    with connection.cursor() as cur:
        for model in (Notification, ClockAttachment, Clock, TicketEvent, Ticket):
            cur.execute(f"DELETE FROM {model._meta.db_table} WHERE company_id = %s", [company.pk])


def build(company, the_set, *, n: int, due_fraction: float, now: datetime, seed: int) -> dict:
    """N clocks (due ones on real work orders); returns the counts and the seconds spent."""
    from django.db import connection, transaction

    from kefu.sla.models import Clock, ClockAttachment
    from kefu.tickets.clocks import SUBJECT_TYPE
    from kefu.tickets.models import Ticket, TicketKind

    started = time.perf_counter()
    _wipe(company)
    rnd = random.Random(seed)
    agents = _people(company)
    commitment = the_set.commitments.get(code="repair_on_site")
    kind = TicketKind.objects.get(company=company, code="repair")
    due = int(n * due_fraction)
    tickets = [
        Ticket(
            company=company,
            number=f"GD{now:%Y%m%d}-B{i:07d}",
            kind=kind,
            content="基准测试",
            owner=agents[i % len(agents)],
            created_by=agents[i % len(agents)],
            assigned_team=agents[i % len(agents)].team,
            received_at=now - timedelta(days=1),
            created_at=now - timedelta(days=1),
            updated_at=now,
        )
        for i in range(due)
    ]
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    ids = list(Ticket.objects.filter(company=company).order_by("id").values_list("id", flat=True))
    ClockAttachment.objects.bulk_create(
        [
            ClockAttachment(
                company=company, subject_type=SUBJECT_TYPE, subject_id=str(i), commitment_set=the_set
            )
            for i in ids
        ],
        batch_size=2000,
    )
    cols = (
        "company_id",
        "subject_type",
        "subject_id",
        "commitment_id",
        "commitment_version",
        "clock_kind",
        "limit_value",
        "limit_unit",
        "started_at",
        "due_at",
        "warn_at",
        "escalate_at",
        "state",
        "paused_total",
        "escalation_level",
        "fallback_calendar",
        "created_at",
    )
    ops = connection.ops
    dt = ops.adapt_datetimefield_value
    zero = 0 if connection.vendor == "sqlite" else timedelta(0)
    fixed = (commitment.clock_kind, commitment.limit_value, commitment.limit_unit)
    sql = f"INSERT INTO {Clock._meta.db_table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    created = dt(now)
    chunk = 20_000
    with connection.cursor() as cur:
        for start in range(0, n, chunk):
            rows = []
            for i in range(start, min(n, start + chunk)):
                if i < due:
                    late = i % 2 == 0
                    minutes = -rnd.randint(1, 30) if late else rnd.randint(5, 240)
                    subject = str(ids[i])
                else:
                    minutes = rnd.randint(60 * 24, 60 * 24 * 5)
                    subject = f"b{i}"
                due_at = now + timedelta(minutes=minutes)
                started_at = due_at - timedelta(days=1)
                rows.append(
                    (
                        company.pk,
                        SUBJECT_TYPE,
                        subject,
                        commitment.pk,
                        the_set.version,
                        *fixed,
                        dt(started_at),
                        dt(due_at),
                        dt(due_at - timedelta(hours=6)),
                        dt(due_at + timedelta(hours=2)),
                        "running",
                        zero,
                        0,
                        False,
                        created,
                    )
                )
            with transaction.atomic():
                cur.executemany(sql, rows)
    _analyze()
    return {"clocks": n, "due": due, "build_seconds": round(time.perf_counter() - started, 1)}


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def reset(company) -> None:
    """Undo one sweep (the same clocks are due again, no notifications)."""
    from django.db import connection

    from kefu.notify.models import Notification
    from kefu.sla.models import Clock

    Clock.objects.filter(company=company).exclude(warned_at__isnull=True, escalation_level=0).update(
        state="running", warned_at=None, breached_at=None, escalation_level=0
    )
    Notification.objects.filter(company=company).delete()
    if connection.vendor == "postgresql":
        _analyze()


def run_size(n: int, *, due_fraction: float, batch_size: int, seed: int) -> dict:
    from kefu.sla.sweep import sweep

    company, the_set = _company()
    now = datetime.now(_tz()).replace(microsecond=0)
    info = build(company, the_set, n=n, due_fraction=due_fraction, now=now, seed=seed)
    # warm-up as in a long-running worker: imports, URL table; nothing is due a month earlier
    sweep(now=now - timedelta(days=30), batch_size=batch_size)
    from kefu.tickets.clocks import _ticket_url

    _ticket_url("1")
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    result = sweep(now=now, batch_size=batch_size)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    reset(company)
    tracemalloc.start()
    traced = sweep(now=now, batch_size=batch_size)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        **info,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "peak_mib": round(peak / 2**20, 2),
        "breached": result.breached,
        "warned": result.warned,
        "escalated": result.escalated,
        "notifications": result.notifications,
        "batches": result.batches,
        "traced_run_same_counts": (traced.breached, traced.warned, traced.notifications)
        == (result.breached, result.warned, result.notifications),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.sla_sweep", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated numbers of open clocks")
    parser.add_argument(
        "--due-fraction", type=float, default=0.01, help="share of clocks due (half breached)"
    )
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the bench rows afterwards")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 10 or not 0 < args.due_fraction <= 1:
        parser.error("sizes ≥ 10 and 0 < due-fraction ≤ 1")
    _setup_django()
    from django.db import connection

    runs = [
        run_size(n, due_fraction=args.due_fraction, batch_size=args.batch_size, seed=args.seed) for n in sizes
    ]
    if not args.keep:
        from kefu.accounts.models import Company

        _wipe(Company.objects.get(code=BENCH_CODE))
    out = {
        "benchmark": "sla_sweep",
        "database": connection.vendor,
        "due_fraction": args.due_fraction,
        "batch_size": args.batch_size,
        "target_seconds": 2.0,
        "runs": runs,
    }
    if len(runs) > 1:
        out["peak_mib_ratio_largest_to_smallest"] = round(
            runs[-1]["peak_mib"] / max(runs[0]["peak_mib"], 0.01), 2
        )
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
