"""Import endpoints, /api/v1/imports/ (issue 2 items 7 and 9).

POST a CSV/XLSX file (multipart, field `file`) with `dry_run`; the import runs in the worker and
GET /api/v1/imports/{id} reports its progress and, when finished, the per-line errors.
"""

from __future__ import annotations

from datetime import datetime

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from kefu.customers.importing.runs import import_run_create, import_run_get, import_run_list
from kefu.customers.models import ImportRun
from kefu.customers.tasks import process_import_run

router = Router(tags=["imports"])


class ImportErrorOut(Schema):
    line: int
    column: str
    reason: str


class ImportRunOut(Schema):
    id: int
    status: str
    status_label: str
    original_name: str
    dry_run: bool
    encoding: str
    total_rows: int
    processed_rows: int
    created_count: int
    updated_count: int
    error_count: int
    message: str
    errors: list[ImportErrorOut]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_status_label(obj: ImportRun) -> str:
        return str(obj.get_status_display())


@router.post("/", response={201: ImportRunOut}, summary="上传文件导入客户（CSV/XLSX，可试运行）")
def create_import(request, file: File[UploadedFile], dry_run: Form[bool] = False):
    run = import_run_create(user=request.user, upload=file, dry_run=dry_run)
    process_import_run(run.pk)
    run.refresh_from_db()
    return Status(201, run)


@router.get("/", response=list[ImportRunOut], summary="本公司最近的导入记录")
def list_imports(request):
    return import_run_list(user=request.user)


@router.get("/{run_id}", response=ImportRunOut, summary="导入进度和逐行错误报告")
def get_import(request, run_id: int):
    return import_run_get(user=request.user, run_id=run_id)
