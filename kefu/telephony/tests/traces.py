"""Event traces written from each PBX's documented formats (no PBX here): the same story —
a call to the hotline, offered to agent 1001 who does not answer, then answered by 1002 — as
Asterisk AMI, Asterisk queue_log, FreeSWITCH mod_callcenter (ESL) and an Asterisk CDR CSV."""

from __future__ import annotations

import socket
import threading

from kefu.telephony.adapters.freeswitch import esl_event_frame

T = 1773108000  # 2026-03-10 02:00:00 UTC


def ami(event: str, ts: float, **fields) -> str:
    lines = [f"Event: {event}", "Privilege: agent,all", f"Timestamp: {ts:.6f}"] + [
        f"{k}: {v}" for k, v in fields.items()
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


def ami_call(uid="1773108000.101", start=T) -> list[str]:
    q = {"Queue": "service", "Uniqueid": uid, "Linkedid": uid, "CallerIDNum": "13800138000"}
    return [
        ami(
            "Newchannel",
            start,
            Channel="PJSIP/trunk-00000001",
            Uniqueid=uid,
            Linkedid=uid,
            CallerIDNum="13800138000",
            Exten="96777",
        ),
        ami(
            "Newexten",
            start + 1,
            Uniqueid=uid,
            Context="ivr-main",
            Exten="s",
            Priority="2",
            Application="BackGround",
        ),
        ami("QueueCallerJoin", start + 6, Position="1", Count="1", **q),
        ami("AgentCalled", start + 6, MemberName="Agent/1001", Interface="PJSIP/1001", **q),
        ami(
            "AgentRingNoAnswer",
            start + 21,
            MemberName="Agent/1001",
            Interface="PJSIP/1001",
            RingTime="15000",
            **q,
        ),
        ami("AgentCalled", start + 22, MemberName="Agent/1002", Interface="PJSIP/1002", **q),
        ami(
            "AgentConnect",
            start + 24,
            MemberName="Agent/1002",
            Interface="PJSIP/1002",
            HoldTime="18",
            RingTime="2",
            **q,
        ),
        ami(
            "VarSet",
            start + 24,
            Uniqueid=uid,
            Linkedid=uid,
            Variable="MIXMONITOR_FILENAME",
            Value="2026/03/10/1773108000.101.wav",
        ),
    ]


def ami_call_end(uid="1773108000.101", start=T) -> list[str]:
    q = {"Queue": "service", "Uniqueid": uid, "Linkedid": uid}
    return [
        ami(
            "AgentComplete",
            start + 150,
            MemberName="Agent/1002",
            Reason="caller",
            HoldTime="18",
            TalkTime="126",
            **q,
        ),
        ami("Hangup", start + 150, Uniqueid=uid, Linkedid=uid, Cause="16"),
    ]


QUEUE_LOG = f"""{T}|NONE|NONE|NONE|CONFIGRELOAD|
{T + 6}|1773108000.101|service|NONE|ENTERQUEUE||13800138000|1
{T + 21}|1773108000.101|service|Agent/1001|RINGNOANSWER|15000
{T + 24}|1773108000.101|service|Agent/1002|CONNECT|18|1773108024.7|2
{T + 150}|1773108000.101|service|Agent/1002|COMPLETECALLER|18|126|1
{T + 200}|1773108200.5|service|NONE|ENTERQUEUE||13900139000|1
{T + 240}|1773108200.5|service|NONE|ABANDON|1|1|40
"""


def esl(action: str, ts: float, **fields) -> bytes:
    h = {
        "Event-Name": "CUSTOM",
        "Event-Subclass": "callcenter::info",
        "Event-Date-Timestamp": str(int(ts * 1_000_000)),
        "CC-Action": action,
    }
    return esl_event_frame(h | fields)


def esl_call(uuid="7f4de4bc-0b6f-4b8e-9c4b-2b1c2f8a0001", start=T) -> list[bytes]:
    m = {"CC-Queue": "service@default", "CC-Member-Session-UUID": uuid, "CC-Member-UUID": "m-" + uuid}
    return [
        esl("member-queue-start", start + 6, **m, **{"CC-Member-CID-Number": "13800138000"}),
        esl("agent-offering", start + 6, **m, **{"CC-Agent": "1001@default"}),
        esl(
            "bridge-agent-fail",
            start + 21,
            **m,
            **{"CC-Agent": "1001@default", "CC-Hangup-Cause": "NO_ANSWER"},
        ),
        esl("agent-offering", start + 22, **m, **{"CC-Agent": "1002@default"}),
        esl(
            "bridge-agent-start",
            start + 24,
            **m,
            **{"CC-Agent": "1002@default", "variable_cc_record_filename": "/rec/x.wav"},
        ),
    ]


def esl_call_end(uuid="7f4de4bc-0b6f-4b8e-9c4b-2b1c2f8a0001", start=T) -> list[bytes]:
    m = {"CC-Queue": "service@default", "CC-Member-Session-UUID": uuid}
    return [
        esl(
            "bridge-agent-end",
            start + 150,
            **m,
            **{"CC-Agent": "1002@default", "variable_sip_hangup_disposition": "recv_bye"},
        ),
        esl("member-queue-end", start + 150, **m, **{"CC-Cause": "Terminated"}),
    ]


CDR_ROWS = (  # CSV rows kept whole
    '"","13800138000","96777","from-trunk","""张"" <13800138000>","PJSIP/trunk-1","PJSIP/1002-2","Queue","service",'  # noqa: E501
    '"2026-03-10 10:00:00","2026-03-10 10:00:12","2026-03-10 10:02:00",120,108,"ANSWERED","DOCUMENTATION","c-1",""\n'  # noqa: E501
    '"","13900139000","96777","from-trunk","","PJSIP/trunk-2","","Queue","service",'
    '"2026-03-10 11:00:00","","2026-03-10 11:00:30",30,0,"NO ANSWER","DOCUMENTATION","c-2",""\n'
    '"","13700137000","96777","from-trunk","","PJSIP/trunk-3","PJSIP/1001-3","Queue","service",'
    '"2026-03-10 12:00:00","2026-03-10 12:00:05","2026-03-10 12:01:00",-60,55,"ANSWERED","DOCUMENTATION","c-3",""\n'  # noqa: E501
)


class ScriptedServer:
    """A small TCP server on 127.0.0.1 that speaks the login of AMI or ESL, then sends one script
    per connection and closes it (the PBX restarting): how the reconnect is tested without a PBX."""

    def __init__(self, kind: str, scripts: list[bytes]):
        self.kind, self.scripts = kind, list(scripts)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.logins: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _recv_until(self, conn, marker: bytes) -> bytes:
        buf = b""
        while marker not in buf:
            data = conn.recv(4096)
            if not data:
                break
            buf += data
        return buf

    def _serve(self) -> None:
        for script in self.scripts:
            conn, _ = self.sock.accept()
            with conn:
                if self.kind == "ami":
                    conn.sendall(b"Asterisk Call Manager/5.0.1\r\n")
                    self.logins.append(self._recv_until(conn, b"\r\n\r\n"))
                    conn.sendall(b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n")
                else:
                    conn.sendall(b"Content-Type: auth/request\n\n")
                    self.logins.append(self._recv_until(conn, b"\n\n"))
                    conn.sendall(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
                    self._recv_until(conn, b"\n\n")  # the event subscription
                    conn.sendall(
                        b"Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n"
                    )
                # sent in small pieces: frames cut across reads must still be read whole
                for i in range(0, len(script), 97):
                    conn.sendall(script[i : i + 97])
        self.sock.close()
