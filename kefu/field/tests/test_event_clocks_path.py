"""C8, C3, C4: the clock listener of a field event recorded through the API uses the request's
committed event (its job and work order already loaded) instead of reading them again. It must stop
exactly what the reading path stops (the catch-up's path, `emit_for_event(event_id)`), at the same
times, on a work order with a customer (category) and a department."""

from __future__ import annotations

import uuid

import pytest
import time_machine

from kefu.field import clocks
from kefu.field.services import EventInput, job_event_record
from kefu.field.tests.arrivals import arrival_record
from kefu.field.tests.conftest import L
from kefu.sla.models import Clock

pytestmark = pytest.mark.django_db


def _clocks(ticket) -> list[tuple]:
    return sorted(
        Clock.objects.filter(subject_type="tickets.workorder", subject_id=str(ticket.pk)).values_list(
            "commitment__code", "state", "met_at", "due_at"
        )
    )


def _visit(ticket, cap) -> None:
    """到达 at 10:12, 修复 at 10:50, each through the service with its listeners run."""
    with time_machine.travel(L(2026, 3, 2, 10, 12), tick=False), cap(execute=True):
        event = arrival_record(ticket)
    with time_machine.travel(L(2026, 3, 2, 10, 50), tick=False), cap(execute=True):
        job_event_record(
            by=event.actor,
            job_id=event.job_id,
            data=EventInput(kind="resolved", client_id=uuid.uuid4().hex),
        )


def test_request_event_and_reloaded_event_stop_the_same_clocks(
    published, make_ticket, customer_x, monkeypatch, django_capture_on_commit_callbacks
):
    cap = django_capture_on_commit_callbacks
    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False), cap(execute=True):
        given = make_ticket(customer=customer_x)
        reloaded = make_ticket(customer=customer_x)
    seen = []
    emit = clocks.emit_for_event

    def spy(event_id, event=None):
        seen.append(event is not None)
        return emit(event_id, event)

    monkeypatch.setattr(clocks, "emit_for_event", spy)
    _visit(given, cap)
    assert seen == [True, True]  # the listener got the request's event: no reload

    monkeypatch.setattr(clocks, "emit_for_event", lambda event_id, event=None: emit(event_id))
    _visit(reloaded, cap)

    assert any(state == "met" for _c, state, _m, _d in _clocks(given))  # the on-site clock stopped
    assert _clocks(given) == _clocks(reloaded)
