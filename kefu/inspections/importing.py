"""Import of last year's inspection records from a spreadsheet (CSV UTF-8/GBK or Excel) with the
usual Chinese headers (P14): every line is checked first and reported by number; when any line is
wrong nothing is written. The file is read by the customers import's hardened reader
(kefu.customers.importing.reading.open_table: a child process with memory and time limits).

Columns (header names are matched after trimming; synonyms in HEADERS):
户号 (required), 安检日期 (required), 安检结果 (required: 完成 / 到访不遇 / 拒绝入户 / 空置 / 停用),
安检员, 隐患 (a catalogue name or code), 已整改 (是/否), 原因/备注, 表读数, 燃气具已检 (是/否).

A record becomes a visit (marked imported, its client id derived from account, date and outcome so
that importing the same file twice writes nothing more) on the ledger row of the period containing
its date; the year's programme is generated first if it does not exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.roles import Perm
from kefu.customers.importing.parsing import parse_date_text
from kefu.customers.importing.reading import FileProblem, open_table
from kefu.customers.models import Customer
from kefu.field.models import Technician
from kefu.inspections import rules, services
from kefu.inspections.models import Hazard, HazardType, LedgerEntry, Programme, Visit
from kefu.inspections.states import EntryStatus, HazardState, LedgerKind, Outcome

HEADERS = {
    "account_no": ("户号", "用户编号", "客户编号", "用户号"),
    "date": ("安检日期", "检查日期", "日期"),
    "outcome": ("安检结果", "检查结果", "结果"),
    "inspector": ("安检员", "检查人", "安检人员"),
    "hazard": ("隐患", "隐患内容", "安全隐患"),
    "rectified": ("已整改", "整改情况", "是否整改"),
    "reason": ("原因", "备注", "拒绝原因"),
    "meter_reading": ("表读数", "表底数", "读数"),
    "appliances": ("燃气具已检", "燃气具安检"),
}
REQUIRED = ("account_no", "date", "outcome")
OUTCOME_WORDS = {
    "完成": Outcome.DONE,
    "已检": Outcome.DONE,
    "合格": Outcome.DONE,
    "到访不遇": Outcome.NOBODY_HOME,
    "不遇": Outcome.NOBODY_HOME,
    "无人": Outcome.NOBODY_HOME,
    "拒绝入户": Outcome.REFUSED,
    "拒检": Outcome.REFUSED,
    "拒绝": Outcome.REFUSED,
    "空置": Outcome.VACANT,
    "停用": Outcome.NOT_IN_USE,
}
YES = ("是", "已", "已整改", "y", "yes", "1", "√")
MAX_LINES = 200_000


@dataclass
class Record:
    line: int
    customer_id: int
    on: date
    outcome: str
    inspector_id: int | None
    hazard: HazardType | None
    rectified: bool
    reason: str
    reading: Decimal | None
    appliances: bool


@dataclass
class ImportReport:
    lines: int = 0
    errors: list[dict] = field(default_factory=list)
    written: int = 0
    skipped: int = 0  # already imported (same account, date and outcome)
    hazards: int = 0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problem


def _header(cells: list) -> tuple[dict[str, int], list[str]]:
    names = {w: key for key, words in HEADERS.items() for w in words}
    found: dict[str, int] = {}
    for i, c in enumerate(cells):
        key = names.get(str(c or "").strip())
        if key and key not in found:
            found[key] = i
    missing = [HEADERS[k][0] for k in REQUIRED if k not in found]
    return found, missing


def _cell(row: list, cols: dict[str, int], key: str) -> str:
    i = cols.get(key)
    if i is None or i >= len(row) or row[i] is None:
        return ""
    return str(row[i]).strip()


def import_records(
    *, by, path: str, year: int, encoding: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Check every line of the file, report each wrong one (line, column, reason), and — only when
    none is wrong and not `dry_run` — write the visits in one transaction (P14)."""
    services._need(by, Perm.INSPECTION_PLAN)
    report = ImportReport()
    try:
        table = open_table(path, encoding=encoding)
    except FileProblem as e:
        report.problem = e.message
        return report
    rows = []
    try:
        for n, row in table.rows:
            rows.append((n, row))
            if len(rows) > MAX_LINES + 1:
                table.close()
                report.problem = _("文件超过 %(n)d 行，请分批导入。") % {"n": MAX_LINES}
                return report
    except FileProblem as e:
        report.problem = e.message
        return report
    if not rows:
        report.problem = _("文件是空的。")
        return report
    cols, missing = _header(rows[0][1])
    if missing:
        report.problem = _("缺少必填列：%(c)s") % {"c": "、".join(missing)}
        return report
    records = _check(by, rows[1:], cols, year, report)
    report.lines = len(rows) - 1
    if report.errors or dry_run:
        return report
    _write(by, year, records, report)
    return report


