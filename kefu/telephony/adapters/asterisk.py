"""Asterisk: AMI events and the queue_log file → normalized call events (item 1).

AMI (Asterisk Manager Interface, asterisk.org docs "AMI Events", Asterisk 13+ field names): the
caller's channel `Uniqueid` is the call id (queue events carry it); `Timestamp` (manager.conf
`timestampevents = yes`) is the event time. queue_log lines are
`epoch|uniqueid|queue|agent|EVENT|data1|data2|…` (docs "Queue Logs").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django.utils import timezone

from kefu.telephony.adapters.common import Lines, agent_of, from_epoch

# ---------------------------------------------------------------------------------------- AMI


def ami_frames(text: str) -> Iterator[dict[str, str]]:
    """Split AMI text (`Key: Value` lines, a blank line after each message) into dicts."""
    for block in text.replace("\r\n", "\n").split("\n\n"):
        frame = {}
        for line in block.split("\n"):
            if ": " in line:
                k, v = line.split(": ", 1)
                frame[k.strip()] = v.strip()
        if frame:
            yield frame


class AmiTranslator:
    """Stateful: remembers the calls it has seen start, so a hang-up of an agent's channel is not
    taken for the caller's."""

    source = "ami"

    def __init__(self, lines: Lines):
        self.lines = lines
        self.calls: set[str] = set()
        self.answered: set[str] = set()
        self.offered: dict[str, set[str]] = {}

    def _at(self, f: dict) -> datetime:
        return from_epoch(f["Timestamp"]) if f.get("Timestamp") else timezone.now()

    def _ev(self, f: dict, kind: str, call: str, suffix: str = "", **data) -> dict:
        at = self._at(f)
        stamp = f.get("Timestamp", at.timestamp())
        eid = f"ami:{call}:{f.get('Event', '')}:{stamp}{':' + suffix if suffix else ''}"
        return {
            "event_id": eid[:120],
            "type": kind,
            "at": at,
            "call_id": call,
            **{k: v for k, v in data.items() if v not in (None, "")},
        }

    def feed(self, f: dict[str, str]) -> list[dict]:
        name = f.get("Event", "")
        uid = f.get("Uniqueid", "")
        member = agent_of(f.get("MemberName") or f.get("Interface") or f.get("DestCallerIDNum") or "")
        if name == "Newchannel" and uid and f.get("Linkedid", uid) == uid:
            if uid in self.calls:
                return []
            self.calls.add(uid)
            number = f.get("Exten", "")
            return [
                self._ev(
                    f,
                    "call.started",
                    uid,
                    hotline=self.lines.of(number=number),
                    caller=f.get("CallerIDNum", ""),
                    linked_id=f.get("Linkedid", ""),
                )
            ]
        if name == "Newexten" and uid in self.calls and f.get("Application", "").lower() == "background":
            return [
                self._ev(
                    f,
                    "call.ivr",
                    uid,
                    f.get("Priority", ""),
                    node=f"{f.get('Context', '')}/{f.get('Exten', '')}",
                )
            ]
        if name == "QueueCallerJoin":
            out = []
            if uid not in self.calls:  # joined a queue without a Newchannel seen (link came up mid-call)
                self.calls.add(uid)
                out.append(
                    self._ev(
                        f,
                        "call.started",
                        uid,
                        "s",
                        hotline=self.lines.of(queue=f.get("Queue", "")),
                        caller=f.get("CallerIDNum", ""),
                    )
                )
            return out + [self._ev(f, "call.queued", uid, queue=f.get("Queue", ""))]
        if name == "AgentCalled":
            self.offered.setdefault(uid, set()).add(member)
            return [self._ev(f, "call.offered", uid, member, agent=member)]
        if name == "AgentRingNoAnswer":
            return [self._ev(f, "call.offer_ended", uid, member, agent=member, result="no_answer")]
        if name == "AgentConnect":
            self.answered.add(uid)
            return [self._ev(f, "call.answered", uid, member, agent=member)]
        if name == "AgentComplete":
            reason = f.get("Reason", "")
            if reason == "transfer":
                return []
            return [self._ev(f, "call.ended", uid, hangup_by="customer" if reason == "caller" else "agent")]
        if name == "QueueCallerAbandon":
            reason = "ringing" if self.offered.get(uid) else "in_queue"
            return [self._ev(f, "call.abandoned", uid, reason=reason)]
        if name in ("BlindTransfer", "AttendedTransfer"):
            call = f.get("TransfereeLinkedid") or f.get("TransfereeUniqueid", "")
            return [
                self._ev(
                    f,
                    "call.transferred",
                    call,
                    agent=agent_of(f.get("TransfererChannel", "")),
                    to=f.get("Extension") or agent_of(f.get("SecondTransfererChannel", "")),
                )
            ]
        if name == "VarSet" and f.get("Variable") == "MIXMONITOR_FILENAME":
            call = f.get("Linkedid") or uid
            return [self._ev(f, "call.recording", call, ref=f.get("Value", ""))]
        if name == "Hangup" and uid in self.calls:
            self.calls.discard(uid)
            return [self._ev(f, "call.ended", uid)]
        if name == "QueueMemberPause":
            paused = f.get("Paused") == "1"
            return [self._agent(f, member, "not_ready" if paused else "ready", "break" if paused else "")]
        if name == "QueueMemberAdded":
            return [self._agent(f, member, "ready", "", queues=f.get("Queue", ""))]
        if name == "QueueMemberRemoved":
            return [self._agent(f, member, "logged_out", "")]
        return []

    def _agent(self, f: dict, agent: str, state: str, reason: str, **data) -> dict:
        at = self._at(f)
        return {
            "event_id": f"ami:agent:{agent}:{f.get('Event', '')}:{f.get('Timestamp', at.timestamp())}"[:120],
            "type": "agent.state",
            "at": at,
            "agent": agent,
            "state": state,
            **({"reason": reason} if reason else {}),
            **data,
        }


