"""Clocks on work orders and the sweep (C8–C12, C6, P9): the listeners attach clocks
from the set in force, the sweep warns at 75 %, marks the breach, tells the supervisor, escalates to
the manager, each exactly once; resolving stops the clock; reclassifying and cancelling cancel it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.notify.models import Notification
from kefu.sla.models import Clock, ClockAttachment
from kefu.sla.services import commitment_set_publish
from kefu.sla.states import ClockState
from kefu.sla.sweep import KIND_BREACH, KIND_ESCALATE, KIND_WARN, sweep
from kefu.tickets.clocks import SUBJECT_TYPE

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture
def published(laizhou_set, manager_x):
    return commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=L(2026, 1, 1))


@pytest.fixture
def people(company_x, agent_x):
    """The owner's team with its lead, a lead of another team, a supervisor and the manager."""
    from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory

    dept = DepartmentFactory(company=company_x, code="svc", name="客服中心")
    team = TeamFactory(department=dept, name="一班")
    other = TeamFactory(department=dept, name="二班")
    agent_x.team, agent_x.department = team, dept
    agent_x.save(update_fields=["team", "department"])
    return {
        "lead": UserFactory(
            company=company_x, role="team_lead", username="lead1", team=team, department=dept
        ),
        "other_lead": UserFactory(
            company=company_x, role="team_lead", username="lead2", team=other, department=dept
        ),
        "supervisor": UserFactory(company=company_x, role="supervisor", username="sup1", department=dept),
    }


def _repair(agent, **kw):
    from kefu.tickets.services import ticket_create

    params = dict(
        kind="repair",
        content="燃气灶打不着火",
        caller_surname="张",
        caller_title="mr",
        caller_phone="13900001111",
        address="幸福小区3号楼2单元501室",
        on_duplicate="create",
    )
    params.update(kw)
    return ticket_create(by=agent, **params).ticket


def _notes(kind: str) -> set[tuple[str, str]]:
    return {(n.recipient.username, n.dedupe_key) for n in Notification.objects.filter(kind=kind)}


