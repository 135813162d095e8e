"""The live link to a PBX: a TCP client that logs in (AMI or ESL), reads events, hands them to a
sink, and reconnects when the link drops (item 1, K5).

A dropped link is reported as `pbx.link_lost` at the moment it dropped and `pbx.link_restored` at
the reconnect: the emergency hotline's out-of-service minutes while kefu could not see the PBX.
The loop waits between attempts on a `threading.Event` (stop), so a test or a shutdown ends it at once.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from kefu.telephony.adapters.asterisk import AmiTranslator, ami_frames
from kefu.telephony.adapters.common import Lines
from kefu.telephony.adapters.freeswitch import EslTranslator, esl_frames

log = logging.getLogger(__name__)
Sink = Callable[[list[dict]], None]


@dataclass
class LinkConfig:
    host: str
    port: int
    username: str = ""
    secret: str = ""
    retry_seconds: float = 5.0
    timeout: float = 30.0


class _Protocol:
    terminator = b"\n\n"

    def login(self, sock: socket.socket, cfg: LinkConfig) -> bytes:
        raise NotImplementedError

    def frames(self, chunk: bytes) -> list[dict]:
        raise NotImplementedError


class AmiProtocol(_Protocol):
    """Asterisk Manager Interface: banner line, `Action: Login`, `Response: Success`."""

    terminator = b"\r\n\r\n"

    def __init__(self, lines: Lines):
        self.translator = AmiTranslator(lines)

    def login(self, sock, cfg) -> bytes:
        buf = _read_until(sock, b"\r\n")  # "Asterisk Call Manager/…"
        sock.sendall(
            f"Action: Login\r\nUsername: {cfg.username}\r\nSecret: {cfg.secret}\r\n"
            "Events: on\r\n\r\n".encode()
        )
        buf = _read_until(sock, b"\r\n\r\n", buf.split(b"\r\n", 1)[1] if b"\r\n" in buf else b"")
        head, rest = buf.split(b"\r\n\r\n", 1)
        if b"Response: Success" not in head:
            raise ConnectionError("AMI login refused")
        return rest

    def frames(self, chunk: bytes) -> list[dict]:
        return [e for f in ami_frames(chunk.decode("utf-8", "replace")) for e in self.translator.feed(f)]


class EslProtocol(_Protocol):
    """FreeSWITCH event socket: `auth/request`, `auth <password>`, `event plain CUSTOM callcenter::info`."""

    def __init__(self, lines: Lines):
        self.translator = EslTranslator(lines)

    def login(self, sock, cfg) -> bytes:
        buf = _read_until(sock, b"\n\n")
        if b"auth/request" not in buf:
            raise ConnectionError("not an event socket")
        sock.sendall(f"auth {cfg.secret}\n\n".encode())
        buf = _read_until(sock, b"\n\n", buf.split(b"\n\n", 1)[1])
        head, rest = buf.split(b"\n\n", 1)
        if b"+OK" not in head:
            raise ConnectionError("ESL auth refused")
        sock.sendall(b"event plain CUSTOM callcenter::info\n\n")
        return rest

    def frames(self, chunk: bytes) -> list[dict]:
        return [e for f in esl_frames(chunk) for e in self.translator.feed(f)]


def _read_until(sock: socket.socket, marker: bytes, buf: bytes = b"") -> bytes:
    while marker not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed during login")
        buf += data
    return buf


class PbxLink:
    """Run `protocol` against `cfg` until `stop` is set (or `max_connects` connections were made)."""

    def __init__(self, protocol: _Protocol, cfg: LinkConfig, sink: Sink, *, name: str = "pbx"):
        self.protocol, self.cfg, self.sink, self.name = protocol, cfg, sink, name
        self.connects = 0
        self.lost = 0

    def _link_event(self, kind: str) -> None:
        at = timezone.now()
        self.sink(
            [
                {
                    "event_id": f"{self.name}:{kind}:{at.timestamp()}",
                    "type": kind,
                    "at": at,
                    "cause": "pbx_link",
                }
            ]
        )

    def run(self, stop: threading.Event, max_connects: int | None = None) -> None:
        down = False
        while not stop.is_set():
            try:
                with socket.create_connection(
                    (self.cfg.host, self.cfg.port), timeout=self.cfg.timeout
                ) as sock:
                    rest = self.protocol.login(sock, self.cfg)
                    self.connects += 1
                    if down:
                        self._link_event("pbx.link_restored")
                        down = False
                    self._pump(sock, rest, stop)
            except OSError as exc:  # refused, reset, closed: the link is down
                log.warning("%s link: %s", self.name, exc)
            if stop.is_set():
                break
            if not down:
                self.lost += 1
                self._link_event("pbx.link_lost")
                down = True
            if max_connects is not None and self.connects >= max_connects:
                break
            stop.wait(self.cfg.retry_seconds)

    def _pump(self, sock: socket.socket, buf: bytes, stop: threading.Event) -> None:
        term = self.protocol.terminator
        while not stop.is_set():
            if isinstance(self.protocol, EslProtocol):
                buf = self._esl_pump(buf)
            else:
                if term in buf:
                    cut = buf.rindex(term) + len(term)
                    events = self.protocol.frames(buf[:cut])
                    buf = buf[cut:]
                    if events:
                        self.sink(events)
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the PBX")
            buf += data

    def _esl_pump(self, buf: bytes) -> bytes:
        """Hand over whole ESL frames only (a frame = headers + Content-Length bytes)."""
        done = 0
        while True:
            end = buf.find(b"\n\n", done)
            if end < 0:
                break
            head = buf[done:end].decode("utf-8", "replace")
            length = 0
            for line in head.split("\n"):
                if line.startswith("Content-Length:"):
                    length = int(line.split(":", 1)[1].strip() or 0)
            if len(buf) < end + 2 + length:
                break
            done = end + 2 + length
        if done:
            events = self.protocol.frames(buf[:done])
            if events:
                self.sink(events)
        return buf[done:]
