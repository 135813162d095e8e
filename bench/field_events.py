"""Benchmark: arrival and completion events through the API, 8 clients (target ≥ 250 per second).

    .venv/bin/python -m bench.field_events [--requests 4000] [--clients 8] [--workers 2]

Each client is a technician of its own crew with an API token; it walks its dispatched jobs
(bulk-inserted) through 出发 → 到达 (GPS, 20 m from the premise) → 处理完成 → 修复, one POST
/api/v1/field/jobs/{id}/events per event with a client-made id, over keep-alive connections to
gunicorn (`--workers` sync workers). Every arrival stops the work order's on-site clocks through the
field's listener in the same request. Prints one JSON object: events/s, latency percentiles, errors.
Use a scratch database (migrate first): KEFU_DATABASE_URL=postgres://…/kefu_bench_field, or
KEFU_VAR_DIR=/tmp/kefu-bench-field for SQLite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import uuid

from bench.tickets_create import _children, _cpu_seconds, start_gunicorn, stop
from bench.tickets_data import setup_django, summary

KINDS = ("departed", "arrived", "handled", "resolved")


def _jobs_for(company, crew, dispatcher, n: int) -> list[tuple[int, float, float]]:
    from django.utils import timezone

    from kefu.customers.models import Premise
    from kefu.field.models import FieldJob
    from kefu.tickets.models import Ticket

    tickets = list(
        Ticket.objects.filter(company=company, field_jobs__isnull=True)
        .order_by("pk")
        .values_list("pk", "number")[:n]
    )
    premises = Premise.objects.bulk_create(
        [
            Premise(company=company, address="基准小区", lat=36.19 + i * 1e-4, lng=117.12)
            for i in range(len(tickets))
        ]
    )
    rows = FieldJob.objects.bulk_create(
        [
            FieldJob(
                company=company,
                ticket_id=pk,
                number=f"{num}-B{crew.pk}",
                state="dispatched",
                crew=crew,
                technician=crew.leader,
                premise=p,
                created_by=dispatcher,
                dispatched_at=timezone.now(),
                skill="repair",
            )
            for (pk, num), p in zip(tickets, premises, strict=False)
        ]
    )
    return [(j.pk, p.lat, p.lng) for j, p in zip(rows, premises, strict=False)]


def run(*, requests: int, clients: int, workers: int) -> dict:
    from django.db import connection

    from bench.field_data import ensure_field
    from bench.tickets_create import ensure_commitments
    from bench.tickets_data import ensure_company, fill
    from kefu.accounts.models import ApiToken
    from kefu.accounts.services import token_create
    from kefu.field.models import JobEvent
    from kefu.tickets.models import Ticket

    company, dispatcher, crews = ensure_field(jobs=0, crews=max(clients, 8))
    ensure_commitments(company)
    per_client = -(-requests // clients // len(KINDS))
    _c, agents, _d = ensure_company()
    fill(company, agents, Ticket.objects.filter(company=company).count() + per_client * clients)
    plans, tokens = [], []
    for c in range(clients):
        crew = crews[c]
        user = crew.leader.user
        ApiToken.objects.filter(user=user, name="bench-field").delete()
        _row, raw = token_create(
            user=user, name="bench-field", scopes=[ApiToken.Scope.READ, ApiToken.Scope.WRITE]
        )
        tokens.append(raw)
        plans.append(_jobs_for(company, crew, dispatcher, per_client))
    before = JobEvent.objects.filter(company=company).count()
    connection.close()
    server, port = start_gunicorn(workers)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    sent = [0]
    try:
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(workers * 2):
            warm.request("GET", "/api/v1/field/my-day", headers={"Authorization": f"Bearer {tokens[0]}"})
            warm.getresponse().read()
        warm.close()

        def client(c: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            h = {
                "Authorization": f"Bearer {tokens[c]}",
                "Content-Type": "application/json",
                "Connection": "keep-alive",
            }
            mine = []
            for job_id, lat, lng in plans[c]:
                for kind in KINDS:
                    with lock:
                        if sent[0] >= requests:
                            break
                        sent[0] += 1
                    body = {"kind": kind, "client_id": uuid.uuid4().hex}
                    if kind == "arrived":
                        body.update(lat=lat + 0.0002, lng=lng, accuracy=10)
                    t0 = time.perf_counter()
                    try:
                        conn.request(
                            "POST",
                            f"/api/v1/field/jobs/{job_id}/events",
                            body=json.dumps(body).encode(),
                            headers=h,
                        )
                        resp = conn.getresponse()
                        data = resp.read()
                        if resp.status != 201:
                            with lock:
                                errors.append(f"{resp.status}: {data[:160]!r}")
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
        pids = _children(server.pid)
        cpu0 = _cpu_seconds(pids)
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        cpu = _cpu_seconds(pids) - cpu0
    finally:
        stop(server)
    n = len(latencies)
    return {
        "benchmark": "field_events",
        "database": connection.vendor,
        "requests": n,
        "clients": clients,
        "gunicorn_workers": workers,
        "seconds": round(wall, 2),
        "events_per_second": round(n / wall, 1) if wall else 0.0,
        "latency": summary(latencies),
        "worker_cpu_ms_per_request": round(cpu * 1000 / n, 2) if n else 0.0,
        "recorded": JobEvent.objects.filter(company=company).count() - before,
        "errors": len(errors),
        "error_samples": errors[:5],
        "target_per_second": 250,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    print(
        json.dumps(
            run(requests=args.requests, clients=args.clients, workers=args.workers),
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    setup_django()
    sys.exit(main())