def translate_ami(text: str, lines: Lines) -> list[dict]:
    """A recorded AMI trace → events (for `kefu telephony_import --format ami`)."""
    t = AmiTranslator(lines)
    return [e for f in ami_frames(text) for e in t.feed(f)]


# ----------------------------------------------------------------------------------- queue_log


def translate_queue_log(lines_in: Iterable[str], lines: Lines) -> list[dict]:
    """queue_log lines → events. Times are whole seconds; ring times come from the data fields
    (RINGNOANSWER: milliseconds; CONNECT: seconds)."""
    out: list[dict] = []
    offered: set[str] = set()
    for n, raw in enumerate(lines_in, 1):
        parts = raw.strip().split("|")
        if len(parts) < 5 or not parts[0].replace(".", "").isdigit():
            continue
        at = from_epoch(parts[0])
        call, queue, agent, name, data = parts[1], parts[2], agent_of(parts[3]), parts[4], parts[5:]

        def ev(kind, when=at, key="", call=call, name=name, ts=parts[0], **d):
            base = {
                "event_id": f"ql:{call}:{name}:{ts}:{key or kind}"[:120],
                "type": kind,
                "at": when,
                "call_id": call,
            }
            return base | {k: v for k, v in d.items() if v not in (None, "")}

        if name == "ENTERQUEUE":
            out += [
                ev("call.started", hotline=lines.of(queue=queue), caller=data[1] if len(data) > 1 else ""),
                ev("call.queued", queue=queue),
            ]
        elif name == "RINGNOANSWER":
            ring = timedelta(milliseconds=int(data[0] or 0)) if data and data[0].isdigit() else timedelta()
            offered.add(call)
            out += [
                ev("call.offered", at - ring, f"o{agent}", agent=agent),
                ev("call.offer_ended", key=agent, agent=agent, result="no_answer"),
            ]
        elif name == "CONNECT":
            ring = timedelta(seconds=int(data[2])) if len(data) > 2 and data[2].isdigit() else timedelta()
            out += [ev("call.offered", at - ring, f"o{agent}", agent=agent), ev("call.answered", agent=agent)]
        elif name in ("COMPLETECALLER", "COMPLETEAGENT"):
            out.append(ev("call.ended", hangup_by="customer" if name == "COMPLETECALLER" else "agent"))
        elif name in ("ABANDON", "EXITEMPTY"):
            out.append(ev("call.abandoned", reason="ringing" if call in offered else "in_queue"))
        elif name == "EXITWITHTIMEOUT":
            out.append(ev("call.abandoned", reason="timeout"))
        elif name in ("BLINDTRANSFER", "ATTENDEDTRANSFER", "TRANSFER"):
            out += [
                ev("call.transferred", agent=agent, to=data[0] if data else ""),
                ev("call.ended", key="x", hangup_by="agent"),
            ]
        elif name in ("PAUSE", "UNPAUSE", "ADDMEMBER", "REMOVEMEMBER", "AGENTLOGIN", "AGENTLOGOFF"):
            state = {
                "PAUSE": "not_ready",
                "UNPAUSE": "ready",
                "ADDMEMBER": "ready",
                "AGENTLOGIN": "ready",
            }.get(name, "logged_out")
            e = {
                "event_id": f"ql:agent:{agent}:{name}:{parts[0]}:{n}"[:120],
                "type": "agent.state",
                "at": at,
                "agent": agent,
                "state": state,
            }
            if state == "not_ready":
                e["reason"] = "break"
            if name == "ADDMEMBER":
                e["queues"] = queue
            out.append(e)
    return out
