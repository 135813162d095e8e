"""Rules of supply interruptions in one place (pure: no database, no clock inside).

- `priority_of`: who is listed first among the affected (special care, then hospitals, schools
  and heating stations, then commercial and industrial customers — 000 2.2.7, C7).
- `in_quiet_hours`: residential restoration between 22:00 and 06:00 (configurable) is refused
  unless overridden with a reason — people asleep do not notice gas coming back.
- `notice_due`: the C1 deadline, planned start − lead (004 附表: 48 h; `sla.engine.lead_deadline`).
- `month_slices`: an interruption's hours split at month boundaries (K1's Tₙ per month).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_noop

NOTICE_LEAD = timedelta(hours=48)  # 004 附表 提前48小时通知客户（紧急事故除外）

#: (priority, reason code) by customer category code; lower is first
CATEGORY_PRIORITY = {
    "heating": (2, "heating"),
    "public_building": (2, "public"),
    "commercial": (3, "commercial"),
    "industrial": (3, "industrial"),
}
PRIORITY_LABELS = {
    "care": gettext_noop("特殊关怀"),
    "hospital": gettext_noop("医院"),
    "school": gettext_noop("学校"),
    "heating": gettext_noop("采暖站"),
    "public": gettext_noop("公建"),
    "commercial": gettext_noop("商业"),
    "industrial": gettext_noop("工业"),
    "": "",
}


def priority_of(*, category_code: str, name: str, has_care: bool) -> tuple[int, str]:
    """(priority, reason) of one affected household: 1 care registry, 2 hospitals / schools /
    heating / public buildings, 3 commercial and industrial, 9 everyone else."""
    if has_care:
        return 1, "care"
    if "医院" in name or "卫生院" in name:
        return 2, "hospital"
    if "学校" in name or "幼儿园" in name or "中学" in name or "小学" in name:
        return 2, "school"
    return CATEGORY_PRIORITY.get(category_code, (9, ""))


def in_quiet_hours(at: datetime, *, quiet_from: time, quiet_until: time, tz: ZoneInfo) -> bool:
    """True when `at` (aware) falls in the quiet window in the company's zone (the window may
    cross midnight, e.g. 22:00–06:00)."""
    local = at.astimezone(tz).time()
    if quiet_from <= quiet_until:
        return quiet_from <= local < quiet_until
    return local >= quiet_from or local < quiet_until


def notice_due(planned_start: datetime, lead: timedelta = NOTICE_LEAD) -> datetime:
    """The C1 deadline: the notice must be delivered by planned start − lead."""
    return planned_start - lead


def list_hash(premise_ids: Iterable[int]) -> str:
    """Content hash of a frozen affected list (sorted premise ids), so a later edit is visible."""
    h = hashlib.sha256()
    for pid in sorted(premise_ids):
        h.update(f"{pid}\n".encode())
    return h.hexdigest()


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in the company's zone, as UTC instants."""
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def hours_in(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    """Hours of [start, end) inside [lo, hi)."""
    a, b = max(start, lo), min(end, hi)
    return max((b - a).total_seconds(), 0.0) / 3600.0


def k1_value(a_t_sum: float, n_customers: int, days: int) -> float | None:
    """K1 continuous supply: 1 − Σ(Aₙ·Tₙ)/(N·B·24) (seed 004 第十条; IEEE 1366 ASAI)."""
    if n_customers <= 0 or days <= 0:
        return None
    return 1.0 - a_t_sum / (n_customers * days * 24.0)
