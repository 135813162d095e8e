"""Health probe of the sla app (kefu.core.health): the clock sweep completed recently.

Without the sweep no warning, breach or escalation goes out (C1–C20, P9), so `/healthz` and
`kefu health` fail when its last completed run is older than KEFU_HEALTH_SWEEP_MAX_AGE seconds.
"""

from __future__ import annotations

from django.conf import settings

from kefu.core.health import Check, age_check, probe
from kefu.core.leases import lease_completed_at
from kefu.sla.tasks import SWEEP_LEASE


@probe("sla_sweep")
def sweep_recent() -> Check:
    return age_check(lease_completed_at(SWEEP_LEASE), max_age_seconds=settings.KEFU_HEALTH_SWEEP_MAX_AGE)