def _check(by, rows, cols, year: int, report: ImportReport) -> list[Record]:
    accounts = {_cell(r, cols, "account_no") for _n, r in rows}
    customers = dict(
        Customer.objects.filter(company_id=by.company_id, account_no__in=accounts).values_list(
            "account_no", "id"
        )
    )
    types = {}
    for t in HazardType.objects.filter(company_id=by.company_id):
        types[t.name], types[t.code] = t, t
    techs: dict[str, int] = {}
    for t in Technician.objects.filter(company_id=by.company_id).select_related("user"):
        for key in (t.user.employee_no, t.user.username, t.user.display_name):  # staff no., login or name
            if key:
                techs.setdefault(key, t.pk)
    out: list[Record] = []
    for n, row in rows:
        if not any(str(c or "").strip() for c in row):
            continue
        errs = []

        def err(col: str, reason: str, *, errs=errs, n=n) -> None:
            errs.append({"line": n, "column": col, "reason": reason})

        acct = _cell(row, cols, "account_no")
        cid = customers.get(acct)
        if not acct:
            err("户号", _("必填"))
        elif cid is None:
            err("户号", _("没有这个户号：%(a)s") % {"a": acct})
        on = None
        try:
            on = parse_date_text(_cell(row, cols, "date"))
        except ValueError:
            err("安检日期", _("日期格式不对：%(v)s") % {"v": _cell(row, cols, "date")})
        if on is not None and on.year != year:
            err("安检日期", _("不是 %(y)s 年的日期") % {"y": year})
        outcome = OUTCOME_WORDS.get(_cell(row, cols, "outcome"))
        if outcome is None:
            err("安检结果", _("应为 完成、到访不遇、拒绝入户、空置 或 停用"))
        hazard = None
        htext = _cell(row, cols, "hazard")
        if htext and htext not in ("无", "-"):
            hazard = types.get(htext)
            if hazard is None:
                err("隐患", _("隐患目录中没有：%(h)s") % {"h": htext})
            elif outcome not in (None, Outcome.DONE):
                err("隐患", _("只有完成入户安检时才能登记隐患"))
        inspector = _cell(row, cols, "inspector")
        if inspector and inspector not in techs:
            err("安检员", _("没有这个安检员：%(n)s") % {"n": inspector})
        reading = None
        if _cell(row, cols, "meter_reading"):
            try:
                reading = Decimal(_cell(row, cols, "meter_reading"))
                if reading < 0 or reading >= Decimal("1e10"):
                    raise InvalidOperation
            except InvalidOperation:
                err("表读数", _("须为非负数字"))
        reason = _cell(row, cols, "reason")[:200]
        if outcome == Outcome.REFUSED and not reason:
            err("原因", _("拒绝入户须写明原因"))
        if errs:
            report.errors.extend(errs)
            continue
        out.append(
            Record(
                line=n,
                customer_id=cid,
                on=on,
                outcome=outcome,
                inspector_id=techs.get(inspector),
                hazard=hazard,
                rectified=_cell(row, cols, "rectified").lower() in YES,
                reason=reason,
                reading=reading,
                appliances=_cell(row, cols, "appliances").lower() in YES,
            )
        )
    return out


