"""Helpers that build workforce data through the real services."""

from __future__ import annotations

from datetime import date

from kefu.workforce import services
from kefu.workforce.models import Assignment, Roster


def published_roster(*, team, month: date, by, shifts: list[tuple]) -> Roster:
    """A published roster with exactly `shifts` [(user, day, pattern)], written by hand edits (no
    solver), bypassing the staffing check by publishing through the model: for rule tests only."""
    roster, _ = Roster.objects.get_or_create(
        team=team, month=month.replace(day=1), defaults={"company": team.company}
    )
    for user, day, pattern in shifts:
        services.assignment_set(roster=roster, user=user, day=day, pattern=pattern, by=by)
    roster.status = "published"
    roster.save(update_fields=["status"])
    Assignment.objects.filter(roster=roster).update(published=True)
    return roster


def shift(user, day: date) -> Assignment:
    return Assignment.objects.get(user=user, day=day)
