"""Health probe of the customers app (kefu.core.health): the import heartbeat.

Reports the running imports and their latest heartbeat; fails while a run has not beaten for
KEFU_IMPORT STALE_SECONDS (its worker is gone; housekeeping marks it failed within a minute when a
worker runs). Counts and times only: no file name, no company, no person.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from kefu.core.health import Check, probe
from kefu.customers.models import ImportRun


@probe("imports")
def import_heartbeat() -> Check:
    cutoff = timezone.now() - timedelta(seconds=int(settings.KEFU_IMPORT["STALE_SECONDS"]))
    running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING).annotate(
        beat=Coalesce("heartbeat_at", "started_at")
    )
    last = running.aggregate(last=Max("beat"))["last"]
    stale = running.filter(beat__lt=cutoff).count()
    return Check(
        ok=stale == 0,
        detail={
            "running": running.count(),
            "last_heartbeat": last.isoformat() if last else None,
            "stale": stale,
        },
    )
