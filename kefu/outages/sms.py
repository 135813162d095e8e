"""SMS gateway adapters (C1 proof per household).

An adapter sends messages and turns the receipts its gateway posts back into `Receipt`s. Two ship:

- `console`: development; logs the message and reports it delivered at once (a receipt is made).
- `yunpian`: the common HTTP SMS API of 云片 (single_send over HTTPS, form-encoded; delivery
  reports pushed back as a JSON list of {sid, report_status, user_receive_time, error_msg}).

`KEFU_SMS_GATEWAY` picks the adapter ("console" by default), `KEFU_SMS_API_KEY` is the key of the
HTTP gateway. Receipts arrive at POST /api/v1/outages/sms/receipts/{gateway} (token auth) and are
stored once per (gateway, message, status): gateways resend receipts.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger("kefu.outages.sms")


@dataclass(frozen=True)
class Outgoing:
    ref: int  # the Notice id
    phone: str
    text: str
    message_id: str = ""  # kefu's id of the message; gateways that take a client id echo it in receipts


@dataclass(frozen=True)
class SendResult:
    ref: int
    message_id: str
    ok: bool
    error: str = ""
    delivered_at: datetime | None = None  # the console gateway delivers at once


@dataclass(frozen=True)
class Receipt:
    message_id: str
    delivered: bool
    status: str
    at: datetime


class SmsGateway(Protocol):
    name: str

    def send(self, messages: list[Outgoing]) -> list[SendResult]: ...

    def parse_receipts(self, payload) -> list[Receipt]: ...


def _id(value) -> str:
    text = str(value)[:64]
    if "\x00" in text or not text:
        raise ValueError("bad message id")
    return text


def _parse_time(value, tz: ZoneInfo | None = None) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value or "").strip()
        if not text:
            return timezone.now()
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz or ZoneInfo("Asia/Shanghai"))
    return dt.astimezone(UTC)


class ConsoleGateway:
    """Logs every message; reports it delivered at once (development, demo, tests)."""

    name = "console"

    def send(self, messages: list[Outgoing]) -> list[SendResult]:
        now = timezone.now()
        out = []
        for m in messages:
            logger.debug("SMS to %s: %s", m.phone, m.text[:70])
            out.append(
                SendResult(m.ref, m.message_id or f"c-{uuid.uuid4().hex[:20]}", True, delivered_at=now)
            )
        return out

    def parse_receipts(self, payload) -> list[Receipt]:
        """[{"message_id", "status": "delivered"|"failed", "at": ISO}]"""
        return [
            Receipt(
                _id(r["message_id"]),
                str(r.get("status", "")).lower() in ("delivered", "success", "ok"),
                str(r.get("status", ""))[:20].replace("\x00", ""),
                _parse_time(r.get("at")),
            )
            for r in payload
        ]


class YunpianGateway:
    """云片 HTTP SMS API: https://sms.yunpian.com/v2/sms/single_send.json (apikey, mobile, text)."""

    name = "yunpian"
    url = "https://sms.yunpian.com/v2/sms/single_send.json"

    def send(self, messages: list[Outgoing]) -> list[SendResult]:
        key = getattr(settings, "KEFU_SMS_API_KEY", "")
        out = []
        for m in messages:
            fields = {"apikey": key, "mobile": m.phone, "text": m.text, "uid": m.message_id}
            data = urllib.parse.urlencode(fields).encode()
            try:
                with urllib.request.urlopen(self.url, data=data, timeout=10) as resp:  # noqa: S310
                    body = json.loads(resp.read().decode())
                if body.get("code") == 0:  # receipts carry our uid back: matched on it
                    out.append(SendResult(m.ref, m.message_id, True))
                else:
                    out.append(SendResult(m.ref, "", False, str(body.get("msg", ""))[:200]))
            except Exception as exc:  # one failed message must not stop the batch
                out.append(SendResult(m.ref, "", False, str(exc)[:200]))
        return out

    def parse_receipts(self, payload) -> list[Receipt]:
        """The status push: a JSON list of {sid, uid, report_status: SUCCESS|FAIL, user_receive_time}
        (uid: the id kefu gave the message)."""
        return [
            Receipt(
                _id(r.get("uid") or r["sid"]),
                str(r.get("report_status", "")).upper() == "SUCCESS",
                str(r.get("report_status", ""))[:20].replace("\x00", ""),
                _parse_time(r.get("user_receive_time")),
            )
            for r in payload
        ]


GATEWAYS: dict[str, type] = {"console": ConsoleGateway, "yunpian": YunpianGateway}


def gateway(name: str | None = None) -> SmsGateway:
    """The configured adapter (KEFU_SMS_GATEWAY), or the one named."""
    key = name or getattr(settings, "KEFU_SMS_GATEWAY", "console")
    cls = GATEWAYS.get(key)
    if cls is None:
        raise KeyError(key)
    return cls()
