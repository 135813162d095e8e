"""Background job of the exports app: drop expired files every hour (S3), on `kefu worker`."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="7"))
def exports_purge_periodic() -> int:
    """Hourly: the content of approved exports whose download link has expired is dropped."""
    from kefu.exports.services import export_files_purge

    return export_files_purge()
