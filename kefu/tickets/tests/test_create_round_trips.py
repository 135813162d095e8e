"""A create costs the round trips docs/tickets.md counts ("A create is now 11 round trips to
PostgreSQL"): splitting ticket_create into a check and a write adds no query. Counted with the
per-process caches warm, as in a running server (kinds, calendar, published set)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.sla.services import commitment_set_publish
from kefu.tickets.services import ticket_create

SH = ZoneInfo("Asia/Shanghai")


def _create(agent, phone):
    return ticket_create(
        by=agent,
        kind="repair",
        content="燃气灶打不着火",
        caller_surname="张",
        caller_title="mr",
        caller_phone=phone,
        address="幸福小区3号楼2单元501室",
        on_duplicate="create",
    )


@pytest.mark.django_db
def test_a_create_with_clocks_makes_the_documented_statements(
    agent_x, laizhou_set, manager_x, django_capture_on_commit_callbacks
):
    commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=datetime(2026, 1, 1, tzinfo=SH))
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SH), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            _create(agent_x, "13900001111")  # seeds the kinds (which clears their cache)
            _create(agent_x, "13900003333")  # warms the caches
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            _create(agent_x, "13900002222")
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # UPDATE counter; INSERT work order; INSERT timeline event; INSERT its audit row (S3); then (after
    # the commit) INSERT
    # attachment; INSERT clocks — savepoints aside. (A server also sends SET LOCAL synchronous_commit
    # on PostgreSQL before the attachment; inside the test's transaction the clocks share it, so not here.)
    work = [s for s in statements if s not in ("SAVEPOINT", "RELEASE", "ROLLBACK")]
    expected = ["UPDATE", "INSERT", "INSERT", "INSERT", "INSERT", "INSERT"]
    assert work == expected, [q["sql"][:90] for q in queries.captured_queries]
