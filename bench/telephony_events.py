"""Benchmark: call events through the API (target ≥ 2,000 events per second on PostgreSQL).

    .venv/bin/python -m bench.telephony_events [--calls 4000] [--batch 600] [--seed 1]

A bench company with one hotline, 20 agents with PBX ids and a feed account with a token; each call
is 6 events (started, queued, offered, answered, recording, ended; every fifth call a
ring-no-answer first: 8 events). The events are POSTed to /api/v1/telephony/events in batches, as a
PBX adapter sends them, through the whole stack (token auth, validation, ingest, rebuild of each
call). Prints one JSON object: events, seconds, events per second. Then the same batches are
sent again (all duplicates) and timed too.

Use a scratch database: KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_bench.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta

BENCH_CODE = "bench-tel"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    os.environ.setdefault("KEFU_DEBUG", "0")
    import django

    django.setup()


def bench_company():
    """The bench company, its hotline, 20 seats and a feed account (idempotent)."""
    from kefu.accounts.models import Company, User
    from kefu.telephony.models import AgentProfile, Hotline

    company, _ = Company.objects.get_or_create(
        code=BENCH_CODE, defaults={"name": "话务基准燃气", "short_name": "话务基准"}
    )
    feed, _ = User.objects.get_or_create(
        username="bench_tel_feed", defaults={"company": company, "role": "supervisor"}
    )
    hotline, _ = Hotline.objects.get_or_create(
        number="99999", defaults={"company": company, "name": "基准热线", "queue": "q", "is_emergency": True}
    )
    agents = []
    for i in range(20):
        u, _ = User.objects.get_or_create(
            username=f"bench_tel_a{i}", defaults={"company": company, "role": "agent"}
        )
        AgentProfile.objects.get_or_create(
            user=u, defaults={"company": company, "pbx_agent": f"9{i:03d}", "queues": "q"}
        )
        agents.append(f"9{i:03d}")
    return company, feed, hotline, agents


def call_events(rnd: random.Random, cid: str, start, hotline: str, agents: list[str]) -> list[dict]:
    s = lambda n: (start + timedelta(seconds=n)).isoformat()  # noqa: E731
    a, b = rnd.sample(agents, 2)
    ev = [
        {
            "event_id": f"{cid}-1",
            "type": "call.started",
            "at": s(0),
            "call_id": cid,
            "hotline": hotline,
            "caller": f"138{rnd.randint(10**7, 10**8 - 1)}",
        },
        {"event_id": f"{cid}-2", "type": "call.queued", "at": s(3), "call_id": cid, "queue": "q"},
    ]
    t = 3
    if rnd.random() < 0.2:
        ev += [
            {"event_id": f"{cid}-3", "type": "call.offered", "at": s(t), "call_id": cid, "agent": a},
            {
                "event_id": f"{cid}-4",
                "type": "call.offer_ended",
                "at": s(t + 15),
                "call_id": cid,
                "agent": a,
                "result": "no_answer",
            },
        ]
        t, a = t + 16, b
    ring = rnd.randint(1, 20)
    ev += [
        {"event_id": f"{cid}-5", "type": "call.offered", "at": s(t), "call_id": cid, "agent": a},
        {"event_id": f"{cid}-6", "type": "call.answered", "at": s(t + ring), "call_id": cid, "agent": a},
        {
            "event_id": f"{cid}-7",
            "type": "call.recording",
            "at": s(t + ring),
            "call_id": cid,
            "ref": f"r/{cid}.wav",
        },
        {
            "event_id": f"{cid}-8",
            "type": "call.ended",
            "at": s(t + ring + rnd.randint(30, 300)),
            "call_id": cid,
            "hangup_by": "customer",
        },
    ]
    return ev


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine: /proc); 0 elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        pid = c.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=4000)
    p.add_argument("--batch", type=int, default=600, help="events per POST")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    _setup_django()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from kefu.accounts.services import token_create
    from kefu.telephony.models import Call, CallEvent

    company, feed, hotline, agents = bench_company()
    rnd = random.Random(args.seed)
    run = f"{int(time.time())}-{rnd.randint(0, 10**6)}"
    base = timezone.now() - timedelta(hours=6)
    events: list[dict] = []
    for i in range(args.calls):
        events += call_events(rnd, f"b{run}-{i}", base + timedelta(seconds=i * 3), hotline.number, agents)
    # a PBX sends events as they happen: a batch holds the events of consecutive calls
    _row, raw = token_create(user=feed, name=f"bench {run}", scopes=["read", "write"])
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    batches = [events[i : i + args.batch] for i in range(0, len(events), args.batch)]
    # Warm up outside the timed window: the first request of a process imports the URL conf and the
    # API's schemas (~6 s on the shared machine), which the first measurement had counted as ingest.
    warm = call_events(rnd, f"w{run}", base, hotline.number, agents)
    r = client.post("/api/v1/telephony/events", {"events": warm}, content_type="application/json")
    if r.status_code != 200:
        raise SystemExit(f"warm-up HTTP {r.status_code}: {r.content[:300]!r}")

    cpu: dict[str, float] = {}

    def send() -> tuple[float, int, int]:
        accepted = dup = 0
        c0, d0 = time.process_time(), backend_cpu()
        t0 = time.perf_counter()
        for b in batches:
            r = client.post("/api/v1/telephony/events", {"events": b}, content_type="application/json")
            if r.status_code != 200:
                raise SystemExit(f"HTTP {r.status_code}: {r.content[:300]!r}")
            body = r.json()
            accepted, dup = accepted + body["accepted"], dup + body["duplicates"]
        elapsed = time.perf_counter() - t0
        cpu["client"], cpu["database"] = time.process_time() - c0, backend_cpu() - d0
        return elapsed, accepted, dup

    secs, accepted, _ = send()
    cpu_new = dict(cpu)
    secs_dup, _, dup = send()
    out = {
        "benchmark": "telephony_events",
        "database": connection.vendor,
        "calls": args.calls,
        "events": len(events),
        "batch": args.batch,
        "accepted": accepted,
        "seconds": round(secs, 3),
        "events_per_second": round(len(events) / secs, 1),
        # On a shared machine the wall clock mostly measures waiting for a core: the CPU seconds
        # spent by this process and by its PostgreSQL backend give the rate one idle core pair allows.
        "cpu_seconds_client": round(cpu_new["client"], 3),
        "cpu_seconds_database": round(cpu_new["database"], 3),
        "events_per_cpu_second": round(len(events) / max(1e-9, cpu_new["client"] + cpu_new["database"]), 1),
        "duplicates_seconds": round(secs_dup, 3),
        "duplicates_per_second": round(dup / secs_dup, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "calls_stored": Call.objects.filter(company=company).count(),
        "events_stored": CallEvent.objects.filter(company=company).count(),
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
