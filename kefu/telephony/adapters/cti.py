"""CTI: kefu asks the PBX to place an outbound call (click-to-call, 点击外呼): the agent's own phone
rings first, and when they pick up the PBX dials the customer. The call's id is chosen by kefu and
handed to the PBX (Asterisk `ChannelId`), so the call's events, when the PBX reports them through
the usual ingest, land on the call kefu already knows (a return visit links to it by that id).

Configured by `settings.KEFU_CTI_URL` (env `KEFU_CTI_URL`):
- `ami://user:secret@host:5038/context` — Asterisk Manager Interface `Originate` (Asterisk 13+;
  docs "ManagerAction_Originate"): `Channel` = `PJSIP/<agent extension>`, `Exten` = the number,
  `Context` from the URL path (default `from-internal`), `Async: true`, `ChannelId` = the call id;
- `fake://` — records the requests in memory (tests, the demo);
- unset — not connected: screens show no dial button.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlparse

from django.conf import settings


class CtiError(Exception):
    """The PBX refused the request or could not be reached."""


class Originator(Protocol):
    def originate(self, *, call_id: str, extension: str, number: str, caller_id: str = "") -> None: ...


@dataclass
class FakeOriginator:
    """Remembers what it was asked (tests, demo); `fail` makes the next request fail."""

    requests: list[dict] = field(default_factory=list)
    fail: str = ""

    def originate(self, *, call_id: str, extension: str, number: str, caller_id: str = "") -> None:
        if self.fail:
            msg, self.fail = self.fail, ""
            raise CtiError(msg)
        self.requests.append(
            {"call_id": call_id, "extension": extension, "number": number, "caller_id": caller_id}
        )


@dataclass
class AmiOriginator:
    """One short AMI session per request: Login, Originate (async), Logoff."""

    host: str
    port: int
    username: str
    secret: str
    context: str = "from-internal"
    timeout: float = 5.0

    @staticmethod
    def _frame(**fields: str) -> bytes:
        return "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\n"

    @staticmethod
    def _read(f) -> dict[str, str]:
        out: dict[str, str] = {}
        while True:
            line = f.readline()
            if not line:
                raise CtiError("AMI connection closed")
            line = line.decode(errors="replace").strip()
            if not line:
                if out:
                    return out
                continue
            if ": " in line:
                k, v = line.split(": ", 1)
                out[k] = v

    def originate(self, *, call_id: str, extension: str, number: str, caller_id: str = "") -> None:
        for value in (call_id, extension, number, caller_id):
            if any(c in value for c in "\r\n"):
                raise CtiError("invalid characters")
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
                f = sock.makefile("rb")
                f.readline()  # "Asterisk Call Manager/x.y"
                sock.sendall(
                    self._frame(Action="Login", Username=self.username, Secret=self.secret, ActionID="1")
                )
                r = self._read(f)
                if r.get("Response") != "Success":
                    raise CtiError(r.get("Message", "login refused"))
                fields = dict(
                    Action="Originate",
                    ActionID="2",
                    Channel=f"PJSIP/{extension}",
                    Exten=number,
                    Context=self.context,
                    Priority="1",
                    Async="true",
                    ChannelId=call_id,
                )
                if caller_id:
                    fields["CallerID"] = caller_id
                sock.sendall(self._frame(**fields))
                while True:
                    r = self._read(f)
                    if r.get("ActionID") == "2" and "Response" in r:
                        break
                sock.sendall(self._frame(Action="Logoff", ActionID="3"))
                if r.get("Response") != "Success":
                    raise CtiError(r.get("Message", "originate refused"))
        except OSError as e:
            raise CtiError(str(e)) from e


_fake = FakeOriginator()


def originator() -> Originator | None:
    """The configured adapter, or None when no PBX is connected for outbound calls."""
    url = getattr(settings, "KEFU_CTI_URL", "") or ""
    if not url:
        return None
    u = urlparse(url)
    if u.scheme == "fake":
        return _fake
    if u.scheme == "ami":
        return AmiOriginator(
            host=u.hostname or "127.0.0.1",
            port=u.port or 5038,
            username=unquote(u.username or ""),
            secret=unquote(u.password or ""),
            context=u.path.strip("/") or "from-internal",
        )
    raise CtiError(f"unknown CTI adapter {u.scheme!r}")
