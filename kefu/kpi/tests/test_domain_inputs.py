"""K5 and K14 from the telephony app's records (seed 004 第十条 5, 14): two calls answered at 2 and 4
rings, a 30-minute out-of-service period of the emergency hotline; a month without call events is
无数据 for K5 (silence is not proof of service) and K14."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from kefu.accounts.tests.factories import UserFactory
from kefu.kpi import formulas as f
from kefu.kpi.selectors import figure_records, month_lines
from kefu.kpi.tests.conftest import L
from kefu.telephony.tests.conftest import T0, answered_trace

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(company_x, agent_x):
    from kefu.telephony.models import Hotline, HotlineOutage
    from kefu.telephony.services import agent_profile_set, call_events_ingest

    hotline = Hotline.objects.create(
        company=company_x, number="96777", name="服务热线", queue="service", is_emergency=True
    )
    feed = UserFactory(company=company_x, role="supervisor", username="pbx_x")
    agent_profile_set(by=feed, user=agent_x, pbx_agent="1001")
    call_events_ingest(by=feed, events=answered_trace(T0, "c1"))  # answered at the 2nd ring
    slow = answered_trace(T0 + timedelta(hours=1), "c2")
    slow[3]["at"] = T0 + timedelta(hours=1, seconds=20)  # 20 s: 4 rings
    call_events_ingest(by=feed, events=slow)
    HotlineOutage.objects.create(
        company=company_x,
        hotline=hotline,
        cause="trunk_down",
        started_at=T0,
        ended_at=T0 + timedelta(minutes=30),
    )


def _figures(company_id, month):
    return {x.indicator.code: x.figure for x in month_lines(company_id, month, now=L(2026, 4, 10))}


def test_k5_and_k14_from_the_calls(calls, company_x):
    """K14 = 1 within 3 rings / 2 answered = 50 %; K5 = (1 − 30 / 44,640) × 100 % = 99.93 %."""
    figures = _figures(company_x.pk, f.Month(2026, 3))
    k14, k5 = figures["K14"], figures["K5"]
    assert (k14.numerator, k14.denominator, k14.value, k14.method) == (1, 2, Decimal("50.00"), "primary")
    assert (k5.numerator, k5.denominator, k5.value) == (30, 44640, Decimal("99.93"))
    _line, rows = figure_records(company_x.pk, "K14", f.Month(2026, 3), now=L(2026, 4, 10))
    assert sorted(r.outcome for r in rows) == ["met", "missed"]


def test_a_month_without_call_events_is_no_data(calls, company_x):
    figures = _figures(company_x.pk, f.Month(2026, 2))
    assert figures["K5"].value is None and figures["K14"].value is None
