"""The complaint from the call to the manager's approval and the customer's feedback (P4, seed 004
第五条): every step on record with who and when, each C6 stage on its own clock (seed 002 第四章
第二节8、第五节5; hand-computed on the 2026 working-day calendar)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import time_machine

from kefu.core.errors import DomainError, Forbidden, NotFound
from kefu.followups import services
from kefu.followups.clocks import COMPLAINT_SUBJECT, VISIT_SUBJECT
from kefu.followups.models import Complaint, ComplaintStepRecord, PenaltyRule, ReturnVisit
from kefu.followups.tests.conftest import L
from kefu.sla.models import Clock
from kefu.sla.states import ClockState

pytestmark = pytest.mark.django_db


@pytest.fixture
def at(django_capture_on_commit_callbacks):
    @contextmanager
    def travel(*a):
        with time_machine.travel(L(*a), tick=False), django_capture_on_commit_callbacks(execute=True):
            yield

    return travel


def clocks(subject, pk):
    return {
        c.commitment.code: c
        for c in Clock.objects.filter(subject_type=subject, subject_id=str(pk)).select_related("commitment")
    }


def test_eight_steps_with_send_back_and_the_002_stage_clocks(
    at, set_002, agent_x, supervisor_x, manager_x, technician_x, repair_dept, complaint_ticket
):
    """Seed 002: promise ≤ 1 working day, handled ≤ 5 working days, return visit ≤ 24 h, result ≤ 5
    working days. Received Mon 2026-03-02 10:00, the apology typed at creation is the promise."""
    with at(2026, 3, 2, 10, 0):
        t = complaint_ticket(answer="非常抱歉，我们会尽快核实并在明天给您答复。")
    c = Complaint.objects.get(ticket=t)
    assert c.step == "received" and c.complainant == "李女士"
    k = clocks(COMPLAINT_SUBJECT, c.pk)
    assert k["complaint_promise"].state == ClockState.MET  # the apology at creation is a promise
    assert k["complaint_handled"].due_at == L(2026, 3, 10, 0, 0)  # Tue..Fri, Mon → Mon 3-09 24:00
    assert k["complaint_result"].due_at == L(2026, 3, 10, 0, 0)
    assert k["complaint_handled"].state == ClockState.RUNNING
    with at(2026, 3, 2, 11, 0):
        services.complaint_intake(
            by=agent_x,
            complaint_id=c.pk,
            category="attitude",
            demand="退还材料费并道歉",
            target_department_id=repair_dept.pk,
            target_user_id=technician_x.pk,
        )
    with at(2026, 3, 2, 15, 0):
        services.complaint_judge(
            by=supervisor_x, complaint_id=c.pk, stands=True, reason="录音与收费单据核实属实"
        )
    with at(2026, 3, 3, 9, 0):
        services.complaint_assign_responsibility(
            by=supervisor_x, complaint_id=c.pk, department_id=repair_dept.pk, user_id=technician_x.pk
        )
        services.complaint_analyse(by=supervisor_x, complaint_id=c.pk, cause="未按价目表收费，服务用语不规范")
        services.complaint_plan(by=supervisor_x, complaint_id=c.pk, plan="退还材料费")
    with at(2026, 3, 3, 11, 0):
        with pytest.raises(Forbidden):  # an agent has no right to approve
            services.complaint_approve(by=agent_x, complaint_id=c.pk, approve=True)
        with pytest.raises(DomainError):  # a send-back needs its reason
            services.complaint_approve(by=manager_x, complaint_id=c.pk, approve=False)
        services.complaint_approve(
            by=manager_x, complaint_id=c.pk, approve=False, reason="方案缺少对当事人的教育"
        )
    c.refresh_from_db()
    assert c.step == "analysed"
    with at(2026, 3, 3, 14, 0):
        with pytest.raises(DomainError):  # executing before approval is refused
            services.complaint_execute(by=supervisor_x, complaint_id=c.pk, informed="已退款")
        services.complaint_plan(by=supervisor_x, complaint_id=c.pk, plan="退还材料费，当事人书面检查并培训")
    with at(2026, 3, 3, 15, 0):
        services.complaint_approve(by=manager_x, complaint_id=c.pk, approve=True)
    PenaltyRule.objects.create(
        company=c.company, name="首次被有效投诉", nth=1, amount=30, manager_multiplier=2
    )
    with at(2026, 3, 4, 10, 0):
        services.complaint_execute(
            by=agent_x,
            complaint_id=c.pk,
            informed="已退还材料费，当事人已书面检查。",
            feedback="客户表示接受",
        )
    c.refresh_from_db()
    assert c.step == "executed" and c.penalty_amount == 30 and "60" in c.penalty_note  # W5: manager liable ×2
    assert c.answered_at == L(2026, 3, 4, 10, 0)  # the first reply after the judgement
    k = clocks(COMPLAINT_SUBJECT, c.pk)
    assert k["complaint_handled"].state == ClockState.MET
    assert k["complaint_return_visit"].state == ClockState.RUNNING
    assert k["complaint_return_visit"].due_at == L(2026, 3, 5, 10, 0)  # 24 h wall clock
    visit = ReturnVisit.objects.get(ticket=t, reason="complaint")
    with at(2026, 3, 5, 9, 0):
        services.visit_record_result(
            by=agent_x, visit_id=visit.pk, consent=True, satisfied=True, attitude_score=9, ability_score=8
        )
    assert clocks(COMPLAINT_SUBJECT, c.pk)["complaint_return_visit"].state == ClockState.MET
    with at(2026, 3, 6, 16, 0):
        services.complaint_close(by=supervisor_x, complaint_id=c.pk, summary="收费须按价目表；纳入月度培训")
    k = clocks(COMPLAINT_SUBJECT, c.pk)
    assert k["complaint_result"].state == ClockState.MET and k["complaint_result"].met_at == L(
        2026, 3, 6, 16, 0
    )
    steps = list(
        ComplaintStepRecord.objects.filter(complaint=c).values_list("step", "action", "by__username")
    )
    assert steps == [
        ("received", "done", "agent_x"),
        ("received", "updated", "agent_x"),
        ("judged", "done", "supervisor_x"),
        ("responsibility", "done", "supervisor_x"),
        ("analysed", "done", "supervisor_x"),
        ("planned", "done", "supervisor_x"),
        ("planned", "sent_back", "manager_x"),
        ("planned", "done", "supervisor_x"),
        ("approved", "approved", "manager_x"),
        ("executed", "done", "agent_x"),
        ("closed", "done", "supervisor_x"),
    ]
    assert all(s.at is not None for s in ComplaintStepRecord.objects.filter(complaint=c))


def test_taian_c6_is_not_met_by_the_reply_typed_at_creation(
    at, set_taian, agent_x, supervisor_x, complaint_ticket
):
    """000 2.2.6: answered within 72 h — by the reply after the judgement, not the apology at creation."""
    with at(2026, 3, 2, 10, 0):
        t = complaint_ticket(answer="非常抱歉，我们马上调查。")
    c = Complaint.objects.get(ticket=t)
    clock = clocks(COMPLAINT_SUBJECT, c.pk)["complaint_reply"]
    assert clock.state == ClockState.RUNNING and clock.due_at == L(2026, 3, 5, 10, 0)
    with at(2026, 3, 3, 9, 0):
        services.complaint_judge(by=supervisor_x, complaint_id=c.pk, stands=False, reason="收费符合价目表")
    from kefu.tickets.services import ticket_reply

    with at(2026, 3, 3, 10, 0):
        ticket_reply(ticket_id=t.pk, by=agent_x, text="经核实，材料费按价目表收取，向您解释如下……")
    clock.refresh_from_db()
    assert clock.state == ClockState.MET and clock.met_at == L(2026, 3, 3, 10, 0)
    assert not Clock.objects.filter(
        subject_type="tickets.workorder", subject_id=str(t.pk), clock_kind="reply"
    ).exists()


def test_laizhou_two_working_days_over_labour_day(at, set_laizhou, agent_x, supervisor_x, complaint_ticket):
    """004 附表: 2 working days. Received Thu 4-30 09:00; 5-01…5-05 劳动节 → due Thu 5-07 24:00."""
    with at(2026, 4, 30, 9, 0):
        t = complaint_ticket()
    c = Complaint.objects.get(ticket=t)
    clock = clocks(COMPLAINT_SUBJECT, c.pk)["complaint_reply"]
    assert clock.due_at == L(2026, 5, 8, 0, 0)


def test_not_standing_skips_to_execution_and_a_12345_source_needs_its_number(
    at, set_002, agent_x, supervisor_x, complaint_ticket
):
    with at(2026, 3, 2, 10, 0):
        t = complaint_ticket()
    c = Complaint.objects.get(ticket=t)
    with pytest.raises(DomainError) as e:
        services.complaint_intake(by=agent_x, complaint_id=c.pk, category="billing", source="gov_12345")
    assert e.value.field == "source_ref"
    services.complaint_intake(
        by=agent_x,
        complaint_id=c.pk,
        category="billing",
        source="gov_12345",
        source_ref="12345-20260302-0081",
        source_due_at=L(2026, 3, 6, 17, 0),
    )
    services.complaint_judge(by=supervisor_x, complaint_id=c.pk, stands=False, reason="按规定计费")
    with pytest.raises(DomainError):
        services.complaint_analyse(by=supervisor_x, complaint_id=c.pk, cause="x")
    services.complaint_execute(by=agent_x, complaint_id=c.pk, informed="已向客户解释计费依据")
    c.refresh_from_db()
    assert c.step == "executed" and c.penalty_amount is None and c.source_ref == "12345-20260302-0081"


def test_repeat_complaints_and_the_staff_history(
    at, set_002, agent_x, supervisor_x, technician_x, complaint_ticket
):
    with at(2026, 3, 2, 10, 0):
        t1 = complaint_ticket()
    first = Complaint.objects.get(ticket=t1)
    services.complaint_intake(
        by=agent_x, complaint_id=first.pk, category="attitude", target_user_id=technician_x.pk
    )
    with at(2026, 3, 9, 10, 0):
        t2 = complaint_ticket(content="又是那个维修工，态度还是很差")
    second = Complaint.objects.get(ticket=t2)
    with time_machine.travel(L(2026, 3, 9, 10, 5), tick=False):
        services.complaint_intake(
            by=agent_x, complaint_id=second.pk, category="attitude", target_user_id=technician_x.pk
        )
    second.refresh_from_db()
    assert second.repeat_of_id == first.pk
    from kefu.followups.selectors import complaints_against

    assert {c.pk for c in complaints_against(user=supervisor_x, staff_id=technician_x.pk)} == {
        first.pk,
        second.pk,
    }
    with pytest.raises(Forbidden):
        complaints_against(user=agent_x, staff_id=technician_x.pk)


def test_another_company_sees_nothing(at, set_002, agent_x, agent_y, complaint_ticket):
    with at(2026, 3, 2, 10, 0):
        t = complaint_ticket()
    c = Complaint.objects.get(ticket=t)
    with pytest.raises(NotFound):
        services.complaint_judge(by=agent_y, complaint_id=c.pk, stands=True, reason="x")


def test_the_manager_of_another_department_may_not_approve(
    at, set_002, agent_x, supervisor_x, manager2_x, repair_dept, complaint_ticket
):
    with at(2026, 3, 2, 10, 0):
        t = complaint_ticket()
    c = Complaint.objects.get(ticket=t)
    with at(2026, 3, 2, 11, 0):
        services.complaint_judge(by=supervisor_x, complaint_id=c.pk, stands=True, reason="属实")
        services.complaint_assign_responsibility(
            by=supervisor_x, complaint_id=c.pk, department_id=repair_dept.pk
        )
        services.complaint_analyse(by=supervisor_x, complaint_id=c.pk, cause="原因")
        services.complaint_plan(by=supervisor_x, complaint_id=c.pk, plan="方案")
        with pytest.raises(Forbidden):
            services.complaint_approve(by=manager2_x, complaint_id=c.pk, approve=True)


def test_a_lost_listener_is_caught_up_by_the_sweep(set_002, agent_x, complaint_ticket):
    """The creation listener never ran (no on-commit callbacks): the sla sweep makes the record and
    its clocks."""
    from kefu.sla.sweep import sweep

    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False):
        t = complaint_ticket()
    assert not Complaint.objects.filter(ticket=t).exists()
    with time_machine.travel(L(2026, 3, 2, 10, 5), tick=False):
        sweep()
        c = Complaint.objects.get(ticket=t)
        sweep()
    assert set(clocks(COMPLAINT_SUBJECT, c.pk)) == {
        "complaint_promise",
        "complaint_handled",
        "complaint_result",
    }
    assert not Clock.objects.filter(subject_type=VISIT_SUBJECT).exists()
