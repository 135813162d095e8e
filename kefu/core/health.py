"""The health check behind `/healthz` and `kefu health`: the database answers, the periodic jobs
completed recently (the clock sweep above all: without it no warning or breach goes out), and no
import hangs on a dead worker.

Each app contributes its checks in a `health.py` module with functions decorated `@probe(name)`
(found like admin modules, so the kernel imports no app). A probe returns a `Check`; the report is
JSON without personal data: times, ages and counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger("kefu.core")


@dataclass
class Check:
    ok: bool
    detail: dict = field(default_factory=dict)


_PROBES: dict[str, Callable[[], Check]] = {}
_discovered = False


def probe(name: str) -> Callable[[Callable[[], Check]], Callable[[], Check]]:
    """Register a health probe (in an app's `health.py`)."""

    def register(fn: Callable[[], Check]) -> Callable[[], Check]:
        _PROBES[name] = fn
        return fn

    return register


def age_check(last: datetime | None, *, max_age_seconds: int, now: datetime | None = None) -> Check:
    """A job that must have completed within `max_age_seconds`."""
    now = now or timezone.now()
    age = None if last is None else max(0, int((now - last).total_seconds()))
    return Check(
        ok=age is not None and age <= max_age_seconds,
        detail={
            "last_completed": last.isoformat() if last else None,
            "age_seconds": age,
            "max_age_seconds": max_age_seconds,
        },
    )


def _database() -> Check:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception as exc:  # any failure to talk to the database is "not healthy"
        logger.warning("health: database check failed: %s", exc)
        return Check(ok=False, detail={"error": type(exc).__name__})
    return Check(ok=True)


def health_report(*, database_only: bool = False) -> dict:
    """{"status": "ok" | "fail", "checks": {name: {"ok": bool, ...}}}."""
    global _discovered
    checks = {"database": _database()}
    if not database_only and checks["database"].ok:
        if not _discovered:
            autodiscover_modules("health")
            _discovered = True
        for name, fn in sorted(_PROBES.items()):
            try:
                checks[name] = fn()
            except Exception as exc:  # a broken probe is a failed check, not a crash
                logger.exception("health probe %s failed", name)
                checks[name] = Check(ok=False, detail={"error": type(exc).__name__})
    ok = all(c.ok for c in checks.values())
    return {
        "status": "ok" if ok else "fail",
        "checks": {name: {"ok": c.ok, **c.detail} for name, c in checks.items()},
    }
