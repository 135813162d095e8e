"""Background jobs of the sla app (issue 4 §4): the clock sweep every minute on `kefu worker`.

huey runs the periodic task on one consumer per storage (SQLite file by default, Redis with
KEFU_REDIS_URL); even if several workers on several hosts run it at the same minute, the sweep's
row claims and the notifications' dedupe keys make every warning and escalation exactly once
(see kefu.sla.sweep).
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from kefu.sla.sweep import sweep

logger = logging.getLogger("kefu.sla")

#: A sweep stops starting new batches after this long, so minutes never pile up.
SWEEP_TIME_BUDGET = 50.0


@db_periodic_task(crontab(minute="*"))
@lock_task("kefu-sla-sweep")
def sla_sweep_periodic() -> dict:
    """Every minute: warn, mark breaches, escalate, attach missing clocks (C1–C20, P9)."""
    return sweep(time_budget=SWEEP_TIME_BUDGET).as_dict()
