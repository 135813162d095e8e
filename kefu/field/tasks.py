"""Background job of the field app: the catch-up every minute on `kefu worker` (kefu.field.clocks)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*"))
def field_catch_up_periodic() -> dict:
    """Every minute: emergency jobs and pages, and clock events, that a lost listener missed."""
    from kefu.field.clocks import field_catch_up

    return field_catch_up()
