"""Benchmark: creating the return-visit tasks for a day of N finished work orders (target: 20,000 in
≤ 10 s).

    .venv/bin/python -m bench.followups_visits [--n 20000] [--preset taian-antai] [--chunk 2000]

Bulk-inserts N work orders of a bench company resolved over one day (40 % repairs, 10 %
installations, 10 % appliance jobs, 40 % consultations answered on the call), then times
`kefu.followups.services.visits_for_finished` over all of them in chunks of `--chunk` ids (what the
catch-up sweep does): one sampling decision per work order, a visit task with its due time in calling
hours for 100 % of the field jobs and the sampled share (10 %) of consultations, and the clocks of the
commitments that start on `return_visit.created` (the preset's C14 consultation visit). Prints JSON.

Use a scratch database: KEFU_VAR_DIR=/tmp/kefu-bench for SQLite, or
KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench for PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

BENCH_CODE = "bench-fu"
SH = ZoneInfo("Asia/Shanghai")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()


def _company(preset: str):
    from kefu.accounts.models import Company, User
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish
    from kefu.tickets.taxonomy import taxonomy_seed

    company, _ = Company.objects.get_or_create(
        code=BENCH_CODE, defaults={"name": "回访基准燃气有限公司", "short_name": "回访基准"}
    )
    taxonomy_seed(company=company)
    agent, _ = User.objects.get_or_create(
        username="bench_fu_agent", defaults=dict(company=company, role="agent")
    )
    manager, _ = User.objects.get_or_create(
        username="bench_fu_manager", defaults=dict(company=company, role="manager")
    )
    if not company.commitment_sets.filter(is_published=True).exists():
        s = commitment_set_from_preset(company=company, year=2026, preset=preset, by=manager)
        commitment_set_publish(commitment_set=s, by=manager, at=datetime(2026, 1, 1, tzinfo=SH))
    return company, agent


def _wipe(company) -> None:
    from django.db import connection

    from kefu.followups.models import ReturnVisit, VisitDecision
    from kefu.sla.models import Clock
    from kefu.tickets.models import Ticket

    with connection.cursor() as cur:
        for model in (Clock, ReturnVisit, VisitDecision, Ticket):
            cur.execute(f"DELETE FROM {model._meta.db_table} WHERE company_id = %s", [company.pk])


def build(company, agent, *, n: int, day: datetime) -> list[int]:
    from kefu.tickets.models import Ticket, TicketKind, TicketSubKind

    kinds = {k.code: k for k in TicketKind.objects.filter(company=company)}
    appliance_repair = TicketSubKind.objects.get(kind=kinds["appliance"], code="repair")
    mix = ["repair"] * 4 + ["installation"] + ["appliance"] + ["consultation"] * 4
    rows = []
    for i in range(n):
        code = mix[i % len(mix)]
        at = day + timedelta(seconds=int(i * 86400 / n))
        rows.append(
            Ticket(
                company=company,
                number=f"GD{day:%Y%m%d}-F{i:07d}",
                kind=kinds[code],
                sub_kind=appliance_repair if code == "appliance" else None,
                content="基准",
                state="resolved",
                owner=agent,
                created_by=agent,
                received_at=at - timedelta(hours=2),
                resolved_at=at,
                resolved_at_first_contact=code == "consultation",
                created_at=at,
                updated_at=at,
            )
        )
    Ticket.objects.bulk_create(rows, batch_size=2000)
    return list(Ticket.objects.filter(company=company).order_by("id").values_list("id", flat=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--preset", default="taian-antai")
    parser.add_argument("--chunk", type=int, default=2000)
    args = parser.parse_args(argv)
    if "django" not in sys.modules or not getattr(sys.modules["django"], "apps", None):
        _setup_django()
    from django.db import connection

    from kefu.followups.models import ReturnVisit, VisitDecision
    from kefu.followups.services import visits_for_finished
    from kefu.sla.models import Clock

    company, agent = _company(args.preset)
    _wipe(company)
    day = datetime(2026, 3, 2, tzinfo=SH)
    t0 = time.perf_counter()
    ids = build(company, agent, n=args.n, day=day)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    made = 0
    for i in range(0, len(ids), args.chunk):
        made += visits_for_finished(ids[i : i + args.chunk], now=day + timedelta(days=1))
    seconds = time.perf_counter() - t0
    out = {
        "benchmark": "followups_visits",
        "database": connection.vendor,
        "work_orders": len(ids),
        "decisions": VisitDecision.objects.filter(company=company).count(),
        "visits": ReturnVisit.objects.filter(company=company).count(),
        "visits_made": made,
        "clocks": Clock.objects.filter(company=company, subject_type="followups.visit").count(),
        "build_seconds": round(built, 2),
        "seconds": round(seconds, 2),
        "per_second": round(len(ids) / seconds) if seconds else None,
        "target_seconds": 10,
        "load_average": os.getloadavg(),
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
