"""`kefu telephony_import --format ami|queue_log|esl|cdr --feed-user pbx FILE`: replay a PBX trace or
import a CDR export through the same ingest as the API (idempotent: importing twice adds nothing)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kefu.accounts.models import User
from kefu.core.errors import DomainError
from kefu.telephony.adapters.asterisk import translate_ami, translate_queue_log
from kefu.telephony.adapters.cdr import translate_cdr
from kefu.telephony.adapters.common import Lines
from kefu.telephony.adapters.freeswitch import translate_esl
from kefu.telephony.services import call_events_ingest


class Command(BaseCommand):
    help = "导入交换机事件记录（AMI、queue_log、FreeSWITCH ESL）或话单 CSV"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", required=True, choices=["ami", "queue_log", "esl", "cdr"])
        parser.add_argument("--feed-user", required=True, help="持有 telephony.feed 权限的接入账号")
        parser.add_argument("--hotline", default="", help="无法从事件判断热线时使用的号码")

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["feed_user"], is_active=True).first()
        if user is None or user.company is None:
            raise CommandError("未找到接入账号或其公司。")
        path = Path(o["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        lines = Lines.for_company(user.company, o["hotline"])
        fmt = o["format"]
        if fmt == "ami":
            events = translate_ami(path.read_text(encoding="utf-8", errors="replace"), lines)
        elif fmt == "queue_log":
            events = translate_queue_log(
                path.read_text(encoding="utf-8", errors="replace").splitlines(), lines
            )
        elif fmt == "esl":
            events = translate_esl(path.read_bytes(), lines)
        else:
            events, problems = translate_cdr(
                path.read_text(encoding="utf-8-sig", errors="replace"), lines, user.company.time_zone
            )
            for n, p in problems:
                self.stderr.write(f"第 {n} 行无法读取：{p}")
        accepted = duplicates = 0
        try:
            for i in range(0, len(events), 1000):
                r = call_events_ingest(by=user, events=events[i : i + 1000], source=fmt)
                accepted, duplicates = accepted + r.accepted, duplicates + r.duplicates
                for eid, msg in r.rejected:
                    self.stderr.write(f"拒收 {eid}：{msg}")
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"接收 {accepted} 条，重复 {duplicates} 条。")
