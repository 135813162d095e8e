"""CDR CSV import (Asterisk `Master.csv` column order; other PBXs export the same fields):
accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer, end,
duration, billsec, disposition, amaflags, uniqueid[, userfield].

A CDR has no ring times: its calls are marked `no_rings`, so K14 uses the seed's fallback for
them (docs/telephony.md). Times are the company's local time. A negative duration is sent on as
`duration_ms` and refused by the ingest with its message.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from kefu.telephony.adapters.common import Lines, agent_of

COLUMNS = [
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
]


def translate_cdr(
    text: str, lines: Lines, tz: str = "Asia/Shanghai"
) -> tuple[list[dict], list[tuple[int, str]]]:
    """CSV text → (events, [(row number, problem)] for rows that cannot be read at all)."""
    zone = ZoneInfo(tz)
    events: list[dict] = []
    problems: list[tuple[int, str]] = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if len(row) < 17 or row[0] == "accountcode":
            continue
        r = dict(zip(COLUMNS, row, strict=False))

        def at(field, r=r):
            v = (r.get(field) or "").strip()
            return datetime.fromisoformat(v).replace(tzinfo=zone) if v else None

        try:
            start, answer, end = at("start"), at("answer"), at("end")
            duration = int(r["duration"] or 0)
        except ValueError as exc:
            problems.append((n, str(exc)))
            continue
        if start is None:
            problems.append((n, "no start time"))
            continue
        call = r["uniqueid"]
        base = f"cdr:{call}"
        events.append(
            {
                "event_id": f"{base}:start",
                "type": "call.started",
                "at": start,
                "call_id": call,
                "hotline": lines.of(number=r["dst"]),
                "caller": r["src"],
                "no_rings": True,
            }
        )
        if answer is not None and r["disposition"] == "ANSWERED":
            events.append(
                {
                    "event_id": f"{base}:answer",
                    "type": "call.answered",
                    "at": answer,
                    "call_id": call,
                    "agent": agent_of(r["dstchannel"]),
                }
            )
        if end is not None:
            kind = "call.ended" if r["disposition"] == "ANSWERED" else "call.abandoned"
            e = {"event_id": f"{base}:end", "type": kind, "at": end, "call_id": call}
            if duration < 0:
                e["duration_ms"] = duration * 1000
            events.append(e)
    return events, problems
