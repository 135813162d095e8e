"""Background jobs of the workforce app on `kefu worker`: every five minutes, expire unanswered swap
requests (W3) and record shifts that ended without a clock-in as absence (W4). Both sweeps work on
database state and are idempotent (a status update; one absence row per shift by a unique
constraint), so a lost run is redone by the next one and two workers never record twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.leases import lease_held
from kefu.workforce.services import attendance_sweep, swaps_expire

logger = logging.getLogger("kefu.workforce")


@db_periodic_task(crontab(minute="*/5"))
def workforce_sweep_periodic() -> dict | None:
    with lease_held("workforce-sweep", ttl=timedelta(minutes=10)) as lease:
        if lease is None:
            return None
        return {"swaps_expired": swaps_expire(), "absences": attendance_sweep()}
