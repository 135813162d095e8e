"""Background job of the counter on `kefu worker`: every minute, the sweeps that finish what a
crashed process left half done (P12) — a payment committed without its receipt number
(kefu.counter.numbering) and a payment not yet passed to the billing system (kefu.counter.billing).
Both are safe with several workers: numbering locks the company's series row, a billing push claims
its payment by a conditional UPDATE."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*"))
def counter_sweeps_periodic() -> dict:
    """Every minute: number the payments left unnumbered, pass on those billing has not received."""
    from kefu.counter.numbering import receipts_number_pending
    from kefu.counter.services import billing_retry_pending

    return {"numbered": receipts_number_pending(), "sent_to_billing": billing_retry_pending()}
