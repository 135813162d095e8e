"""`kefu import-billing FILE [--company CODE]` — billing facts from a CSV export of the billing system
(format: docs/import.md). All or nothing: prints every line's error in Chinese and exits 1 when the
file has any (nothing written); otherwise prints how many customers were new, updated or already
up to date (a file imported twice changes nothing the second time)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from kefu.accounts.context import ActorContext, acting_as
from kefu.core.errors import DomainError
from kefu.customers.billing import billing_import_file
from kefu.customers.management.commands.import_customers import Command as ImportCommand


class Command(BaseCommand):
    help = "导入计费系统导出的计费数据 CSV（余额、欠费、最近购气、表具锁定、阀门关闭、报警器和软管到期日）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 文件（UTF-8 或 GBK），列见 docs/import.md")
        parser.add_argument("--company", help="公司代码（只有一个公司时可省略）")

    def handle(self, *args, **opts):
        translation.activate("zh-hans")
        company = ImportCommand._company(opts["company"])
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件 {path}。")
        try:
            with acting_as(ActorContext(channel="command")):
                report = billing_import_file(company=company, data=path.read_bytes(), original_name=path.name)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for err in report.errors:
            self.stdout.write(f"第 {err.line} 行  [{err.column}]  {err.reason}")
        if report.error_count > len(report.errors):
            self.stdout.write(f"……另有 {report.error_count - len(report.errors)} 处错误未列出。")
        self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError("导入失败，未写入任何数据。", returncode=1)
