"""`kefu archive-audit --before YYYY-MM-DD`: move audit rows older than the date to a gzipped
JSON-lines file under var/audit-archive/ (S2; see docs/security.md)."""

from __future__ import annotations

import getpass
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from kefu.accounts.archive import audit_archive
from kefu.core.errors import DomainError


class Command(BaseCommand):
    help = "归档早于指定日期的审计日志（不能晚于保留期，默认 180 天）"

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="截止日期 YYYY-MM-DD（不含当天）")

    def handle(self, *args, before: str, **options):
        try:
            cutoff = date.fromisoformat(before)
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{before}") from exc
        try:
            result = audit_archive(before=cutoff, by_label=f"command:{getpass.getuser()}")
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if result.archive is None:
            self.stdout.write("没有需要归档的审计日志。")
            return
        a = result.archive
        self.stdout.write(f"已归档 {a.row_count} 条（至编号 {a.through_id}）：{a.path}\nSHA-256 {a.sha256}")
