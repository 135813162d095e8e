"""Import runs started from the web page or the API (issue 2 item 7).

State lives in the ImportRun row, the huey job is only a trigger (ARCHITECTURE): the upload is
stored and a pending row created; a worker claims it with a conditional UPDATE (pending →
running), so two workers never process the same run, and a periodic sweep picks up runs whose
trigger was lost.

A run records the process that claimed it (`worker`, as kefu.core.leases names holders) and a
heartbeat its own thread writes every HEARTBEAT_SECONDS while it runs; housekeeping marks failed a
run whose process is gone (at once on the same host, after KEFU_IMPORT STALE_SECONDS elsewhere).
The upload holds personal data (S3): it is deleted when the run ends, fails or is abandoned, and
after FILE_RETENTION_HOURS in any case (a pending run never processed, a file left by a crash).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.checkpoints import checkpoint
from kefu.core.errors import DomainError, NotFound
from kefu.core.leases import holder_alive, holder_id
from kefu.customers.importing.service import STAGE_WRITING, import_customers
from kefu.customers.models import ImportRun

log = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".csv", ".txt", ".xlsx", ".xls")
PROGRESS_SAVE_EVERY = 5000
HEARTBEAT_SECONDS = 20
UPLOAD_DIR = "imports"


def _import_setting(key: str) -> int:
    return int(settings.KEFU_IMPORT[key])


def max_upload_bytes() -> int:
    """Upload limit, KEFU_IMPORT_MAX_MB (default 200 MB: a million lines of CSV is about 150 MB)."""
    return int(getattr(settings, "KEFU_IMPORT_MAX_MB", 200)) * 1024 * 1024


def import_run_create(*, user, upload: UploadedFile, dry_run: bool) -> ImportRun:
    """Check the role, the extension and the size, store the file and queue a pending run."""
    assert_perm(user, Perm.CUSTOMER_IMPORT)
    if user.company_id is None:
        raise DomainError(_("您的账号不属于任何公司，不能导入。"))
    name = Path(upload.name or "").name
    if not name.lower().endswith(ALLOWED_EXTENSIONS):
        raise DomainError(_("只能上传 CSV 或 Excel 文件（.csv、.xlsx、.xls）。"), field="file")
    if upload.size == 0:
        raise DomainError(_("文件是空的。"), field="file")
    if upload.size > max_upload_bytes():
        raise DomainError(
            _("文件太大（%(size).1f MB），上限为 %(max)d MB。")
            % {"size": upload.size / 1048576, "max": max_upload_bytes() // 1048576},
            field="file",
        )
    run = ImportRun(company_id=user.company_id, created_by=user, original_name=name[:200], dry_run=dry_run)
    run.file.save(name, upload, save=False)
    run.save()
    return run


def import_run_get(*, user, run_id: int) -> ImportRun:
    """A run of the user's own company (404 for others', S2)."""
    assert_perm(user, Perm.CUSTOMER_IMPORT)
    run = ImportRun.objects.filter(pk=run_id, company_id=user.company_id).first()
    if run is None:
        raise NotFound(_("没有这条导入记录。"))
    return run


def import_run_list(*, user, limit: int = 20) -> list[ImportRun]:
    assert_perm(user, Perm.CUSTOMER_IMPORT)
    return list(ImportRun.objects.filter(company_id=user.company_id).select_related("created_by")[:limit])


def import_run_process(*, run_id: int) -> ImportRun | None:
    """Claim a pending run and import its file; returns None if another worker has it."""
    now = timezone.now()
    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PENDING).update(
        status=ImportRun.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        worker=holder_id(),
        message=_("正在校验…"),
    )
    if not claimed:
        return None
    with _Heartbeat(run_id):
        return _process(run_id)


class _Heartbeat:
    """Writes the run's heartbeat every HEARTBEAT_SECONDS from its own thread (and so its own
    database connection: the import's write transaction may be open meanwhile)."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-heartbeat-{run_id}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def _beat(self) -> None:
        try:
            while not self.stop.wait(HEARTBEAT_SECONDS):
                try:
                    ImportRun.objects.filter(pk=self.run_id, status=ImportRun.Status.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:  # SQLite while the import writes: the same host sees the process alive
                    log.debug("import %s: heartbeat not written", self.run_id, exc_info=True)
        finally:
            connection.close()


def _process(run_id: int) -> ImportRun:
    run = ImportRun.objects.select_related("company", "created_by").get(pk=run_id)
    state = {"stage": "", "saved": 0}

    def on_stage(stage: str) -> None:
        state["stage"] = stage
        checkpoint(f"customers.import.{stage}")
        if stage == STAGE_WRITING:
            ImportRun.objects.filter(pk=run.pk).update(message=_("校验通过，正在写入数据库…"))

    def progress(processed: int, total: int) -> None:
        # While writing, the import's transaction is open: progress is not saved then (on SQLite
        # the write lock is ours; on PostgreSQL nobody would see it before the commit anyway).
        if state["stage"] == STAGE_WRITING:
            return
        if processed - state["saved"] >= PROGRESS_SAVE_EVERY or processed >= total:
            state["saved"] = processed
            ImportRun.objects.filter(pk=run.pk).update(processed_rows=processed, total_rows=total)

    try:
        report = import_customers(
            company=run.company,
            path=run.file.path,
            dry_run=run.dry_run,
            actor=run.created_by,
            progress=progress,
            on_stage=on_stage,
            source_name=run.original_name,
            audit_object=run,
        )
    except Exception as exc:  # the run must never stay "running" forever
        _discard_file(run)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED,
            finished_at=timezone.now(),
            message=_("导入程序出错：%(err)s") % {"err": str(exc)[:300]},
        )
        raise
    _discard_file(run)
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.SUCCEEDED if report.ok else ImportRun.Status.FAILED,
        encoding=report.encoding,
        total_rows=report.rows,
        processed_rows=report.rows,
        created_count=report.created,
        updated_count=report.updated,
        error_count=report.error_count,
        errors=[e.as_dict() for e in report.errors],
        message=report.summary()[:500],
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