def test_story_repair_warned_breached_escalated_and_resolved_met(
    published, people, agent_x, manager_x, django_capture_on_commit_callbacks
):
    """The end-to-end story on the laizhou-crgas-2024 preset (C10: 1 working day to go on site)."""
    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False):  # Monday
        with django_capture_on_commit_callbacks(execute=True):
            ticket = _repair(agent_x)
            other = _repair(agent_x, caller_phone="13900002222", content="热水器漏水")
    clock = Clock.objects.get(subject_type=SUBJECT_TYPE, subject_id=str(ticket.pk))
    assert clock.commitment.spec_id == "C10" and clock.commitment_version == published.version
    assert clock.state == ClockState.RUNNING
    assert clock.due_at == L(2026, 3, 4, 0, 0)  # Civil Code: 3-02 not counted, ends 3-03 24:00
    assert clock.warn_at == L(2026, 3, 3, 18, 0)  # 75 % of the working day 3-03
    assert ClockAttachment.objects.filter(subject_id=str(ticket.pk), commitment_set=published).exists()

    # the other work order's technician arrives in time (the arrival recorded on the phone,
    # kefu.field): its clock is met
    from kefu.field.tests.arrivals import arrival_record
    from kefu.tickets.services import ticket_transition

    with (
        time_machine.travel(L(2026, 3, 3, 9, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        arrival_record(other)
    other_clock = Clock.objects.get(subject_id=str(other.pk))
    assert other_clock.state == ClockState.MET and other_clock.met_at == L(2026, 3, 3, 9, 0)

    # before 75 %: nothing
    assert sweep(now=L(2026, 3, 3, 17, 59)).notifications == 0
    # at 75 %: the owner and the lead of the owner's team, not the other team's lead
    r = sweep(now=L(2026, 3, 3, 18, 1))
    assert r.warned == 1
    key = f"clock:{clock.pk}:warn"
    assert _notes(KIND_WARN) == {("agent_x", key), ("lead1", key)}
    assert Notification.objects.filter(kind=KIND_BREACH).count() == 0
    # the due instant itself is in time
    assert sweep(now=L(2026, 3, 4, 0, 0)).breached == 0
    # after the due time: breached, the supervisor is told; the manager not yet
    r = sweep(now=L(2026, 3, 4, 0, 1))
    clock.refresh_from_db()
    assert r.breached == 1 and clock.state == ClockState.BREACHED and clock.escalation_level == 1
    assert _notes(KIND_BREACH) == {("sup1", f"clock:{clock.pk}:breach")}
    assert not Notification.objects.filter(kind=KIND_ESCALATE).exists()
    assert sweep(now=L(2026, 3, 4, 1, 59)).escalated == 0
    # escalate_after (default 120 min) later: the manager
    r = sweep(now=L(2026, 3, 4, 2, 1))
    clock.refresh_from_db()
    assert r.escalated == 1 and clock.escalation_level == 2
    assert _notes(KIND_ESCALATE) == {("manager_x", f"clock:{clock.pk}:escalate:2")}
    # sweeping again sends nothing more
    clock_notes = Notification.objects.exclude(kind__startswith="field.")  # not the crew's dispatch
    before = clock_notes.count()
    assert sweep(now=L(2026, 3, 5, 12, 0)).notifications == 0
    assert clock_notes.count() == before == 4

    # work starts: `in_progress` alone stops no on-site clock (an arrival is kefu.field's fact)
    with (
        time_machine.travel(L(2026, 3, 5, 13, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket.refresh_from_db()
        ticket_transition(ticket_id=ticket.pk, by=agent_x, to="in_progress", version=ticket.version)
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED
    # the technician's arrival, recorded on the phone (kefu.field): met after breach
    with (
        time_machine.travel(L(2026, 3, 5, 14, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        arrival_record(ticket)
    clock.refresh_from_db()
    assert clock.state == ClockState.MET_AFTER_BREACH and clock.met_at == L(2026, 3, 5, 14, 0)
    # resolving afterwards changes nothing (resolving is not an arrival, and the verdict is in)
    with (
        time_machine.travel(L(2026, 3, 5, 15, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket.refresh_from_db()
        ticket_transition(ticket_id=ticket.pk, by=agent_x, to="resolved", version=ticket.version)
    clock.refresh_from_db()
    assert clock.state == ClockState.MET_AFTER_BREACH and clock.met_at == L(2026, 3, 5, 14, 0)


def test_commitment_escalate_after_is_used(published, people, agent_x, django_capture_on_commit_callbacks):
    published.commitments.filter(code="repair_on_site").update(escalate_after=30)
    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = _repair(agent_x)
    clock = Clock.objects.get(subject_id=str(ticket.pk))
    assert clock.escalate_at == L(2026, 3, 4, 0, 30)
    sweep(now=L(2026, 3, 4, 0, 1))
    assert sweep(now=L(2026, 3, 4, 0, 31)).escalated == 1


def test_reclassify_cancels_old_clocks_and_starts_new(
    published, people, agent_x, django_capture_on_commit_callbacks
):
    from kefu.tickets.services import ticket_reclassify

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = _repair(agent_x)
    with (
        time_machine.travel(L(2026, 3, 2, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket_reclassify(
            ticket_id=ticket.pk, by=agent_x, version=ticket.version, kind="complaint", reason="误分类"
        )
    clocks = clocks_by_spec(ticket)
    assert clocks["C10"].state == ClockState.CANCELLED and clocks["C10"].cancelled_at == L(2026, 3, 2, 11, 0)
    c6 = clocks["C6"]
    assert c6.state == ClockState.RUNNING and c6.started_at == L(2026, 3, 2, 10, 0)  # counted from receipt
    assert c6.due_at == L(2026, 3, 5, 0, 0)  # 2 working days
    # a cancelled clock is never swept
    assert sweep(now=L(2026, 3, 10)).breached == 1  # only the complaint clock


def test_cancelling_the_work_order_cancels_its_clocks(
    published, people, agent_x, django_capture_on_commit_callbacks
):
    from kefu.tickets.services import ticket_transition

    with django_capture_on_commit_callbacks(execute=True):
        ticket = _repair(agent_x, received_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_transition(
            ticket_id=ticket.pk,
            by=agent_x,
            to="cancelled",
            version=ticket.version,
            reason="客户撤回",
            cancel_reason="withdrawn",
        )
    assert set(Clock.objects.filter(subject_id=str(ticket.pk)).values_list("state", flat=True)) == {
        "cancelled"
    }


def test_no_set_in_force_attaches_nothing_but_records_it(
    agent_x, laizhou_set, django_capture_on_commit_callbacks
):
    """An unpublished set is not in force: no clocks, the attachment row says so."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _repair(agent_x)
    assert not Clock.objects.filter(subject_id=str(ticket.pk)).exists()
    row = ClockAttachment.objects.get(subject_id=str(ticket.pk))
    assert row.commitment_set is None


def test_sweep_attaches_clocks_the_hook_missed(published, people, agent_x):
    """A process that dies between the commit and the hook: the sweep attaches the clocks."""
    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False):
        ticket = _repair(agent_x)  # no on_commit callbacks run: the hook was "lost"
    assert not Clock.objects.filter(subject_id=str(ticket.pk)).exists()
    with time_machine.travel(L(2026, 3, 2, 10, 0, 30), tick=False):
        assert sweep().attached == 0  # within the grace minute the hook may still come
    with time_machine.travel(L(2026, 3, 2, 10, 5), tick=False):
        assert sweep().attached == 1
        assert sweep().attached == 0
    clock = Clock.objects.get(subject_id=str(ticket.pk))
    assert clock.started_at == L(2026, 3, 2, 10, 0) and clock.due_at == L(2026, 3, 4, 0, 0)
    assert ClockAttachment.objects.get(subject_id=str(ticket.pk)).by_sweep


def test_complaint_gets_its_reply_clock(published, agent_x, django_capture_on_commit_callbacks):
    from kefu.tickets.services import ticket_create

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = ticket_create(
            by=agent_x,
            kind="complaint",
            content="抄表员态度差",
            caller_surname="李",
            caller_phone="13900003333",
            on_duplicate="create",
        ).ticket
    assert clocks_by_spec(ticket)["C6"].state == ClockState.RUNNING  # on the complaint record


def test_a_reply_to_the_customer_stops_the_reply_clock(
    published, agent_x, django_capture_on_commit_callbacks
):
    """C6/K17: a customer opinion's (suggestion's) "answered within" clock stops when the customer is
    answered, while the work order stays open. (A complaint's answer is the reply after its
    judgement: kefu/followups/clocks.py.)"""
    from kefu.tickets.services import ticket_create, ticket_reply

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = ticket_create(
            by=agent_x,
            kind="suggestion",
            content="建议增加周末营业时间",
            caller_surname="李",
            caller_phone="13900003333",
            on_duplicate="create",
        ).ticket
    with (
        time_machine.travel(L(2026, 3, 3, 9, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket_reply(ticket_id=ticket.pk, by=agent_x, text="已核实，向您道歉，已对抄表员批评教育。")
    clock = Clock.objects.get(subject_id=str(ticket.pk), clock_kind="reply")
    assert clock.state == ClockState.MET and clock.met_at == L(2026, 3, 3, 9, 30)
    ticket.refresh_from_db()
    assert ticket.state == "new"


def test_an_answer_given_when_creating_stops_the_reply_clock(
    published, agent_x, django_capture_on_commit_callbacks
):
    """An opinion answered on the call but kept open for follow-up: its answer clock is met at once."""
    from kefu.tickets.services import ticket_create

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = ticket_create(
            by=agent_x,
            kind="suggestion",
            content="建议增加周末营业时间",
            caller_surname="李",
            caller_phone="13900003333",
            answer="已向您道歉，班长明天上门核实。",
            on_duplicate="create",
        ).ticket
    clock = Clock.objects.get(subject_id=str(ticket.pk), clock_kind="reply")
    assert clock.state == ClockState.MET and clock.met_at == L(2026, 3, 2, 10, 0)


def test_fallback_calendar_is_logged_by_the_sweep(published, people, agent_x, caplog):
    from kefu.sla.services import clock_start

    commitment = published.commitments.get(code="repair_on_site")
    clock = clock_start(
        company=published.company,
        subject_type="test.subject",
        subject_id="1",
        commitment=commitment,
        started_at=L(2027, 1, 4, 10),
    )
    assert clock.fallback_calendar
    with caplog.at_level("WARNING", logger="kefu.sla"):
        sweep(now=clock.due_at + timedelta(minutes=1), attach=False)
    assert any("fallback calendar" in r.getMessage() for r in caplog.records)
    # a subject that is not a work order: the company's supervisors are told
    assert Notification.objects.filter(kind=KIND_BREACH, recipient=people["supervisor"]).exists()


def test_sla_sweep_command_prints_json(published, people, agent_x, django_capture_on_commit_callbacks):
    import json
    from io import StringIO

    from django.core.management import call_command

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        _repair(agent_x)
    out = StringIO()
    call_command("sla_sweep", "--now", "2026-03-04T08:00:00+08:00", "--no-attach", stdout=out)
    data = json.loads(out.getvalue())
    # 8 h after the due time: the supervisor and, past escalate_after, the manager in one sweep
    assert data["breached"] == 1 and data["escalated"] == 1 and data["notifications"] == 2


def test_periodic_task_runs_the_sweep(published, people, agent_x, django_capture_on_commit_callbacks):
    from kefu.sla.tasks import sla_sweep_periodic

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        _repair(agent_x)
    with time_machine.travel(L(2026, 3, 4, 8, 0), tick=False):
        sla_sweep_periodic.call_local()
    assert Clock.objects.get(subject_type=SUBJECT_TYPE).state == ClockState.BREACHED


def clocks_by_spec(ticket) -> dict:
    """The work order's clocks by SPEC id, with the C6 clocks of its complaint record (a complaint's
    answer clocks run on `followups.complaint`, kefu/followups/clocks.py)."""
    from kefu.followups.models import Complaint

    found = {
        c.commitment.spec_id: c
        for c in Clock.objects.filter(subject_type="tickets.workorder", subject_id=str(ticket.pk))
    }
    complaint = Complaint.objects.filter(ticket=ticket).first()
    if complaint is not None:
        for c in Clock.objects.filter(
            subject_type="followups.complaint", subject_id=str(complaint.pk)
        ).order_by("started_at", "pk"):
            found.setdefault(c.commitment.spec_id, c)
    return found
