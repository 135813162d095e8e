"""Pure field rules (no database, no clock inside): distance, estimated arrival and the ranking of
crews for an emergency (C8), the evidence flags of an arrival (C8 exceptions), and the customer's
window in words (P10). Tested with tables and hypothesis."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils.translation import gettext as _

EARTH_RADIUS_M = 6_371_000.0
DEFAULT_SPEED_KMH = 30.0
#: a crew whose position is older than this is ranked as "position unknown"
STALE_POSITION = timedelta(hours=2)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def speed_at(speeds: dict | None, hour: int) -> float:
    """The configured speed (km/h) for the local hour: keys "7-9" (7:00–8:59) or "default"."""
    speeds = speeds or {}
    for key, value in speeds.items():
        if "-" in str(key):
            try:
                lo, hi = (int(x) for x in str(key).split("-", 1))
                if lo <= hour < hi and float(value) > 0:
                    return float(value)
            except (TypeError, ValueError):
                continue
    try:
        default = float(speeds.get("default", DEFAULT_SPEED_KMH))
    except (TypeError, ValueError):
        default = DEFAULT_SPEED_KMH
    return default if default > 0 else DEFAULT_SPEED_KMH


@dataclass(frozen=True)
class CrewState:
    """What the ranking needs to know about one crew."""

    crew_id: int
    name: str
    skills: frozenset[str]
    duty: str  # on_duty / on_call / off
    lat: float | None = None
    lng: float | None = None
    position_at: datetime | None = None
    busy_until: datetime | None = None  # None: free; else the estimated end of its current job


@dataclass(frozen=True)
class Candidate:
    crew_id: int
    name: str
    eta_minutes: int | None
    reason: str
    score: float = field(compare=False, default=0.0)


ON_CALL_DELAY = 15  # minutes to get an on-call crew on the road


def rank_crews(
    crews: list[CrewState],
    *,
    lat: float | None,
    lng: float | None,
    skill: str,
    now: datetime,
    local_hour: int,
    speeds: dict | None = None,
    limit: int | None = None,
    tz=None,
) -> list[Candidate]:
    """Candidate crews for a job at (lat, lng), best first, each with its estimated minutes and the
    reason in words ("A组 约12分钟；B组 忙，预计14:05空闲", the time in `tz`, default UTC). Off-duty
    crews and crews without the skill are left out. Unknown positions rank after known ones.
    `limit`: only the best `limit` (the scores of all are computed, the words only for those kept)."""
    kmh = speed_at(speeds, local_hour)
    m_per_minute = kmh * 1000 / 60
    fresh_after = now - STALE_POSITION
    here = lat is not None and lng is not None
    if here:
        p2 = math.radians(lat)
        cos_p2 = math.cos(p2)
    scored: list[tuple[float, int, CrewState, float | None, float]] = []
    for c in crews:
        if c.duty == "off" or (skill and skill not in c.skills):
            continue
        travel = None
        if here and c.lat is not None and c.lng is not None and c.position_at is not None:
            if c.position_at >= fresh_after:
                p1 = math.radians(c.lat)
                dp, dl = p2 - p1, math.radians(lng - c.lng)
                a = math.sin(dp / 2) ** 2 + math.cos(p1) * cos_p2 * math.sin(dl / 2) ** 2
                travel = 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a))) / m_per_minute
        wait = 0.0
        if c.busy_until is not None and c.busy_until > now:
            wait = (c.busy_until - now).total_seconds() / 60
        if c.duty == "on_call":
            wait = max(wait, ON_CALL_DELAY)
        score = 10_000 + wait if travel is None else wait + travel
        scored.append((score, c.crew_id, c, travel, wait))
    scored.sort(key=lambda k: (k[0], k[1]))
    if limit is not None:
        scored = scored[:limit]
    busy_words, on_call_word = _("忙，预计%(t)s空闲"), _("备班")
    unknown_word, minutes_words = _("位置未知"), _("约%(m)d分钟")
    out: list[Candidate] = []
    for score, _id, c, travel, wait in scored:
        parts: list[str] = []
        if c.busy_until is not None and c.busy_until > now:
            until = c.busy_until.astimezone(tz) if tz is not None else c.busy_until
            parts.append(busy_words % {"t": until.strftime("%H:%M")})
        if c.duty == "on_call":
            parts.append(on_call_word)
        if travel is None:
            eta = None
            parts.append(unknown_word)
        else:
            eta = int(math.ceil(wait + travel))
            parts.insert(0, minutes_words % {"m": eta})
        out.append(Candidate(c.crew_id, c.name, eta, f"{c.name} " + "，".join(parts), score))
    return out


def arrival_flags(
    *,
    source: str,
    now: datetime,
    device_at: datetime | None,
    distance: float | None,
    accuracy: float | None,
    far_metres: float,
    max_accuracy: float,
    skew_seconds: float,
    has_position: bool,
) -> list[str]:
    """Why an arrival goes to the supervisor's exception list (empty: the evidence suffices):
    `manual` (entered by the dispatcher), `far` (farther than the threshold from the premise),
    `inaccurate` (GPS accuracy worse than the threshold), `no_position` (GPS claimed, none sent),
    `clock_skew` (the device time disagrees with the server beyond the threshold)."""
    flags: list[str] = []
    if source == "dispatcher":
        flags.append("manual")
    if source == "gps" and not has_position:
        flags.append("no_position")
    if distance is not None and distance > far_metres:
        flags.append("far")
    if has_position and accuracy is not None and accuracy > max_accuracy:
        flags.append("inaccurate")
    if device_at is not None and abs((now - device_at).total_seconds()) > skew_seconds:
        flags.append("clock_skew")
    return flags


FLAG_LABELS = {
    "manual": "调度员代录",
    "far": "距地址过远",
    "inaccurate": "定位精度不足",
    "no_position": "缺少定位",
    "clock_skew": "设备时间与服务器不符",
}


def window_phrase(start: datetime, end: datetime, *, today: date) -> str:
    """The customer's window in their terms: "今天 14:00–16:00", "明天 …", "后天 …" or "12月5日 …"
    (`start`, `end` and `today` in the company's local time)."""
    days = (start.date() - today).days
    if days == 0:
        day = _("今天")
    elif days == 1:
        day = _("明天")
    elif days == 2:
        day = _("后天")
    else:
        day = _("%(m)d月%(d)d日") % {"m": start.month, "d": start.day}
    return f"{day} {start:%H:%M}–{end:%H:%M}"
