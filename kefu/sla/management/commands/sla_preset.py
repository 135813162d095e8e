"""`kefu sla_preset --company CODE --year 2026 --preset taian-antai [--publish]` (C17).

Creates a company's commitment set for a year from one of the presets shipped with kefu
(`taian-antai`: seed 000; `laizhou-crgas-2024`: seed 004), optionally published at once. Used by
operators on a new installation and by the demo data.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone, translation

from kefu.accounts.models import Company
from kefu.core.errors import DomainError
from kefu.sla.models import CommitmentSet
from kefu.sla.presets import PRESETS
from kefu.sla.services import commitment_set_from_preset, commitment_set_publish


class Command(BaseCommand):
    help = "从预置方案为公司创建某年度的服务承诺方案（taian-antai、laizhou-crgas-2024）。"

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="公司代码")
        parser.add_argument("--year", type=int, default=None, help="年度（默认今年）")
        parser.add_argument("--preset", required=True, choices=sorted(PRESETS), help="预置方案")
        parser.add_argument("--publish", action="store_true", help="创建后立即发布")
        parser.add_argument("--if-missing", action="store_true", help="该年度已有方案时不再创建")

    def handle(self, *args, **opts):
        translation.activate("zh-hans")
        company = Company.objects.filter(code=opts["company"]).first()
        if company is None:
            raise CommandError(f"公司不存在：{opts['company']}")
        year = opts["year"] or timezone.localdate().year
        if not 2000 <= year <= 2100:
            raise CommandError("年度无效。")
        if opts["if_missing"] and CommitmentSet.objects.filter(company=company, year=year).exists():
            self.stdout.write(f"{company.name} {year} 年已有服务承诺方案，未创建。")
            return
        try:
            with transaction.atomic():
                # An operator's command: by=None (no user to check permissions against).
                row = commitment_set_from_preset(company=company, year=year, preset=opts["preset"], by=None)
                if opts["publish"]:
                    row = commitment_set_publish(commitment_set=row, by=None)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        state = "已发布" if row.is_published else "草稿"
        self.stdout.write(
            f"{company.name} {year} 年服务承诺方案 v{row.version}（{state}）：{row.commitments.count()} 项承诺。"  # noqa: E501 (one message or data row, kept whole)
        )
