"""Types shared by the API's input schemas."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Annotated

from pydantic import AfterValidator


def _in_utc(value: datetime) -> datetime:
    """An aware time is kept in UTC: ISO 8601 text may carry offsets PostgreSQL refuses (beyond
    ±15:59) and SQLite would store as given. Naive times pass through; each service decides."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt_timezone.utc)
    except OverflowError:
        raise ValueError("时间超出范围。") from None


#: A point in time sent to the API (received_at, expires_at …).
Instant = Annotated[datetime, AfterValidator(_in_utc)]
