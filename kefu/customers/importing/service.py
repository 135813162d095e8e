"""Importing customers from a billing export (C-import, S2 audit; streaming: docs/import.md).

Validate everything first, then write everything in one transaction: a file with any bad line
writes nothing, and a database failure half-way rolls the whole import back. A dry run stops
after validation and reports what would be created and updated. Upsert by account number within
the company makes re-running a file harmless. One audit row per import, with the counts.

The file is streamed, never held: validation stages the good records in a staging table
(kefu.customers.importing.staging; COPY into a temporary table on PostgreSQL) and finds repeated
account numbers there; the write pass reads them back a batch at a time. Peak memory depends on
the batch size, not on the file (docs/import.md "性能", docs/decisions.md).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import Company
from kefu.customers.defaults import CATEGORY_DEFAULTS, company_seed_defaults
from kefu.customers.importing.bulk import CustomerBulkWriter, WriteCounts
from kefu.customers.importing.parsing import LineError, RowParser, map_header, missing_required
from kefu.customers.importing.reading import FileProblem, open_table
from kefu.customers.importing.staging import Staging
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
            return _("发现 %(n)d 处错误（共 %(rows)d 行），未写入任何数据。请修正后重新导入。") % {
                "n": self.error_count,
                "rows": self.rows,
            }
        counts = {"rows": self.rows, "new": self.created, "upd": self.updated, "same": self.unchanged}
        if self.dry_run:
            return (
                _(
                    "试运行通过：共 %(rows)d 行，将新增 %(new)d 户，更新 %(upd)d 户，%(same)d 户无变化。未写入任何数据。"  # noqa: E501 (one message or data row, kept whole)
                )
                % counts
            )
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


@contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector for the import.

    Validation keeps every record (a few objects per line, none in a reference cycle) until the
    write; with the collector on, each full collection walks all of them again, so its cost grows
    with the file and took 10–25 % of the time of a large import. Reference counting still frees
    everything as usual; the collector is switched back on (if it was on) at the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
) -> ImportReport:
    """Validate the whole file, then (unless `dry_run` or any error) upsert it in one transaction.

    `progress(processed, total)` is called every few thousand lines while validating and again
    while writing; `on_stage("validating" | "writing")` announces each phase.
    """
    with _collector_paused():
        return _import(
            company=company,
            path=path,
            dry_run=dry_run,
            encoding=encoding,
            actor=actor,
            progress=progress,
            on_stage=on_stage,
            source_name=source_name,
            audit_object=audit_object,
            batch_size=batch_size,
        )


def _import(
    *, company, path, dry_run, encoding, actor, progress, on_stage, source_name, audit_object, batch_size
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    staging = Staging()
    try:
        return _import_staged(
            staging,
            report,
            company=company,
            path=path,
            dry_run=dry_run,
            encoding=encoding,
            actor=actor,
            progress=progress,
            on_stage=on_stage,
            source_name=source_name,
            audit_object=audit_object,
            batch_size=batch_size,
        )
    finally:
        staging.close()


def _import_staged(
    staging: Staging,
    report: ImportReport,
    *,
    company,
    path,
    dry_run,
    encoding,
    actor,
    progress,
    on_stage,
    source_name,
    audit_object,
    batch_size,
) -> ImportReport:
    try:
        table = open_table(path, encoding=encoding)
        try:
            report.file_kind, report.encoding = table.kind, table.encoding
            _validate(company, table, report, staging, dry_run=dry_run, progress=progress, on_stage=on_stage)
        finally:
            table.close()  # the reading child, if validation stopped before the end of the file
    except FileProblem as exc:
        report.problem = exc.message
        return report
    if not report.ok:
        return report
    if not staging.records:
        report.problem = _("文件中没有数据行（只有列名）。")
        return report

    writer = CustomerBulkWriter(company.pk)
    counts = WriteCounts()
    if on_stage:
        on_stage(STAGE_WRITING)
    total, done = staging.records, 0
    try:
        if dry_run:
            for batch in staging.batches(batch_size):
                plan = writer.plan(batch)
                counts.add(WriteCounts(len(plan.new), len(plan.changed), plan.unchanged))
                done += len(batch)
                if progress:
                    progress(done, total)
        else:
            with transaction.atomic():
                for batch in staging.batches(batch_size):
                    counts.add(writer.write(batch))
                    done += len(batch)
                    if progress:
                        progress(done, total)
                audit_record(
                    action=Action.IMPORTED,
                    obj=audit_object,
                    actor=actor,
                    company=company,
                    object_type="" if audit_object is not None else "customers.customer",
                    object_repr="" if audit_object is not None else (source_name or Path(path).name),
                    detail={
                        "file": source_name or Path(path).name,
                        "rows": report.rows,
                        "created": counts.created,
                        "updated": counts.updated,
                        "unchanged": counts.unchanged,
                    },
                )
            report.written = True
    except DatabaseError as exc:
        log.exception("customer import failed while writing")
        report.problem = _("写入数据库失败，已全部回滚，未写入任何数据：%(err)s") % {"err": str(exc)[:200]}
        return report
    report.created, report.updated, report.unchanged = counts.created, counts.updated, counts.unchanged
    return report


def _validate(
    company, table, report: ImportReport, staging: Staging, *, dry_run: bool, progress, on_stage
) -> None:
    """Read every line once, staging the good records (and the account numbers of bad lines);
    fill `report.errors` with every bad line, repeated account numbers found set-based at the end."""
    if on_stage:
        on_stage(STAGE_VALIDATING)
    rows = table.rows
    mapping: dict[str, list[int]] = {}
    header_line = 0
    for line, cells in rows:
        if _blank(cells):
            continue
        mapping, problems = map_header(cells)
        if problems:
            raise FileProblem(" ".join(problems))
        if len(mapping) >= 2:
            header_line = line
            break
        if line >= HEADER_SEARCH_ROWS:
            break
    if not header_line:
        raise FileProblem(
            _(
                "没有找到可识别的列名（如 户号、户名、客户类别）。第一行应为列名；如果列名显示为乱码，请确认文件编码为 UTF-8 或 GBK。"  # noqa: E501 (one message or data row, kept whole)
            )
        )
    missing = missing_required(mapping)
    if missing:
        raise FileProblem(_("缺少必需的列：%(cols)s。可下载列模板对照。") % {"cols": "、".join(missing)})

    parser = RowParser(
        mapping, categories=_category_lookup(company, dry_run=dry_run), area_code=company.area_code
    )
    total = max(table.total_rows - header_line, 1)
    errors = report.errors
    processed = 0
    for line, cells in rows:
        processed += 1
        if progress and processed % PROGRESS_EVERY == 0:
            progress(processed, max(total, processed))
        if not any(cells) or (not parser.account_of(cells) and _blank(cells)):
            continue
        report.rows += 1
        record, line_errors = parser.parse(line, cells)
        if record is not None:
            staging.add(line, record.account_no, record)
        else:
            account = parser.account_of(cells)
            if account:
                staging.add(line, account, None)
        if line_errors:
            report.error_count += len(line_errors)
            if len(errors) < MAX_ERRORS_KEPT:
                errors.extend(line_errors[: MAX_ERRORS_KEPT - len(errors)])
    staging.finish()
    repeated, first = staging.duplicates(MAX_ERRORS_KEPT)
    if repeated:
        report.error_count += repeated
        errors.extend(
            LineError(
                line,
                "户号",
                _("户号“%(v)s”重复：第 %(a)d 行和第 %(b)d 行。") % {"v": account, "a": a, "b": line},
            )
            for account, a, line in first
        )
        # Both lists were the first lines of their kind, so the first lines of the two together are
        # among them: sort by line (stable: a line's own errors keep their order) and keep the first.
        errors.sort(key=lambda e: e.line)
        del errors[MAX_ERRORS_KEPT:]
    if progress:
        progress(processed, processed)
