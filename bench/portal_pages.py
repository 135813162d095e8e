"""Benchmark: the customer portal's pages at N customers (target p99 ≤ 100 ms at 1,000,000) and C
concurrent portal users for S seconds with no error (loopback only).

    .venv/bin/python -m bench.portal_pages [--customers 1000000] [--accounts 300] [--requests 1500]
                                           [--users 200] [--seconds 60] [--workers 2] [--threads 8]

Fills the database with the demo city (`kefu.customers.demo.build_demo` through bench.lookup's
`ensure_city`, reused when it already holds N customers) and publishes this year's commitments, then
links `--accounts` random households through the real services (account number + phone on file + the
SMS code) and gives each a fault report. gunicorn serves on 127.0.0.1 (a free port):

1. latency: every page (home, my work orders, one work order's progress, interruptions, commitments,
   the leak page, and GET /api/v1/portal/tickets) in turn for random accounts over one keep-alive
   connection — p50/p99 per page and overall;
2. load: `--users` threads, each a customer with its own connection, request pages in a loop for
   `--seconds`; any answer but 200 (or a dropped connection) is an error.

Every request also writes its access-log row (S2), so the figure includes that write. Each phase
also reports the CPU per request of gunicorn (master and workers) and, on a local PostgreSQL, of its
server processes. The per-address
rate limit is raised for the run (all users come from 127.0.0.1). Prints one JSON object.

Use a scratch database: KEFU_VAR_DIR=/tmp/kefu-portal-bench for SQLite, or
KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_portal_bench for PostgreSQL.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

from bench.lookup import ROOT, _free_port, _process_cpu_seconds, _tree_cpu_seconds, percentile, summary

PAGES = ("home", "orders", "order", "outages", "commitments", "leak", "api_tickets")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    os.environ["KEFU_PORTAL_REQUESTS_PER_MINUTE"] = "100000000"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def prepare(*, customers: int, accounts: int, seed: int) -> tuple[dict, list[tuple[str, int]]]:
    """The city, the year's commitments, and `accounts` linked households with one work order each."""
    from django.utils import timezone

    from bench.lookup import ensure_city
    from kefu.accounts.models import Company
    from kefu.customers.demo import MAIN_CODE
    from kefu.customers.models import Phone
    from kefu.portal import rules, services
    from kefu.portal.models import PortalChallenge
    from kefu.sla.selectors import commitment_set_in_force

    build_seconds, have = ensure_city(customers, seed)
    company = Company.objects.get(code=MAIN_CODE)
    if commitment_set_in_force(company, timezone.now()) is None:
        from kefu.sla.demo import publish_demo_commitments

        publish_demo_commitments(company)
    real_code, rules.new_code = rules.new_code, (lambda: "135790")  # the bench reads no SMS
    rnd = random.Random(seed)
    lo, hi = (
        Phone.objects.filter(customer__company=company).order_by("id").values_list("id", flat=True)[:1][0],
        (Phone.objects.filter(customer__company=company).order_by("-id").values_list("id", flat=True)[:1][0]),
    )
    PortalChallenge.objects.filter(company=company).delete()  # the per-customer code limit of earlier runs
    sessions: list[tuple[str, int]] = []
    tries = 0
    while len(sessions) < accounts and tries < accounts * 20:
        tries += 1
        row = (
            Phone.objects.filter(customer__company=company, kind="mobile", id__gte=rnd.randint(lo, hi))
            .select_related("customer")
            .order_by("id")
            .first()
        )
        if row is None or row.customer.premise_id is None:
            continue
        try:
            ch = services.link_start(company=company, account_no=row.customer.account_no, phone=row.number)
            done = services.link_verify(challenge_id=ch.pk, code="135790")
            t = services.fault_report(
                account=done.session.account, fault="repair:meter", content="燃气表不走字（基准测试）"
            )
        except Exception:  # a household already used by an earlier run, or locked: take another
            continue
        sessions.append((done.token, t.pk))
    rules.new_code = real_code
    return {"customers": have, "build_seconds": round(build_seconds, 1)}, sessions


def _path(page: str, ticket_id: int) -> str:
    return {
        "home": "/portal/",
        "orders": "/portal/orders/",
        "order": f"/portal/orders/{ticket_id}/",
        "outages": "/portal/outages/",
        "commitments": "/portal/commitments/",
        "leak": "/portal/leak/",
        "api_tickets": "/api/v1/portal/tickets",
    }[page]


