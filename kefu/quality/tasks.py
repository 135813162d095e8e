"""Background jobs of the quality app: check each transcript as it arrives, and every minute a
sweep that checks whatever is still pending (a lost trigger, a worker that died mid-check: its
claim expires after kefu.quality.services.CLAIM_FOR) and submits work-order replies and telephony
transcripts whose listener was lost (catch-ups of on_ticket_replied, on_transcript_available)."""

from __future__ import annotations

import logging
import time

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.leases import lease_held
from kefu.quality import services

logger = logging.getLogger("kefu.quality")

SWEEP_LEASE = "quality-sweep"
SWEEP_BUDGET = 50.0


@db_task()
def check_transcript_task(transcript_id: int) -> int:
    """Check one transcript now (triggered after its commit)."""
    return services.check_pending(ids=[transcript_id])


def sweep(*, time_budget: float = SWEEP_BUDGET, batch: int = 500) -> dict:
    """Submit lost replies, then check pending transcripts in batches until none is left or the
    time budget is spent."""
    began = time.monotonic()
    submitted = services.replies_not_submitted()
    transcripts = services.telephony_transcripts_not_submitted()
    checked = 0
    while time.monotonic() - began < time_budget:
        n = services.check_pending(limit=batch)
        checked += n
        if n == 0:
            break
    return {"replies_submitted": submitted, "transcripts_submitted": transcripts, "checked": checked}


@db_periodic_task(crontab(minute="*"))
def quality_sweep_periodic() -> dict | None:
    """Every minute: check what is pending (100 % checking, nothing lost)."""
    from datetime import timedelta

    with lease_held(SWEEP_LEASE, ttl=timedelta(minutes=5)) as lease:
        if lease is None:
            logger.info("quality sweep skipped: another worker is sweeping")
            return None
        return sweep()
