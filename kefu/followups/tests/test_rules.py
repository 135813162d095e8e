"""The pure rules of follow-ups (kefu/followups/rules.py): calling time (C19 "never in rest time"),
the deterministic C14 sample, W5 penalties, survey statistics — tables and hypothesis properties."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.followups import rules

SH = ZoneInfo("Asia/Shanghai")
HOURS = rules.CallingHours(time(8, 30), time(20, 0), time(12, 0), time(14, 0))


def L(*a):
    return datetime(*a, tzinfo=SH)


def test_calling_windows_and_the_day_length():
    assert HOURS.windows() == [(time(8, 30), time(12, 0)), (time(14, 0), time(20, 0))]
    assert HOURS.day_minutes() == 570
    assert rules.in_calling_hours(L(2026, 3, 2, 9, 0), HOURS, "Asia/Shanghai")
    for h, m in ((12, 30), (20, 0), (7, 59), (23, 0)):
        assert not rules.in_calling_hours(L(2026, 3, 2, h, m), HOURS, "Asia/Shanghai")


def test_due_times_of_each_kind_of_visit():
    """Complaint 24 h and C19's 3 days in calling time; consultation 2 working days (calendar)."""
    kw = dict(
        hours=HOURS,
        tz="Asia/Shanghai",
        window_hours=72,
        complaint_hours=24,
        consultation_working_days=2,
        is_workday=lambda d: d.weekday() < 5,
    )
    assert rules.visit_due("complaint", L(2026, 3, 2, 10, 0), **kw) == L(2026, 3, 3, 10, 0)
    assert rules.visit_due("repair", L(2026, 3, 2, 19, 0), **kw) == L(2026, 3, 5, 19, 0)
    assert rules.visit_due("repair", L(2026, 3, 2, 22, 0), **kw) == L(
        2026, 3, 5, 20, 0
    )  # night: from the opening
    assert rules.visit_due("consultation", L(2026, 3, 6, 10, 0), **kw) == L(2026, 3, 10, 10, 0)  # Fri → Tue


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1)),
    st.integers(0, 5000),
    st.integers(0, 5000),
)
def test_calling_time_adds_up_and_lands_inside_the_windows(start, a, b):
    start = start.replace(tzinfo=SH)
    one = rules.add_calling_time(start, a + b, HOURS, "Asia/Shanghai")
    two = rules.add_calling_time(
        rules.add_calling_time(start, a, HOURS, "Asia/Shanghai"), b, HOURS, "Asia/Shanghai"
    )
    assert one >= start
    if a + b > 0:
        local = one.astimezone(SH).time()
        assert any(x < local <= y for x, y in HOURS.windows())
    if a > 0 and b > 0:
        assert one == two


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**9), st.integers(0, 100))
def test_the_sample_is_deterministic_and_bounded(ticket_id, percent):
    first = rules.is_sampled("seed", ticket_id, percent)
    assert first == rules.is_sampled("seed", ticket_id, percent)
    if percent == 0:
        assert not first
    if percent == 100:
        assert first


def test_the_sample_rate_is_roughly_kept():
    drawn = sum(rules.is_sampled("kefu", i, 10) for i in range(1, 20001))
    assert 1800 < drawn < 2200


def test_penalties_w5():
    """001 篇4: 30 元, doubled on repeat, dismissal on the third; the manager liable for double."""
    table = [
        (1, Decimal(30), Decimal(2), False, "一次"),
        (2, Decimal(60), Decimal(2), False, "二次"),
        (3, Decimal(0), Decimal(0), True, "三次"),
    ]
    assert rules.penalty_for(1, table).amount == 30 and rules.penalty_for(1, table).manager_amount == 60
    assert rules.penalty_for(2, table).amount == 60
    assert rules.penalty_for(5, table).dismissal
    assert rules.penalty_for(0, table) is None


def test_mean_ci_and_answers():
    ci = rules.mean_ci([8, 9, 10])
    assert ci.mean == 9.0 and ci.low == round(9 - 4.303 / 3**0.5, 3)
    assert rules.mean_ci([]).n == 0 and rules.mean_ci([7]).low is None
    assert rules.check_answer({"type": "score"}, 11) == "1–10"
    assert rules.check_answer({"type": "score"}, True) == "1–10"
    assert rules.check_answer({"type": "likert"}, 5) is None
    assert rules.check_answer({"type": "choice", "choices": ["是"]}, "否") == "choice"
    assert rules.check_questions([{"key": "a", "text": "t", "type": "stars"}]) == "type"
    assert rules.check_questions([{"key": "a", "text": "t", "type": "score"}]) is None


def test_project_schedule_starts_after_hand_over():
    dates = rules.project_visit_dates(date(2026, 1, 15), date(2027, 7, 15))
    assert dates[:2] == [date(2026, 2, 15), date(2026, 3, 15)] and dates[11] == date(2027, 1, 15)
    assert dates[12:] == [date(2027, 4, 15), date(2027, 7, 15)]
    assert all(b > a for a, b in zip(dates, dates[1:], strict=False))
    assert timedelta(days=1)
