"""`kefu demo [--customers N] [--seed S] [--company CODE] [--if-empty] [--reset]` (issue 2 item 8).

Builds the demo city and prints the URL and the logins. `make run` calls it with --if-empty.
"""
from __future__ import annotations

import time
import unicodedata
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from kefu.accounts.context import ActorContext, acting_as
from kefu.customers.demo import MAIN_CODE, build_demo
from kefu.customers.management.commands.import_customers import ProgressBar


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal where Chinese characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


class Command(BaseCommand):
    help = "生成演示数据：泰安安泰燃气有限公司（客户、地址、燃气表、特殊关爱登记）和每种角色的用户。"

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=5000, help="客户数量（默认 5000）")
        parser.add_argument("--seed", type=int, default=1, help="随机种子：相同种子生成相同数据")
        parser.add_argument("--company", default=MAIN_CODE, help=f"公司代码（默认 {MAIN_CODE}）")
        parser.add_argument("--if-empty", action="store_true", help="公司已存在时不生成，只打印登录信息")
        parser.add_argument("--reset", action="store_true", help="先删除演示公司的客户数据再生成")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **opts):
        translation.activate("zh-hans")
        if opts["customers"] < 0:
            self.stderr.write("客户数量不能为负数。")
            return
        bar = None if opts["no_progress"] or opts["customers"] < 20000 else ProgressBar()
        if bar:
            bar.stage("生成")
        started = time.monotonic()
        with acting_as(ActorContext(channel="command")):
            result = build_demo(
                customers=opts["customers"], seed=opts["seed"], company_code=opts["company"],
                if_empty=opts["if_empty"], reset=opts["reset"], progress=bar,
            )
            if result.created:
                _publish_commitments(result.company)
                tickets = _demo_tickets(result.company, seed=opts["seed"])
        if bar:
            bar.finish()
        out = self.stdout
        if result.created:
            c = result.counts
            out.write(
                f"演示数据已生成：{result.company.name}，新增 {c.created} 户，更新 {c.updated} 户，"
                f"{c.unchanged} 户无变化，工单 {tickets} 张，用时 {time.monotonic() - started:.1f} 秒。"
            )
        else:
            out.write(f"{result.company.name} 已存在，未重新生成（去掉 --if-empty 可补充生成，加 --reset 可重建）。")
        out.write("")
        out.write("打开 http://127.0.0.1:8000/ 用下列账号登录：")
        out.write(f"  {_pad('用户名', 14)}{_pad('角色', 16)}{_pad('公司', 12)}密码")
        for username, role, company in result.logins:
            out.write(f"  {_pad(username, 14)}{_pad(role, 16)}{_pad(company, 12)}{settings.KEFU_DEMO_PASSWORD}")
        out.write("主管（supervisor）、审计员（auditor）、系统管理员（admin）首次登录时须绑定 TOTP 验证器（如 Google Authenticator）。")


DEMO_PRESET = "laizhou-crgas-2024"


def _publish_commitments(company) -> None:
    """The demo company publishes this year's commitments (C17) from a preset, in force since the
    first of January (so the demo's earlier work orders have clocks too)."""
    from django.utils import timezone

    from kefu.accounts.models import User
    from kefu.accounts.roles import Role
    from kefu.sla.models import CommitmentSet
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    year = timezone.localdate().year
    if CommitmentSet.objects.filter(company=company, year=year).exists():
        return
    manager = User.objects.filter(company=company, role=Role.MANAGER, is_active=True).first()
    the_set = commitment_set_from_preset(company=company, year=year, preset=DEMO_PRESET, by=manager)
    new_year = timezone.make_aware(datetime(year, 1, 1))
    commitment_set_publish(commitment_set=the_set, by=manager, at=new_year)


def _demo_tickets(company, *, seed: int) -> int:
    """A few days of the hotline's work orders (kefu.tickets.demo), then one clock sweep so the
    warnings and breaches of the past days are already on the queues and in the notifications."""
    from kefu.sla.sweep import sweep
    from kefu.tickets.demo import build_demo_tickets

    made = build_demo_tickets(company, seed=seed)
    if made:
        sweep()
    return made
