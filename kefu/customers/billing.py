"""Billing facts from the billing system (营业收费系统): balance, arrears, last purchase / top-up, meter
lock and valve state, alarm and hose expiry dates — what a caller asks the hotline about.

They belong to the billing system: kefu never lets anyone type them. They arrive as

- a CSV file (`kefu import-billing FILE`, or the API's file upload), format in docs/import.md;
- a JSON batch on `POST /api/v1/billing/snapshots` (token auth, the token's company).

Both are all or nothing: one bad line refuses the whole delivery, with every line's reason in
Chinese. Both are idempotent: a customer's row is written only when its `更新时间` is newer than the
stored one, so a delivery sent twice, or an older one sent late, changes nothing.

`parse_rows` is pure (cells in, typed rows or errors out); `billing_apply` writes; the selector
`billing_for_customer` reads for the customer card.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError
from kefu.customers.models import BillingImport, BillingSnapshot, Customer

MAX_ROWS = 500_000
MAX_ERRORS = 1000

#: column header → field. The first two are required; the others may be left out or left empty.
COLUMNS: dict[str, str] = {
    "户号": "account_no",
    "更新时间": "updated_at",
    "余额": "balance",
    "欠费": "arrears",
    "最近购气时间": "last_purchase_at",
    "最近购气金额": "last_purchase_amount",
    "表具锁定": "meter_locked",
    "阀门关闭": "valve_closed",
    "报警器到期日": "alarm_expires_on",
    "软管到期日": "hose_expires_on",
}
REQUIRED = ("户号", "更新时间")
FACTS = (
    "balance",
    "arrears",
    "last_purchase_at",
    "last_purchase_amount",
    "meter_locked",
    "valve_closed",
    "alarm_expires_on",
    "hose_expires_on",
)
TRUE = {"是", "1", "y", "yes", "true", "锁定", "关闭", "关"}
FALSE = {"否", "0", "n", "no", "false", "正常", "未锁定", "开启", "开"}


@dataclass(frozen=True)
class LineError:
    line: int
    column: str
    reason: str


@dataclass
class BillingRow:
    line: int
    account_no: str
    updated_at: datetime
    facts: dict = field(default_factory=dict)


@dataclass
class BillingReport:
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    billing_import: BillingImport | None = None

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self) -> str:
        if not self.ok:
            return _("共 %(n)d 行，%(e)d 处错误，未写入任何数据。") % {
                "n": self.total_rows,
                "e": self.error_count,
            }
        return _("共 %(n)d 行：新增 %(c)d，更新 %(u)d，未变（已是最新）%(s)d。") % {
            "n": self.total_rows,
            "c": self.created,
            "u": self.updated,
            "s": self.unchanged,
        }


# ---- parsing (pure) ---------------------------------------------------------------------------
def _money(text: str) -> Decimal:
    cleaned = re.sub(r"[,，¥￥元\s]", "", text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(_("“%(v)s”不是金额（如 120.50）") % {"v": text}) from None
    if not value.is_finite() or abs(value) >= Decimal("1e10"):
        raise ValueError(_("“%(v)s”不是金额（如 120.50）") % {"v": text})
    return value.quantize(Decimal("0.01"))


def _flag(text: str) -> bool:
    key = text.strip().lower()
    if key in TRUE:
        return True
    if key in FALSE:
        return False
    raise ValueError(_("“%(v)s”应为“是”或“否”") % {"v": text})


def _day(text: str) -> date:
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text.strip())
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except (AttributeError, ValueError):
        raise ValueError(_("“%(v)s”不是日期（如 2026-12-01）") % {"v": text}) from None


def _moment(value, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip().replace("/", "-").replace("T", " ")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(_("“%(v)s”不是时间（如 2026-12-01 08:30）") % {"v": value}) from None
    if dt.tzinfo is None:  # the billing system's wall clock, in the company's zone
        dt = dt.replace(tzinfo=tz)
    return dt


PARSERS = {
    "balance": lambda v, tz: _money(v),
    "arrears": lambda v, tz: _money(v),
    "last_purchase_amount": lambda v, tz: _money(v),
    "last_purchase_at": _moment,
    "meter_locked": lambda v, tz: _flag(v),
    "valve_closed": lambda v, tz: _flag(v),
    "alarm_expires_on": lambda v, tz: _day(v) if not isinstance(v, date) else v,
    "hose_expires_on": lambda v, tz: _day(v) if not isinstance(v, date) else v,
}
LABELS = {f: col for col, f in COLUMNS.items()}


def parse_rows(
    records: Iterable[tuple[int, dict]], *, tz: ZoneInfo, now: datetime
) -> tuple[list[BillingRow], list[LineError]]:
    """Check and type each record ({field: value}); every problem is a LineError with the line, the
    Chinese column name and the reason. A time in the future (beyond five minutes) is refused."""
    rows: list[BillingRow] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    for line, rec in records:
        account = str(rec.get("account_no") or "").strip()
        if not account:
            errors.append(LineError(line, "户号", _("户号不能为空")))
            continue
        if account in seen:
            errors.append(
                LineError(
                    line, "户号", _("户号 %(a)s 与第 %(l)d 行重复") % {"a": account, "l": seen[account]}
                )
            )
            continue
        seen[account] = line
        raw_updated = rec.get("updated_at")
        if raw_updated in (None, ""):
            errors.append(LineError(line, "更新时间", _("更新时间不能为空")))
            continue
        try:
            updated = _moment(raw_updated, tz)
        except ValueError as exc:
            errors.append(LineError(line, "更新时间", str(exc)))
            continue
        if (updated - now).total_seconds() > 300:
            errors.append(LineError(line, "更新时间", _("更新时间晚于现在，请检查计费系统的时钟")))
            continue
        facts, bad = {}, False
        for name in FACTS:
            value = rec.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                facts[name] = None
                continue
            try:
                facts[name] = PARSERS[name](value if not isinstance(value, str) else value.strip(), tz)
            except ValueError as exc:
                errors.append(LineError(line, LABELS[name], str(exc)))
                bad = True
        if not bad:
            rows.append(BillingRow(line=line, account_no=account, updated_at=updated, facts=facts))
    return rows, errors


def read_csv(data: bytes) -> tuple[list[tuple[int, dict]], list[LineError]]:
    """The CSV's records keyed by field, with line numbers as a spreadsheet shows them. UTF-8 (with
    or without BOM) or GBK/GB18030; a missing required column is an error on line 1."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise DomainError(_("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV。"))
    if "\x00" in text[:4096]:
        raise DomainError(_("文件不是 CSV 文本（请在 Excel 中“另存为 CSV”）。"))
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [LineError(1, c, _("缺少必需的列“%(c)s”") % {"c": c}) for c in missing]
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        return [], [
            LineError(1, h, _("不认识的列“%(c)s”（列名见 docs/import.md）") % {"c": h}) for h in unknown
        ]
    index = {COLUMNS[h]: i for i, h in enumerate(header) if h}
    records = []
    for n, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(records) >= MAX_ROWS:
            return [], [LineError(n, "", _("一个文件最多 %(n)d 行，请分成多个文件") % {"n": MAX_ROWS})]
        records.append((n, {f: (cells[i] if i < len(cells) else "") for f, i in index.items()}))
    return records, []


