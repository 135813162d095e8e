"""C8–C12: resolving or closing a work order is not an arrival. An on-site clock that never got a
recorded arrival ends in a defined state (docs/field.md, kefu/field/clocks.py):

- every visit called off (job_cancel, with a reason) before the due time → cancelled, not measured;
- the last visit called off after the due time → stays breached;
- otherwise → runs on and breaches at its due time; a later arrival on an open visit still stops it.
"""

from __future__ import annotations

import pytest
import time_machine

from kefu.field.clocks import field_catch_up, tickets_with_onsite_clocks_unsettled
from kefu.field.models import FieldJob
from kefu.field.services import job_cancel
from kefu.field.tests.conftest import L
from kefu.sla.models import Clock
from kefu.sla.states import ClockState
from kefu.sla.sweep import sweep

pytestmark = pytest.mark.django_db


def _c8(ticket):
    return Clock.objects.get(
        subject_type="tickets.workorder", subject_id=str(ticket.pk), commitment__code="emergency_on_site"
    )


def _leak(make_ticket, capture, at):
    with time_machine.travel(at, tick=False), capture(execute=True):
        return make_ticket()


def _resolve(ticket, agent, capture, at):
    from kefu.tickets.services import ticket_transition

    ticket.refresh_from_db()
    with time_machine.travel(at, tick=False), capture(execute=True):
        ticket_transition(ticket_id=ticket.pk, by=agent, to="resolved", version=ticket.version)


