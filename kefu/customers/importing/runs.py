"""Import runs started from the web page or the API (issue 2 item 7).

State lives in the ImportRun row, the huey job is only a trigger (ARCHITECTURE): the upload is
stored and a pending row created; a worker claims it with a conditional UPDATE (pending →
running), so two workers never process the same run, and a periodic sweep picks up runs whose
trigger was lost.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.customers.importing.service import STAGE_WRITING, import_customers
from kefu.customers.models import ImportRun
from kefu.core.errors import DomainError, NotFound

ALLOWED_EXTENSIONS = (".csv", ".txt", ".xlsx", ".xls")
PROGRESS_SAVE_EVERY = 5000


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
            _("文件太大（%(size).1f MB），上限为 %(max)d MB。") % {"size": upload.size / 1048576, "max": max_upload_bytes() // 1048576},
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
    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PENDING).update(
        status=ImportRun.Status.RUNNING, started_at=timezone.now(), message=_("正在校验…")
    )
    if not claimed:
        return None
    run = ImportRun.objects.select_related("company", "created_by").get(pk=run_id)
    state = {"stage": "", "saved": 0}

    def on_stage(stage: str) -> None:
        state["stage"] = stage
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
            status=ImportRun.Status.FAILED, finished_at=timezone.now(), message=_("导入程序出错：%(err)s") % {"err": str(exc)[:300]}
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


def import_runs_pending(*, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Pending runs whose trigger seems lost (for the periodic sweep)."""
    cutoff = timezone.now() - older_than
    return list(ImportRun.objects.filter(status=ImportRun.Status.PENDING, created_at__lt=cutoff).values_list("pk", flat=True))