def _discard_file(run: ImportRun) -> None:
    """The upload holds personal data (S3: no unnecessary copies): delete it once processed."""
    if run.file:
        run.file.delete(save=False)
    ImportRun.objects.filter(pk=run.pk).update(file="")


def import_runs_abandoned_fail(*, now=None) -> int:
    """Mark failed the running runs whose process is gone — at once when it ran on this host and is
    no longer running (killed, out of memory), after STALE_SECONDS without heartbeat otherwise — and
    delete their files. Returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=_import_setting("STALE_SECONDS"))
    failed = 0
    running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING).values_list(
        "pk", "worker", "heartbeat_at", "started_at"
    )
    for pk, worker, heartbeat, started in running:
        alive = holder_alive(worker) if worker else None
        last = heartbeat or started
        if alive is True or (alive is None and last is not None and last >= cutoff):
            continue
        done = ImportRun.objects.filter(pk=pk, status=ImportRun.Status.RUNNING, worker=worker).update(
            status=ImportRun.Status.FAILED,
            finished_at=now,
            message=_(
                "导入中断：处理该导入的后台进程已停止（重启或被终止）。文件已删除；请重新上传（同一文件再导入一次不会产生重复数据）。"
            ),
        )
        if done:
            failed += 1
            log.warning("import run %s abandoned by %s: marked failed", pk, worker or "?")
            _discard_file(ImportRun.objects.get(pk=pk))
    return failed


def import_files_cleanup(*, now=None) -> int:
    """Delete the uploads nobody needs any more (S3: no copies of personal data kept): files of
    finished runs, files of runs pending longer than FILE_RETENTION_HOURS (the run is failed), and
    files in the upload folder older than that which no run names. Returns how many files."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=_import_setting("FILE_RETENTION_HOURS"))
    deleted = 0
    for run in ImportRun.objects.filter(
        status__in=[ImportRun.Status.SUCCEEDED, ImportRun.Status.FAILED]
    ).exclude(file=""):
        _discard_file(run)
        deleted += 1
    expired = ImportRun.objects.filter(status=ImportRun.Status.PENDING, created_at__lt=cutoff)
    for run in expired:
        if ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PENDING).update(
            status=ImportRun.Status.FAILED,
            finished_at=now,
            message=_("超过 %(h)d 小时未处理，按个人信息保护要求已删除上传的文件。请重新上传。")
            % {"h": _import_setting("FILE_RETENTION_HOURS")},
        ):
            _discard_file(run)
            deleted += 1
    deleted += _orphan_files_delete(cutoff)
    return deleted


def _orphan_files_delete(cutoff) -> int:
    root = Path(settings.MEDIA_ROOT) / UPLOAD_DIR
    if not root.is_dir():
        return 0
    named = set(ImportRun.objects.exclude(file="").values_list("file", flat=True))
    deleted = 0
    limit = cutoff.timestamp()
    for path in root.rglob("*"):
        if not path.is_file() or path.stat().st_mtime >= limit:
            continue
        if path.relative_to(settings.MEDIA_ROOT).as_posix() in named:
            continue
        try:
            path.unlink()
            deleted += 1
        except OSError:
            log.warning("could not delete the old upload %s", path, exc_info=True)
    return deleted


def import_runs_pending(*, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Pending runs whose trigger seems lost (for the periodic sweep)."""
    cutoff = timezone.now() - older_than
    return list(
        ImportRun.objects.filter(status=ImportRun.Status.PENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
