"""`kefu import-customers FILE [--company CODE] [--dry-run] [--encoding ENC]` (issue 2 item 7).

Prints the report in Chinese; exits 1 when the file has errors (nothing written), 0 otherwise.
A progress bar goes to stderr.
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from kefu.accounts.context import ActorContext, acting_as
from kefu.accounts.models import Company
from kefu.customers.importing import import_customers
from kefu.customers.importing.service import STAGE_VALIDATING

STAGE_LABELS = {STAGE_VALIDATING: "校验", "writing": "写入"}


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.label = ""
        self._last = 0.0
        self._open = False

    def stage(self, name: str) -> None:
        self.finish()
        self.label = STAGE_LABELS.get(name, name)
        self._start = time.monotonic()

    def __call__(self, processed: int, total: int) -> None:
        now = time.monotonic()
        if processed < total and now - self._last < 0.1:
            return
        self._last = now
        frac = min(processed / total, 1.0) if total else 1.0
        filled = int(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {frac:6.1%} {processed:,}/{total:,}")
        self.stream.flush()
        self._open = True

    def finish(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class Command(BaseCommand):
    help = "从计费系统导出的 CSV/XLSX 文件导入客户（户号相同则更新）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV、XLSX 或 XLS 文件")
        parser.add_argument("--company", help="公司代码（只有一个公司时可省略）")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--encoding", help="CSV 编码（默认自动识别 UTF-8 / GBK）")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, **opts):
        translation.activate("zh-hans")
        company = self._company(opts["company"])
        bar = None if opts["no_progress"] else ProgressBar()
        started = time.monotonic()
        with acting_as(ActorContext(channel="command")):
            report = import_customers(
                company=company,
                path=opts["file"],
                dry_run=opts["dry_run"],
                encoding=opts["encoding"],
                progress=bar,
                on_stage=bar.stage if bar else None,
            )
        if bar:
            bar.finish()
        out = self.stdout
        out.write(f"公司：{company.name}（{company.code}）  文件：{opts['file']}")
        if report.file_kind:
            out.write(
                f"类型：{report.file_kind.upper()}"
                + (f"  编码：{report.encoding}" if report.encoding else "")
            )
        for err in report.errors:
            out.write(f"第 {err.line} 行  [{err.column}]  {err.reason}")
        if report.error_count > len(report.errors):
            out.write(f"……另有 {report.error_count - len(report.errors)} 处错误未列出。")
        out.write(report.summary())
        out.write(f"用时 {time.monotonic() - started:.1f} 秒。")
        if not report.ok:
            raise CommandError("导入失败，未写入任何数据。", returncode=1)

    @staticmethod
    def _company(code: str | None) -> Company:
        if code:
            company = Company.objects.filter(code=code).first()
            if company is None:
                raise CommandError(f"没有代码为 {code} 的公司。")
            return company
        companies = list(Company.objects.filter(is_active=True)[:2])
        if len(companies) != 1:
            raise CommandError(
                "请用 --company 指定公司代码。"
                if companies
                else "还没有公司，请先运行 kefu demo 或在系统管理中创建公司。"
            )
        return companies[0]
