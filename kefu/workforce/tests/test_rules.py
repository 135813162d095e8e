"""Every W2 / W3 / W4 rule of seed 001 篇1 with a case that passes and one that is refused, the refusal
quoting the clause (rules.py is pure: no database, no clock)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kefu.workforce import rules
from kefu.workforce.rules import RuleBroken, ShiftFact

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=0, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=SH)


def fact(day, h=8, hours=8, **kw):
    start = at(day.year, day.month, day.day, h)
    return ShiftFact(day=day, start_at=start, end_at=start + timedelta(hours=hours), hours=hours, **kw)


def refused(fn, *args, clause: str, **kwargs):
    with pytest.raises(RuleBroken) as exc:
        fn(*args, **kwargs)
    assert clause in exc.value.message
    return exc.value


class TestLeave:
    def test_personal_leave_a_day_ahead_passes_and_late_is_refused(self):
        """请假制度二：一般事假需在一天提出."""
        start = at(2026, 10, 20, 8)
        rules.check_leave_in_advance(
            kind="personal", requested_at=start - timedelta(days=1), first_shift_start=start
        )
        refused(
            rules.check_leave_in_advance,
            kind="personal",
            requested_at=start - timedelta(hours=23),
            first_shift_start=start,
            clause="一般事假需在一天提出",
        )

    def test_special_leave_an_hour_before_the_shift(self):
        """请假制度二：特殊事假需在班前一小时提出."""
        start = at(2026, 10, 20, 8)
        rules.check_leave_in_advance(
            kind="special", requested_at=start - timedelta(hours=1), first_shift_start=start
        )
        refused(
            rules.check_leave_in_advance,
            kind="special",
            requested_at=start - timedelta(minutes=30),
            first_shift_start=start,
            clause="特殊事假需在班前一小时提出",
        )

    def test_night_shift_only_before_noon_that_day(self):
        """请假制度六：夜班……必须在当日十二点之前提出."""
        rules.check_night_shift_leave(
            requested_local=at(2026, 10, 20, 11, 59), night_days=[date(2026, 10, 20)]
        )
        refused(
            rules.check_night_shift_leave,
            requested_local=at(2026, 10, 20, 12, 0),
            night_days=[date(2026, 10, 20)],
            clause="当日十二点之前",
        )

    def test_public_holiday_only_two_days_ahead(self):
        """请假制度七：节假日……需提前二天提出."""
        rules.check_holiday_leave(requested_day=date(2026, 9, 29), holidays=[date(2026, 10, 1)])
        refused(
            rules.check_holiday_leave,
            requested_day=date(2026, 9, 30),
            holidays=[date(2026, 10, 1)],
            clause="需提前二天提出",
        )

    def test_sick_leave_of_a_day_needs_a_certificate(self):
        """请假制度五：病假满一天，必须持医疗单位证明."""
        rules.check_sick_certificate(kind="sick", days=1, has_certificate=True)
        rules.check_sick_certificate(kind="personal", days=3, has_certificate=False)
        refused(
            rules.check_sick_certificate, kind="sick", days=1, has_certificate=False, clause="医疗单位证明"
        )

    def test_approval_authority(self):
        """请假制度三：一天由客服部主任批准；一天以上由客服中心主任批准."""
        rules.check_leave_authority(days=1, is_team_head=True, is_centre_head=False)
        rules.check_leave_authority(days=3, is_team_head=False, is_centre_head=True)
        refused(
            rules.check_leave_authority,
            days=2,
            is_team_head=True,
            is_centre_head=False,
            clause="一天以上由客服中心主任",
        )
        refused(
            rules.check_leave_authority,
            days=1,
            is_team_head=False,
            is_centre_head=False,
            clause="一天由客服部主任",
        )

    def test_no_leave_on_a_swapped_shift(self):
        """换班制度六：换班和还班均不得请假."""
        rules.check_no_leave_on_swapped_shift([fact(date(2026, 10, 20))])
        refused(
            rules.check_no_leave_on_swapped_shift,
            [fact(date(2026, 10, 20), from_swap=True)],
            clause="换班和还班均不得请假",
        )


class TestSwaps:
    def test_at_most_two_a_month(self):
        """换班制度三：每人每月换班不得超过2次."""
        rules.check_swap_quota(swaps_this_month=1, who="甲")
        refused(rules.check_swap_quota, swaps_this_month=2, who="甲", clause="每人每月换班不得超过2次")

    def test_no_consecutive_swaps(self):
        """换班制度三：不允许连续换班."""
        rules.check_no_consecutive_swaps(
            day=date(2026, 10, 20), other_swap_days=[date(2026, 10, 25)], who="甲"
        )
        refused(
            rules.check_no_consecutive_swaps,
            day=date(2026, 10, 20),
            other_swap_days=[date(2026, 10, 21)],
            who="甲",
            clause="不允许连续换班",
        )

    def test_no_back_to_back_shifts(self):
        """换班制度三：换班者、还班者不允许连班."""
        rules.check_no_back_to_back(
            shifts=[fact(date(2026, 10, 20), 8), fact(date(2026, 10, 21), 8)], who="甲"
        )
        refused(
            rules.check_no_back_to_back,
            shifts=[fact(date(2026, 10, 20), 8), fact(date(2026, 10, 20), 16)],
            who="甲",
            clause="不允许连班",
        )

    def test_same_job_and_level(self):
        """换班制度四：同工种和技术业务水平相当."""
        rules.check_same_job_and_level(job_a="hotline", level_a=2, job_b="hotline", level_b=2)
        refused(
            rules.check_same_job_and_level,
            job_a="hotline",
            level_a=2,
            job_b="cashier",
            level_b=2,
            clause="同工种",
        )
        refused(
            rules.check_same_job_and_level,
            job_a="hotline",
            level_a=1,
            job_b="hotline",
            level_b=3,
            clause="同工种",
        )

    def test_nobody_on_holiday_duty_swaps(self):
        """换班制度九：节假日当班人员不允许换班或请假."""
        rules.check_not_holiday_duty(fact(date(2026, 10, 20)), fact(date(2026, 10, 21)))
        refused(
            rules.check_not_holiday_duty,
            fact(date(2026, 10, 1), is_holiday_duty=True),
            fact(date(2026, 10, 21)),
            clause="节假日当班人员不允许换班",
        )

    def test_unanswered_requests_expire(self):
        requested = at(2026, 10, 10, 9)
        expires = rules.swap_expiry(requested_at=requested, first_shift_start=at(2026, 10, 20, 8))
        assert expires == requested + timedelta(hours=48)
        rules.check_swap_not_expired(now=expires - timedelta(minutes=1), expires_at=expires)
        refused(rules.check_swap_not_expired, now=expires, expires_at=expires, clause="过期")
        soon = rules.swap_expiry(requested_at=requested, first_shift_start=at(2026, 10, 10, 16))
        assert soon == at(2026, 10, 10, 16)

    def test_both_team_heads(self):
        """换班制度二：换班必须经双方班长同意."""
        assert not rules.check_swap_approvers(teams_needed={1, 2}, approvals={"1": 7})
        assert rules.check_swap_approvers(teams_needed={1, 2}, approvals={"1": 7, "2": 8})


class TestAttendanceAndLaw:
    def test_late_twenty_minutes_is_a_violation(self):
        """请假制度八：迟到二十分钟及以上者按违纪处理."""
        start = at(2026, 10, 20, 8)
        assert rules.late_minutes(shift_start=start, punched_at=start + timedelta(minutes=19)) is None
        assert rules.late_minutes(shift_start=start, punched_at=start + timedelta(minutes=20)) == 20
        assert rules.away_minutes(left_at=start, back_at=start + timedelta(minutes=25)) == 25

    def test_labour_law_month(self):
        days = [date(2026, 10, 1) + timedelta(days=i) for i in range(31)]
        ok = [fact(d) for d in days if d.weekday() < 5]
        assert rules.person_month_problems(shifts=ok, days=days, standard_hours=len(ok) * 8) == []
        seven = [fact(d) for d in days[:7]]
        assert (
            "每周至少休息一日" in rules.person_month_problems(shifts=seven, days=days, standard_hours=200)[0]
        )
        too_much = [fact(d) for d in days if d.weekday() < 6]
        assert any(
            "三十六小时" in p
            for p in rules.person_month_problems(shifts=too_much, days=days, standard_hours=120)
        )
        assert rules.shift_hours_problem(hours=24, exemption="") is not None
        assert rules.shift_hours_problem(hours=24, exemption="抢险特殊工时") is None

    def test_penalty_escalation(self):
        """篇4：一次罚款30元，第二次翻倍，第三次将予以开除."""
        steps = [
            rules.penalty_amount(amount=Decimal(30), repeat_factor=Decimal(2), occurrence=n, dismissal_at=3)
            for n in (1, 2, 3)
        ]
        assert steps == [(Decimal(30), False), (Decimal(60), False), (Decimal(120), True)]
