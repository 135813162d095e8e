"""The crews' duty (C8: whom to page and rank) comes from the published roster of kefu.workforce where
it has data; the field's duty schedule is the fallback, and keeps the "on call" marks
(kefu.field.selectors.crews_duty, docs/field.md)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine

from kefu.field.models import FieldJob, Page
from kefu.field.selectors import crew_rows, roster_shifts
from kefu.field.services import duty_set
from kefu.field.tests.conftest import L

pytestmark = pytest.mark.django_db


def _shift(company, team, user, day, start: time, hours: int):
    from django.utils import timezone

    from kefu.workforce.models import Assignment, Roster, ShiftPattern

    roster, _ = Roster.objects.get_or_create(company=company, team=team, month=day.replace(day=1))
    pattern, _ = ShiftPattern.objects.get_or_create(
        company=company,
        team=team,
        code=f"S{start.hour}",
        defaults={"name": "班", "start": start, "hours": hours},
    )
    start_at = timezone.make_aware(datetime.combine(day, start), timezone.get_current_timezone())
    return Assignment.objects.create(
        company=company,
        roster=roster,
        user=user,
        day=day,
        pattern=pattern,
        skill="emergency",
        start_at=start_at,
        end_at=start_at + timedelta(hours=hours),
        published=True,
    )


def test_roster_decides_where_it_has_data_the_schedule_is_the_fallback(
    company_x, team, crew_a, crew_b, tech_a, tech_b, dispatcher_x
):
    day = L(2026, 3, 2).date()
    # crew A: no schedule entry, but tech A is on a published day shift 08:00–20:00 → on duty at 10:00
    _shift(company_x, team, tech_a.user, day, time(8, 0), 12)
    # crew B: the schedule says on duty, but the roster knows B's day (a night shift from 20:00)
    _shift(company_x, team, tech_b.user, day, time(20, 0), 10)
    duty_set(by=dispatcher_x, crew_id=crew_b.pk, day=day, status="on_duty")
    rows = {r.id: r for r in crew_rows(company_x.pk, now=L(2026, 3, 2, 10, 0))}
    assert rows[crew_a.pk].duty == "on_duty" and rows[crew_b.pk].duty == "off"
    rows = {r.id: r for r in crew_rows(company_x.pk, now=L(2026, 3, 2, 23, 0))}
    assert rows[crew_a.pk].duty == "off" and rows[crew_b.pk].duty == "on_duty"
    # next day (03:00): B's night shift still covers; A has no roster data that day → the schedule
    next_day = day + timedelta(days=1)
    duty_set(by=dispatcher_x, crew_id=crew_a.pk, day=next_day, status="on_call")
    rows = {r.id: r for r in crew_rows(company_x.pk, now=L(2026, 3, 3, 3, 0))}
    assert rows[crew_a.pk].duty == "on_call" and rows[crew_b.pk].duty == "on_duty"
    shifts = roster_shifts(company_x.pk, [crew_a, crew_b], [day])
    assert shifts[(crew_a.pk, day)][0].startswith("08:00–20:00")


def test_an_emergency_pages_the_crews_the_roster_puts_on_duty(
    published,
    company_x,
    team,
    crew_a,
    crew_b,
    tech_a,
    tech_b,
    dispatcher_x,
    make_ticket,
    django_capture_on_commit_callbacks,
):
    day = L(2026, 3, 2).date()
    _shift(company_x, team, tech_a.user, day, time(8, 0), 12)
    duty_set(by=dispatcher_x, crew_id=crew_b.pk, day=day, status="on_duty")  # no roster data for B
    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = make_ticket()
    job = FieldJob.objects.get(ticket=ticket)
    assert set(Page.objects.filter(job=job).values_list("crew_id", flat=True)) == {crew_a.pk, crew_b.pk}
