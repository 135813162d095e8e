"""Background jobs of the sla app (issue 4 §4): the clock sweep every minute on `kefu worker`.

huey runs the periodic task on one consumer per storage (SQLite file by default, Redis with
KEFU_REDIS_URL); even if several workers on several hosts run it at the same minute, the sweep's
row claims and the notifications' dedupe keys make every warning and escalation exactly once
(see kefu.sla.sweep). The `sla-sweep` lease (kefu.core.leases) only keeps sweeps from overlapping:
it expires, and a worker killed mid-sweep is seen dead at once, so the next minute's sweep runs.
The lease's completion time is what the health check reports (kefu.sla.health).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.checkpoints import checkpoint
from kefu.core.leases import lease_held
from kefu.sla.sweep import sweep

logger = logging.getLogger("kefu.sla")

#: A sweep stops starting new batches after this long, so minutes never pile up.
SWEEP_TIME_BUDGET = 50.0
SWEEP_LEASE = "sla-sweep"
#: Longer than any sweep (time budget plus one batch); a live holder renews it after every batch.
SWEEP_LEASE_TTL = timedelta(minutes=5)


@db_periodic_task(crontab(minute="*"))
def sla_sweep_periodic() -> dict | None:
    """Every minute: warn, mark breaches, escalate, attach missing clocks (C1–C20, P9)."""
    with lease_held(SWEEP_LEASE, ttl=SWEEP_LEASE_TTL) as lease:
        if lease is None:
            logger.info("clock sweep skipped: another worker is sweeping")
            return None

        def on_batch() -> None:
            checkpoint("sla.sweep.batch")
            lease.renew()

        result = sweep(
            time_budget=SWEEP_TIME_BUDGET, batch_size=settings.KEFU_SLA_SWEEP_BATCH, on_batch=on_batch
        )
    checkpoint("sla.sweep.done")
    return result.as_dict()
