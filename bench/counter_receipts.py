"""Benchmark: receipts issued by 8 concurrent clerks (target ≥ 100 per second, no gap, no duplicate).

    .venv/bin/python -m bench.counter_receipts [--clerks 8] [--receipts 2000] [--no-pdf]

Each clerk is a thread with its own database connection, released together by a barrier, taking
payments through the real service (`kefu.counter.services.payment_take`: the price list in force,
the lines, the audit row, then the gapless receipt number under the year's locked series) and, unless
`--no-pdf`, printing each receipt: its PDF drawn from the stored row (`kefu.counter.pdf.receipt_pdf`)
as the receipt's download draws it.
Afterwards the receipt numbers of the run are checked: consecutive, none twice. Prints one JSON
object, with the CPU per receipt of this process (all clerks) and, on a local PostgreSQL, of the
clerks' server processes — figures that hold on a loaded machine, unlike the wall time.
Use a scratch database: KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench_counter
(migrate first), or KEFU_VAR_DIR=/tmp/kefu-bench-counter for SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

BENCH_CODE = "bench-counter"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()


def _company(clerks: int):
    from kefu.accounts.models import Company, User
    from kefu.counter.services import counter_seed

    company, _ = Company.objects.get_or_create(
        code=BENCH_CODE, defaults={"name": "基准测试燃气公司", "short_name": "基准燃气"}
    )
    manager, _ = User.objects.get_or_create(
        username="bench_counter_manager",
        defaults={"company": company, "role": "manager", "employee_no": "BCM0"},
    )
    users = []
    for i in range(clerks):
        u, _ = User.objects.get_or_create(
            username=f"bench_counter_clerk{i}",
            defaults={
                "company": company,
                "role": "clerk",
                "employee_no": f"BCC{i}",
                "full_name": f"营业员{i}",
            },
        )
        users.append(u)
    hall = counter_seed(company=company, by=manager)
    return company, hall, users


def _backend_pid() -> int | None:
    """This thread's PostgreSQL server process (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def _pid_cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a local process (the database server's backend), 0 if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, TypeError):
        return 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clerks", type=int, default=8)
    p.add_argument("--receipts", type=int, default=2000, help="in total, shared among the clerks")
    p.add_argument("--no-pdf", action="store_true", help="record the payments only, draw no PDF")
    args = p.parse_args(argv)
    if not os.environ.get("PYTEST_CURRENT_TEST"):
        _setup_django()
    from django.db import connection, connections

    from kefu.counter.models import Payment
    from kefu.counter.pdf import receipt_pdf
    from kefu.counter.services import payment_take

    company, hall, clerks = _company(args.clerks)
    before = set(Payment.objects.filter(company=company).values_list("receipt_no", flat=True))
    per = [
        args.receipts // args.clerks + (1 if i < args.receipts % args.clerks else 0)
        for i in range(args.clerks)
    ]
    barrier = threading.Barrier(args.clerks + 1)
    issued: list[list[str]] = [[] for _ in clerks]
    errors: list[str] = []
    pdf_bytes = [0] * args.clerks
    db_cpu = [0.0] * args.clerks

    def clerk(i: int) -> None:
        try:
            pid = _backend_pid()
            db_before = _pid_cpu_seconds(pid)
            barrier.wait(timeout=120)
            for k in range(per[i]):
                pay = payment_take(
                    by=clerks[i],
                    hall_id=hall.pk,
                    lines=[("IC-CARD", 1), ("HOSE", 1 + k % 3)],
                    method="cash",
                    tendered="100",
                    account_no=f"{i:02d}{k:06d}",
                )
                issued[i].append(pay.receipt_no)
                if not args.no_pdf:  # the print: drawn from the stored row, as the download is
                    stored = Payment.objects.select_related("company", "price_list").get(pk=pay.pk)
                    pdf_bytes[i] += len(receipt_pdf(stored))
            db_cpu[i] = _pid_cpu_seconds(pid) - db_before
        except Exception as exc:  # noqa: BLE001 - reported in the JSON
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(args.clerks)]
    for t in threads:
        t.start()
    barrier.wait(timeout=120)
    t0, cpu0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0

    numbers = [n for lst in issued for n in lst]
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    stored = set(Payment.objects.filter(company=company).values_list("receipt_no", flat=True)) - before
    gaps = (seqs[-1] - seqs[0] + 1 - len(set(seqs))) if seqs else 0
    out = {
        "benchmark": "counter_receipts",
        "database": connection.vendor,
        "clerks": args.clerks,
        "receipts": len(numbers),
        "pdf": not args.no_pdf,
        "seconds": round(elapsed, 3),
        "per_second": round(len(numbers) / elapsed, 1) if elapsed else 0,
        "app_cpu_ms_per_receipt": round(cpu * 1000 / len(numbers), 2) if numbers else None,
        "db_cpu_ms_per_receipt": round(sum(db_cpu) * 1000 / len(numbers), 2) if numbers else None,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "duplicates": len(numbers) - len(set(numbers)),
        "gaps": gaps,
        "stored_match": stored == set(numbers),
        "first": min(numbers) if numbers else None,
        "last": max(numbers) if numbers else None,
        "payments_in_company": Payment.objects.filter(company=company).count(),
        "avg_pdf_bytes": round(sum(pdf_bytes) / len(numbers)) if numbers and not args.no_pdf else None,
        "errors": errors[:5],
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0 if not errors and out["duplicates"] == 0 and gaps == 0 and out["stored_match"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
