"""Pure rules of the counter (no database, no clock inside)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_day(company, now: datetime) -> date:
    """The company's calendar day at `now` (store UTC, count days in the company's zone): queue
    numbers restart and the clerk's balance closes per local day."""
    return now.astimezone(ZoneInfo(company.time_zone or "Asia/Shanghai")).date()


def within_target(service_seconds: int | None, target_seconds: int) -> bool:
    """C15: a counter transaction resolved within the target (3 minutes where possible)."""
    return service_seconds is not None and service_seconds <= target_seconds
