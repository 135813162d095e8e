"""Background jobs of inspections on `kefu worker`: the daily ledger sync (customers who opened,
closed or changed category, C5) and the hourly hazard escalation sweep (P14)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="10", hour="1"))
def inspections_ledger_sync_daily() -> dict:
    """Every night: keep each company's ledger of this year right (kefu.inspections.services.ledger_sync)."""
    from kefu.inspections.models import Programme
    from kefu.inspections.services import ledger_sync, local_today

    out = {}
    for prog in Programme.objects.select_related("company"):
        today = local_today(prog.company)
        if prog.year == today.year:
            out[prog.company_id] = ledger_sync(company_id=prog.company_id, year=prog.year, today=today)
    return out


@db_periodic_task(crontab(minute="5"))
def inspections_escalate_hourly() -> int:
    """Every hour: overdue hazards to a named supervisor, then a manager (hazards_escalate)."""
    from kefu.inspections.services import hazards_escalate

    return hazards_escalate()
