"""Stories of the workforce services through the real database: the solver's month keeps the law
(October 2026: National Day and a make-up working day), minimum staffing, on-duty across midnight,
hand-over sign-off order, leave and swaps with every rule, attendance, penalties (W1, W2, W3, W4, W5, C8)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kefu.core.errors import Forbidden
from kefu.notify.models import Notification
from kefu.workforce import selectors, services
from kefu.workforce.models import Assignment, RosterChange, Violation
from kefu.workforce.rules import RuleBroken
from kefu.workforce.tests.factories import published_roster, shift

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db(transaction=False)


def L(*a):
    return datetime(*a, tzinfo=SH)


class TestSolverMonth:
    def test_october_with_national_day_keeps_the_law_and_staffing(
        self, team_x, head_x, patterns, staff, django_capture_on_commit_callbacks
    ):
        """W1: the proposal meets minimum staffing every day (holidays too: C8 24 h hotline), a rest day
        in every 7, ≤ 8 h a day, overtime ≤ 36 h over the calendar's standard hours (Oct 10 make-up day)."""
        days, holidays, standard = services.month_facts(team_x.company, date(2026, 10, 1))
        assert date(2026, 10, 1) in holidays and date(2026, 10, 10) not in holidays
        assert standard == 8 * sum(1 for d in days if d.weekday() < 5 and d not in holidays) + 8 * len(
            [d for d in days if d.weekday() >= 5 and d not in holidays and d == date(2026, 10, 10)]
        )
        roster = services.roster_propose(team=team_x, month=date(2026, 10, 1), by=head_x, time_limit=30)
        shortfalls, problems = services.roster_check(roster)
        assert shortfalls == [] and problems == {}
        assert (
            Assignment.objects.filter(roster=roster, day=date(2026, 10, 1), is_holiday_duty=True).count() == 5
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.roster_publish(roster=roster, by=head_x)
        assert Notification.objects.filter(recipient=staff[0], kind="workforce.roster").exists()

    def test_agent_cannot_propose(self, team_x, agent_x, patterns):
        with pytest.raises(Forbidden):
            services.roster_propose(team=team_x, month=date(2026, 10, 1), by=agent_x, time_limit=5)


def test_minimum_staffing_refuses_publishing(team_x, head_x, patterns, staff):
    """W1: a roster with a shift under its minimum is not published."""
    roster = published_roster(team=team_x, month=date(2026, 10, 1), by=head_x, shifts=[])
    roster.status = "draft"
    roster.save()
    services.assignment_set(
        roster=roster, user=staff[0], day=date(2026, 10, 20), pattern=patterns["Z"], by=head_x
    )
    with pytest.raises(RuleBroken) as exc:
        services.roster_publish(roster=roster, by=head_x)
    assert exc.value.code == "understaffed"


def test_hand_edit_keeps_the_law_and_every_change(team_x, head_x, patterns, staff):
    roster = published_roster(team=team_x, month=date(2026, 10, 1), by=head_x, shifts=[])
    for i in range(6):
        services.assignment_set(
            roster=roster, user=staff[1], day=date(2026, 10, 12 + i), pattern=patterns["Z"], by=head_x
        )
    with pytest.raises(RuleBroken) as exc:
        services.assignment_set(
            roster=roster, user=staff[1], day=date(2026, 10, 18), pattern=patterns["Z"], by=head_x
        )
    assert "每周至少休息一日" in exc.value.message
    assert RosterChange.objects.filter(roster=roster, kind="edit").count() == 6


class TestOnDuty:
    def test_night_shift_across_midnight(self, team_x, head_x, staff, agent_y):
        night = services.pattern_create(team=team_x, code="N", name="夜班", start=time(22), is_night=True)
        published_roster(
            team=team_x, month=date(2026, 10, 1), by=head_x, shifts=[(staff[0], date(2026, 10, 20), night)]
        )
        company = team_x.company
        assert selectors.on_duty(company, L(2026, 10, 21, 3)) == [staff[0]]
        assert selectors.on_duty(company, L(2026, 10, 20, 22)) == [staff[0]]
        assert selectors.on_duty(company, L(2026, 10, 21, 6)) == []
        assert selectors.on_duty(company, L(2026, 10, 20, 21, 59)) == []
        assert selectors.on_duty(company, L(2026, 10, 21, 3), skill="hotline") == [staff[0]]
        assert selectors.on_duty(company, L(2026, 10, 21, 3), skill="emergency") == []
        assert selectors.on_duty(company, L(2026, 10, 21, 3), role="agent") == [staff[0]]
        assert selectors.on_duty(company, L(2026, 10, 21, 3), role="technician") == []
        assert selectors.on_duty(agent_y.company, L(2026, 10, 21, 3)) == []

    def test_draft_roster_puts_nobody_on_duty(self, team_x, head_x, patterns, staff):
        roster = published_roster(
            team=team_x,
            month=date(2026, 10, 1),
            by=head_x,
            shifts=[(staff[0], date(2026, 10, 20), patterns["Z"])],
        )
        Assignment.objects.filter(roster=roster).update(published=False)
        assert selectors.on_duty(team_x.company, L(2026, 10, 20, 9)) == []

    def test_cache_follows_roster_changes(self, team_x, head_x, patterns, staff, monkeypatch):
        """on_duty is served from a per-process cache of the day: a change through the services is seen
        at once; a change made by another process (no signal here, only the DutyStamp) within
        DUTY_RECHECK_S."""
        from kefu.workforce.models import DutyStamp

        roster = published_roster(
            team=team_x,
            month=date(2026, 10, 1),
            by=head_x,
            shifts=[(staff[0], date(2026, 10, 20), patterns["Z"])],
        )
        at = L(2026, 10, 20, 9)
        assert selectors.on_duty(team_x.company, at) == [staff[0]]
        services.assignment_set(
            roster=roster, user=staff[1], day=date(2026, 10, 20), pattern=patterns["Z"], by=head_x
        )
        assert set(selectors.on_duty(team_x.company, at)) == {staff[0], staff[1]}
        services.assignment_set(roster=roster, user=staff[0], day=date(2026, 10, 20), pattern=None, by=head_x)
        assert selectors.on_duty(team_x.company, at) == [staff[1]]
        # another process: a bulk update (no signal in this process) and a new stamp
        Assignment.objects.filter(roster=roster).update(skill="cashier")
        assert selectors.on_duty(team_x.company, at, skill="hotline") == [
            staff[1]
        ]  # cached, not yet rechecked
        DutyStamp.objects.filter(company=team_x.company).update(stamp="other-process")
        monkeypatch.setattr(selectors, "DUTY_RECHECK_S", 0.0)
        assert selectors.on_duty(team_x.company, at, skill="hotline") == []
        assert selectors.on_duty(team_x.company, at, skill="cashier") == [staff[1]]


class TestHandover:
    def test_leaver_signs_off_only_after_the_successor_confirmed(self, staff):
        leaver, successor = staff[0], staff[1]
        h = services.handover_record(
            leaver=leaver,
            successor=successor,
            equipment_state="3 号机台耳机杂音",
            difficult_cases="张先生反复来电",
            work_orders="GD20261020001",
        )
        with pytest.raises(RuleBroken) as exc:
            services.handover_sign_off(handover=h, by=leaver)
        assert "接班人未到机台，交班人不得离台" in exc.value.message
        with pytest.raises(Forbidden):
            services.handover_confirm(handover=h, by=leaver)
        services.handover_confirm(handover=h, by=successor)
        h = services.handover_sign_off(handover=h, by=leaver)
        assert h.status == "signed_off" and h.signed_off_at >= h.confirmed_at


@pytest.fixture
def october(team_x, head_x, patterns, staff):
    """agent_x: 早 Oct 20, 中 Oct 22, 早 Oct 1 (holiday duty); staff[1]: 早 Oct 23, 早 Oct 26."""
    r = published_roster(
        team=team_x,
        month=date(2026, 10, 1),
        by=head_x,
        shifts=[
            (staff[0], date(2026, 10, 20), patterns["Z"]),
            (staff[0], date(2026, 10, 22), patterns["M"]),
            (staff[0], date(2026, 10, 1), patterns["Z"]),
            (staff[1], date(2026, 10, 23), patterns["Z"]),
            (staff[1], date(2026, 10, 26), patterns["Z"]),
            (staff[2], date(2026, 10, 28), patterns["Z"]),
        ],
    )
    Assignment.objects.filter(roster=r, day=date(2026, 10, 1)).update(is_holiday_duty=True)
    return r


class TestLeave:
    def test_one_day_by_the_team_head_and_the_roster_updated(self, october, staff, head_x):
        lr = services.leave_request(
            user=staff[0],
            kind="personal",
            first_day=date(2026, 10, 20),
            last_day=date(2026, 10, 20),
            reason="家事",
            now=L(2026, 10, 18, 9),
        )
        services.leave_decide(leave=lr, by=head_x, approve=True)
        assert not Assignment.objects.filter(user=staff[0], day=date(2026, 10, 20)).exists()
        assert RosterChange.objects.filter(kind="leave").count() == 1

    def test_more_than_a_day_needs_the_centre_head(self, october, staff, head_x, manager_x):
        lr = services.leave_request(
            user=staff[0],
            kind="personal",
            first_day=date(2026, 10, 20),
            last_day=date(2026, 10, 22),
            reason="探亲",
            now=L(2026, 10, 18, 9),
        )
        with pytest.raises(RuleBroken, match="一天以上由客服中心主任批准"):
            services.leave_decide(leave=lr, by=head_x, approve=True)
        assert services.leave_decide(leave=lr, by=manager_x, approve=True).status == "approved"

    def test_personal_leave_too_late_is_refused(self, october, staff):
        with pytest.raises(RuleBroken, match="一般事假需在一天提出"):
            services.leave_request(
                user=staff[0],
                kind="personal",
                first_day=date(2026, 10, 20),
                last_day=date(2026, 10, 20),
                reason="家事",
                now=L(2026, 10, 19, 9),
            )

    def test_night_shift_before_noon(self, team_x, head_x, staff):
        night = services.pattern_create(team=team_x, code="N", name="夜班", start=time(22), is_night=True)
        published_roster(
            team=team_x, month=date(2026, 10, 1), by=head_x, shifts=[(staff[0], date(2026, 10, 22), night)]
        )
        services.leave_request(
            user=staff[0],
            kind="special",
            first_day=date(2026, 10, 22),
            last_day=date(2026, 10, 22),
            reason="急事",
            now=L(2026, 10, 22, 11, 30),
        )
        with pytest.raises(RuleBroken, match="当日十二点之前"):
            services.leave_request(
                user=staff[0],
                kind="special",
                first_day=date(2026, 10, 22),
                last_day=date(2026, 10, 22),
                reason="急事",
                now=L(2026, 10, 22, 12, 30),
            )

    def test_public_holiday_two_days_ahead(self, october, staff):
        with pytest.raises(RuleBroken, match="需提前二天提出"):
            services.leave_request(
                user=staff[1],
                kind="personal",
                first_day=date(2026, 10, 2),
                last_day=date(2026, 10, 2),
                reason="家事",
                now=L(2026, 10, 1, 9),
            )
        services.leave_request(
            user=staff[1],
            kind="personal",
            first_day=date(2026, 10, 2),
            last_day=date(2026, 10, 2),
            reason="家事",
            now=L(2026, 9, 30, 20),
        )

    def test_sick_day_needs_the_certificate(self, october, staff, head_x):
        lr = services.leave_request(
            user=staff[0],
            kind="sick",
            first_day=date(2026, 10, 20),
            last_day=date(2026, 10, 20),
            reason="发烧",
            now=L(2026, 10, 20, 6),
        )
        with pytest.raises(RuleBroken, match="医疗单位证明"):
            services.leave_decide(leave=lr, by=head_x, approve=True)
        services.leave_attach_certificate(
            leave=lr, by=staff[0], certificate=SimpleUploadedFile("zm.pdf", b"%PDF-1.4")
        )
        assert services.leave_decide(leave=lr, by=head_x, approve=True).status == "approved"


def _swap(october, staff, head_x, give_day, take_user, take_day, now=None):
    now = now or L(2026, 10, 15, 9)
    req = services.swap_request(
        requester=staff[0],
        give=shift(staff[0], give_day),
        take=shift(take_user, take_day),
        reason="家里有事",
        now=now,
    )
    services.swap_answer(swap=req, by=take_user, accept=True, now=now)
    return services.swap_decide(swap=req, by=head_x, approve=True, now=now)


class TestSwaps:
    def test_accept_approve_and_the_roster_changes(self, october, staff, head_x):
        s = _swap(october, staff, head_x, date(2026, 10, 20), staff[1], date(2026, 10, 23))
        assert s.status == "approved"
        assert shift(staff[1], date(2026, 10, 20)).source == "swap"
        assert shift(staff[0], date(2026, 10, 23)).source == "swap"
        with pytest.raises(RuleBroken, match="换班和还班均不得请假"):
            services.leave_request(
                user=staff[0],
                kind="personal",
                first_day=date(2026, 10, 23),
                last_day=date(2026, 10, 23),
                reason="x",
                now=L(2026, 10, 16, 9),
            )

    def test_at_most_two_a_month_and_not_consecutive(self, october, staff, head_x, patterns):
        _swap(october, staff, head_x, date(2026, 10, 20), staff[1], date(2026, 10, 23))
        with pytest.raises(RuleBroken, match="不允许连续换班"):
            services.swap_request(
                requester=staff[0],
                give=shift(staff[0], date(2026, 10, 22)),
                take=shift(staff[1], date(2026, 10, 26)),
                reason="x",
                now=L(2026, 10, 15, 9),
            )
        services.assignment_set(
            roster=october, user=staff[0], day=date(2026, 10, 12), pattern=patterns["Z"], by=head_x
        )
        Assignment.objects.filter(user=staff[0]).update(published=True)
        _swap(
            october, staff, head_x, date(2026, 10, 12), staff[2], date(2026, 10, 28), now=L(2026, 10, 10, 9)
        )
        services.assignment_set(
            roster=october, user=staff[0], day=date(2026, 10, 30), pattern=patterns["Z"], by=head_x
        )
        Assignment.objects.filter(user=staff[0]).update(published=True)
        with pytest.raises(RuleBroken, match="每人每月换班不得超过2次"):
            services.swap_request(
                requester=staff[0],
                give=shift(staff[0], date(2026, 10, 30)),
                take=shift(staff[1], date(2026, 10, 26)),
                reason="x",
                now=L(2026, 10, 15, 9),
            )

    def test_same_job_and_level(self, october, staff):
        from kefu.workforce.models import WorkerProfile

        WorkerProfile.objects.filter(user=staff[1]).update(level=3)
        with pytest.raises(RuleBroken, match="同工种和技术业务水平相当"):
            services.swap_request(
                requester=staff[0],
                give=shift(staff[0], date(2026, 10, 20)),
                take=shift(staff[1], date(2026, 10, 23)),
                reason="x",
                now=L(2026, 10, 15, 9),
            )

    def test_holiday_duty_does_not_swap(self, october, staff):
        with pytest.raises(RuleBroken, match="节假日当班人员不允许换班"):
            services.swap_request(
                requester=staff[0],
                give=shift(staff[0], date(2026, 10, 1)),
                take=shift(staff[1], date(2026, 10, 23)),
                reason="x",
                now=L(2026, 9, 20, 9),
            )

    def test_back_to_back_after_the_swap_is_refused(self, october, staff, head_x, patterns):
        """agent_x works 中班 (16–24) on the 22nd; taking staff[2]'s 夜班 (00–08) of the 23rd joins them."""
        services.assignment_set(
            roster=october, user=staff[2], day=date(2026, 10, 23), pattern=patterns["Y"], by=head_x
        )
        Assignment.objects.update(published=True)
        with pytest.raises(RuleBroken, match="不允许连班"):
            services.swap_request(
                requester=staff[0],
                give=shift(staff[0], date(2026, 10, 20)),
                take=shift(staff[2], date(2026, 10, 23)),
                reason="x",
                now=L(2026, 10, 15, 9),
            )

    def test_both_team_heads_approve(self, october, staff, team2_x, head_x):
        from kefu.accounts.tests.factories import UserFactory

        head2 = UserFactory(company=team2_x.company, role="team_lead", team=team2_x, username="head2")
        other = UserFactory(company=team2_x.company, role="agent", team=team2_x, username="other2")
        services.profile_set(user=other, team=team2_x, job="hotline", level=1)
        p2 = services.pattern_create(team=team2_x, code="Z", name="早班", start=time(8))
        published_roster(
            team=team2_x, month=date(2026, 10, 1), by=head2, shifts=[(other, date(2026, 10, 25), p2)]
        )
        now = L(2026, 10, 15, 9)
        req = services.swap_request(
            requester=staff[0],
            give=shift(staff[0], date(2026, 10, 20)),
            take=shift(other, date(2026, 10, 25)),
            reason="x",
            now=now,
        )
        services.swap_answer(swap=req, by=other, accept=True, now=now)
        assert services.swap_decide(swap=req, by=head_x, approve=True, now=now).status == "pending"
        assert services.swap_decide(swap=req, by=head2, approve=True, now=now).status == "approved"

    def test_unanswered_requests_expire(self, october, staff):
        now = L(2026, 10, 15, 9)
        req = services.swap_request(
            requester=staff[0],
            give=shift(staff[0], date(2026, 10, 20)),
            take=shift(staff[1], date(2026, 10, 23)),
            reason="x",
            now=now,
        )
        assert services.swaps_expire(now + timedelta(hours=47)) == 0
        assert services.swaps_expire(now + timedelta(hours=48)) == 1
        with pytest.raises(RuleBroken, match="过期"):
            req.refresh_from_db()
            services.swap_answer(swap=req, by=staff[1], accept=True, now=now + timedelta(hours=49))


class TestAttendance:
    def test_late_twenty_minutes_and_away_from_post(self, october, staff):
        _p, v = services.punch(user=staff[0], kind="in", source_ip="10.0.0.8", at=L(2026, 10, 20, 8, 19))
        assert v is None
        _p, v = services.punch(user=staff[1], kind="in", source_ip="10.0.0.9", at=L(2026, 10, 23, 8, 25))
        assert v.kind == "late" and v.minutes == 25 and "二十分钟" in v.rule
        services.punch(user=staff[0], kind="away", source_ip=None, at=L(2026, 10, 20, 10))
        _p, v = services.punch(user=staff[0], kind="back", source_ip=None, at=L(2026, 10, 20, 10, 30))
        assert v.kind == "away" and v.minutes == 30

    def test_no_show_recorded_once(self, october, staff):
        assert services.attendance_sweep(L(2026, 10, 20, 17)) == 1
        assert services.attendance_sweep(L(2026, 10, 20, 18)) == 0
        assert Violation.objects.get().kind == "absent"


class TestPenalties:
    def test_thirty_doubled_then_dismissal_review(self, staff, manager_x):
        services.penalty_rules_install(staff[0].company)
        cid = staff[0].company_id
        made = [
            services.penalty_from_complaint(company_id=cid, user_id=staff[0].pk, complaint_ref=f"TS{i}")
            for i in range(3)
        ]
        assert [(p.amount, p.dismissal_review) for p in made] == [(30, False), (60, False), (120, True)]
        again = services.penalty_from_complaint(company_id=cid, user_id=staff[0].pk, complaint_ref="TS0")
        assert again.pk == made[0].pk  # the event applied twice gives one row
        with pytest.raises(Forbidden):
            services.penalty_decide(penalty=made[0], by=staff[1], approve=True)
        assert services.penalty_decide(penalty=made[0], by=manager_x, approve=True).status == "approved"

    def test_manager_liable_for_double(self, staff, head_x):
        services.penalty_rules_install(staff[0].company)
        p = services.penalty_from_complaint(
            company_id=staff[0].company_id,
            user_id=staff[0].pk,
            complaint_ref="TS9",
            rule_code="complaint-liable",
        )
        assert p.amount == Decimal(200) and p.manager_amount == Decimal(400) and p.liable_manager == head_x


def test_periodic_sweep_expires_and_records(october, staff):
    import time_machine

    from kefu.workforce.tasks import workforce_sweep_periodic

    with time_machine.travel(L(2026, 10, 20, 17), tick=False):
        result = workforce_sweep_periodic.call_local()
    assert result["absences"] >= 1
