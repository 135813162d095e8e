"""`kefu sla-sweep`: one sweep of the commitment clocks now (P9).

The worker runs the same sweep every minute; this one-shot run is for cron-less installations,
after an outage of the worker, and for tests. Prints one JSON line with what was done.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kefu.sla.sweep import DEFAULT_BATCH, sweep


class Command(BaseCommand):
    help = "巡检承诺时限一次：预警、超时升级、补挂计时。Sweep the commitment clocks once."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="clocks per transaction")
        parser.add_argument("--now", default="", help="ISO time to sweep at (default: now)")
        parser.add_argument("--no-attach", action="store_true", help="skip attaching clocks to work orders")
        parser.add_argument(
            "--pause-between-batches",
            type=float,
            default=0.0,
            help="seconds to wait inside each batch before committing (spreads load; tests use it)",
        )

    def handle(self, *args, **opts):
        if not 1 <= opts["batch_size"] <= 10_000:
            raise CommandError("--batch-size 应在 1 到 10000 之间")
        now: datetime | None = None
        if opts["now"]:
            try:
                now = datetime.fromisoformat(opts["now"])
            except ValueError:
                raise CommandError("--now 应为 ISO 8601 时间") from None
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        pause = max(opts["pause_between_batches"], 0.0)
        result = sweep(
            now=now,
            batch_size=opts["batch_size"],
            attach=not opts["no_attach"],
            on_batch=(lambda: time.sleep(pause)) if pause else None,
        )
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
