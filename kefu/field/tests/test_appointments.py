"""Appointments (P10) and the C9–C11 on-site clocks on the working-day calendar; the installable
check (C9: not installable → not timed); late or cancelled → the owner must tell the customer;
care visits (C7); the approval step; the month's records for K6–K12."""

from __future__ import annotations

import pytest
import time_machine

from kefu.field.models import FieldJob
from kefu.field.services import (
    EventInput,
    appointment_book,
    appointment_change,
    appointment_customer_told,
    appointment_installable,
    care_visit_create,
    job_approve,
    job_create,
    job_dispatch,
    job_event_record,
    settings_for,
    slot_create,
)
from kefu.field.tests.conftest import L
from kefu.sla.models import Clock
from kefu.sla.states import ClockState

pytestmark = pytest.mark.django_db


def _clock(ticket, code):
    return Clock.objects.get(
        subject_type="tickets.workorder", subject_id=str(ticket.pk), commitment__code=code
    )


def test_repair_appointment_on_the_next_working_day_meets_c10(
    published,
    make_ticket,
    customer_x,
    team,
    crew_a,
    tech_a,
    dispatcher_x,
    agent_x,
    django_capture_on_commit_callbacks,
):
    # Friday 2026-03-06 16:00: one working day runs to the end of Monday (the weekend does not count)
    with (
        time_machine.travel(L(2026, 3, 6, 16, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = make_ticket(kind="repair", sub_kind="indoor_facility", customer=customer_x)
        slot = slot_create(
            by=dispatcher_x,
            team_id=team.pk,
            starts_at=L(2026, 3, 9, 9),
            ends_at=L(2026, 3, 9, 11),
            capacity=1,
        )
        appt = appointment_book(by=agent_x, ticket_id=ticket.pk, slot_id=slot.pk)
    clock = _clock(ticket, "repair_on_site")
    assert clock.due_at == L(2026, 3, 10, 0, 0)
    assert appt.window_start <= clock.due_at
    with time_machine.travel(L(2026, 3, 6, 16, 5), tick=False):
        job = job_create(by=dispatcher_x, ticket_id=ticket.pk)
        assert (
            FieldJob.objects.get(pk=job.pk).appointment_id is None
        )  # booked before the job: linked on the job page
        job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)
    with (
        time_machine.travel(L(2026, 3, 9, 9, 40), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job_event_record(
            by=tech_a.user,
            job_id=job.pk,
            data=EventInput(kind="arrived", client_id="r1", lat=36.2, lng=117.1, accuracy=5),
        )
    assert _clock(ticket, "repair_on_site").state == ClockState.MET


def test_a_full_slot_refuses_the_next_booking(
    published, make_ticket, customer_x, team, dispatcher_x, agent_x
):
    from kefu.core.errors import Conflict

    with time_machine.travel(L(2026, 3, 2, 9, 0), tick=False):
        slot = slot_create(
            by=dispatcher_x,
            team_id=team.pk,
            starts_at=L(2026, 3, 3, 9),
            ends_at=L(2026, 3, 3, 11),
            capacity=1,
        )
        appointment_book(
            by=agent_x,
            ticket_id=make_ticket(kind="repair", sub_kind="meter", customer=customer_x).pk,
            slot_id=slot.pk,
        )
        with pytest.raises(Conflict, match="约满"):
            appointment_book(
                by=agent_x,
                ticket_id=make_ticket(kind="repair", sub_kind="meter", customer=customer_x).pk,
                slot_id=slot.pk,
            )


def test_not_installable_excludes_the_c9_clock_with_its_reason(
    published, make_ticket, customer_x, team, dispatcher_x, agent_x, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(L(2026, 3, 2, 9, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = make_ticket(kind="installation", sub_kind=None, customer=customer_x)
    with time_machine.travel(L(2026, 3, 2, 9, 1), tick=False):
        slot = slot_create(
            by=dispatcher_x,
            team_id=team.pk,
            starts_at=L(2026, 3, 3, 9),
            ends_at=L(2026, 3, 3, 11),
            capacity=2,
        )
        appt = appointment_book(by=agent_x, ticket_id=ticket.pk, slot_id=slot.pk)
        assert _clock(ticket, "installation_on_site").state == ClockState.RUNNING
        appointment_installable(
            by=agent_x, appointment_id=appt.pk, installable=False, reason="燃气立管未通到户"
        )
    assert _clock(ticket, "installation_on_site").state == ClockState.CANCELLED
    appt.refresh_from_db()
    assert appt.installable is False and appt.installable_reason == "燃气立管未通到户"


def test_late_appointment_is_a_task_for_the_owner_recorded_when_told(
    published, make_ticket, customer_x, team, dispatcher_x, agent_x
):
    from kefu.notify.models import Notification

    with time_machine.travel(L(2026, 3, 2, 9, 0), tick=False):
        ticket = make_ticket(kind="repair", sub_kind="meter", customer=customer_x)
        slot = slot_create(
            by=dispatcher_x,
            team_id=team.pk,
            starts_at=L(2026, 3, 2, 14),
            ends_at=L(2026, 3, 2, 16),
            capacity=2,
        )
        appt = appointment_book(by=agent_x, ticket_id=ticket.pk, slot_id=slot.pk)
        appointment_change(by=dispatcher_x, appointment_id=appt.pk, state="late", reason="前一户抢险未完")
    note = Notification.objects.get(recipient=agent_x, kind="field.tell_customer")
    assert "14:00" in note.title
    with time_machine.travel(L(2026, 3, 2, 13, 0), tick=False):
        appt = appointment_customer_told(by=agent_x, appointment_id=appt.pk)
    assert appt.customer_told_at < appt.tell_customer_by


def test_care_visit_shows_the_care_note(published, make_ticket, customer_x, dispatcher_x, agent_x):
    from datetime import date

    from kefu.core.errors import DomainError
    from kefu.customers.services import care_register

    ticket = make_ticket(kind="inspection_appointment", sub_kind=None, customer=customer_x)
    with pytest.raises(DomainError, match="特殊关怀"):
        care_visit_create(by=dispatcher_x, ticket_id=ticket.pk)
    care_register(
        user=agent_x,
        customer_id=customer_x.pk,
        needs=["elderly"],
        consent_on=date(2026, 1, 5),
        consent_by="张三丰",
        note="独居老人，耳背，请敲门大声",
    )
    job = care_visit_create(by=dispatcher_x, ticket_id=ticket.pk, note="上门安检")
    assert job.is_care_visit and "独居老人" in job.care_note


def test_approval_step_where_configured(published, make_ticket, customer_x, crew_a, dispatcher_x, company_x):
    from kefu.core.errors import DomainError

    fs = settings_for(company_x)
    fs.requires_approval = True
    fs.save()
    job = job_create(
        by=dispatcher_x, ticket_id=make_ticket(kind="repair", sub_kind="meter", customer=customer_x).pk
    )
    assert job.state == "pending_approval"
    with pytest.raises(DomainError):
        job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)
    job_approve(by=dispatcher_x, job_id=job.pk)
    assert job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk).state == "dispatched"


def test_month_records_count_accepted_and_not_rejected_arrivals(
    published,
    make_ticket,
    customer_x,
    crew_a,
    tech_a,
    dispatcher_x,
    supervisor_x,
    company_x,
    company_y,
    django_capture_on_commit_callbacks,
):
    from kefu.field.selectors import month_records
    from kefu.field.services import arrival_review

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = make_ticket(customer=customer_x)
    job = FieldJob.objects.get(ticket=ticket)
    with time_machine.travel(L(2026, 3, 2, 10, 5), tick=False):
        job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)
        ev, _ = job_event_record(
            by=tech_a.user,
            job_id=job.pk,
            data=EventInput(kind="arrived", client_id="k1", lat=36.3, lng=117.1, accuracy=5),
        )
        arrival_review(by=supervisor_x, event_id=ev.pk, accept=False, reason="位置不符")
    with time_machine.travel(L(2026, 3, 2, 10, 50), tick=False):
        job_event_record(
            by=tech_a.user,
            job_id=job.pk,
            data=EventInput(kind="arrived", client_id="k2", lat=36.2, lng=117.1, accuracy=5),
        )
    rec = month_records(company_id=company_x.pk, year=2026, month=3)
    [row] = rec["jobs"]
    assert row["arrived_at"] == L(2026, 3, 2, 10, 50) and row["arrived_within_due"] is False
    assert [a["review"] for a in rec["arrivals"]] == ["rejected", ""]
    assert month_records(company_id=company_y.pk, year=2026, month=3)["jobs"] == []
    assert row["on_site_outcome"] == "late"


def test_month_records_agree_with_the_clock_on_an_exception_accepted_after_the_breach(
    published,
    make_ticket,
    customer_x,
    crew_a,
    tech_a,
    dispatcher_x,
    supervisor_x,
    company_x,
    django_capture_on_commit_callbacks,
):
    """One truth for K6: an arrival entered by the dispatcher at 10:20 (an exception), the 40
    minutes pass (the sweep marks the clock breached at 10:41), the supervisor accepts it at 11:00.
    The clock says met after the breach; the indicators (kefu/kpi/inputs.py) count it late; the
    month's records say late too, although the accepted arrival's time is before the due time. A
    clean arrival in time on another leak is on time in all three."""
    from kefu.field.selectors import month_records
    from kefu.field.services import arrival_review
    from kefu.kpi.formulas import Outcome, deadline_outcome
    from kefu.kpi.inputs import deadline_of
    from kefu.sla.sweep import sweep

    cap = django_capture_on_commit_callbacks
    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False), cap(execute=True):
        late = make_ticket(customer=customer_x)
        on_time = make_ticket(caller_phone="13800138001")
    job = FieldJob.objects.get(ticket=late)
    with time_machine.travel(L(2026, 3, 2, 10, 20), tick=False), cap(execute=True):
        job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)
        ev, _ = job_event_record(
            by=dispatcher_x,
            job_id=job.pk,
            data=EventInput(kind="arrived", client_id="d1", source="dispatcher", reason="技术员手机没电"),
        )
        from kefu.field.tests.arrivals import arrival_record

        arrival_record(on_time)
    sweep(now=L(2026, 3, 2, 10, 41))
    with time_machine.travel(L(2026, 3, 2, 11, 0), tick=False), cap(execute=True):
        arrival_review(by=supervisor_x, event_id=ev.pk, accept=True, reason="电话核实已到场")
    clock = _clock(late, "emergency_on_site")
    assert clock.state == ClockState.MET_AFTER_BREACH
    as_of = L(2026, 4, 1)
    assert deadline_outcome(deadline_of(clock), as_of=as_of) == Outcome.MISSED
    with time_machine.travel(L(2026, 3, 2, 12, 0), tick=False):
        rows = {r["ticket_id"]: r for r in month_records(company_id=company_x.pk, year=2026, month=3)["jobs"]}
    row = rows[late.pk]
    assert row["arrived_at"] == L(2026, 3, 2, 10, 20) and row["arrived_at"] <= row["on_site_due_at"]
    assert row["on_site_clock_id"] == clock.pk and row["on_site_clock_state"] == "met_after_breach"
    assert row["on_site_outcome"] == "late" and row["arrived_within_due"] is False
    other = _clock(on_time, "emergency_on_site")
    assert deadline_outcome(deadline_of(other), as_of=as_of) == Outcome.MET
    assert rows[on_time.pk]["on_site_outcome"] == "met" and rows[on_time.pk]["arrived_within_due"] is True
