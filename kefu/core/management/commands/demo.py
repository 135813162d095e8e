"""`kefu demo [--customers N] [--seed S] [--company CODE] [--if-empty] [--reset]`: the demo data.

A project-wide command of the kernel: it runs the steps the apps register (kefu.core.demo) in
order — the city with its company, users and customers, this year's commitments, a few days of
work orders — and prints the URL and the logins. `make run` calls it with --if-empty. Each step
adds its own options (`--customers`, `--company`, `--reset` are the customers step's).
"""

from __future__ import annotations

import os
import time
import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from kefu.core.demo import DemoRefused, DemoRun, demo_steps, run_demo_steps


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal where Chinese characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


class Command(BaseCommand):
    help = "生成演示数据：泰安安泰燃气有限公司（客户、地址、燃气表、特殊关爱登记、服务承诺、工单）和每种角色的用户。"  # noqa: E501 (one message or data row, kept whole)

    def add_arguments(self, parser):
        for step in demo_steps():
            if step.arguments is not None:
                step.arguments(parser)
        parser.add_argument("--seed", type=int, default=1, help="随机种子：相同种子生成相同数据")
        parser.add_argument("--if-empty", action="store_true", help="公司已存在时不生成，只打印登录信息")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--url",
            default=os.environ.get("KEFU_URL") or "http://127.0.0.1:8000/",
            help="登录地址（make run 传入实际使用的端口）",
        )

    def handle(self, *args, **opts):
        translation.activate("zh-hans")
        started = time.monotonic()
        # Audit rows of the steps name the command channel (kefu.accounts.context's default).
        try:
            run = run_demo_steps(DemoRun(options=opts))
        except DemoRefused as exc:
            self.stderr.write(str(exc))
            return
        out = self.stdout
        if run.built:
            out.write(
                f"演示数据已生成：{run.company.name}，{'，'.join(run.summary)}，用时 {time.monotonic() - started:.1f} 秒。"  # noqa: E501 (one message or data row, kept whole)
            )
        else:
            out.write(
                f"{run.company.name} 已存在，未重新生成（去掉 --if-empty 可补充生成，加 --reset 可重建）。"
            )
        out.write("")
        out.write(f"打开 {opts['url']} 用下列账号登录：")
        out.write(f"  {_pad('用户名', 14)}{_pad('角色', 16)}{_pad('公司', 12)}密码")
        for username, role, company in run.logins:
            out.write(
                f"  {_pad(username, 14)}{_pad(role, 16)}{_pad(company, 12)}{settings.KEFU_DEMO_PASSWORD}"
            )
        out.write(
            "主管（supervisor）、审计员（auditor）、系统管理员（admin）首次登录时须绑定 TOTP 验证器（如 Google Authenticator）。"  # noqa: E501 (one message or data row, kept whole)
        )