# ---- writing ----------------------------------------------------------------------------------
def _company_of(by, company):
    """An operator's command names the company; a person or a token acts for their own company."""
    if by is not None:
        assert_perm(by, Perm.CUSTOMER_IMPORT)
        company = by.company
    if company is None:
        raise DomainError(_("您的账号不属于任何公司。"))
    return company


def billing_apply(
    *,
    by=None,
    company=None,
    records: list[tuple[int, dict]],
    source: str,
    original_name: str = "",
    errors: list[LineError] | None = None,
) -> BillingReport:
    """Store a delivery of billing facts for the user's company (or, from the command line, the
    named company), all or nothing (Perm.CUSTOMER_IMPORT).

    Idempotent per customer: a row whose `updated_at` is not newer than the stored one is counted as
    unchanged and not written. Unknown account numbers are errors (nothing is written)."""
    company = _company_of(by, company)
    tz = ZoneInfo(getattr(company, "time_zone", "") or "Asia/Shanghai")
    report = BillingReport(total_rows=len(records))
    rows, line_errors = parse_rows(records, tz=tz, now=timezone.now())
    line_errors = list(errors or []) + line_errors
    accounts = [r.account_no for r in rows]
    customers: dict[str, int] = {}
    for i in range(0, len(accounts), 2000):
        chunk = accounts[i : i + 2000]
        customers.update(
            Customer.objects.filter(company=company, account_no__in=chunk).values_list("account_no", "id")
        )
    for r in rows:
        if r.account_no not in customers:
            line_errors.append(
                LineError(r.line, "户号", _("本公司没有户号 %(a)s 的客户") % {"a": r.account_no})
            )
    if line_errors:
        report.error_count = len(line_errors)
        report.errors = sorted(line_errors, key=lambda e: e.line)[:MAX_ERRORS]
        return report
    with transaction.atomic():
        run = BillingImport.objects.create(
            company=company,
            source=source,
            original_name=original_name[:200],
            created_by=by,
            total_rows=len(rows),
        )
        ids = [customers[r.account_no] for r in rows]
        existing: dict[int, BillingSnapshot] = {}
        for i in range(0, len(ids), 2000):
            for snap in BillingSnapshot.objects.select_for_update().filter(customer_id__in=ids[i : i + 2000]):
                existing[snap.customer_id] = snap
        now = timezone.now()
        new, changed = [], []
        for r in rows:
            cid = customers[r.account_no]
            snap = existing.get(cid)
            if snap is not None and snap.updated_at >= r.updated_at:
                report.unchanged += 1
                continue
            target = snap or BillingSnapshot(company=company, customer_id=cid)
            for name, value in r.facts.items():
                setattr(target, name, value)
            target.updated_at, target.received_at, target.billing_import = r.updated_at, now, run
            (changed if snap is not None else new).append(target)
        BillingSnapshot.objects.bulk_create(new, batch_size=1000)
        BillingSnapshot.objects.bulk_update(
            changed, [*FACTS, "updated_at", "received_at", "billing_import"], batch_size=1000
        )
        report.created, report.updated = len(new), len(changed)
        run.created_count, run.updated_count, run.unchanged_count = (
            report.created,
            report.updated,
            report.unchanged,
        )
        run.save(update_fields=["created_count", "updated_count", "unchanged_count"])
    report.billing_import = run
    return report


def billing_import_file(*, by=None, company=None, data: bytes, original_name: str = "") -> BillingReport:
    """Import a CSV export of the billing system (docs/import.md), all or nothing."""
    company = _company_of(by, company)
    records, errors = read_csv(data)
    if errors:
        return BillingReport(total_rows=len(records), errors=errors, error_count=len(errors))
    return billing_apply(
        by=by, company=company, records=records, source=BillingImport.Source.FILE, original_name=original_name
    )


# ---- reading ----------------------------------------------------------------------------------
def billing_for_customer(*, customer_id: int) -> BillingSnapshot | None:
    """The billing facts shown on the customer card, with when the billing system last updated them
    and which delivery brought them. The caller has already checked the customer is visible."""
    return BillingSnapshot.objects.select_related("billing_import").filter(customer_id=customer_id).first()
