"""Return visits (P6, C12, C14, C16, C19): every finished job gets its task in time; consultations
only when drawn (deterministic sample) — an unsampled one never gets a clock, so nothing breaches;
calls only in calling hours; attempts to "unreachable"; dissatisfaction to a linked complaint."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import time_machine

from kefu.core.errors import DomainError, NotFound
from kefu.followups import rules, services
from kefu.followups.clocks import VISIT_SUBJECT
from kefu.followups.models import Complaint, FollowupPolicy, ReturnVisit, VisitDecision
from kefu.followups.tests.conftest import L
from kefu.sla.models import Clock
from kefu.sla.states import ClockState
from kefu.tickets.models import TicketLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def at(django_capture_on_commit_callbacks):
    @contextmanager
    def travel(*a):
        with time_machine.travel(L(*a), tick=False), django_capture_on_commit_callbacks(execute=True):
            yield

    return travel


@pytest.fixture
def finish(agent_x):
    from kefu.tickets.services import ticket_create, ticket_transition

    def make(kind="repair", sub_kind=None, **kw):
        params = dict(
            by=agent_x,
            kind=kind,
            sub_kind=sub_kind,
            content="灶具打不着火",
            caller_surname="王",
            caller_title="mr",
            caller_phone="13900004444",
            address="幸福小区3-2-501",
            on_duplicate="create",
        )
        params.update(kw)
        t = ticket_create(**params).ticket
        if t.state != "resolved":
            t = ticket_transition(ticket_id=t.pk, by=agent_x, to="resolved", version=t.version)
        return t

    return make


def test_a_repair_finished_at_night_is_due_three_calling_days_later(at, set_laizhou, finish):
    """C19 within 3 days, counted in calling time (08:30–12:00, 14:00–20:00): resolved Mon 3-02
    19:00 → 60 min that evening + 570 Tue + 570 Wed + 510 Thu → Thu 3-05 19:00."""
    with at(2026, 3, 2, 19, 0):
        t = finish()
    v = ReturnVisit.objects.get(ticket=t)
    assert v.reason == "repair" and v.status == "pending" and v.due_at == L(2026, 3, 5, 19, 0)


def test_an_appliance_repair_is_an_appliance_visit(at, set_laizhou, finish):
    with at(2026, 3, 2, 10, 0):
        t = finish(kind="appliance", sub_kind="repair")
    assert ReturnVisit.objects.get(ticket=t).reason == "appliance"


def test_consultations_are_sampled_deterministically_and_unsampled_never_breach(
    at, set_taian, company_x, agent_x, finish
):
    """C14 (000 15.3.6): only drawn consultations get a visit and the 2-working-day clock; the draw is
    SHA-256 of seed:id, so it can be predicted. A week later nothing has breached for the others."""
    FollowupPolicy.objects.create(company=company_x, consultation_sample_percent=50, sample_seed="t")
    with at(2026, 3, 2, 10, 0):
        tickets = [
            finish(kind="consultation", content=f"咨询{i}", resolved_on_call=True, answer="已答复")
            for i in range(12)
        ]
    drawn = {t.pk for t in tickets if rules.is_sampled("t", t.pk, 50)}
    assert 0 < len(drawn) < 12
    assert set(ReturnVisit.objects.values_list("ticket_id", flat=True)) == drawn
    assert VisitDecision.objects.count() == 12
    visit_clocks = Clock.objects.filter(subject_type=VISIT_SUBJECT)
    assert {int(ReturnVisit.objects.get(pk=c.subject_id).ticket_id) for c in visit_clocks} == drawn
    assert {c.due_at for c in visit_clocks} == {L(2026, 3, 5, 0, 0)}  # 2 working days, 24:00 of Wed
    assert not Clock.objects.filter(subject_type="tickets.workorder", clock_kind="return_visit").exists()
    from kefu.sla.sweep import sweep

    first = ReturnVisit.objects.order_by("id").first()
    with at(2026, 3, 3, 10, 0):
        services.visit_record_result(
            by=agent_x, visit_id=first.pk, consent=True, satisfied=True, attitude_score=10, ability_score=9
        )
    with time_machine.travel(L(2026, 3, 10, 10, 0), tick=False):
        sweep()
    states = dict(Clock.objects.filter(subject_type=VISIT_SUBJECT).values_list("subject_id", "state"))
    assert states.pop(str(first.pk)) == ClockState.MET
    assert set(states.values()) <= {ClockState.BREACHED}  # drawn and never visited: breached, as it should
    assert Clock.objects.filter(state=ClockState.BREACHED).count() == len(drawn) - 1


def test_calls_only_in_calling_hours(at, set_laizhou, agent_x, finish):
    with at(2026, 3, 2, 10, 0):
        t = finish()
    v = ReturnVisit.objects.get(ticket=t)
    for hour, minute in ((22, 0), (12, 30), (7, 0)):
        with time_machine.travel(L(2026, 3, 3, hour, minute), tick=False), pytest.raises(DomainError) as e:
            services.visit_record_attempt(by=agent_x, visit_id=v.pk, result="no_answer")
        assert e.value.code == "outside_calling_hours"


def test_attempts_to_unreachable_with_the_retry_plan(at, set_laizhou, agent_x, finish):
    with at(2026, 3, 2, 10, 0):
        t = finish()
    v = ReturnVisit.objects.get(ticket=t)
    with at(2026, 3, 3, 11, 0):
        v = services.visit_record_attempt(by=agent_x, visit_id=v.pk, result="no_answer")
    assert v.status == "pending" and v.next_attempt_at == L(2026, 3, 3, 14, 0)  # 13:00 is rest → 14:00
    with at(2026, 3, 3, 19, 0):
        v = services.visit_record_attempt(by=agent_x, visit_id=v.pk, result="busy")
    assert v.next_attempt_at == L(2026, 3, 4, 8, 30)  # 21:00 is past closing → the next opening
    with at(2026, 3, 4, 8, 30):
        v = services.visit_record_attempt(by=agent_x, visit_id=v.pk, result="no_answer")
    assert v.status == "unreachable" and v.attempts == 3
    with at(2026, 3, 4, 10, 0), pytest.raises(DomainError):
        services.visit_record_attempt(by=agent_x, visit_id=v.pk, result="no_answer")
    assert "回访拨打" in v.ticket.events.filter(kind="comment").last().payload.get("text", "")


def test_inconvenient_is_a_polite_end_and_a_new_time(at, set_laizhou, agent_x, finish):
    with at(2026, 3, 2, 10, 0):
        t = finish()
    v = ReturnVisit.objects.get(ticket=t)
    with at(2026, 3, 3, 10, 0):
        with pytest.raises(DomainError):
            services.visit_record_attempt(by=agent_x, visit_id=v.pk, result="inconvenient")
        v = services.visit_record_attempt(
            by=agent_x, visit_id=v.pk, result="inconvenient", next_at=L(2026, 3, 3, 12, 30)
        )
    assert v.status == "pending" and v.next_attempt_at == L(2026, 3, 3, 14, 0)


def test_dissatisfied_opens_a_linked_complaint(at, set_laizhou, agent2_x, finish):
    with at(2026, 3, 2, 10, 0):
        t = finish()
    v = ReturnVisit.objects.get(ticket=t)
    with at(2026, 3, 3, 10, 0):
        v = services.visit_record_result(
            by=agent2_x,
            visit_id=v.pk,
            consent=True,
            satisfied=False,
            attitude_score=3,
            ability_score=4,
            remarks="灶具还是打不着",
            dissatisfied_action="complaint",
        )
    assert v.outcome == "complaint" and v.linked_ticket.kind.code == "complaint"
    assert TicketLink.objects.filter(source=v.linked_ticket, target=t, kind="follow_up_of").exists()
    assert Complaint.objects.filter(ticket=v.linked_ticket).exists()
    assert "回访完成" in t.events.filter(kind="comment").last().payload["text"]


def test_dissatisfied_reopens_a_resolved_work_order(at, set_laizhou, agent_x, finish):
    with at(2026, 3, 2, 10, 0):
        t = finish()
    v = ReturnVisit.objects.get(ticket=t)
    with at(2026, 3, 3, 10, 0):
        v = services.visit_record_result(
            by=agent_x,
            visit_id=v.pk,
            consent=True,
            satisfied=False,
            attitude_score=6,
            ability_score=5,
            dissatisfied_action="reopen",
        )
    t.refresh_from_db()
    assert v.outcome == "reopened" and t.state == "reopened"


def test_bad_input_is_refused_with_a_message(at, set_laizhou, agent_x, agent_y, finish):
    with at(2026, 3, 2, 10, 0):
        t = finish()
    v = ReturnVisit.objects.get(ticket=t)
    with time_machine.travel(L(2026, 3, 3, 10, 0), tick=False):
        with pytest.raises(DomainError) as e:
            services.visit_record_result(
                by=agent_x, visit_id=v.pk, consent=True, satisfied=True, attitude_score=11, ability_score=8
            )
        assert e.value.field == "attitude_score" and "1 到 10" in e.value.message
        with pytest.raises(NotFound):
            services.visit_record_result(
                by=agent_y, visit_id=v.pk, consent=True, satisfied=True, attitude_score=8, ability_score=8
            )
        with pytest.raises(DomainError):
            services.visit_record_result(
                by=agent_x,
                visit_id=v.pk,
                consent=True,
                satisfied=True,
                attitude_score=8,
                ability_score=8,
                answers={"resolved": "也许"},
            )


def test_declined_visit_is_thanked_and_ends(at, set_laizhou, agent_x, finish):
    with at(2026, 3, 2, 10, 0):
        t = finish()
    v = ReturnVisit.objects.get(ticket=t)
    with at(2026, 3, 3, 10, 0):
        v = services.visit_record_result(by=agent_x, visit_id=v.pk, consent=False)
    assert v.status == "done" and v.outcome == "declined" and v.attitude_score is None


def test_the_sweep_makes_the_visit_a_lost_listener_missed(set_laizhou, finish):
    from kefu.sla.sweep import sweep

    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False):
        t = finish()
    assert not ReturnVisit.objects.filter(ticket=t).exists()
    with time_machine.travel(L(2026, 3, 2, 10, 5), tick=False):
        sweep()
        sweep()
    assert ReturnVisit.objects.filter(ticket=t).count() == 1


def test_project_visits_monthly_then_quarterly(company_x):
    from datetime import date

    from kefu.followups.models import Project

    assert rules.project_visit_dates(date(2025, 1, 31), date(2026, 7, 31)) == [
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
        date(2025, 6, 30),
        date(2025, 7, 31),
        date(2025, 8, 31),
        date(2025, 9, 30),
        date(2025, 10, 31),
        date(2025, 11, 30),
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 4, 30),
        date(2026, 7, 31),
    ]
    Project.objects.create(company=company_x, name="幸福小区二期", handed_over_on=date(2026, 1, 15))
    assert services.project_visits_schedule(company=company_x, today=date(2026, 3, 10)) == 2  # 2-15, 3-15
    assert services.project_visits_schedule(company=company_x, today=date(2026, 3, 10)) == 0
