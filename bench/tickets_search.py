"""Benchmark: list and search work orders (target p99 ≤ 100 ms at 10M on PostgreSQL, 1M on SQLite).

    .venv/bin/python -m bench.tickets_search [--stored 1000000] [--queries 200]

Makes sure the benchmark company holds `--stored` work orders (bench/tickets_data.py), then times,
in process, exactly what the list API does for one page (kefu.tickets.api.list_tickets): the
filtered query, the counts by state over the filtered set (capped at 1,000 for a text search,
kefu.tickets.selectors.COUNT_CAP), the total and one page of 20 rows with their related objects,
shaped for JSON. Kinds of query: by phone, by number, by content (a common phrase of the text,
matching ~13 % of the rows), by a distinctive word (content_rare), by address (one building of one
estate, ~0.3 % of the rows: the hard middle for a trigram index), and the open work orders of one
owner. Prints one JSON object with p50/p95/p99 per kind.
Use a scratch database (see bench/tickets_create.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from bench.tickets_data import PLACES, PROBLEMS, ensure_company, fill, setup_django, stored, summary

KINDS = ("phone", "number", "content", "content_rare", "address", "owner_open")


def page(user, f) -> dict:
    """One page as the list endpoint builds it."""
    from kefu.tickets.api import ticket_out
    from kefu.tickets.selectors import ticket_list_with_counts

    result = ticket_list_with_counts(user=user, f=f)
    rows = result.page(
        0, 20, "kind", "sub_kind", "owner", "assigned_department", "assigned_team", "assigned_to", "premise"
    )
    items = [ticket_out(t) for t in rows]
    return {"count": result.total, "count_capped": result.capped, "items": items}


def sample(company, agents, n: int, seed: int) -> list[tuple[str, object, int | None]]:
    from kefu.tickets.models import Ticket
    from kefu.tickets.selectors import TicketFilter

    rnd = random.Random(seed)
    top = Ticket.objects.filter(company=company).order_by("-id").values_list("id", flat=True).first() or 0
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        if kind in ("phone", "number", "content_rare"):
            row = None
            while row is None:
                row = (
                    Ticket.objects.filter(company=company, id__gte=rnd.randint(1, top))
                    .values("id", "caller_phone", "number", "content")
                    .order_by("id")
                    .first()
                )
            if kind == "phone":
                f = TicketFilter(phone=row["caller_phone"])
            elif kind == "number":
                f = TicketFilter(number=row["number"])
            else:  # a distinctive word of one work order's text (its reference code)
                code = row["content"].rsplit("编号", 1)[-1].rstrip("）")
                f = TicketFilter(content=code or row["content"][-8:])
            out.append((kind, f, row["id"]))
        elif kind == "content":
            word = rnd.choice(PROBLEMS).split("，")[0][:6]
            out.append((kind, TicketFilter(content=f"{word}"), None))
        elif (
            kind == "address"
        ):  # one building of one estate: ~0.3 % of the rows, the hard middle for a trigram index
            out.append((kind, TicketFilter(address=f"{rnd.choice(PLACES)}{rnd.randint(1, 40)}号楼"), None))
        else:
            out.append(
                (kind, TicketFilter(owner_id=agents[rnd.randrange(len(agents))].pk, open_only=True), None)
            )
    return out


def run(*, stored_target: int, queries: int, seed: int, log) -> dict:
    from django.db import connection

    company, agents, _dept = ensure_company()
    fill_seconds = fill(company, agents, stored_target, log=log)
    user = agents[0]
    cases = sample(company, agents, queries, seed)
    for _kind, f, _id in cases[: len(KINDS) * 2]:  # warm caches
        page(user, f)
    times: dict[str, list[float]] = {k: [] for k in KINDS}
    found = dict.fromkeys(KINDS, 0)
    counts: dict[str, list[int]] = {k: [] for k in KINDS}
    capped = dict.fromkeys(KINDS, 0)
    for kind, f, expect in cases:
        t0 = time.perf_counter()
        res = page(user, f)
        times[kind].append((time.perf_counter() - t0) * 1000)
        counts[kind].append(res["count"])
        capped[kind] += res["count_capped"]
        if expect is None or any(item["id"] == expect for item in res["items"]):
            found[kind] += 1
    return {
        "benchmark": "tickets_search",
        "database": connection.vendor,
        "stored": stored(company),
        "fill_seconds": round(fill_seconds, 1),
        "queries": queries,
        "target_p99_ms": 100,
        "by_kind": {
            k: {
                **summary(times[k]),
                "found_rate": round(found[k] / max(len(times[k]), 1), 3),
                "median_matches": sorted(counts[k])[len(counts[k]) // 2] if counts[k] else 0,
                "capped_rate": round(capped[k] / max(len(times[k]), 1), 3),
            }
            for k in KINDS
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stored", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-migrate", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    setup_django()
    if not args.no_migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    print(
        json.dumps(
            run(stored_target=args.stored, queries=args.queries, seed=args.seed, log=log), ensure_ascii=False
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
