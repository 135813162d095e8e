"""Benchmark: arrival and completion events through the API, 8 clients (target ≥ 250 per second).

    .venv/bin/python -m bench.field_events [--requests 4000] [--clients 8] [--workers 2]

Each client is a technician of its own crew with an API token; it walks its dispatched jobs
(bulk-inserted) through 出发 → 到达 (GPS, 20 m from the premise) → 处理完成 → 修复, one POST
/api/v1/field/jobs/{id}/events per event with a client-made id, over keep-alive connections to
gunicorn (`--workers` sync workers). The work orders are open with their clocks running: every
arrival moves its work order to 处理中 and stops its on-site clock through the field's listener in
the same request (`--bare`: the old set-up, closed work orders without clocks). Prints one JSON
object: events/s, latency percentiles, CPU per event of the workers and of the PostgreSQL server
processes serving them, errors.
Use a scratch database (migrate first): KEFU_DATABASE_URL=postgres://…/kefu_bench_field, or
KEFU_VAR_DIR=/tmp/kefu-bench-field for SQLite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
import uuid

from bench.tickets_create import _children, _cpu_seconds, _database_backends, start_gunicorn, stop
from bench.tickets_data import setup_django, summary

KINDS = ("departed", "arrived", "handled", "resolved")


class BackendCpu:
    """CPU seconds of the PostgreSQL server processes of this database (other than our own), polled
    every half second while a run lasts: a worker's connection may close and reopen (CONN_MAX_AGE)
    during the run, and a process that is gone can no longer be read."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _read(self, new_from_zero: bool) -> None:
        for pid in _database_backends():
            cpu = _cpu_seconds([pid])
            self.first.setdefault(pid, 0.0 if new_from_zero else cpu)
            self.last[pid] = cpu

    def _poll(self) -> None:
        from django.db import connection

        while not self.done.wait(0.5):
            self._read(True)
        connection.close()  # this thread's own

    def start(self) -> None:
        self._read(False)
        self.thread.start()

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        self._read(True)
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def _open_work_orders(company, crew, agent, n: int) -> list[tuple[int, str]]:
    """`n` repair work orders as a dispatched visit finds them: received ten minutes ago, assigned to
    the crew's leader, with their commitment clocks running (ticket_clocks_attach: the on-site clock
    C10 among them). Numbered apart from the fill's (an idempotency key keeps them out of its count)."""
    from datetime import timedelta

    from django.utils import timezone

    from kefu.tickets.clocks import ticket_clocks_attach
    from kefu.tickets.models import Ticket, TicketKind

    now = timezone.now()
    tag = uuid.uuid4().hex[:8]
    received = now - timedelta(minutes=10)
    rows = Ticket.objects.bulk_create(
        [
            Ticket(
                company=company,
                number=f"FB{tag}{i:05d}",
                idempotency_key=f"field-bench-{tag}-{i}",
                kind=TicketKind.objects.get(company=company, code="repair"),
                state="assigned",
                caller_surname="张",
                caller_phone="13800138000",
                address="基准小区1号楼1单元101室",
                content="燃气灶打不着火，请上门维修",
                received_at=received,
                owner=agent,
                created_by=agent,
                assigned_department_id=crew.team.department_id,
                assigned_team_id=crew.team_id,
                assigned_to_id=crew.leader.user_id,
                created_at=received,
                updated_at=received,
            )
            for i in range(n)
        ]
    )
    for t in rows:
        ticket_clocks_attach(t.pk)
    return [(t.pk, t.number) for t in rows]


def _jobs_for(company, crew, dispatcher, tickets: list[tuple[int, str]]) -> list[tuple[int, float, float]]:
    """A dispatched repair visit of the crew on each work order (pk, number)."""
    from django.utils import timezone

    from kefu.customers.models import Premise
    from kefu.field.models import FieldJob

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
                team_id=crew.team_id,
                premise=p,
                created_by=dispatcher,
                dispatched_at=timezone.now(),
                skill="repair",
            )
            for (pk, num), p in zip(tickets, premises, strict=False)
        ]
    )
    return [(j.pk, p.lat, p.lng) for j, p in zip(rows, premises, strict=False)]


def run(*, requests: int, clients: int, workers: int, clocks: bool = True) -> dict:
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
    if not clocks:  # the old set-up: the fill's work orders (mostly closed, no clocks)
        fill(company, agents, Ticket.objects.filter(company=company).count() + per_client * clients)
    plans, tokens, work_orders = [], [], []
    for c in range(clients):
        crew = crews[c]
        user = crew.leader.user
        ApiToken.objects.filter(user=user, name="bench-field").delete()
        _row, raw = token_create(
            user=user, name="bench-field", scopes=[ApiToken.Scope.READ, ApiToken.Scope.WRITE]
        )
        tokens.append(raw)
        if clocks:
            tickets = _open_work_orders(company, crew, agents[0], per_client)
        else:
            tickets = list(
                Ticket.objects.filter(company=company, field_jobs__isnull=True)
                .order_by("pk")
                .values_list("pk", "number")[:per_client]
            )
        work_orders += [pk for pk, _n in tickets]
        plans.append(_jobs_for(company, crew, dispatcher, tickets))
    before = JobEvent.objects.filter(company=company).count()
    connection.close()
    server, port = start_gunicorn(workers)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    sent = [0]
    try:
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=180)  # workers start slowly under load
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
        backends = BackendCpu() if connection.vendor == "postgresql" else None
        if backends:
            backends.start()
        cpu0 = _cpu_seconds(pids)
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        cpu = _cpu_seconds(pids) - cpu0
        db_cpu = backends.stop() if backends else None
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    finally:
        stop(server)
    n = len(latencies)
    from kefu.sla.models import Clock

    on_site_stopped = Clock.objects.filter(
        subject_type="tickets.workorder",
        subject_id__in=[str(pk) for pk in work_orders],
        commitment__stop_event="ticket.arrived",
        state__in=["met", "met_after_breach"],
    ).count()
    return {
        "benchmark": "field_events",
        "database": connection.vendor,
        "requests": n,
        "work_orders_with_clocks": clocks,
        "clients": clients,
        "gunicorn_workers": workers,
        "seconds": round(wall, 2),
        "events_per_second": round(n / wall, 1) if wall else 0.0,
        "latency": summary(latencies),
        "load": load,
        "worker_cpu_ms_per_request": round(cpu * 1000 / n, 2) if n else 0.0,
        "database_cpu_ms_per_request": round(db_cpu * 1000 / n, 2) if db_cpu is not None and n else None,
        "recorded": JobEvent.objects.filter(company=company).count() - before,
        "on_site_clocks_stopped": on_site_stopped,
        "errors": len(errors),
        "error_samples": errors[:5],
        "target_per_second": 250,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--bare",
        action="store_true",
        help="the old set-up: closed work orders without clocks (no work-order or clock work per event)",
    )
    args = p.parse_args(argv)
    print(
        json.dumps(
            run(requests=args.requests, clients=args.clients, workers=args.workers, clocks=not args.bare),
            ensure_ascii=False,
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    setup_django()
    sys.exit(main())
