"""The standing guard (docs/security.md): the real `kefu worker`, killed with SIGKILL mid-sweep and
mid-import, restarts into working sweeps; every breach is handled exactly once; the import ends
failed and its file — personal data — is deleted.

The worker runs in a subprocess on a file copy of the SQLite test database, or on the PostgreSQL
test database. It reports named checkpoints to a FIFO (kefu.core.checkpoints) and is held at one
of them until it is killed: no sleeps guess the timing. Bounded: every wait has a deadline.
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from kefu.core.checkpoints import ENV_BLOCK, ENV_FIFO

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]

BREACHES = 60
BATCH = 10
WAIT = 90.0  # seconds: the deadline of any one wait (a worker starts in a few seconds)


class Worker:
    """`kefu worker` in a subprocess, and the FIFO its checkpoints come through."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.fifo = tmp / "checkpoints"
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        self.read_fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.keep_fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)  # no EOF while no worker writes
        self.buffer = b""
        self.proc: subprocess.Popen | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
        self.env.update(
            DJANGO_SETTINGS_MODULE="kefu.settings",
            KEFU_VAR_DIR=str(tmp / "var"),
            KEFU_MEDIA_ROOT=str(tmp / "media"),
            KEFU_SLA_SWEEP_BATCH=str(BATCH),
            KEFU_WORKER_THREADS="2",
            KEFU_LOG_LEVEL="WARNING",
            KEFU_SECRET_KEY="fault-test-" + "x" * 40,
            KEFU_DATABASE_URL=_database_url(tmp),
        )

    def start(self, *, block_at: str = "") -> None:
        env = {**self.env, ENV_FIFO: str(self.fifo), ENV_BLOCK: block_at}
        log = open(self.tmp / "worker.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kefu", "worker"], cwd=settings.BASE_DIR, env=env, stdout=log, stderr=log
        )

    def wait_for(self, *wanted: str) -> None:
        """Read checkpoints ("name n pid") until every `wanted` ("name" or "name n") was seen."""
        missing = set(wanted)
        deadline = time.monotonic() + WAIT
        while missing:
            left = deadline - time.monotonic()
            assert left > 0, f"worker did not reach {missing}; log:\n{self.log()}"
            assert self.proc.poll() is None, f"worker exited ({self.proc.returncode}); log:\n{self.log()}"
            ready, _, _ = select.select([self.read_fd], [], [], min(left, 1.0))
            if not ready:
                continue
            self.buffer += os.read(self.read_fd, 65536)
            *lines, self.buffer = self.buffer.split(b"\n")
            for line in lines:
                name, n, _pid = line.decode().split()
                missing.discard(name)
                missing.discard(f"{name} {n}")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=WAIT) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)

    def close(self) -> None:
        self.stop()
        os.close(self.read_fd)
        os.close(self.keep_fd)

    def log(self) -> str:
        path = self.tmp / "worker.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def health(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "kefu", "health"],
            cwd=settings.BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )


def _database_url(tmp: Path) -> str:
    if connection.vendor == "postgresql":
        sd = connection.settings_dict
        return f"postgres://{sd['USER']}@{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}/{sd['NAME']}"
    return f"sqlite:///{tmp / 'kefu.sqlite3'}"


def _publish_database(tmp: Path) -> None:
    """SQLite: the in-memory test database, copied to the file the worker opens."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        dst = sqlite3.connect(tmp / "kefu.sqlite3")
        connection.connection.backup(dst)
        dst.close()


def _query(tmp: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """What the worker committed (SQLite: read from its file)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params)
            return cur.fetchall()
    db = sqlite3.connect(tmp / "kefu.sqlite3", timeout=30)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


@pytest.fixture
def worker(tmp_path):
    w = Worker(tmp_path)
    yield w
    w.close()


