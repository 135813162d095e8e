"""The outages sweep redoes what a lost trigger missed: SMS left queued (the process died after the
commit) are sent, and a notice round whose completion was never recorded is recorded (C1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from kefu.outages import services
from kefu.outages.models import Notice
from kefu.outages.tasks import outages_sweep

START = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_sweep_sends_queued_sms_and_records_completion(
    dispatcher_x, manager_x, technician_x, households, monkeypatch
):
    with time_machine.travel(START - timedelta(days=3), tick=False):
        o = services.outage_create(
            by=dispatcher_x,
            kind="planned",
            reason="检修",
            planned_start=START,
            planned_end=START + timedelta(hours=4),
        )
        services.outage_set_affected(
            by=dispatcher_x, outage_id=o.pk, method="zone", selection={"zones": ["B"]}
        )
        services.outage_approve(by=manager_x, outage_id=o.pk)
        monkeypatch.setattr(services, "notices_send", lambda **kw: 0)  # the trigger is lost
        services.outage_notify(by=dispatcher_x, outage_id=o.pk)
        monkeypatch.undo()
        assert Notice.objects.get(outage=o, channel="sms").status == "queued"
        # no transaction commits in this test, so the receipt's completion check never runs either:
        # the sweep sends the SMS (the console gateway delivers at once) and records the completion
        assert outages_sweep() == {"sent": 1, "completed": 1}
        assert outages_sweep() == {"sent": 0, "completed": 0}
        o.refresh_from_db()
        assert o.notices_complete_at is not None
