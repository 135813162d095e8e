"""Imports whose worker died (kill -9, out of memory) do not stay "running" for ever, and uploads —
personal data (S3) — do not stay on disk: housekeeping fails the run and deletes the file; files
of finished runs, of runs never processed and orphans are deleted after the retention limit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from kefu.core.leases import _host, _start_ticks, holder_id
from kefu.customers.importing import runs
from kefu.customers.models import ImportRun
from kefu.customers.tasks import import_runs_housekeeping


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def dead_worker():
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    holder = f"{_host()}:{proc.pid}:{_start_ticks(proc.pid)}"
    proc.kill()
    proc.wait()
    return holder


def _run(
    company, *, status, worker="", heartbeat=None, created_ago=timedelta(0), name="客户.csv"
) -> ImportRun:
    run = ImportRun(
        company=company,
        original_name=name,
        status=status,
        worker=worker,
        heartbeat_at=heartbeat,
        started_at=heartbeat,
        created_at=timezone.now() - created_ago,
    )
    run.file.save(name, ContentFile("户号,户名\n1,张三\n".encode()), save=False)
    run.save()
    return run


@pytest.mark.django_db
def test_run_of_a_killed_worker_is_failed_at_once_and_its_file_deleted(company_x, media, dead_worker):
    run = _run(company_x, status=ImportRun.Status.RUNNING, worker=dead_worker, heartbeat=timezone.now())
    path = run.file.path
    assert os.path.exists(path)
    result = import_runs_housekeeping.call_local()
    run.refresh_from_db()
    assert result["abandoned"] == 1
    assert run.status == ImportRun.Status.FAILED and "后台进程已停止" in run.message and run.finished_at
    assert not run.file and not os.path.exists(path)


@pytest.mark.django_db
def test_live_runs_are_left_alone(company_x, media):
    old = timezone.now() - timedelta(hours=2)
    mine = _run(
        company_x, status=ImportRun.Status.RUNNING, worker=holder_id(), heartbeat=old
    )  # long SQLite write
    remote = _run(
        company_x, status=ImportRun.Status.RUNNING, worker="elsewhere:1:1", heartbeat=timezone.now()
    )
    assert runs.import_runs_abandoned_fail() == 0
    assert set(ImportRun.objects.values_list("status", flat=True)) == {"running"}
    assert os.path.exists(mine.file.path) and os.path.exists(remote.file.path)


@pytest.mark.django_db
def test_run_on_another_host_is_failed_after_its_heartbeat_goes_stale(company_x, media, settings):
    settings.KEFU_IMPORT = {**settings.KEFU_IMPORT, "STALE_SECONDS": 600}
    run = _run(
        company_x,
        status=ImportRun.Status.RUNNING,
        worker="elsewhere:1:1",
        heartbeat=timezone.now() - timedelta(seconds=601),
    )
    assert runs.import_runs_abandoned_fail() == 1
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and not run.file


@pytest.mark.django_db
def test_health_reports_a_stale_import(company_x, media, client):
    from kefu.core.health import health_report

    _run(
        company_x,
        status=ImportRun.Status.RUNNING,
        worker="elsewhere:1:1",
        heartbeat=timezone.now() - timedelta(hours=1),
    )
    check = health_report()["checks"]["imports"]
    assert check["ok"] is False and check["running"] == 1 and check["stale"] == 1 and check["last_heartbeat"]


@pytest.mark.django_db
def test_retention_deletes_old_pending_files_leftovers_and_orphans(company_x, media, settings):
    settings.KEFU_IMPORT = {**settings.KEFU_IMPORT, "FILE_RETENTION_HOURS": 24}
    waiting = _run(company_x, status=ImportRun.Status.PENDING, created_ago=timedelta(hours=25))
    fresh = _run(company_x, status=ImportRun.Status.PENDING, created_ago=timedelta(hours=1))
    leftover = _run(company_x, status=ImportRun.Status.SUCCEEDED)
    orphan_dir = media / "imports" / "2026" / "01"
    orphan_dir.mkdir(parents=True, exist_ok=True)
    old_orphan, new_orphan = orphan_dir / "old.csv", orphan_dir / "new.csv"
    old_orphan.write_text("1,张三")
    new_orphan.write_text("1,张三")
    two_days_ago = time.time() - 48 * 3600
    os.utime(old_orphan, (two_days_ago, two_days_ago))
    paths = {r.pk: r.file.path for r in (waiting, fresh, leftover)}

    assert runs.import_files_cleanup() == 3
    waiting.refresh_from_db()
    assert waiting.status == ImportRun.Status.FAILED and "24 小时未处理" in waiting.message
    assert not os.path.exists(paths[waiting.pk]) and not os.path.exists(paths[leftover.pk])
    assert os.path.exists(paths[fresh.pk]) and not old_orphan.exists() and new_orphan.exists()


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_beats_while_the_run_runs(company_x, media, monkeypatch):
    monkeypatch.setattr(runs, "HEARTBEAT_SECONDS", 0.02)
    start = timezone.now() - timedelta(minutes=5)
    run = _run(company_x, status=ImportRun.Status.RUNNING, worker=holder_id(), heartbeat=start)
    with runs._Heartbeat(run.pk):
        deadline = time.monotonic() + 20
        while ImportRun.objects.get(pk=run.pk).heartbeat_at == start and time.monotonic() < deadline:
            time.sleep(0.01)  # waiting for the condition (bounded), not guessing a duration
    assert ImportRun.objects.get(pk=run.pk).heartbeat_at > start


@pytest.mark.django_db
def test_a_processed_run_records_its_worker_and_heartbeat(company_x, media, supervisor_x):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kefu.customers.tests.test_import import HEADER, LINES

    data = ("\n".join([HEADER, *LINES]) + "\n").encode()
    run = runs.import_run_create(user=supervisor_x, upload=SimpleUploadedFile("a.csv", data), dry_run=True)
    runs.import_run_process(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and run.worker == holder_id() and run.heartbeat_at
    assert not run.file
