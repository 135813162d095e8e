"""Benchmark: caller lookup at N customers (target p99 ≤ 10 ms in-process, ≤ 25 ms through HTTP).

    .venv/bin/python -m bench.lookup [--customers 1000000] [--queries 2000] [--http-queries 500]
                                      [--no-http] [--explain] [--seed 1]

Fills the database with the demo city (`kefu.customers.demo.build_demo`, reused when it already
holds at least N customers), then times `caller_lookup` for a sample of real customers by phone
(written as callers say it: "+86 138-…", "138 …"), by account number and by address
("幸福小区3-2-501", "幸福小区3号楼2单元501室", "3栋2单元501室" without the community). Then the same
queries through HTTP: gunicorn on 127.0.0.1 (a free port), GET /api/v1/customers/lookup with an
API token over one keep-alive connection. Prints one JSON object with p50/p99 per kind and the
share of queries whose customer was in the results.

Use a scratch database: KEFU_VAR_DIR=/tmp/kefu-bench for SQLite, or
KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench for PostgreSQL.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("phone", "account", "address", "address_no_community")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    # Production-like: DEBUG off, so Django does not keep every SQL statement in memory.
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[k]


def summary(ms: list[float]) -> dict:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(max(ms), 3),
    }


def ensure_city(customers: int, seed: int) -> tuple[float, int]:
    """The demo city with at least `customers` customers; returns (seconds spent building, count)."""
    from kefu.accounts.models import Company
    from kefu.customers.demo import MAIN_CODE, build_demo
    from kefu.customers.models import Customer

    company = Company.objects.filter(code=MAIN_CODE).first()
    have = Customer.objects.filter(company=company).count() if company else 0
    if have >= customers:
        return 0.0, have
    started = time.perf_counter()
    build_demo(customers=customers, seed=seed)
    company = Company.objects.get(code=MAIN_CODE)
    return time.perf_counter() - started, Customer.objects.filter(company=company).count()


def _phone_as_said(number: str, rnd: random.Random) -> str:
    if len(number) == 11 and number.startswith("1"):
        return rnd.choice(
            [
                number,
                f"+86 {number[:3]}-{number[3:7]}-{number[7:]}",
                f"{number[:3]} {number[3:7]} {number[7:]}",
            ]
        )
    return rnd.choice(
        [number, f"{number[:4]}-{number[4:]}", number[4:]]
    )  # landline, or local without area code


def sample_queries(company_id: int, n: int, seed: int) -> list[tuple[str, str, int]]:
    """[(kind, query text, expected customer id)] for `n` random customers of each kind."""
    from django.db.models import Max, Min

    from kefu.customers.models import Customer

    rnd = random.Random(seed)
    qs = Customer.objects.filter(company_id=company_id)
    bounds = qs.aggregate(lo=Min("id"), hi=Max("id"))
    out: list[tuple[str, str, int]] = []
    attempts = 0
    counts = dict.fromkeys(KINDS, 0)
    while min(counts.values()) < n and attempts < n * 50:
        attempts += 1
        c = (
            qs.filter(id__gte=rnd.randint(bounds["lo"], bounds["hi"]))
            .select_related("premise")
            .order_by("id")
            .first()
        )
        if c is None:
            continue
        if counts["account"] < n:
            out.append(("account", c.account_no, c.id))
            counts["account"] += 1
        phone = c.phones.order_by("-is_primary", "id").values_list("number", flat=True).first()
        if phone and counts["phone"] < n:
            out.append(("phone", _phone_as_said(phone, rnd), c.id))
            counts["phone"] += 1
        p = c.premise
        if p and p.building and p.unit and p.room:
            if counts["address"] < n:
                if rnd.random() < 0.5:
                    text = f"{p.community}{p.building}-{p.unit}-{p.room}"
                else:
                    text = f"{p.community}{p.building}号楼{p.unit}单元{p.room}室"
                out.append(("address", text, c.id))
                counts["address"] += 1
            if counts["address_no_community"] < n:
                # Without the community many premises match: the customer may be past the first 20.
                out.append(("address_no_community", f"{p.building}栋{p.unit}单元{p.room}室", c.id))
                counts["address_no_community"] += 1
    rnd.shuffle(out)
    return out


def measure_in_process(user, queries: list[tuple[str, str, int]]) -> dict:
    """Wall time and this thread's CPU time per lookup. On a loaded machine (other processes
    competing for the cores) wall time includes waiting for a core; CPU time does not."""
    from kefu.customers.selectors import caller_lookup

    for _kind, text, _cid in queries:  # one warm pass: the database pages in memory, as in service
        caller_lookup(user=user, query=text)
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    cpu: dict[str, list[float]] = {k: [] for k in KINDS}
    hits = dict.fromkeys(KINDS, 0)
    for kind, text, cid in queries:
        c0 = time.thread_time()
        t0 = time.perf_counter()
        found = caller_lookup(user=user, query=text)
        times[kind].append((time.perf_counter() - t0) * 1000)
        cpu[kind].append((time.thread_time() - c0) * 1000)
        hits[kind] += any(r.customer_id == cid for r in found)
    return {
        k: {
            **summary(times[k]),
            "cpu_p50_ms": round(percentile(cpu[k], 50), 3),
            "cpu_p99_ms": round(percentile(cpu[k], 99), 3),
            "found_rate": round(hits[k] / len(times[k]), 4),
        }
        for k in KINDS
        if times[k]
    }


def _process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (Linux /proc), to report the server's CPU per request."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _tree_cpu_seconds(root: int) -> float | None:
    """CPU seconds of a process and its children (gunicorn's master and its worker)."""
    total = _process_cpu_seconds(root)
    if total is None:
        return None
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == root:
                total += _process_cpu_seconds(int(entry.name)) or 0.0
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_http(user, queries: list[tuple[str, str, int]]) -> dict:
    """The same queries through gunicorn on 127.0.0.1 with a read-only API token."""
    from kefu.accounts.models import ApiToken
    from kefu.accounts.services import token_create

    ApiToken.objects.filter(user=user, name="bench-lookup").delete()
    _row, raw = token_create(user=user, name="bench-lookup", scopes=[ApiToken.Scope.READ])
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kefu.settings",
        "KEFU_DEBUG": os.environ.get("KEFU_DEBUG", "0"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "kefu.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--threads",
            "1",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError(
                        "gunicorn did not start: " + (server.stderr.read().decode() if server.stderr else "")
                    )
                time.sleep(0.2)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json", "Connection": "keep-alive"}

        def get(text: str) -> list:
            conn.request(
                "GET", "/api/v1/customers/lookup?" + urllib.parse.urlencode({"q": text}), headers=headers
            )
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}: {body[:200]!r}")
            return json.loads(body)

        for _kind, text, _cid in queries:
            get(text)
        times: dict[str, list[float]] = {k: [] for k in KINDS}
        hits = dict.fromkeys(KINDS, 0)
        cpu_before = _tree_cpu_seconds(server.pid)
        for kind, text, cid in queries:
            t0 = time.perf_counter()
            found = get(text)
            times[kind].append((time.perf_counter() - t0) * 1000)
            hits[kind] += any(r["customer_id"] == cid for r in found)
        cpu_after = _tree_cpu_seconds(server.pid)
        conn.close()
        out: dict = {
            k: {**summary(times[k]), "found_rate": round(hits[k] / len(times[k]), 4)}
            for k in KINDS
            if times[k]
        }
        if cpu_before is not None and cpu_after is not None and queries:
            out["server_cpu_mean_ms_per_request"] = round((cpu_after - cpu_before) * 1000 / len(queries), 3)
        return out
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        ApiToken.objects.filter(user=user, name="bench-lookup").delete()


def explain(user, queries: list[tuple[str, str, int]]) -> dict[str, list[str]]:
    """The query plans of one lookup per kind (to check that every query uses an index)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.customers.selectors import caller_lookup

    plans: dict[str, list[str]] = {}
    for kind in KINDS:
        text = next((t for k, t, _c in queries if k == kind), None)
        if text is None:
            continue
        with CaptureQueriesContext(connection) as ctx:
            caller_lookup(user=user, query=text)
        lines = []
        with connection.cursor() as cur:
            for q in ctx.captured_queries:
                sql = q["sql"]
                prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
                cur.execute(prefix + sql)
                lines.append(sql[:160])
                lines.extend("    " + " ".join(str(c) for c in row) for row in cur.fetchall())
        plans[kind] = lines
    return plans


def run(*, customers: int, queries: int, http_queries: int, seed: int, http: bool, show_plans: bool) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from kefu.accounts.models import User
    from kefu.customers.demo import MAIN_CODE

    call_command("migrate", verbosity=0)
    build_seconds, have = ensure_city(customers, seed)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # fresh statistics for the planner on both databases
    user = User.objects.select_related("company").get(username="agent", company__code=MAIN_CODE)
    sample = sample_queries(user.company_id, queries, seed)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = {
        "benchmark": "caller_lookup",
        "cores": os.cpu_count(),
        "load_average_1min_at_start": round(load, 2) if load is not None else None,
        "database": connection.vendor,
        "customers": have,
        "build_seconds": round(build_seconds, 1),
        "queries_per_kind": queries,
        "in_process": measure_in_process(user, sample),
        "target": {"in_process_p99_ms": 10, "http_p99_ms": 25},
    }
    if http:
        result["http"] = measure_http(user, sample[: http_queries * len(KINDS)])
        result["http_server"] = "gunicorn, 1 sync worker, 127.0.0.1, keep-alive, API token"
    if show_plans:
        result["plans"] = explain(user, sample)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--customers", type=int, default=1_000_000, help="customers in the demo city (default 1,000,000)"
    )
    parser.add_argument(
        "--queries", type=int, default=2000, help="queries per kind in-process (default 2000)"
    )
    parser.add_argument(
        "--http-queries", type=int, default=500, help="queries per kind through HTTP (default 500)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurement")
    parser.add_argument("--explain", action="store_true", help="include the query plans in the output")
    args = parser.parse_args(argv)
    _setup_django()
    result = run(
        customers=args.customers,
        queries=args.queries,
        http_queries=args.http_queries,
        seed=args.seed,
        http=not args.no_http,
        show_plans=args.explain,
    )
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
