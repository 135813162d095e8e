"""Story (C8): a leak reported on the desk is on the dispatch board at once, the on-duty crew is
paged, its arrival on the phone — not the state 处理中 — stops the 40-minute clock, and an arrival
that lacks evidence waits for a supervisor."""

from __future__ import annotations

import pytest
import time_machine

from kefu.field.models import FieldJob, JobEvent, Page
from kefu.field.services import (
    EventInput,
    arrival_review,
    duty_set,
    job_acknowledge,
    job_dispatch,
    job_event_record,
)
from kefu.field.tests.conftest import L
from kefu.sla.models import Clock
from kefu.sla.states import ClockState

pytestmark = pytest.mark.django_db


def _c8(ticket):
    return Clock.objects.get(
        subject_type="tickets.workorder", subject_id=str(ticket.pk), commitment__code="emergency_on_site"
    )


@pytest.fixture
def on_duty(crew_a, crew_b, dispatcher_x):
    with time_machine.travel(L(2026, 3, 2, 9, 0), tick=False):
        duty_set(by=dispatcher_x, crew_id=crew_a.pk, day=L(2026, 3, 2).date(), status="on_duty")
        duty_set(by=dispatcher_x, crew_id=crew_b.pk, day=L(2026, 3, 2).date(), status="off")


