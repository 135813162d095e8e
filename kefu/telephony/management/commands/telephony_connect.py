"""`kefu telephony_connect asterisk|freeswitch --host … --port … --feed-user pbx`: keep a live link
to the PBX (AMI or the FreeSWITCH event socket), reconnecting when it drops (a lost link opens an
out-of-service period for K5). Run it as a service next to the worker."""

from __future__ import annotations

import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from kefu.accounts.models import User
from kefu.telephony.adapters.common import Lines
from kefu.telephony.adapters.link import AmiProtocol, EslProtocol, LinkConfig, PbxLink
from kefu.telephony.services import call_events_ingest


class Command(BaseCommand):
    help = "连接交换机（Asterisk AMI / FreeSWITCH ESL），实时接收话务事件"

    def add_arguments(self, parser):
        parser.add_argument("pbx", choices=["asterisk", "freeswitch"])
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--username", default="kefu")
        parser.add_argument("--feed-user", required=True)
        parser.add_argument("--hotline", default="")
        parser.add_argument("--retry", type=float, default=5.0)

    def handle(self, *args, **o):
        user = User.objects.filter(username=o["feed_user"], is_active=True).first()
        if user is None or user.company is None:
            raise CommandError("未找到接入账号或其公司。")
        secret = os.environ.get("KEFU_PBX_SECRET", "")  # never on the command line (ps shows it)
        lines = Lines.for_company(user.company, o["hotline"])
        asterisk = o["pbx"] == "asterisk"
        proto = AmiProtocol(lines) if asterisk else EslProtocol(lines)
        port = o["port"] or (5038 if asterisk else 8021)
        cfg = LinkConfig(o["host"], port, o["username"], secret, retry_seconds=o["retry"])
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        link = PbxLink(
            proto,
            cfg,
            lambda evs: call_events_ingest(by=user, events=evs, source=o["pbx"][:20]),
            name=o["pbx"],
        )
        try:
            link.run(stop)
        except KeyboardInterrupt:
            stop.set()
        self.stdout.write(f"已断开：连接 {link.connects} 次，中断 {link.lost} 次。")
