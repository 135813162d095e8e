"""Reads of the workforce app. `on_duty` is the one other apps use (field paging, telephony agent
states, clock notifications at night).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.accounts.scoping import readable_company_ids
from kefu.core.caching import ProcessCache
from kefu.workforce.models import (
    Assignment,
    DutyStamp,
    Handover,
    LeaveRequest,
    Penalty,
    Roster,
    ShiftPattern,
    SwapRequest,
    Violation,
    WorkerProfile,
)

#: The longest shift there is (24 h duty) plus a margin: bounds the range scan of `on_duty`.
LONGEST_SHIFT = timedelta(hours=25)


def on_duty(company, at: datetime, role: str | None = None, skill: str | None = None) -> list:
    """Who is on duty at `at` in `company` by the published rosters (W1, C8): the users whose shift
    covers `at` (start ≤ at < end, so a night shift 22:00–06:00 answers at 03:00 of the next day),
    optionally only those of `role` (accounts Role value, e.g. "technician") or `skill` (a
    `Skill` value: "hotline", "cashier", "emergency"). Approved leave has already removed its shifts.

    `company` is a Company or its id. Returns `User` objects ordered by shift start (shared by the
    process's callers: read them, do not change them). Callers in other apps: field (paging emergency
    crews), telephony (agent states), sla/notify (whom to warn at night).

    Served from a per-process cache of the published shifts of `at`'s UTC day (one range query per
    company and day), invalidated when the company's shifts change: at once in the process that
    changed them (services._duty_changed, model signals), and within `DUTY_RECHECK_S` in every other
    process (the company's DutyStamp is compared at most that often). p99 ≤ 5 ms:
    bench/workforce_on_duty.py.
    """
    company_id = getattr(company, "pk", company)
    day = _duty_day(company_id, at)
    lo = at - LONGEST_SHIFT
    ids = [uid for start, end, uid, sk in day.rows if lo < start <= at < end and (not skill or sk == skill)]
    if not ids:
        return []
    users = _duty_users(company_id, dict.fromkeys(ids))
    return [u for u in users if not role or u.role == role]


#: How stale another process's roster change may be in this process's `on_duty` answers (seconds).
DUTY_RECHECK_S = 1.0
_duty_days: ProcessCache = ProcessCache("workforce.on_duty", max_age=None)
_duty_user_cache: ProcessCache = ProcessCache("workforce.on_duty_users", max_age=300)


@dataclass
class _DutyDay:
    stamp: str
    checked: float  # time.monotonic() of the last stamp comparison
    rows: list[tuple[datetime, datetime, int, str]]  # start_at, end_at, user_id, skill; by start, user


def _duty_stamp(company_id: int) -> str:
    # the hot path: one primary-key lookup without the ORM's query compilation
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stamp FROM {DutyStamp._meta.db_table} WHERE company_id = %s", [company_id])
        row = cursor.fetchone()
    return row[0] if row else ""


def _duty_day(company_id: int, at: datetime) -> _DutyDay:
    u = at.astimezone(UTC)
    d0 = datetime(u.year, u.month, u.day, tzinfo=UTC)

    def load() -> _DutyDay:
        stamp = _duty_stamp(company_id)  # read before the rows: a change in between reloads next time
        rows = list(
            Assignment.objects.filter(
                company_id=company_id,
                published=True,
                start_at__gt=d0 - LONGEST_SHIFT,
                start_at__lt=d0 + timedelta(days=1),
                end_at__gt=d0,
            )
            .order_by("start_at", "user_id")
            .values_list("start_at", "end_at", "user_id", "skill")
        )
        return _DutyDay(stamp, time.monotonic(), rows)

    key = (company_id, d0.date())
    day = _duty_days.get(key, load)
    if time.monotonic() - day.checked > DUTY_RECHECK_S:
        if _duty_stamp(company_id) == day.stamp:
            day.checked = time.monotonic()
        else:
            _duty_days.forget(key)
            day = _duty_days.get(key, load)
    return day


def _duty_users(company_id: int, ids: dict[int, None]) -> list:
    known: dict[int, User] = _duty_user_cache.get(company_id, dict)
    missing = [pk for pk in ids if pk not in known]
    if missing:
        known.update(User.objects.in_bulk(missing))
    return [known[pk] for pk in ids if pk in known]


def duty_cache_forget(*_args, **_kwargs) -> None:
    """Forget this process's cached shifts (a roster change here; usable as a model-signal receiver)."""
    _duty_days.clear()


def on_duty_assignments(company, at: datetime) -> QuerySet[Assignment]:
    """The published assignments covering `at` (for the on-duty page: who, which shift, which job)."""
    company_id = getattr(company, "pk", company)
    return (
        Assignment.objects.filter(
            company_id=company_id,
            published=True,
            start_at__gt=at - LONGEST_SHIFT,
            start_at__lte=at,
            end_at__gt=at,
        )
        .select_related("user", "pattern", "roster__team")
        .order_by("skill", "start_at")
    )


def my_shifts(user, *, since: date, days: int = 31) -> QuerySet[Assignment]:
    """The user's published shifts from `since` on (the phone view "my shifts")."""
    return (
        Assignment.objects.filter(
            user=user, published=True, day__gte=since, day__lt=since + timedelta(days=days)
        )
        .select_related("pattern", "roster__team")
        .order_by("start_at")
    )


def rosters_visible(user) -> QuerySet[Roster]:
    return Roster.objects.filter(company_id__in=readable_company_ids(user)).select_related("team")


def roster_get(user, roster_id: int) -> Roster:
    from django.utils.translation import gettext as _

    from kefu.core.errors import NotFound

    row = rosters_visible(user).filter(pk=roster_id).first()
    if row is None:
        raise NotFound(_("未找到该排班表。"))
    return row


def patterns_of(team) -> list[ShiftPattern]:
    return list(ShiftPattern.objects.filter(team=team).prefetch_related("needs"))


def team_profiles(team) -> QuerySet[WorkerProfile]:
    return (
        WorkerProfile.objects.filter(team=team, is_active=True)
        .select_related("user")
        .order_by("job", "user_id")
    )


def leave_visible(user) -> QuerySet[LeaveRequest]:
    return LeaveRequest.objects.filter(company_id__in=readable_company_ids(user)).select_related("user")


def swaps_visible(user) -> QuerySet[SwapRequest]:
    return SwapRequest.objects.filter(company_id__in=readable_company_ids(user)).select_related(
        "requester", "colleague", "give__pattern", "take__pattern"
    )


def handovers_visible(user) -> QuerySet[Handover]:
    return Handover.objects.filter(company_id__in=readable_company_ids(user)).select_related(
        "leaver", "successor"
    )


def violations_visible(user) -> QuerySet[Violation]:
    return Violation.objects.filter(company_id__in=readable_company_ids(user)).select_related("user")


def penalties_visible(user) -> QuerySet[Penalty]:
    return Penalty.objects.filter(company_id__in=readable_company_ids(user)).select_related("user", "rule")


def rostered_per_interval(roster: Roster, starts: list[datetime], *, skill: str = "hotline") -> list[int]:
    """How many people of `roster` (draft or published) with `skill` cover each whole half-hour that
    begins at one of `starts` — set next to the Erlang C staffing on the roster page (W1)."""
    if not starts:
        return []
    lo, hi = min(starts), max(starts) + timedelta(minutes=30)
    spans = list(
        Assignment.objects.filter(
            roster=roster, skill=skill, start_at__lt=hi, end_at__gt=lo, start_at__gt=lo - LONGEST_SHIFT
        ).values_list("start_at", "end_at")
    )
    half = timedelta(minutes=30)
    return [sum(1 for a, b in spans if a <= s and s + half <= b) for s in starts]
