"""Billing facts from the billing system, /api/v1/billing/ (token auth, the token's company).

`POST /snapshots` takes a JSON batch; `POST /imports` a CSV file in the format of docs/import.md.
Both are all or nothing (HTTP 400 with every line's reason in Chinese) and idempotent: a customer's
facts are replaced only by a newer `updated_at`. Needs `customer.import` and a write token.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from kefu.core.errors import DomainError
from kefu.customers.billing import BillingReport, billing_apply, billing_import_file
from kefu.customers.models import BillingImport

router = Router(tags=["billing"])


class SnapshotIn(Schema):
    account_no: str = Field(..., max_length=30, description="户号")
    updated_at: datetime = Field(..., description="计费系统中这条数据的更新时间；不含时区时按公司时区")
    balance: Decimal | None = Field(None, description="余额（元）", max_digits=12, decimal_places=2)
    arrears: Decimal | None = Field(None, description="欠费（元）", max_digits=12, decimal_places=2)
    last_purchase_at: datetime | None = Field(None, description="最近购气/充值时间")
    last_purchase_amount: Decimal | None = Field(
        None, description="最近购气/充值金额（元）", max_digits=12, decimal_places=2
    )
    meter_locked: bool | None = Field(None, description="表具锁定")
    valve_closed: bool | None = Field(None, description="阀门关闭")
    alarm_expires_on: date | None = Field(None, description="报警器到期日")
    hose_expires_on: date | None = Field(None, description="软管到期日")


class BatchIn(Schema):
    items: list[SnapshotIn] = Field(..., max_length=10000)

    model_config = {
        "json_schema_extra": {
            "example": {
                "items": [
                    {
                        "account_no": "10000001",
                        "updated_at": "2026-12-01T08:30:00+08:00",
                        "balance": "86.50",
                        "arrears": "0",
                        "last_purchase_at": "2026-11-28T15:02:00+08:00",
                        "last_purchase_amount": "200.00",
                        "meter_locked": False,
                        "valve_closed": False,
                        "alarm_expires_on": "2028-05-31",
                        "hose_expires_on": "2029-05-31",
                    }
                ]
            }
        }
    }


class LineErrorOut(Schema):
    line: int
    column: str
    reason: str


class ReportOut(Schema):
    import_id: int | None
    total_rows: int
    created: int
    updated: int
    unchanged: int


class RefusedOut(Schema):
    detail: str
    code: str
    errors: list[LineErrorOut]


def _out(report: BillingReport):
    if not report.ok:
        lines = "；".join(
            _("第 %(l)d 行 %(c)s：%(r)s") % {"l": e.line, "c": e.column, "r": e.reason}
            for e in report.errors[:3]
        )
        return Status(
            400,
            {
                "detail": f"{report.summary()} {lines}",
                "code": "invalid_rows",
                "errors": [e.__dict__ for e in report.errors],
            },
        )
    return Status(
        200,
        {
            "import_id": report.billing_import.pk if report.billing_import else None,
            "total_rows": report.total_rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        },
    )


def _cell(value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return str(value)
    return value


@router.post(
    "/snapshots",
    response={200: ReportOut, 400: RefusedOut},
    summary="推送计费数据（余额、欠费、购气、表阀状态、到期日）",
)
def push_snapshots(request, payload: BatchIn):
    """Items are lines 1, 2, … in error messages. Resending the same batch changes nothing."""
    records = [
        (i, {k: _cell(v) for k, v in item.dict().items()}) for i, item in enumerate(payload.items, start=1)
    ]
    return _out(billing_apply(by=request.user, records=records, source=BillingImport.Source.API))


@router.post(
    "/imports",
    response={200: ReportOut, 400: RefusedOut},
    summary="上传计费系统导出的 CSV（格式见 docs/import.md）",
)
def upload_file(request, file: File[UploadedFile]):
    if file.size and file.size > 200 * 1024 * 1024:
        raise DomainError(_("文件超过 200 MB，请分成多个文件。"))
    return _out(billing_import_file(by=request.user, data=file.read(), original_name=file.name or ""))