def _get(conn: http.client.HTTPConnection, page: str, token: str, ticket_id: int) -> int:
    headers = {"Connection": "keep-alive"}
    if page.startswith("api_"):
        headers["Authorization"] = f"Bearer {token}"
    else:
        headers["Cookie"] = f"kefu_portal={token}"
    conn.request("GET", _path(page, ticket_id), headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def _server(port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kefu.settings", "KEFU_DEBUG": "0"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "kefu.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "75",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import socket

    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)


def measure_latency(port: int, sessions, requests: int, seed: int) -> dict:
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    warm = sessions[:20]
    for token, tid in warm:  # warm-up: every page once
        for page in PAGES:
            _get(conn, page, token, tid)
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    errors = 0
    for i in range(requests):
        page = PAGES[i % len(PAGES)]
        token, tid = rnd.choice(sessions)
        t0 = time.perf_counter()
        status = _get(conn, page, token, tid)
        times[page].append((time.perf_counter() - t0) * 1000)
        errors += status != 200
    conn.close()
    every = [x for v in times.values() for x in v]
    return {
        "pages": {p: summary(v) for p, v in times.items()},
        "all": summary(every),
        "errors": errors,
        "warmup_requests": len(warm) * len(PAGES),
    }


def measure_load(port: int, sessions, users: int, seconds: float) -> dict:
    """`users` customers at once for `seconds`, each on its own connection; errors counted."""
    start = threading.Barrier(users + 1)
    stop = threading.Event()
    counts = [0] * users
    errors: list[str] = []
    latencies: list[list[float]] = [[] for _ in range(users)]

    def user(n: int) -> None:
        token, tid = sessions[n % len(sessions)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        i = n
        while not stop.is_set():
            page = PAGES[i % len(PAGES)]
            i += 1
            t0 = time.perf_counter()
            try:
                status = _get(conn, page, token, tid)
            except Exception as exc:  # a dropped connection is an error, then reconnect
                errors.append(f"{page}: {type(exc).__name__}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            latencies[n].append((time.perf_counter() - t0) * 1000)
            counts[n] += 1
            if status != 200:
                errors.append(f"{page}: HTTP {status}")
        conn.close()

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - began
    every = [x for v in latencies for x in v]
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": sum(counts),
        "per_second": round(sum(counts) / elapsed, 1),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "users_served": sum(1 for c in counts if c),
        "p50_ms": round(percentile(every, 50), 1) if every else None,
        "p99_ms": round(percentile(every, 99), 1) if every else None,
    }


def _db_backends_cpu() -> dict[int, float]:
    """CPU seconds of each server process of this PostgreSQL database but ours (gunicorn's
    connections; persistent, KEFU_DB_CONN_MAX_AGE), empty on SQLite or a remote server."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [r[0] for r in cur.fetchall()]
    return {pid: cpu for pid in pids if (cpu := _process_cpu_seconds(pid)) is not None}


def _cpu_per_request(server_pid: int, phase, *args) -> dict:
    """Run one phase and add the CPU per request of gunicorn (master and workers) and of their
    database server processes — figures that hold on a loaded machine, unlike the latencies."""
    app0, db0 = _tree_cpu_seconds(server_pid), _db_backends_cpu()
    out = phase(*args)
    app1, db1 = _tree_cpu_seconds(server_pid), _db_backends_cpu()
    n = out.get("requests") or sum(p["n"] for p in out["pages"].values()) + out["warmup_requests"]
    if app0 is not None and app1 is not None and n:
        out["server_cpu_ms_per_request"] = round((app1 - app0) * 1000 / n, 2)
    if db1 and n:
        out["db_cpu_ms_per_request"] = round(
            sum(c - db0.get(pid, 0.0) for pid, c in db1.items()) * 1000 / n, 2
        )
    return out


def run(
    *,
    customers: int,
    accounts: int,
    requests: int,
    users: int,
    seconds: float,
    workers: int,
    threads: int,
    seed: int,
) -> dict:
    _setup_django()
    from django.db import connection

    data, sessions = prepare(customers=customers, accounts=accounts, seed=seed)
    connection.close()
    port = _free_port()
    server = _server(port, workers, threads)
    try:
        latency = _cpu_per_request(server.pid, measure_latency, port, sessions, requests, seed)
        load = (
            _cpu_per_request(server.pid, measure_load, port, sessions, users, seconds)
            if users and seconds
            else None
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    from django.conf import settings

    return {
        "benchmark": "portal_pages",
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        **data,
        "accounts": len(sessions),
        "gunicorn": {"workers": workers, "threads": threads},
        "latency": latency,
        "target_p99_ms": 100,
        "load": load,
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=300)
    ap.add_argument("--requests", type=int, default=1400)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    out = run(
        customers=a.customers,
        accounts=a.accounts,
        requests=a.requests,
        users=a.users,
        seconds=a.seconds,
        workers=a.workers,
        threads=a.threads,
        seed=a.seed,
    )
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
