"""Personas of the indicator tests: a team lead of company X (Perm.REPORT_VIEW, no second factor in
the browser), the seed 004 commitments published for 2026."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.kpi import formulas as f

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture
def lead_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="team_lead", username="lead_x")


@pytest.fixture
def lead_y(company_y):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_y, role="team_lead", username="lead_y")


@pytest.fixture
def published(company_x):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    manager = UserFactory(company=company_x, role="manager", username="manager_x")
    row = commitment_set_from_preset(company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager)
    return commitment_set_publish(commitment_set=row, by=manager, at=L(2026, 1, 1))


MARCH = f.Month(2026, 3)
LATER = L(2026, 4, 10, 9)


def ticket(agent, kind, at, capture):
    from kefu.tickets.services import ticket_create

    with time_machine.travel(at, tick=False), capture(execute=True):
        return ticket_create(
            by=agent,
            kind=kind,
            content="厨房有燃气味" if kind == "emergency" else "燃气灶打不着火",
            caller_surname="张",
            caller_phone="13900001111",
            address="幸福小区3号楼",
            on_duplicate="create",
        ).ticket


def clock_of(ticket, spec_id):
    from kefu.sla.models import Clock

    return Clock.objects.get(subject_id=str(ticket.pk), commitment__spec_id=spec_id)


@pytest.fixture
def march(published, agent_x, django_capture_on_commit_callbacks):
    """Three emergencies on 2 March 10:00: crews on site after 25 and 41 minutes, the third never
    recorded as arrived (its 40 minutes passed); one repair on 3 March stopped in time."""
    from kefu.sla.services import clock_stop

    start = L(2026, 3, 2, 10)
    e1, e2, e3 = (ticket(agent_x, "emergency", start, django_capture_on_commit_callbacks) for _ in range(3))
    clock_stop(clock=clock_of(e1, "C8"), at=start + timedelta(minutes=25))
    clock_stop(clock=clock_of(e2, "C8"), at=start + timedelta(minutes=41))
    repair = ticket(agent_x, "repair", L(2026, 3, 3, 9), django_capture_on_commit_callbacks)
    clock_stop(clock=clock_of(repair, "C10"), at=L(2026, 3, 3, 15))
    return {"e1": e1, "e2": e2, "e3": e3, "repair": repair}
