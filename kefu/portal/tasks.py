"""Background jobs of the portal on `kefu worker`: WeChat progress messages (kefu.portal.wechat)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def wechat_progress(ticket_id: int) -> int:
    """Send the progress template message of one work order (queued by the listener)."""
    from kefu.portal.wechat import progress_notify

    return progress_notify(ticket_id=ticket_id)


@db_periodic_task(crontab(minute="*/5"))
def wechat_progress_catch_up() -> int:
    """Every five minutes: progress messages a lost listener or task missed."""
    from kefu.portal.wechat import progress_catch_up

    return progress_catch_up()
