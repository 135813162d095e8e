"""Background jobs of the customers app (huey). Jobs are triggers; state is the ImportRun row."""

from __future__ import annotations

from datetime import timedelta

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.core.checkpoints import checkpoint
from kefu.core.leases import lease_held
from kefu.customers.importing.runs import (
    import_files_cleanup,
    import_run_process,
    import_runs_abandoned_fail,
    import_runs_pending,
)

HOUSEKEEPING_LEASE = "customers-import-housekeeping"


@db_task()
def process_import_run(run_id: int) -> None:
    """Import the file of one pending ImportRun (issue 2 item 7)."""
    import_run_process(run_id=run_id)


@db_periodic_task(crontab(minute="*"))
def sweep_import_runs() -> None:
    """Pick up pending runs whose trigger was lost (worker restarted, queue cleared)."""
    for run_id in import_runs_pending():
        import_run_process(run_id=run_id)


@db_periodic_task(crontab(minute="*"))
def import_runs_housekeeping() -> dict | None:
    """Every minute (and at once when a worker starts): fail the runs a dead worker left running,
    delete uploads that are no longer needed or past their retention (S3)."""
    with lease_held(HOUSEKEEPING_LEASE, ttl=timedelta(minutes=5)) as lease:
        if lease is None:
            return None
        result = {"abandoned": import_runs_abandoned_fail(), "files_deleted": import_files_cleanup()}
    checkpoint("customers.imports.housekeeping")
    return result