def test_in_progress_alone_does_not_stop_the_40_minute_clock(
    published, make_ticket, agent_x, django_capture_on_commit_callbacks
):
    from kefu.tickets.services import ticket_transition

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = make_ticket()
    with (
        time_machine.travel(L(2026, 3, 2, 10, 0, 10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket_transition(ticket_id=ticket.pk, by=agent_x, to="in_progress", version=ticket.version)
    assert _c8(ticket).state == ClockState.RUNNING


def test_leak_paged_dispatched_arrival_stops_the_clock(
    published,
    on_duty,
    make_ticket,
    customer_x,
    crew_a,
    tech_a,
    dispatcher_x,
    django_capture_on_commit_callbacks,
):
    from kefu.notify.models import Notification

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = make_ticket(customer=customer_x)
    job = FieldJob.objects.get(ticket=ticket)  # on the board at once
    assert job.is_emergency and job.state == "new"
    assert Page.objects.filter(job=job, crew=crew_a).exists()  # the on-duty crew is paged, not the off one
    assert not Page.objects.filter(job=job).exclude(crew=crew_a).exists()
    assert Notification.objects.filter(recipient=tech_a.user, kind="field.page", level="alert").exists()
    with (
        time_machine.travel(L(2026, 3, 2, 10, 2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)
        job_acknowledge(by=tech_a.user, job_id=job.pk)
        job_event_record(by=tech_a.user, job_id=job.pk, data=EventInput(kind="departed", client_id="c-1"))
    assert Page.objects.get(job=job).acknowledged_at is not None
    with (
        time_machine.travel(L(2026, 3, 2, 10, 25), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ev, created = job_event_record(
            by=tech_a.user,
            job_id=job.pk,
            data=EventInput(kind="arrived", client_id="c-2", lat=36.2001, lng=117.1001, accuracy=15),
        )
    assert created and ev.flags == [] and ev.distance_m < 50
    clock = _c8(ticket)
    assert clock.state == ClockState.MET and clock.met_at == L(2026, 3, 2, 10, 25)


def test_manual_arrival_waits_for_the_supervisor_and_counts_only_when_accepted(
    published,
    on_duty,
    make_ticket,
    customer_x,
    crew_a,
    tech_a,
    dispatcher_x,
    supervisor_x,
    django_capture_on_commit_callbacks,
):
    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = make_ticket(customer=customer_x)
    with (
        time_machine.travel(L(2026, 3, 2, 10, 1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = FieldJob.objects.get(ticket=ticket)
        job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)
    with (
        time_machine.travel(L(2026, 3, 2, 10, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ev, _ = job_event_record(
            by=dispatcher_x,
            job_id=job.pk,
            data=EventInput(
                kind="arrived", client_id="d-1", source="dispatcher", reason="手机没电，班长电话报到"
            ),
        )
    assert ev.flags == ["manual"] and ev.review == "pending"
    assert _c8(ticket).state == ClockState.RUNNING  # an exception does not count until accepted
    with (
        time_machine.travel(L(2026, 3, 2, 11, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        arrival_review(by=supervisor_x, event_id=ev.pk, accept=True, reason="已电话核实")
    clock = _c8(ticket)
    assert clock.state == ClockState.MET and clock.met_at == L(2026, 3, 2, 10, 30)


def test_rejected_far_arrival_does_not_count(
    published,
    on_duty,
    make_ticket,
    customer_x,
    crew_a,
    tech_a,
    dispatcher_x,
    supervisor_x,
    django_capture_on_commit_callbacks,
):
    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = make_ticket(customer=customer_x)
    with (
        time_machine.travel(L(2026, 3, 2, 10, 1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = FieldJob.objects.get(ticket=ticket)
        job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)
    with (
        time_machine.travel(L(2026, 3, 2, 10, 10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ev, _ = job_event_record(
            by=tech_a.user,
            job_id=job.pk,
            data=EventInput(kind="arrived", client_id="f-1", lat=36.25, lng=117.1, accuracy=10),
        )
    assert "far" in ev.flags
    with (
        time_machine.travel(L(2026, 3, 2, 10, 20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        arrival_review(by=supervisor_x, event_id=ev.pk, accept=False, reason="距现场5公里")
    assert _c8(ticket).state == ClockState.RUNNING
    with (
        time_machine.travel(L(2026, 3, 2, 10, 35), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job_event_record(
            by=tech_a.user,
            job_id=job.pk,
            data=EventInput(kind="arrived", client_id="f-2", lat=36.2, lng=117.1, accuracy=10),
        )
    clock = _c8(ticket)
    assert clock.state == ClockState.MET and clock.met_at == L(2026, 3, 2, 10, 35)
    assert JobEvent.objects.filter(job=job, kind="arrived").count() == 2  # nothing lost


def test_lost_listener_is_caught_up(
    published,
    on_duty,
    make_ticket,
    customer_x,
    crew_a,
    tech_a,
    dispatcher_x,
    django_capture_on_commit_callbacks,
):
    from kefu.field.clocks import field_catch_up

    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False):
        ticket = make_ticket(customer=customer_x)  # creation listeners lost too
    with time_machine.travel(L(2026, 3, 2, 10, 5), tick=False):
        from kefu.sla.sweep import sweep

        sweep()  # attaches the work order's clocks
        assert field_catch_up()["jobs"] == 1
        job = FieldJob.objects.get(ticket=ticket)
        job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)
        job_event_record(
            by=tech_a.user,
            job_id=job.pk,
            data=EventInput(kind="arrived", client_id="x", lat=36.2, lng=117.1, accuracy=5),
        )
    assert _c8(ticket).state == ClockState.RUNNING
    with time_machine.travel(L(2026, 3, 2, 10, 7), tick=False):
        assert field_catch_up()["events"] == 1
        assert field_catch_up()["events"] == 0
    assert _c8(ticket).state == ClockState.MET


def test_75_percent_warning_of_an_emergency_goes_to_dispatchers_and_supervisors(
    published, make_ticket, dispatcher_x, supervisor_x, django_capture_on_commit_callbacks
):
    from kefu.field.clocks import field_catch_up
    from kefu.notify.models import Notification

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        make_ticket()
    with time_machine.travel(L(2026, 3, 2, 10, 20), tick=False):
        assert field_catch_up()["warned"] == 0
    with time_machine.travel(L(2026, 3, 2, 10, 31), tick=False):
        assert field_catch_up()["warned"] == 2
        assert field_catch_up()["warned"] == 0
    assert set(
        Notification.objects.filter(kind="field.emergency_warning").values_list(
            "recipient__username", flat=True
        )
    ) == {
        "disp_x",
        "supervisor_x",
    }
