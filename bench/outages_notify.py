"""Benchmarks: freezing the affected list and creating notices for 50,000 households (target
≤ 20 s), and delivery receipts through the API (target ≥ 2,000 per second, batched posts).

    flock /work/wt/bench.lock .venv/bin/python -m bench.outages_notify [--premises 200000]
                                                 [--households 50000] [--batch 1000]

On the bench company of bench/outages_data.py: a planned stop over two of its eight supply zones
(N / 4 households) is planned, its area chosen (timed), approved, and notified — freezing the list
(count, content hash, method) and writing one SMS per household and one printed notice per
building (timed: `freeze_and_notices_s`). The SMS are then handed to a bench gateway that accepts
them without delivering (timed separately: `send_s`), and the delivery receipts are posted to
POST /api/v1/outages/sms/receipts/bench in batches (`receipts_per_s`), then the same batches again
(the gateway resending: all duplicates, `resent_receipts_per_s`). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import timedelta

from bench.outages_data import ensure, setup_django


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--premises", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from kefu.outages import services, sms
    from kefu.outages.models import Notice

    class BenchGateway:
        name = "bench"

        def send(self, messages):
            # like 云片: takes kefu's message id (uid) and reports delivery later
            return [sms.SendResult(m.ref, m.message_id, True) for m in messages]

        parse_receipts = sms.ConsoleGateway.parse_receipts

    sms.GATEWAYS["bench"] = BenchGateway
    settings.KEFU_SMS_GATEWAY = "bench"
    company, users = ensure(args.premises, log=lambda m: None)
    d, mgr = users["dispatcher"], users["manager"]
    start = timezone.now() + timedelta(days=5)
    o = services.outage_create(
        by=d, kind="planned", reason="基准", planned_start=start, planned_end=start + timedelta(hours=8)
    )
    t = time.perf_counter()
    households = services.outage_set_affected(
        by=d, outage_id=o.pk, method="zone", selection={"zones": ["Z0", "Z1"]}
    )
    set_affected = time.perf_counter() - t
    services.outage_approve(by=mgr, outage_id=o.pk)
    real_send = services.notices_send
    services.notices_send = lambda **kw: 0  # the hand-over to the gateway is timed on its own below
    try:
        t = time.perf_counter()
        counts = services.outage_notify(by=d, outage_id=o.pk)
        freeze = time.perf_counter() - t
    finally:
        services.notices_send = real_send
    t = time.perf_counter()
    sent = services.notices_send(outage_id=o.pk, gateway_name="bench")
    send = time.perf_counter() - t
    mids = list(Notice.objects.filter(outage=o, channel="sms").values_list("message_id", flat=True))
    at = timezone.now().isoformat()
    batches = [
        [{"message_id": m, "status": "delivered", "at": at} for m in mids[i : i + args.batch]]
        for i in range(0, len(mids), args.batch)
    ]
    c = Client()
    c.force_login(d)
    url = "/api/v1/outages/sms/receipts/bench"

    def post_all():
        t0 = time.perf_counter()
        for b in batches:
            r = c.post(url, b, content_type="application/json")
            assert r.status_code == 200, r.content[:200]
        return time.perf_counter() - t0

    first = post_all()
    again = post_all()
    o.refresh_from_db()
    print(
        json.dumps(
            {
                "benchmark": "outages_notify",
                "database": connection.vendor,
                "premises": args.premises,
                "households": households,
                "set_affected_s": round(set_affected, 3),
                "freeze_and_notices_s": round(freeze, 3),
                "notices": counts,
                "send_s": round(send, 3),
                "sent": sent,
                "receipts": len(mids),
                "batch": args.batch,
                "receipts_per_s": round(len(mids) / first),
                "resent_receipts_per_s": round(len(mids) / again),
                "delivered": Notice.objects.filter(outage=o, status="delivered").count(),
                "load_average": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
