"""The sweep under stress (issue 4 §4 tests): two workers racing send each notification exactly
once; a `kefu sla-sweep` killed with SIGKILL mid-sweep loses nothing and a second sweep completes
the work without sending anything twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from kefu.notify.models import Notification
from kefu.sla.models import Clock
from kefu.sla.states import ClockState
from kefu.sla.sweep import sweep

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=SH)


def _setup(company, manager, *, breached: int, warned: int) -> dict:
    """`breached` clocks 1 min past due and `warned` clocks past 75 % but not due, on a subject
    that is not a work order (the company's leads and supervisors are told)."""
    from kefu.accounts.tests.factories import UserFactory
    from kefu.sla.tests.factories import CommitmentSetFactory

    s = CommitmentSetFactory(company=company, by=manager, published_at=datetime(2026, 1, 1, tzinfo=SH))
    c = s.commitments.get(code="repair_on_site")
    sups = [UserFactory(company=company, role="supervisor", username=f"sup{i}") for i in range(2)]
    lead = UserFactory(company=company, role="team_lead", username="lead")
    rows = []
    for i in range(breached + warned):
        late = i < breached
        due = NOW - timedelta(minutes=1) if late else NOW + timedelta(hours=1)
        rows.append(
            Clock(
                company=company,
                subject_type="test.subject",
                subject_id=str(i),
                commitment=c,
                commitment_version=s.version,
                clock_kind=c.clock_kind,
                limit_value=c.limit_value,
                limit_unit=c.limit_unit,
                started_at=due - timedelta(days=1),
                due_at=due,
                warn_at=due - timedelta(hours=6),
                escalate_at=due + timedelta(hours=2),
            )
        )
    Clock.objects.bulk_create(rows, batch_size=500)
    return {"supervisors": sups, "lead": lead, "expected": breached * len(sups) + warned * 1}


def _assert_exactly_once(expected: int) -> None:
    dup = (
        Notification.objects.values("recipient_id", "dedupe_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    assert dup == 0
    assert Notification.objects.count() == expected


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_notify_each_exactly_once(company_x, manager_x):
    if connection.vendor != "postgresql":
        pytest.skip(
            "row-level claims (SKIP LOCKED) are a PostgreSQL matter; SQLite runs one writer at a time"
        )
    data = _setup(company_x, manager_x, breached=150, warned=150)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        from django.db import connection as conn

        try:
            barrier.wait()
            results.append(sweep(now=NOW, batch_size=7, attach=False))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    _assert_exactly_once(data["expected"])
    assert sum(r.breached for r in results) == 150 and sum(r.warned for r in results) == 150
    assert sum(r.notifications for r in results) == data["expected"]
    assert Clock.objects.filter(state=ClockState.BREACHED, escalation_level=1).count() == 150
    assert Clock.objects.filter(warned_at=NOW).count() == 150


def _subprocess_db(tmp_path) -> tuple[dict, callable]:
    """Environment for a `kefu` subprocess that sees this test's database, and a counter of the
    notification rows that reads what the subprocess committed."""
    env = {k: v for k, v in os.environ.items() if k not in ("KEFU_DATABASE_URL",)}
    env["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    table = Notification._meta.db_table
    if connection.vendor == "postgresql":
        sd = connection.settings_dict
        env["KEFU_DATABASE_URL"] = (
            f"postgres://{sd['USER']}@{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}/{sd['NAME']}"
        )

        def count() -> int:
            with connection.cursor() as cur:
                cur.execute(f"SELECT COUNT(*) FROM {table}")
                return cur.fetchone()[0]

        return env, count
    path = tmp_path / "sweep.sqlite3"
    connection.ensure_connection()
    dst = sqlite3.connect(path)
    connection.connection.backup(dst)  # the in-memory test database, copied for the subprocess
    dst.close()
    env["KEFU_DATABASE_URL"] = f"sqlite:///{path}"

    def count() -> int:
        db = sqlite3.connect(path, timeout=30)
        try:
            return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        finally:
            db.close()

    count.path = path  # type: ignore[attr-defined]
    return env, count


@pytest.mark.django_db(transaction=True)
def test_sweep_killed_mid_sweep_then_rerun_loses_nothing(company_x, manager_x, tmp_path):
    data = _setup(company_x, manager_x, breached=300, warned=100)
    env, count = _subprocess_db(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "kefu",
        "sla-sweep",
        "--no-attach",
        "--now",
        NOW.isoformat(),
        "--batch-size",
        "10",
    ]
    proc = subprocess.Popen(
        cmd + ["--pause-between-batches", "0.1"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while count() < 40 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    partial = count()
    assert 0 < partial < data["expected"]
    done = subprocess.run(cmd, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert count() == data["expected"]
    # nothing twice, every clock marked
    if connection.vendor == "postgresql":
        _assert_exactly_once(data["expected"])
        assert Clock.objects.filter(state=ClockState.BREACHED, escalation_level=1).count() == 300
        assert Clock.objects.filter(warned_at__isnull=False).count() == 100
    else:
        db = sqlite3.connect(count.path)  # type: ignore[attr-defined]
        try:
            t = Notification._meta.db_table
            dup = db.execute(
                f"SELECT COUNT(*) FROM (SELECT recipient_id, dedupe_key FROM {t} "
                "GROUP BY recipient_id, dedupe_key HAVING COUNT(*) > 1)"
            ).fetchone()[0]
            breached = db.execute(
                f"SELECT COUNT(*) FROM {Clock._meta.db_table} WHERE state='breached' AND escalation_level=1"
            ).fetchone()[0]
            warned = db.execute(
                f"SELECT COUNT(*) FROM {Clock._meta.db_table} WHERE warned_at IS NOT NULL"
            ).fetchone()[0]
        finally:
            db.close()
        assert dup == 0 and breached == 300 and warned == 100
