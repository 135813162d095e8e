"""Background jobs of the customers app (huey). Jobs are triggers; state is the ImportRun row."""
from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kefu.customers.importing.runs import import_run_process, import_runs_pending


@db_task()
def process_import_run(run_id: int) -> None:
    """Import the file of one pending ImportRun (issue 2 item 7)."""
    import_run_process(run_id=run_id)


@db_periodic_task(crontab(minute="*"))
def sweep_import_runs() -> None:
    """Pick up pending runs whose trigger was lost (worker restarted, queue cleared)."""
    for run_id in import_runs_pending():
        import_run_process(run_id=run_id)
