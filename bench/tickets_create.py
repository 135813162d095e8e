"""Benchmark: create work orders over HTTP (target ≥ 250/s on PostgreSQL).

    .venv/bin/python -m bench.tickets_create [--stored 1000000] [--requests 4000] [--clients 8] [--workers 2]

Makes sure the benchmark company holds `--stored` work orders (bulk-inserted once, see
bench/tickets_data.py), starts gunicorn with `--workers` sync workers, and lets `--clients` threads
POST /api/v1/tickets/ with an API token and an Idempotency-Key each (keep-alive connections),
`--requests` in total. Prints one JSON object: requests/s, latency percentiles, errors, sizes.
KEFU_BENCH_GUNICORN_ARGS adds gunicorn options (e.g. "-k gthread --threads 2") to compare setups.
Use a scratch database: KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench_tk (migrate
first) or KEFU_VAR_DIR=/tmp/kefu-bench-tk for SQLite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bench.tickets_data import ensure_company, fill, setup_django, stored, summary

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(workers: int) -> tuple[subprocess.Popen, int]:
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
            str(workers),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            *os.environ.get("KEFU_BENCH_GUNICORN_ARGS", "").split(),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, port
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError(
                    "gunicorn did not start: " + (server.stderr.read().decode() if server.stderr else "")
                )
            time.sleep(0.2)


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


def ensure_commitments(company):
    """This year's laizhou-crgas-2024 commitments, published, so every create starts its clocks
    as it does in a utility that has published its commitments (C17)."""
    from datetime import timedelta

    from django.utils import timezone

    from kefu.sla.models import CommitmentSet
    from kefu.sla.services import commitment_set_from_preset

    now = timezone.now()
    row = CommitmentSet.objects.filter(company=company, year=now.year, is_published=True).first()
    if row is None:
        row = commitment_set_from_preset(company=company, year=now.year, preset="laizhou-crgas-2024", by=None)
        # published as of yesterday (the publish service wants a manager; the bench has none)
        CommitmentSet.objects.filter(pk=row.pk).update(
            is_published=True, published_at=now - timedelta(days=1)
        )
    return row


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of processes (Linux /proc), to report CPU per request."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _database_backends() -> list[int]:
    """PostgreSQL server processes serving this database for other clients (the workers' persistent
    connections), when the server runs on this machine (their CPU is read from /proc)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cur.fetchall()]
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def run(*, stored_target: int, requests: int, clients: int, workers: int, log) -> dict:
    from django.db import connection
    from django.utils import timezone

    from kefu.accounts.models import ApiToken
    from kefu.accounts.services import token_create
    from kefu.sla.models import Clock
    from kefu.tickets.models import Ticket

    started_at = timezone.now()
    company, agents, _dept = ensure_company()
    commitment_set = ensure_commitments(company)
    fill_seconds = fill(company, agents, stored_target, log=log)
    before = stored(company)
    agent = agents[0]
    ApiToken.objects.filter(user=agent, name="bench-tickets").delete()
    _row, raw = token_create(
        user=agent, name="bench-tickets", scopes=[ApiToken.Scope.READ, ApiToken.Scope.WRITE]
    )
    connection.close()  # the server processes open their own connections
    server, port = start_gunicorn(workers)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Authorization": f"Bearer {raw}",
        "Content-Type": "application/json",
        "Connection": "keep-alive",
    }
    try:
        for i in range(workers * 2):  # warm each worker (imports, connection)
            warm.request("GET", "/api/v1/tickets/kinds", headers=headers)
            warm.getresponse().read()
        warm.close()

        def client(cid: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine: list[float] = []
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    break
                body = json.dumps(
                    {
                        "kind": "repair" if i % 3 == 0 else "consultation",
                        "content": f"基准测试来电 {cid}-{i}：燃气表不走字",
                        "caller_surname": "张",
                        "caller_title": "mr",
                        "caller_phone": f"139{i:08d}",
                        "address": f"幸福小区{i % 40 + 1}号楼1单元{i % 18 + 1}01室",
                        "on_duplicate": "create",
                    }
                )
                h = {**headers, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/api/v1/tickets/", body=body.encode(), headers=h)
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 201:
                        with lock:
                            errors.append(f"{resp.status}: {data[:120]!r}")
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        errors.append(repr(exc))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                mine.append((time.perf_counter() - t0) * 1000)
            conn.close()
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        workers_pids = _children(server.pid)
        backend_pids = _database_backends() if connection.vendor == "postgresql" else []
        cpu0 = _cpu_seconds(workers_pids)
        db_cpu0 = _cpu_seconds(backend_pids)
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        worker_cpu = _cpu_seconds(workers_pids) - cpu0
        db_cpu = _cpu_seconds(backend_pids) - db_cpu0
    finally:
        stop(server)
        ApiToken.objects.filter(user=agent, name="bench-tickets").delete()
    after = Ticket.objects.filter(company=company).count()
    numbers_today = Ticket.objects.filter(company=company, idempotency_key__startswith="bench-").values(
        "number"
    )
    distinct = numbers_today.distinct().count()
    return {
        "benchmark": "tickets_create",
        "database": connection.vendor,
        "stored_before": before,
        "stored_after": after,
        "fill_seconds": round(fill_seconds, 1),
        "requests": requests,
        "clients": clients,
        "gunicorn_workers": workers,
        "seconds": round(wall, 2),
        "requests_per_second": round(requests / wall, 1) if wall else 0.0,
        "latency": summary(latencies),
        "worker_cpu_ms_per_request": round(worker_cpu * 1000 / requests, 2) if requests else 0.0,
        "database_cpu_ms_per_request": round(db_cpu * 1000 / requests, 2)
        if backend_pids and requests
        else None,
        "commitment_set": f"{commitment_set.preset_code} v{commitment_set.version}",
        "clocks_started": Clock.objects.filter(company=company, created_at__gte=started_at).count(),
        "errors": len(errors),
        "error_samples": errors[:5],
        "created": after - before,
        "bench_numbers_distinct": distinct,
        "target_per_second": 250,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--stored", type=int, default=1_000_000, help="work orders already stored (default 1,000,000)"
    )
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    result = run(
        stored_target=args.stored, requests=args.requests, clients=args.clients, workers=args.workers, log=log
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
