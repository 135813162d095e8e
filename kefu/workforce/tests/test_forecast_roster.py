"""W1: a roster proposal whose hotline staffing follows the call forecast — Erlang C agents per
half-hour as the solver's demand, covered as far as the hard rules allow, the shortfall reported."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from kefu.workforce import solver
from kefu.workforce.erlang import demand_from

SH = ZoneInfo("Asia/Shanghai")
DAYS = [date(2026, 10, 5) + timedelta(days=k) for k in range(7)]
EARLY, LATE = solver.Pattern(1, 8 * 60, 8), solver.Pattern(2, 16 * 60, 8)


def _week(people: int, demand: dict) -> solver.Proposal:
    return solver.propose(
        people=[solver.Person(i, "hotline") for i in range(people)],
        patterns=[EARLY, LATE],
        days=DAYS,
        needs={(1, "hotline"): 1, (2, "hotline"): 1},
        standard_hours=40,
        demand=demand,
        time_limit=10,
    )


def _on_duty(result: solver.Proposal, day: date, pattern_id: int) -> int:
    return sum(1 for _p, d, k in result.shifts if d == day and k == pattern_id)


def test_the_demand_is_covered_where_the_hard_rules_allow():
    """Four agents wanted at 10:00 on Wednesday: four on the early shift that day, one elsewhere."""
    result = _week(6, {(DAYS[2], 600): 4})
    assert result.feasible and result.demand_short == 0
    assert _on_duty(result, DAYS[2], EARLY.id) >= 4
    assert _on_duty(result, DAYS[2], LATE.id) >= 1


def test_more_demand_than_people_is_reported_not_refused():
    """Eight wanted with six people, one of whom keeps the late shift's minimum: the roster is still
    proposed, three agent-half-hours short."""
    result = _week(6, {(DAYS[2], 600): 8})
    assert result.feasible and result.demand_short == 3 and "demand short 3" in result.note
    assert _on_duty(result, DAYS[2], EARLY.id) == 5  # the sixth keeps the late shift's minimum


def test_a_night_shift_from_the_day_before_counts():
    """A 22:00 + 8 h shift covers 02:00 of the next day."""
    night = solver.Pattern(3, 22 * 60, 8)
    result = solver.propose(
        people=[solver.Person(i, "hotline") for i in range(4)],
        patterns=[night],
        days=DAYS,
        needs={(3, "hotline"): 1},
        standard_hours=40,
        demand={(DAYS[3], 120): 2},
        time_limit=10,
    )
    assert result.demand_short == 0 and _on_duty(result, DAYS[2], 3) >= 2


def test_demand_from_a_forecast():
    """20 calls of 3 minutes in a half-hour: 2 Erlangs → 4 agents for 80 % within 15 s (hand-checked:
    3 agents reach 59 %, 4 reach 85 %); a half-hour without calls asks for nobody."""
    start = datetime(2026, 10, 20, 10, 0, tzinfo=SH)
    forecast = SimpleNamespace(
        intervals=[
            SimpleNamespace(start=start, calls=20, aht_s=180),
            SimpleNamespace(start=start + timedelta(minutes=30), calls=0, aht_s=None),
        ],
        aht_s=180,
        target_s=15,
    )
    assert demand_from([forecast]) == {(date(2026, 10, 20), 600): 4}


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 10, 1, 9, 0, tzinfo=SH), tick=False)
def test_the_team_head_proposes_from_the_forecast(team_x, head_x, patterns, staff, company_x, settings):
    """Four September Tuesdays with 20 calls of 3 minutes at 10:00: October's Tuesdays want four
    agents at 10:00; the proposal keeps the hard rules, says it followed the forecast and reports
    exactly the agent-half-hours it left short (the pure tests above show it covers what it can)."""
    from kefu.telephony.models import CallInterval, Hotline
    from kefu.workforce.models import Assignment, Roster, RosterChange
    from kefu.workforce.services import roster_check

    settings.KEFU_ROSTER_SOLVER_SECONDS = 15  # the best roster found by then (coverage first)
    line = Hotline.objects.create(company=company_x, number="96777", name="服务热线", queue="q")
    for k in range(4):
        h = date(2026, 9, 29) - timedelta(days=7 * k)
        CallInterval.objects.create(
            company=company_x,
            hotline=line,
            start=datetime(h.year, h.month, h.day, 10, 0, tzinfo=SH),
            calls=20,
            offered=20,
            answered=20,
            talked=20,
            talk_ms=20 * 180_000,
        )
    c = Client()
    c.force_login(head_x)
    r = c.post(
        "/workforce/rosters/propose-from-forecast/", {"team": team_x.pk, "month": "2026-10", "sl": "80"}
    )
    assert r.status_code == 302
    roster = Roster.objects.get(team=team_x, month=date(2026, 10, 1))
    tuesdays = [date(2026, 10, d) for d in (6, 13, 20, 27)]
    early = [Assignment.objects.filter(roster=roster, day=d, pattern=patterns["Z"]).count() for d in tuesdays]
    short = sum(max(0, 4 - n) for n in early)  # the solver's search is timed: check what it reports
    assert roster_check(roster) == ([], {})
    change = RosterChange.objects.filter(roster=roster, kind="proposal").latest("pk")
    assert "按话务预测" in change.detail and f"{short} 个半小时" in change.detail


@pytest.mark.django_db
def test_without_call_records_it_says_so(team_x, head_x, patterns, staff):
    from kefu.workforce.models import Roster

    c = Client()
    c.force_login(head_x)
    r = c.post(
        "/workforce/rosters/propose-from-forecast/", {"team": team_x.pk, "month": "2026-10"}, follow=True
    )
    assert "近四周没有话务记录" in r.content.decode()
    assert not Roster.objects.filter(team=team_x).exists()