def _write(by, year: int, records: list[Record], report: ImportReport) -> None:
    tz = services.tz_of(by.company)
    settings = services.settings_for(by.company)
    if not Programme.objects.filter(company_id=by.company_id, year=year).exists():
        services.programme_generate(by=by, year=year)
    prog = Programme.objects.get(company_id=by.company_id, year=year)
    with transaction.atomic():
        for r in records:
            key = hashlib.sha1(f"{r.customer_id}|{r.on}|{r.outcome}".encode()).hexdigest()[:24]
            client_id = f"import-{key}"
            if Visit.objects.filter(company_id=by.company_id, client_id=client_id).exists():
                report.skipped += 1
                continue
            entry = _entry_for(prog, r)
            at = datetime.combine(r.on, time(10, 0), tzinfo=tz)
            visit = Visit.objects.create(
                company_id=by.company_id,
                entry=entry,
                inspector_id=r.inspector_id,
                actor=by,
                client_id=client_id,
                at=at,
                server_at=timezone.now(),
                band=rules.time_band(at),
                outcome=r.outcome,
                reason=r.reason,
                door_notice=r.outcome == Outcome.NOBODY_HOME,
                meter_reading=r.reading,
                appliances_checked=r.appliances,
                imported=True,
            )
            services._apply_visit(entry, visit, by, settings)
            if r.hazard is not None:
                _hazard(entry, visit, by, r, settings)
                report.hazards += 1
            report.written += 1
        audit_record(
            action=Action.IMPORTED,
            obj=prog,
            actor=by,
            detail={"visits": report.written, "skipped": report.skipped, "hazards": report.hazards},
        )


def _entry_for(prog: Programme, r: Record) -> LedgerEntry:
    rows = LedgerEntry.objects.filter(
        programme=prog,
        customer_id=r.customer_id,
        kind=LedgerKind.HOUSEHOLD,
        period_start__lte=r.on,
        due_on__gte=r.on,
    ).exclude(status=EntryStatus.CANCELLED)
    entry = rows.select_related("customer").first()
    if entry is not None:
        return entry
    # a customer no longer active (or not in the ledger): the record still needs its row
    cust = Customer.objects.select_related("category", "premise").get(pk=r.customer_id)
    n = int(prog.frequencies.get(cust.category.code, cust.category.inspections_per_year or 1))
    p = next(p for p in rules.periods(prog.year, n) if p.start <= r.on <= p.end)
    entry, _created = LedgerEntry.objects.get_or_create(
        programme=prog,
        customer=cust,
        kind=LedgerKind.HOUSEHOLD,
        periods=p.count,
        period=p.index,
        defaults={
            "company_id": prog.company_id,
            "period_start": p.start,
            "due_on": p.end,
            "category": cust.category.code,
            "district": cust.premise.district if cust.premise_id else "",
            "community": cust.premise.community if cust.premise_id else "",
            "building": cust.premise.building if cust.premise_id else "",
        },
    )
    return entry


def _hazard(entry, visit, by, r: Record, settings) -> None:
    h = Hazard.objects.create(
        company_id=entry.company_id,
        number=services._hazard_number(entry.company_id, visit.at),
        visit=visit,
        entry=entry,
        customer_id=entry.customer_id,
        type=r.hazard,
        severity=r.hazard.severity,
        description=_("导入（第 %(n)d 行）") % {"n": r.line},
        found_at=visit.at,
        deadline=rules.hazard_deadline(r.on, r.hazard.severity, settings.deadline_days),
        responsible=by,
        state=HazardState.RECTIFIED if r.rectified else HazardState.OPEN,
    )
    services._hazard_event(h, "imported", by, f"line {r.line}")
    LedgerEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.HAZARD)