def _breaches(company, manager) -> int:
    """BREACHES clocks past due (on a subject that is not a work order: the company's two
    supervisors are told). Returns the notifications expected."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kefu.accounts.tests.factories import UserFactory
    from kefu.sla.models import Clock
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    year = timezone.localdate().year
    s = commitment_set_from_preset(company=company, year=year, preset="laizhou-crgas-2024", by=manager)
    commitment_set_publish(
        commitment_set=s, by=manager, at=datetime(year, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    c = s.commitments.get(code="repair_on_site")
    for i in range(2):
        UserFactory(company=company, role="supervisor", username=f"sup{i}")
    due = timezone.now() - timedelta(minutes=1)
    Clock.objects.bulk_create(
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
            escalate_at=due + timedelta(days=30),
        )
        for i in range(BREACHES)
    )
    return BREACHES * 2


def test_worker_killed_mid_sweep_restarts_into_a_sweep_that_handles_every_breach_once(
    worker, tmp_path, company_x
):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.notify.models import Notification
    from kefu.sla.models import Clock

    manager = UserFactory(company=company_x, role="manager", username="manager_x")
    expected = _breaches(company_x, manager)
    _publish_database(tmp_path)
    clocks, notes = Clock._meta.db_table, Notification._meta.db_table

    # 1. killed inside the second batch: the first is committed, the second is not
    worker.start(block_at="sla.sweep.batch@2")
    worker.wait_for("sla.sweep.batch 2")
    worker.kill()
    assert _query(tmp_path, f"SELECT COUNT(*) FROM {clocks} WHERE state='breached'") == [(BATCH,)]
    assert _query(tmp_path, f"SELECT COUNT(*) FROM {notes}") == [(BATCH * 2,)]
    holder = _query(tmp_path, "SELECT holder FROM core_lease WHERE name='sla-sweep'")[0][0]
    assert f":{worker.proc.pid}:" in holder  # the dead worker's lease, left behind unexpired

    # 2. restarted: the lease of the dead worker does not stop the sweep
    worker.start()
    worker.wait_for("sla.sweep.done")
    assert _query(
        tmp_path, f"SELECT COUNT(*) FROM {clocks} WHERE state='breached' AND escalation_level=1"
    ) == [(BREACHES,)]
    assert _query(tmp_path, f"SELECT COUNT(*) FROM {notes}") == [(expected,)]
    dup = f"SELECT COUNT(*) FROM (SELECT recipient_id, dedupe_key FROM {notes} GROUP BY recipient_id, dedupe_key HAVING COUNT(*) > 1) d"  # noqa: E501 (one message or data row, kept whole)
    assert _query(tmp_path, dup) == [(0,)]
    row = _query(tmp_path, "SELECT holder, completed_at FROM core_lease WHERE name='sla-sweep'")
    assert row[0][1] is not None
    health = worker.health()
    assert health.returncode == 0, health.stdout + health.stderr


def test_worker_killed_mid_import_restarts_and_the_run_fails_with_its_file_deleted(
    worker, tmp_path, company_x
):
    from django.core.files.base import ContentFile

    from kefu.customers.models import ImportRun
    from kefu.customers.tests.test_import import HEADER, LINES

    media = tmp_path / "media"
    # override_settings, not an assignment: the storage caches its location until setting_changed
    # says otherwise (an earlier test in this process that saved a file would have fixed it)
    with override_settings(MEDIA_ROOT=media):
        run = ImportRun(
            company=company_x, original_name="客户.csv", created_at=timezone.now() - timedelta(minutes=5)
        )
        run.file.save("客户.csv", ContentFile(("\n".join([HEADER, *LINES * 50]) + "\n").encode()), save=False)
        run.save()
    stored = media / run.file.name
    assert stored.exists()
    _publish_database(tmp_path)
    table = ImportRun._meta.db_table

    worker.start(block_at="customers.import.validating")
    worker.wait_for("customers.import.validating")
    worker.kill()
    assert _query(tmp_path, f"SELECT status FROM {table} WHERE id=?", (run.pk,)) == [("running",)]
    assert stored.exists()

    worker.start()
    worker.wait_for("customers.imports.housekeeping")
    status, message, file = _query(
        tmp_path, f"SELECT status, message, file FROM {table} WHERE id=?", (run.pk,)
    )[0]
    assert status == "failed" and "后台进程已停止" in message
    assert file == "" and not stored.exists()
    assert _query(tmp_path, "SELECT COUNT(*) FROM customers_customer") == [(0,)]
