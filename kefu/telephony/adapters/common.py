"""What the adapters share: PBX agent ids, epoch times, the hotline a queue or number belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def agent_of(interface: str) -> str:
    """`Agent/1001`, `SIP/1001-0000002a`, `PJSIP/1001`, `Local/1001@agents/n`, `1001@default` → `1001`."""
    s = (interface or "").strip()
    if "/" in s:
        s = s.split("/", 1)[1]
    for sep in ("@", "-"):
        s = s.split(sep, 1)[0]
    return s


def from_epoch(value: str | float) -> datetime:
    return datetime.fromtimestamp(float(value), tz=UTC)


@dataclass
class Lines:
    """Which hotline a call belongs to: by queue, by dialled number, or the one default line."""

    default: str = ""
    by_queue: dict[str, str] = field(default_factory=dict)
    by_number: dict[str, str] = field(default_factory=dict)

    def of(self, *, queue: str = "", number: str = "") -> str:
        return self.by_queue.get(queue) or self.by_number.get(number) or self.default

    @classmethod
    def for_company(cls, company, default: str = "") -> Lines:
        from kefu.telephony.models import Hotline

        rows = list(Hotline.objects.filter(company=company))
        return cls(
            default=default or (rows[0].number if len(rows) == 1 else ""),
            by_queue={h.queue: h.number for h in rows if h.queue},
            by_number={h.number: h.number for h in rows},
        )
