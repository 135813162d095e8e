"""Reads of the workforce app. `on_duty` is the one other apps use (field paging, telephony agent
states, clock notifications at night).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.accounts.scoping import readable_company_ids
from kefu.workforce.models import (
    Assignment,
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

    `company` is a Company or its id. Returns `User` objects ordered by shift start; one indexed range
    query (company, published, start_at in [at − 25 h, at]) — p99 well under 5 ms
    (bench/workforce_on_duty.py). Callers in other apps: field (paging emergency crews), telephony
    (agent states), sla/notify (whom to warn at night).
    """
    company_id = getattr(company, "pk", company)
    qs = Assignment.objects.filter(
        company_id=company_id,
        published=True,
        start_at__gt=at - LONGEST_SHIFT,
        start_at__lte=at,
        end_at__gt=at,
    )
    if skill:
        qs = qs.filter(skill=skill)
    # Two queries, no join: with a join SQLite's planner starts from the user table and scans it
    # (15 ms at 150,000 assignments); the range query alone uses wf_assignment_on_duty.
    user_ids = list(dict.fromkeys(qs.order_by("start_at", "user_id").values_list("user_id", flat=True)))
    if not user_ids:
        return []
    users = User.objects.filter(pk__in=user_ids)
    if role:
        users = users.filter(role=role)
    by_id = users.in_bulk()
    return [by_id[pk] for pk in user_ids if pk in by_id]


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
