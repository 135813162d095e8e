"""K1–K3 inputs on a hand-computed month (seed 004 第十条): Aₙ and Tₙ per restoration step, split
at the month boundary; N from the status history; B the days of the month; notices and
restorations in time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from kefu.outages import services
from kefu.outages.models import Notice
from kefu.outages.selectors import active_customers_in_month, k_inputs


@pytest.mark.django_db(transaction=True)
def test_hand_computed_march(dispatcher_x, manager_x, technician_x, households, commitments):
    # 1) planned, zone A (5 households), notices in time, restored in two steps:
    #    3 at +4 h and 2 at +10 h → Σ A·T = 3·4 + 2·10 = 32; in time (≤ 24 h)
    start = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    with time_machine.travel(start - timedelta(days=5), tick=False):
        o = services.outage_create(
            by=dispatcher_x,
            kind="planned",
            reason="检修",
            planned_start=start,
            planned_end=start + timedelta(hours=10),
        )
        services.outage_set_affected(
            by=dispatcher_x, outage_id=o.pk, method="zone", selection={"zones": ["A"]}
        )
        services.outage_approve(by=manager_x, outage_id=o.pk)
        services.outage_notify(by=dispatcher_x, outage_id=o.pk)
        for n in Notice.objects.filter(outage=o, channel="posted"):
            services.notice_mark_posted(by=technician_x, notice_id=n.pk)
    with time_machine.travel(start + timedelta(hours=4), tick=False):
        services.outage_start(by=dispatcher_x, outage_id=o.pk, at=start)
        services.outage_restore_notice(by=dispatcher_x, outage_id=o.pk)
        services.outage_restore_step(by=dispatcher_x, outage_id=o.pk, buildings=["幸福小区/1"])
    with time_machine.travel(start + timedelta(hours=10), tick=False):
        services.outage_restore_step(by=dispatcher_x, outage_id=o.pk)
    # 2) emergency, zone B (1 household), from 31 March 20:00 UTC to 1 April 02:00 UTC: 4 h in
    #    March (to 16:00 UTC = 24:00 Shanghai), 2 h in April; excluded from K2/K3
    e_start = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    with time_machine.travel(e_start, tick=False):
        e = services.outage_create(
            by=dispatcher_x,
            kind="emergency",
            reason="抢修",
            planned_start=e_start,
            planned_end=e_start + timedelta(hours=6),
        )
        services.outage_set_affected(
            by=dispatcher_x, outage_id=e.pk, method="zone", selection={"zones": ["B"]}
        )
        services.outage_start(by=dispatcher_x, outage_id=e.pk, at=e_start)
        services.outage_restore_notice(by=dispatcher_x, outage_id=e.pk)
    with time_machine.travel(e_start + timedelta(hours=6), tick=False):
        services.outage_restore_step(by=dispatcher_x, outage_id=e.pk)
    with time_machine.travel(datetime(2026, 4, 15, tzinfo=UTC), tick=False):
        march = k_inputs(company=dispatcher_x.company, year=2026, month=3)
        april = k_inputs(company=dispatcher_x.company, year=2026, month=4)
    assert march.days == 31 and march.active_customers == 6
    by_no = {i.number: i for i in march.interruptions}
    assert by_no[o.number].a == 5 and by_no[o.number].a_t == pytest.approx(32.0)
    assert by_no[o.number].t_hours == pytest.approx(6.4)
    assert by_no[e.number].a_t == pytest.approx(4.0)
    assert march.a_t_sum == pytest.approx(36.0)
    assert march.k1 == pytest.approx(1 - 36 / (6 * 31 * 24))
    assert march.k2 == (1, 1) and march.k3 == (1, 1)
    assert [i.a_t for i in april.interruptions] == [pytest.approx(2.0)]
    assert april.k2 == (0, 0)
    # The indicator app counts K1 from the same records, exactly: 36 household-hours lost of
    # N·B·24 = 6 · 31 · 24 = 4,464 → (1 − 36/4,464) × 100 % = 99.19 %; April keeps its 2 hours.
    from decimal import Decimal

    from kefu.kpi import formulas as f
    from kefu.kpi.inputs import compute
    from kefu.kpi.registry import indicator

    as_of = datetime(2026, 4, 15, tzinfo=UTC)
    k1 = compute(dispatcher_x.company_id, indicator("K1"), f.Month(2026, 3), as_of=as_of)
    assert (k1.numerator, k1.denominator, k1.value) == (36, 4464, Decimal("99.19"))
    assert k1.records["counted"] == (o.number, e.number)
    k1_april = compute(dispatcher_x.company_id, indicator("K1"), f.Month(2026, 4), as_of=as_of)
    assert k1_april.numerator == 2 and k1_april.records["counted"] == (e.number,)


@pytest.mark.django_db
def test_n_from_status_history(clerk_x, households):
    """Closed mid-March: counted in March, not April. Suspended in February: not in March. Opened
    in April: April only."""
    from kefu.customers.services import customer_update
    from kefu.customers.tests.factories import CustomerFactory

    def status(c, value, on):
        c.refresh_from_db()
        customer_update(
            user=clerk_x,
            customer_id=c.pk,
            version=c.version,
            changes={"status": value, "status_effective_on": on, "status_reason": "测试"},
        )

    status(households[0], "closed", date(2026, 3, 15))
    status(households[1], "suspended", date(2026, 2, 1))
    CustomerFactory(
        user=clerk_x, account_no="300001", name="新户", category="resident", opened_on=date(2026, 4, 10)
    )
    company_id = clerk_x.company_id
    assert active_customers_in_month(company_id, 2026, 3) == 5  # 6 − the suspended one
    assert active_customers_in_month(company_id, 2026, 4) == 5  # 6 − closed − suspended + new
