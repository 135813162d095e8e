"""FreeSWITCH: mod_callcenter events over the event socket (ESL) → normalized call events (item 1).

ESL frames (freeswitch.org docs "Event Socket"): header lines, a blank line, and for events a body
of `Content-Length` bytes in `text/event-plain` (URL-encoded `Key: Value` lines). mod_callcenter
publishes `CUSTOM callcenter::info` events with `CC-Action` (docs "mod_callcenter", Events):
member-queue-start, agent-offering, bridge-agent-start, bridge-agent-fail, bridge-agent-end,
member-queue-end, agent-status-change. `Event-Date-Timestamp` is in microseconds since the epoch.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import unquote

from django.utils import timezone

from kefu.telephony.adapters.common import Lines, agent_of


def parse_headers(text: str) -> dict[str, str]:
    out = {}
    for line in text.split("\n"):
        if ": " in line:
            k, v = line.split(": ", 1)
            out[k.strip()] = unquote(v.strip())
    return out


def esl_frames(data: bytes) -> Iterator[dict[str, str]]:
    """Split an ESL byte stream into frames; an event frame yields its body's headers."""
    pos = 0
    while pos < len(data):
        end = data.find(b"\n\n", pos)
        if end < 0:
            return
        head = parse_headers(data[pos:end].decode("utf-8", "replace"))
        pos = end + 2
        length = int(head.get("Content-Length", "0") or 0)
        body = data[pos : pos + length]
        pos += length
        if head.get("Content-Type") == "text/event-plain":
            yield parse_headers(body.decode("utf-8", "replace"))
        elif head:
            yield head


STATUS = {
    "Available": ("ready", ""),
    "Available (On Demand)": ("ready", ""),
    "On Break": ("not_ready", "break"),
    "Logged Out": ("logged_out", ""),
}
FAIL = {
    "NO_ANSWER": "no_answer",
    "USER_BUSY": "rejected",
    "CALL_REJECTED": "rejected",
    "ORIGINATOR_CANCEL": "cancelled",
}


class EslTranslator:
    source = "esl"

    def __init__(self, lines: Lines):
        self.lines = lines
        self.offered: set[str] = set()
        self.answered: set[str] = set()

    def feed(self, f: dict[str, str]) -> list[dict]:
        if f.get("Event-Subclass") != "callcenter::info":
            return []
        action = f.get("CC-Action", "")
        call = f.get("CC-Member-Session-UUID") or f.get("CC-Member-UUID", "")
        agent = agent_of(f.get("CC-Agent", ""))
        ts = f.get("Event-Date-Timestamp", "")
        at = datetime.fromtimestamp(int(ts) / 1e6, tz=UTC) if ts.isdigit() else timezone.now()

        def ev(kind, key="", **d):
            base = {
                "event_id": f"fs:{call}:{action}:{ts}:{key}"[:120],
                "type": kind,
                "at": at,
                "call_id": call,
            }
            return base | {k: v for k, v in d.items() if v not in (None, "")}

        if action == "member-queue-start":
            queue = f.get("CC-Queue", "").split("@")[0]
            return [
                ev(
                    "call.started",
                    hotline=self.lines.of(queue=queue, number=f.get("variable_destination_number", "")),
                    caller=f.get("CC-Member-CID-Number", ""),
                ),
                ev("call.queued", "q", queue=queue),
            ]
        if action == "agent-offering":
            self.offered.add(call)
            return [ev("call.offered", agent, agent=agent)]
        if action == "bridge-agent-start":
            self.answered.add(call)
            out = [ev("call.answered", agent, agent=agent)]
            if f.get("variable_cc_record_filename"):
                out.append(ev("call.recording", "r", ref=f["variable_cc_record_filename"]))
            return out
        if action == "bridge-agent-fail":
            return [
                ev(
                    "call.offer_ended",
                    agent,
                    agent=agent,
                    result=FAIL.get(f.get("CC-Hangup-Cause", ""), "no_answer"),
                )
            ]
        if action == "bridge-agent-end":
            disposition = f.get("variable_sip_hangup_disposition", "")
            by = {"recv_bye": "customer", "send_bye": "agent"}.get(disposition, "")
            return [ev("call.ended", hangup_by=by)]
        if action == "member-queue-end":
            if call in self.answered or f.get("CC-Cause") == "Terminated":
                return []
            reason = (
                "timeout"
                if f.get("CC-Cancel-Reason") in ("TIMEOUT", "NO_AGENT_TIMEOUT")
                else ("ringing" if call in self.offered else "in_queue")
            )
            return [ev("call.abandoned", reason=reason)]
        if action == "agent-status-change":
            state, reason = STATUS.get(f.get("CC-Agent-Status", ""), ("", ""))
            if not state:
                return []
            e = {
                "event_id": f"fs:agent:{agent}:{ts}:{state}"[:120],
                "type": "agent.state",
                "at": at,
                "agent": agent,
                "state": state,
            }
            return [e | ({"reason": reason} if reason else {})]
        return []


def translate_esl(data: bytes, lines: Lines) -> list[dict]:
    t = EslTranslator(lines)
    return [e for f in esl_frames(data) for e in t.feed(f)]


def esl_event_frame(headers: dict[str, str]) -> bytes:
    """One ESL event frame as FreeSWITCH sends it (for traces and the test server)."""
    from urllib.parse import quote

    body = "".join(f"{k}: {quote(str(v), safe='')}\n" for k, v in headers.items()).encode() + b"\n"
    return f"Content-Length: {len(body)}\nContent-Type: text/event-plain\n\n".encode() + body
