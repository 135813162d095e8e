"""Importing customers from a billing export (issue 2 item 7; C-import, S2 audit).

Validate everything first, then write everything in one transaction: a file with any bad line
writes nothing, and a database failure half-way rolls the whole import back. A dry run stops
after validation and reports what would be created and updated. Upsert by account number within
the company makes re-running a file harmless. One audit row per import, with the counts.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import Company
from kefu.customers.defaults import CATEGORY_DEFAULTS, company_seed_defaults
from kefu.customers.importing.bulk import CustomerBulkWriter, CustomerData, WriteCounts
from kefu.customers.importing.parsing import LineError, RowParser, map_header, missing_required
from kefu.customers.importing.reading import FileProblem, open_table
from kefu.customers.models import CustomerCategory

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Stage = Callable[[str], None]

BATCH_SIZE = 5000
PROGRESS_EVERY = 5000
MAX_ERRORS_KEPT = 1000
HEADER_SEARCH_ROWS = 10

STAGE_VALIDATING = "validating"
STAGE_WRITING = "writing"
STAGE_IMPORTING = "importing"  # stream mode: validating and writing at once


@dataclass
class ImportReport:
    """What an import did, or why it did nothing. `errors` keeps the first 1000 bad lines."""

    dry_run: bool
    file_kind: str = ""
    encoding: str = ""
    rows: int = 0  # data lines read (blank lines not counted)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[LineError] = field(default_factory=list)
    problem: str = ""  # the whole file was refused (empty, not a spreadsheet, missing columns...)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problem and not self.error_count

    def summary(self) -> str:
        """One line in Chinese for the command, the page and the ImportRun message."""
        if self.problem:
            return self.problem
        if self.error_count:
            return _("发现 %(n)d 处错误（共 %(rows)d 行），未写入任何数据。请修正后重新导入。") % {"n": self.error_count, "rows": self.rows}
        counts = {"rows": self.rows, "new": self.created, "upd": self.updated, "same": self.unchanged}
        if self.dry_run:
            return _("试运行通过：共 %(rows)d 行，将新增 %(new)d 户，更新 %(upd)d 户，%(same)d 户无变化。未写入任何数据。") % counts
        return _("导入成功：共 %(rows)d 行，新增 %(new)d 户，更新 %(upd)d 户，%(same)d 户无变化。") % counts


def _category_lookup(company: Company, *, dry_run: bool) -> dict[str, int]:
    rows = list(CustomerCategory.objects.filter(company=company).values_list("id", "code", "name"))
    if not rows:
        if dry_run:  # a dry run writes nothing, not even the default categories
            rows = [(-(i + 1), c.code, c.name) for i, c in enumerate(CATEGORY_DEFAULTS)]
        else:
            company_seed_defaults(company)
            rows = list(CustomerCategory.objects.filter(company=company).values_list("id", "code", "name"))
    return RowParser.category_lookup(rows)


def _blank(cells: list) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def import_customers(
    *,
    company: Company,
    path: str | Path,
    dry_run: bool = False,
    encoding: str | None = None,
    actor=None,
    progress: Progress | None = None,
    on_stage: Stage | None = None,
    source_name: str = "",
    audit_object=None,
    batch_size: int = BATCH_SIZE,
    stream: bool = False,
) -> ImportReport:
    """Import a billing export into `company`; nothing is written if any line is bad.

    Two ways to the same result:
    - default (web runs): validate the whole file, then upsert it in one transaction.
      `progress(processed, total)` is called while validating and again while writing, and
      `on_stage("validating" | "writing")` announces each phase, so progress can be saved between
      the phases.
    - `stream=True` (the command line, a million lines): one transaction from the first line; a
      reader thread validates while this thread writes the lines already validated, so both cores
      work. The first bad line stops the writing, the reader still reports every bad line, and the
      transaction is rolled back. Progress comes from the reader thread (`on_stage("importing")`).
    """
    report = ImportReport(dry_run=dry_run)
    name = source_name or Path(path).name
    try:
        table = open_table(path, encoding=encoding)
        report.file_kind, report.encoding = table.kind, table.encoding
        header = _read_header(table)
    except FileProblem as exc:
        report.problem = exc.message
        return report
    parser = RowParser(header, categories=_category_lookup(company, dry_run=dry_run), area_code=company.area_code)
    writer = CustomerBulkWriter(company.pk)
    audit = {"company": company, "actor": actor, "audit_object": audit_object, "name": name}
    try:
        if stream:
            counts = _stream(table, parser, writer, report, dry_run=dry_run, progress=progress, on_stage=on_stage,
                             batch_size=batch_size, audit=audit)
        else:
            counts = _two_phase(table, parser, writer, report, dry_run=dry_run, progress=progress, on_stage=on_stage,
                                batch_size=batch_size, audit=audit)
    except FileProblem as exc:
        report.problem = exc.message
        return report
    except DatabaseError as exc:
        log.exception("customer import failed while writing")
        report.problem = _("写入数据库失败，已全部回滚，未写入任何数据：%(err)s") % {"err": str(exc)[:200]}
        return report
    if counts is None:
        return report
    report.written = not dry_run
    report.created, report.updated, report.unchanged = counts.created, counts.updated, counts.unchanged
    return report


class _Stopped(Exception):
    """The writing thread stopped; the reader thread ends."""


class _Rollback(Exception):
    """Raised inside the transaction when a bad line was found after writing had started."""


def _no_rows(report: ImportReport) -> bool:
    if report.ok and not report.rows:
        report.problem = _("文件中没有数据行（只有列名）。")
        return True
    return False


def _audit(report: ImportReport, counts: WriteCounts, audit: dict) -> None:
    """One audit row per import, with the counts (S2), inside the import's transaction."""
    obj = audit["audit_object"]
    audit_record(
        action=Action.IMPORTED,
        obj=obj,
        actor=audit["actor"],
        company=audit["company"],
        object_type="" if obj is not None else "customers.customer",
        object_repr="" if obj is not None else audit["name"],
        detail={"file": audit["name"], "rows": report.rows, "created": counts.created, "updated": counts.updated,
                "unchanged": counts.unchanged},
    )


