"""Benchmark: the language rules' engine, pure function, one core (target ≥ 2,000 transcripts of 40
turns per second).

    .venv/bin/python -m bench.quality_matching [--transcripts 5000] [--turns 40] [--seed 1]

Compiles the standard's seed rules (kefu.quality.seeds) into one RuleBook, generates transcripts
(bench.quality_data: realistic calls, 20 % with faults in traditional or simplified characters)
and times `kefu.quality.engine.evaluate` over all of them after one warm-up pass. No database.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--transcripts", type=int, default=5000)
    p.add_argument("--turns", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    from bench.quality_data import transcript
    from kefu.quality.engine import RuleBook, RuleSpec, Transcript, Turn, evaluate
    from kefu.quality.seeds import seed_rules

    specs = [
        RuleSpec.from_dict(r["code"], r["spec"], severity=r["severity"], weight=r["weight"])
        for r in seed_rules()
    ]
    book = RuleBook(specs)
    rng = random.Random(args.seed)
    data = []
    for _ in range(args.transcripts):
        d = transcript(rng, turns=args.turns)
        turns = tuple(Turn(t["speaker"], t["text"], t["start_ms"], t["end_ms"]) for t in d["turns"])
        data.append(
            Transcript(turns, company="安泰燃气", surname=d["customer_surname"], hangup_by=d["hangup_by"])
        )
    for tr in data[: min(200, len(data))]:  # warm-up: caches of the normaliser and the rule book
        evaluate(book, tr)
    began, cpu = time.perf_counter(), time.process_time()
    hits = 0
    for tr in data:
        hits += len(evaluate(book, tr).hits)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu  # this process's own CPU: what one core does, whatever the load
    out = {
        "benchmark": "quality_matching",
        "transcripts": len(data),
        "turns": args.turns,
        "rules": len(specs),
        "seconds": round(seconds, 3),
        "per_second": round(len(data) / seconds, 1) if seconds else None,
        "cpu_seconds": round(cpu, 3),
        "per_cpu_second": round(len(data) / cpu, 1) if cpu else None,
        "hits": hits,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
