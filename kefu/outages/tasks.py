"""Background jobs of the outages app on `kefu worker`: every minute, the SMS a lost trigger never
handed to the gateway (queued rows: the process died after the commit) are sent, and outages whose
notices are all delivered but whose completion was never recorded are checked (C1). Both are
idempotent: the send claims rows with a conditional UPDATE, the check writes once."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kefu.core.leases import lease_held
from kefu.outages.models import Outage
from kefu.outages.services import notices_send, outage_check_notices
from kefu.outages.states import LIVE_STATES

logger = logging.getLogger("kefu.outages")


def outages_sweep() -> dict:
    """One pass: send queued SMS, record completed notice rounds."""
    sent = notices_send()
    checked = 0
    for oid in Outage.objects.filter(
        state__in=list(LIVE_STATES), notice_round__gt=0, notices_complete_at__isnull=True
    ).values_list("id", flat=True)[:500]:
        checked += bool(outage_check_notices(outage_id=oid))
    return {"sent": sent, "completed": checked}


@db_periodic_task(crontab(minute="*"))
def outages_sweep_periodic() -> dict | None:
    with lease_held("outages-sweep", ttl=timedelta(minutes=5)) as lease:
        if lease is None:
            return None
        result = outages_sweep()
        if result["sent"] or result["completed"]:
            logger.info("outages sweep: %s", result)
        return result
