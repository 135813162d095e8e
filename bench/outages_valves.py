"""Benchmark: valve-closure analysis on a network of 200,000 premises and ~60,000 pipe segments
(target ≤ 2 s).

    flock /work/wt/bench.lock .venv/bin/python -m bench.outages_valves [--premises 200000] [--runs 20]

Times (1) loading the company's network from the database into the graph (once per import, then
cached), (2) the smallest valve set for a damaged pipe + the premises behind it, (3) "what if this
valve does not close", over `runs` random pipes; and (4) the whole `outage_set_affected` by network
(analysis + writing the affected rows) for one pipe. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from datetime import timedelta

from bench.outages_data import ensure, setup_django


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--premises", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from kefu.outages import network, services
    from kefu.outages.selectors import company_network, network_cache_clear

    company, users = ensure(args.premises, log=lambda m: None)
    network_cache_clear(company.pk)
    t0 = time.perf_counter()
    net = company_network(company.pk)
    load = time.perf_counter() - t0
    rnd = random.Random(3)
    pipes = [e for e in net.edges if e.startswith("M")]
    pipe_s, stuck_s, households = [], [], []
    for _ in range(args.runs):
        pipe = rnd.choice(pipes)
        t = time.perf_counter()
        iso = network.valves_for_pipe(net, pipe)
        pipe_s.append(time.perf_counter() - t)
        households.append(len(iso.premise_ids))
        if iso.closed:
            t = time.perf_counter()
            network.stuck(net, iso.closed, iso.closed[0])
            stuck_s.append(time.perf_counter() - t)
    now = timezone.now()
    o = services.outage_create(
        by=users["dispatcher"],
        kind="emergency",
        reason="基准",
        planned_start=now,
        planned_end=now + timedelta(hours=2),
    )
    t = time.perf_counter()
    n = services.outage_set_affected(
        by=users["dispatcher"], outage_id=o.pk, method="network", selection={"pipe": rnd.choice(pipes)}
    )
    set_affected = time.perf_counter() - t
    o.delete()
    print(
        json.dumps(
            {
                "benchmark": "outages_valves",
                "database": connection.vendor,
                "premises": args.premises,
                "nodes": len(net.kinds),
                "pipe_segments": len(net.edges),
                "load_graph_s": round(load, 3),
                "pipe_analysis_s": {
                    "median": round(statistics.median(pipe_s), 4),
                    "max": round(max(pipe_s), 4),
                },
                "stuck_valve_s": {
                    "median": round(statistics.median(stuck_s), 4),
                    "max": round(max(stuck_s), 4),
                }
                if stuck_s
                else None,
                "households_per_pipe": {"median": statistics.median(households), "max": max(households)},
                "set_affected_by_network_s": round(set_affected, 3),
                "set_affected_households": n,
                "load_average": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
