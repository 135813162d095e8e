"""K4 and K12 inputs on a hand-computed sample (C5, C12; 000 §16.4 "含上门无人情况")."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.inspections.services import VisitInput, appliance_register, visit_submit
from kefu.inspections.tests.conftest import L
from kefu.inspections.tests.test_visits import done

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(batch, inspector, entry_of, planner_x, households, make_customer, clerk_x, time_machine):
    """A001 inspected; A002 nobody home twice; A003 nobody home, then inspected; B001 and C001 not
    visited; D001 closed in March (active in the year); E001 closed in 2025 (not); appliances
    registered for A001 (checked on the visit) and A002."""
    from kefu.customers.models import Customer
    from kefu.customers.services import customer_update

    appliance_register(by=planner_x, customer_id=households[0].pk, kind="热水器")
    appliance_register(by=planner_x, customer_id=households[1].pk, kind="灶具")
    visit_submit(by=inspector.user, entry_id=entry_of("A001").pk, data=done("k1", appliances_checked=True))
    nobody = dict(outcome="nobody_home", door_notice=True)
    visit_submit(by=inspector.user, entry_id=entry_of("A002").pk, data=VisitInput(client_id="k2", **nobody))
    visit_submit(by=inspector.user, entry_id=entry_of("A003").pk, data=VisitInput(client_id="k3", **nobody))
    time_machine.move_to(L(2026, 3, 4, 19), tick=False)
    visit_submit(by=inspector.user, entry_id=entry_of("A002").pk, data=VisitInput(client_id="k4", **nobody))
    visit_submit(by=inspector.user, entry_id=entry_of("A003").pk, data=done("k5"))
    for acct in ("D001", "E001"):
        c = make_customer(acct, community="和平小区", room=acct)
        customer_update(user=clerk_x, customer_id=c.pk, version=c.version, changes={"status": "closed"})
    Customer.objects.filter(account_no="E001").update(closed_on=date(2025, 12, 1))


def test_k4_inputs_hand_computed(sample, company_x):
    from kefu.inspections.selectors import K4Inputs, k4_inputs

    got = k4_inputs(company_id=company_x.pk, start=L(2026, 1, 1), end=L(2027, 1, 1))
    assert got == K4Inputs(served=["A001", "A002", "A003"], nobody_home=["A002"], active_households=6)
    feb = k4_inputs(company_id=company_x.pk, start=L(2026, 2, 1), end=L(2026, 3, 1))
    assert (feb.served, feb.nobody_home) == ([], [])
    # the same figures as kpi's formula would count them: 3 of 6 households
    assert len(set(got.served)) / got.active_households == 0.5


def test_k12_inputs_hand_computed(sample, company_x):
    from kefu.inspections.selectors import k12_inputs

    due = L(2026, 12, 31, 23, 59, 59)
    assert k12_inputs(company_id=company_x.pk, start=L(2026, 1, 1), end=L(2027, 1, 1)) == [
        ("A001/2026-A1", due, L(2026, 3, 3, 9)),
        ("A002/2026-A1", due, None),
    ]
    assert (
        k12_inputs(company_id=company_x.pk, start=L(2026, 12, 1), end=L(2027, 1, 1))[0][0] == "A001/2026-A1"
    )
    assert k12_inputs(company_id=company_x.pk, start=L(2026, 3, 1), end=L(2026, 4, 1)) == []


def test_kpi_counts_k4_and_k12_from_these_records(sample, company_x):
    """The indicator app takes these inputs as they are: K4 for March (the year so far) = 3 of 6
    households = 50.00 %, A002 listed apart as nobody home; K12 for December = A001 inspected by its
    due day, A002 not = 1 / 2 = 50.00 %."""
    from decimal import Decimal

    from kefu.kpi import formulas as f
    from kefu.kpi.inputs import compute
    from kefu.kpi.registry import indicator

    k4 = compute(company_x.pk, indicator("K4"), f.Month(2026, 3), as_of=L(2026, 4, 10))
    assert (k4.numerator, k4.denominator, k4.value) == (3, 6, Decimal("50.00"))
    assert k4.records == {"met": ("A001", "A003"), "nobody_home": ("A002",)}
    k12 = compute(company_x.pk, indicator("K12"), f.Month(2026, 12), as_of=L(2027, 1, 10))
    assert (k12.numerator, k12.denominator) == (1, 2)
    assert k12.records["met"] == ("A001/2026-A1",) and k12.records["missed"] == ("A002/2026-A1",)