def _two_phase(table, parser, writer, report, *, dry_run, progress, on_stage, batch_size, audit) -> WriteCounts | None:
    if on_stage:
        on_stage(STAGE_VALIDATING)
    records: list[CustomerData] = []
    _validate(table, parser, report, records.append, progress=progress)
    if not report.ok or _no_rows(report):
        return None
    if on_stage:
        on_stage(STAGE_WRITING)
    counts = WriteCounts()
    total = len(records)
    with transaction.atomic():
        for start in range(0, total, batch_size):
            batch = records[start : start + batch_size]
            if dry_run:
                plan = writer.plan(batch)
                counts.add(WriteCounts(len(plan.new), len(plan.changed), plan.unchanged))
            else:
                counts.add(writer.write(batch))
            if progress:
                progress(min(start + batch_size, total), total)
        if not dry_run:
            _audit(report, counts, audit)
    return counts


def _stream(table, parser, writer, report, *, dry_run, progress, on_stage, batch_size, audit) -> WriteCounts | None:
    if on_stage:
        on_stage(STAGE_IMPORTING)
    batches: queue.Queue = queue.Queue(maxsize=4)
    stop = threading.Event()
    failure: list[BaseException] = []

    def read() -> None:
        # File and Python work only: this thread never touches the database.
        batch: list[CustomerData] = []

        def sink(record: CustomerData) -> None:
            batch.append(record)
            if len(batch) >= batch_size:
                _put(list(batch))
                batch.clear()

        def _put(item) -> None:
            while not stop.is_set():
                try:
                    batches.put(item, timeout=0.2)
                    return
                except queue.Full:
                    continue
            if item is not None:
                raise _Stopped  # the writer gave up (database error): stop reading

        try:
            _validate(table, parser, report, sink, progress=progress)
            if batch and report.ok:
                _put(batch)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the writing thread
            failure.append(exc)
        finally:
            _put(None)

    reader = threading.Thread(target=read, name="kefu-import-reader", daemon=True)
    reader.start()
    counts = WriteCounts()
    try:
        with transaction.atomic():
            while (batch := batches.get()) is not None:
                if not report.ok:
                    continue  # a bad line was found: nothing more is written, all is rolled back
                if dry_run:
                    plan = writer.plan(batch)
                    counts.add(WriteCounts(len(plan.new), len(plan.changed), plan.unchanged))
                else:
                    counts.add(writer.write(batch))
            reader.join()
            if failure:
                raise failure[0]
            if not report.ok or _no_rows(report):
                raise _Rollback
            if not dry_run:
                _audit(report, counts, audit)
    except _Rollback:
        return None
    finally:
        stop.set()
        reader.join(timeout=5)
    return counts


def _read_header(table) -> dict[str, list[int]]:
    """Find the header among the first lines (billing exports may put a title above it)."""
    for line, cells in table.rows:
        if _blank(cells):
            continue
        mapping, problems = map_header(cells)
        if problems:
            raise FileProblem(" ".join(problems))
        if len(mapping) >= 2:
            missing = missing_required(mapping)
            if missing:
                raise FileProblem(_("缺少必需的列：%(cols)s。可下载列模板对照。") % {"cols": "、".join(missing)})
            table.header_line = line
            return mapping
        if line >= HEADER_SEARCH_ROWS:
            break
    raise FileProblem(
        _("没有找到可识别的列名（如 户号、户名、客户类别）。第一行应为列名；如果列名显示为乱码，请确认文件编码为 UTF-8 或 GBK。")
    )


def _validate(table, parser: RowParser, report: ImportReport, sink: Callable[[CustomerData], None], *, progress) -> None:
    """Read every line after the header: good records go to `sink` until the first bad line;
    every bad line goes to `report.errors`."""
    seen: dict[str, int] = {}
    total = max(table.total_rows - table.header_line, 1)
    errors = report.errors
    processed = 0
    for line, cells in table.rows:
        processed += 1
        if progress and processed % PROGRESS_EVERY == 0:
            progress(processed, max(total, processed))
        if not any(cells) or (not parser.account_of(cells) and _blank(cells)):
            continue
        report.rows += 1
        record, line_errors = parser.parse(line, cells)
        if record is not None:
            first = seen.get(record.account_no)
            if first is not None:
                line_errors = [LineError(line, "户号", _("户号“%(v)s”重复：第 %(a)d 行和第 %(b)d 行。") % {"v": record.account_no, "a": first, "b": line})]
            else:
                seen[record.account_no] = line
                if not report.error_count:
                    sink(record)
        else:
            account = parser.account_of(cells)
            if account and account not in seen:
                seen[account] = line
        if line_errors:
            report.error_count += len(line_errors)
            if len(errors) < MAX_ERRORS_KEPT:
                errors.extend(line_errors[: MAX_ERRORS_KEPT - len(errors)])
    if progress:
        progress(processed, processed)
