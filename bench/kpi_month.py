"""Benchmark: all seventeen indicators of one company-month (issue target: ≤ 30 s at 4,000,000
customers, 10,000,000 work orders and 1,000,000 calls on PostgreSQL, and within 2× of hand-written
SQL computing the same counts), and the monthly report's PDF (target ≤ 10 s).

    .venv/bin/python -m bench.kpi_month [--customers 100000] [--clocks 100000] [--seed 1]

Fills a bench company with `customers` active customers (K1's N) and `clocks` commitment clocks
started in March 2026 over the C8 emergency on-site and the C10 repair appointment commitments
(K6, K8), a fifth of them late, reusing them when the company already holds exactly those numbers. Then times
`kefu.kpi.selectors.month_lines` (all seventeen, as the page computes them) and, for comparison,
hand-written SQL computing the same counts (clocks met / late per commitment started in the month,
and N), and the report PDF of the month. Prints one JSON object with the sizes and the seconds.

Use a scratch database: KEFU_VAR_DIR=/tmp/kefu-bench for SQLite, or
KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench for PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

from bench.sla_sweep import _company, _setup_django, _tz

MONTH = (2026, 3)


def _fill(company, the_set, *, customers: int, clocks: int, seed: int) -> None:
    from django.db import transaction

    from kefu.customers.models import Customer, CustomerCategory
    from kefu.sla.models import Clock
    from kefu.sla.states import ClockState

    rnd = random.Random(seed)
    category, _ = CustomerCategory.objects.get_or_create(
        company=company, code="resident", defaults={"name": "居民", "is_residential": True}
    )
    with transaction.atomic():
        if Customer.objects.filter(company=company).count() != customers:
            Customer.objects.filter(company=company).delete()
            Customer.objects.bulk_create(
                (
                    Customer(
                        company=company,
                        account_no=f"B{i:08d}",
                        name="基准用户",
                        category=category,
                        opened_on=date(2020, 1, 1),
                    )
                    for i in range(customers)
                ),
                batch_size=5000,
            )
        commitments = [
            the_set.commitments.get(spec_id="C8", clock_kind="on_site"),
            the_set.commitments.filter(spec_id="C10").order_by("pk").first(),
        ]
        if Clock.objects.filter(company=company, commitment__in=commitments).count() != clocks:
            Clock.objects.filter(company=company).delete()
            start = datetime(*MONTH, 1, tzinfo=_tz())

            def clock(i: int) -> Clock:
                c = commitments[i % 2]
                at = start + timedelta(minutes=rnd.randrange(60 * 24 * 30))
                limit = timedelta(minutes=c.limit_value) if c.limit_unit == "minutes" else timedelta(hours=24)
                late = rnd.random() < 0.2
                done = at + (limit * 1.5 if late else limit / 2)
                return Clock(
                    company=company,
                    subject_type="tickets.ticket",
                    subject_id=str(10_000_000 + i),
                    commitment=c,
                    commitment_version=the_set.version,
                    clock_kind=c.clock_kind,
                    limit_value=c.limit_value,
                    limit_unit=c.limit_unit,
                    started_at=at,
                    due_at=at + limit,
                    state=ClockState.MET_AFTER_BREACH if late else ClockState.MET,
                    met_at=done,
                    breached_at=at + limit if late else None,
                )

            Clock.objects.bulk_create((clock(i) for i in range(clocks)), batch_size=5000)


HAND_SQL = """
SELECT c.spec_id,
       SUM(CASE WHEN k.state = 'met' THEN 1 ELSE 0 END),
       SUM(CASE WHEN k.state IN ('met', 'met_after_breach', 'breached') THEN 1 ELSE 0 END)
FROM sla_clock k JOIN sla_commitment c ON c.id = k.commitment_id
WHERE k.company_id = %s AND k.started_at >= %s AND k.started_at < %s
GROUP BY c.spec_id
"""
HAND_N = "SELECT COUNT(*) FROM customers_customer WHERE company_id = %s AND status = 'active'"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--clocks", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    _setup_django()
    from django.db import connection

    from kefu.kpi import formulas as f
    from kefu.kpi.documents import report_pdf
    from kefu.kpi.report import monthly_report
    from kefu.kpi.selectors import month_lines

    company, the_set = _company()
    t0 = time.perf_counter()
    _fill(company, the_set, customers=args.customers, clocks=args.clocks, seed=args.seed)
    fill_s = time.perf_counter() - t0
    month = f.Month(*MONTH)
    now = datetime(2026, 4, 10, tzinfo=_tz())

    month_lines(company.pk, f.Month(MONTH[0], MONTH[1] - 1), now=now)  # warm-up: imports, the month before
    t0 = time.perf_counter()
    lines = month_lines(company.pk, month, now=now)
    kefu_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(HAND_SQL, [company.pk, month.start.astimezone(UTC), month.end.astimezone(UTC)])
        hand = {spec: (int(met), int(total)) for spec, met, total in cur.fetchall()}
        cur.execute(HAND_N, [company.pk])
        n = cur.fetchone()[0]
    sql_s = time.perf_counter() - t0

    figures = {x.indicator.code: x.figure for x in lines}
    same = (int(figures["K6"].numerator), int(figures["K6"].denominator)) == hand.get("C8") and (
        int(figures["K8"].numerator),
        int(figures["K8"].denominator),
    ) == hand.get("C10")

    t0 = time.perf_counter()
    pdf = report_pdf(monthly_report(company, month, now=now))
    pdf_s = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "database": connection.vendor,
                "customers": args.customers,
                "active_customers": n,
                "clocks": args.clocks,
                "fill_seconds": round(fill_s, 2),
                "all_17_seconds": round(kefu_s, 3),
                "hand_sql_seconds": round(sql_s, 3),
                "ratio_to_hand_sql": round(kefu_s / sql_s, 1) if sql_s else None,
                "same_counts_as_hand_sql": same,
                "report_pdf_seconds": round(pdf_s, 3),
                "report_pdf_bytes": len(pdf),
            },
            ensure_ascii=False,
        )
    )
    if not same:
        print(
            json.dumps(
                {
                    "kefu": {
                        c: [str(figures[c].numerator), str(figures[c].denominator)] for c in ("K6", "K8")
                    },
                    "hand": hand,
                }
            ),
            file=sys.stderr,
        )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