def test_resolved_without_arrival_runs_on_and_breaches(
    published, make_ticket, agent_x, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    ticket = _leak(make_ticket, cap, L(2026, 3, 2, 10, 0))
    _resolve(ticket, agent_x, cap, L(2026, 3, 2, 10, 5))
    assert _c8(ticket).state == ClockState.RUNNING  # resolving is not an arrival
    with time_machine.travel(L(2026, 3, 2, 10, 10), tick=False):
        assert field_catch_up()["events"] == 0
    sweep(now=L(2026, 3, 2, 10, 41))
    assert _c8(ticket).state == ClockState.BREACHED  # the promise to be on site was not kept


def test_resolved_with_every_visit_called_off_in_time_is_not_measured(
    published, make_ticket, agent_x, dispatcher_x, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    ticket = _leak(make_ticket, cap, L(2026, 3, 2, 10, 0))
    job = FieldJob.objects.get(ticket=ticket)
    with time_machine.travel(L(2026, 3, 2, 10, 10), tick=False), cap(execute=True):
        job = job_cancel(by=dispatcher_x, job_id=job.pk, reason="误报：邻居装修油漆味")
    assert job.state == "cancelled" and job.cancel_reason.startswith("误报")
    assert _c8(ticket).state == ClockState.RUNNING  # the work order is open: a new visit may follow
    _resolve(ticket, agent_x, cap, L(2026, 3, 2, 11, 30))  # after the due time, but called off before
    clock = _c8(ticket)
    assert clock.state == ClockState.CANCELLED and clock.cancelled_at == L(2026, 3, 2, 10, 10)


def test_called_off_after_the_due_time_stays_breached(
    published, make_ticket, agent_x, dispatcher_x, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    ticket = _leak(make_ticket, cap, L(2026, 3, 2, 10, 0))
    sweep(now=L(2026, 3, 2, 10, 41))
    with time_machine.travel(L(2026, 3, 2, 10, 50), tick=False), cap(execute=True):
        job_cancel(by=dispatcher_x, job_id=FieldJob.objects.get(ticket=ticket).pk, reason="客户说不用来了")
    _resolve(ticket, agent_x, cap, L(2026, 3, 2, 11, 0))
    assert _c8(ticket).state == ClockState.BREACHED


def test_called_off_after_resolving_and_the_catch_up(
    published, make_ticket, agent_x, dispatcher_x, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    ticket = _leak(make_ticket, cap, L(2026, 3, 2, 10, 0))
    _resolve(ticket, agent_x, cap, L(2026, 3, 2, 10, 5))
    with time_machine.travel(L(2026, 3, 2, 10, 6), tick=False):  # the listener is lost
        job_cancel(by=dispatcher_x, job_id=FieldJob.objects.get(ticket=ticket).pk, reason="重复报警")
    assert _c8(ticket).state == ClockState.RUNNING
    with time_machine.travel(L(2026, 3, 2, 10, 8), tick=False):
        assert tickets_with_onsite_clocks_unsettled(now=L(2026, 3, 2, 10, 8)) == [ticket.pk]
        assert field_catch_up()["events"] == 1
        assert field_catch_up()["events"] == 0
    assert _c8(ticket).state == ClockState.CANCELLED


def test_a_visit_not_called_off_keeps_the_clock(
    published, make_ticket, agent_x, dispatcher_x, django_capture_on_commit_callbacks
):
    """One visit called off, another still open: the clock runs on (somebody was to go)."""
    from kefu.field.services import job_create

    cap = django_capture_on_commit_callbacks
    ticket = _leak(make_ticket, cap, L(2026, 3, 2, 10, 0))
    with time_machine.travel(L(2026, 3, 2, 10, 5), tick=False), cap(execute=True):
        job_create(by=dispatcher_x, ticket_id=ticket.pk)
        job_cancel(by=dispatcher_x, job_id=FieldJob.objects.filter(ticket=ticket).first().pk, reason="改派")
    _resolve(ticket, agent_x, cap, L(2026, 3, 2, 10, 20))
    assert _c8(ticket).state == ClockState.RUNNING


def test_only_before_arrival_and_with_a_reason(
    published, make_ticket, crew_a, tech_a, dispatcher_x, django_capture_on_commit_callbacks
):
    from kefu.core.errors import Conflict, DomainError, Forbidden
    from kefu.field.tests.arrivals import arrival_record

    cap = django_capture_on_commit_callbacks
    ticket = _leak(make_ticket, cap, L(2026, 3, 2, 10, 0))
    job = FieldJob.objects.get(ticket=ticket)
    with pytest.raises(DomainError):
        job_cancel(by=dispatcher_x, job_id=job.pk, reason=" ")
    with pytest.raises(Forbidden):
        job_cancel(by=tech_a.user, job_id=job.pk, reason="不想去")
    with time_machine.travel(L(2026, 3, 2, 10, 20), tick=False), cap(execute=True):
        arrival_record(ticket)
    assert _c8(ticket).state == ClockState.MET
    with pytest.raises(Conflict):
        job_cancel(by=dispatcher_x, job_id=job.pk, reason="已到达后取消")


def test_call_off_from_the_job_page_and_the_api(
    published, make_ticket, dispatcher_x, client, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    first = _leak(make_ticket, cap, L(2026, 3, 2, 10, 0))
    second = _leak(make_ticket, cap, L(2026, 3, 2, 10, 1))
    client.force_login(dispatcher_x)
    job = FieldJob.objects.get(ticket=first)
    page = client.get(f"/field/jobs/{job.pk}/")
    assert "取消上门" in page.content.decode()
    r = client.post(f"/field/jobs/{job.pk}/cancel/", {"reason": "误报"})
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.state == "cancelled" and job.cancel_reason == "误报"
    other = FieldJob.objects.get(ticket=second)
    r = client.post(f"/api/v1/field/jobs/{other.pk}/cancel", {"reason": ""}, content_type="application/json")
    assert r.status_code in (400, 422)
    r = client.post(
        f"/api/v1/field/jobs/{other.pk}/cancel", {"reason": "重复报警"}, content_type="application/json"
    )
    assert (
        r.status_code == 200 and r.json()["state"] == "cancelled" and r.json()["cancel_reason"] == "重复报警"
    )
    r = client.post(
        f"/api/v1/field/jobs/{other.pk}/cancel", {"reason": "再取消"}, content_type="application/json"
    )
    assert r.status_code == 409


def _cancel(ticket, agent, at, capture=None):
    """Cancel the work order as a duplicate; `capture` None: its listeners are lost."""
    from contextlib import nullcontext

    from kefu.tickets.services import ticket_transition

    ticket.refresh_from_db()
    with time_machine.travel(at, tick=False), capture(execute=True) if capture else nullcontext():
        return ticket_transition(
            ticket_id=ticket.pk,
            by=agent,
            to="cancelled",
            version=ticket.version,
            reason="同一漏气重复报警",
            cancel_reason="duplicate",
        )


def test_cancelling_the_work_order_calls_off_its_visits(
    published, make_ticket, agent_x, django_capture_on_commit_callbacks
):
    """A duplicate leak report cancelled by its owner: the crew paged for it is stood down (its visit
    called off with the order's reason, pages acknowledged), audited as the system's."""
    from kefu.accounts.models import AuditEvent
    from kefu.field.models import Page

    cap = django_capture_on_commit_callbacks
    ticket = _leak(make_ticket, cap, L(2026, 3, 2, 10, 0))
    job = FieldJob.objects.get(ticket=ticket)
    _cancel(ticket, agent_x, L(2026, 3, 2, 10, 3), cap)
    job.refresh_from_db()
    assert job.state == "cancelled" and job.cancel_reason == "工单已取消：重复工单"
    assert not Page.objects.filter(job=job, acknowledged_at__isnull=True).exists()
    assert AuditEvent.objects.filter(
        action="field.cancelled", object_id=str(job.pk), actor__isnull=True
    ).exists()


def test_a_lost_cancellation_is_caught_up(
    published, make_ticket, agent_x, django_capture_on_commit_callbacks
):
    from kefu.field.services import cancelled_tickets_with_open_jobs

    ticket = _leak(make_ticket, django_capture_on_commit_callbacks, L(2026, 3, 2, 10, 0))
    _cancel(ticket, agent_x, L(2026, 3, 2, 10, 3))
    assert FieldJob.objects.get(ticket=ticket).state != "cancelled"
    with time_machine.travel(L(2026, 3, 2, 10, 4), tick=False):
        assert cancelled_tickets_with_open_jobs(now=L(2026, 3, 2, 10, 4)) == [ticket.pk]
        assert field_catch_up()["jobs"] == 1
        assert field_catch_up()["jobs"] == 0
    assert FieldJob.objects.get(ticket=ticket).state == "cancelled"
