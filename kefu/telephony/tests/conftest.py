"""Personas and lines for telephony tests: company X's service and emergency hotlines, two agents
with PBX agent ids, a feed account (the PBX integration, a supervisor's token), company Y's line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kefu.accounts.tests.factories import UserFactory

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def t0():
    return T0


@pytest.fixture
def hotline_x(company_x):
    from kefu.telephony.models import Hotline

    return Hotline.objects.create(
        company=company_x, number="96777", name="服务热线", queue="service", is_emergency=True
    )


@pytest.fixture
def hotline_y(company_y):
    from kefu.telephony.models import Hotline

    return Hotline.objects.create(company=company_y, number="96888", name="Y热线", queue="service")


@pytest.fixture
def feed_x(company_x):
    return UserFactory(company=company_x, role="supervisor", username="pbx_x")


@pytest.fixture
def agent2_x(company_x):
    return UserFactory(company=company_x, role="agent", username="agent2_x", full_name="王芳")


@pytest.fixture
def seats(agent_x, agent2_x, feed_x):
    from kefu.telephony.services import agent_profile_set

    return (
        agent_profile_set(by=feed_x, user=agent_x, pbx_agent="1001"),
        agent_profile_set(by=feed_x, user=agent2_x, pbx_agent="1002"),
    )


def ev(eid, kind, at, call="c1", **data):
    return {"event_id": eid, "type": kind, "at": at, "call_id": call, **data}


def answered_trace(t, call="c1", agent="1001", hotline="96777", caller="13800138000"):
    """Answered on the first offer: queue at 0 s, ring at 1 s, answer at 9 s (2 rings), end at 2 min."""
    return [
        ev(f"{call}-1", "call.started", t, call, hotline=hotline, caller=caller),
        ev(f"{call}-2", "call.queued", t, call, queue="service"),
        ev(f"{call}-3", "call.offered", t + timedelta(seconds=1), call, agent=agent),
        ev(f"{call}-4", "call.answered", t + timedelta(seconds=9), call, agent=agent),
        ev(f"{call}-5", "call.ended", t + timedelta(minutes=2), call, hangup_by="customer"),
    ]
