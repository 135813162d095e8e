"""The programme's due ledger (C5, C12): frequencies per category from the commitment set,
customers joining, leaving and changing category mid-year; coverage with a projected finish."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.inspections import rules
from kefu.inspections.models import LedgerEntry
from kefu.inspections.services import appliance_register, ledger_sync, programme_generate
from kefu.inspections.tests.conftest import L

pytestmark = pytest.mark.django_db


def _rows(account_no, kind="household"):
    return sorted(
        LedgerEntry.objects.filter(customer__account_no=account_no, kind=kind).values_list(
            "periods", "period", "due_on", "status"
        )
    )


def test_periods_split_the_year_by_frequency():
    assert [(p.start, p.end) for p in rules.periods(2026, 1)] == [(date(2026, 1, 1), date(2026, 12, 31))]
    assert [(p.start, p.end) for p in rules.periods(2026, 3)] == [
        (date(2026, 1, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 8, 31)),
        (date(2026, 9, 1), date(2026, 12, 31)),
    ]
    assert [p.end for p in rules.periods(2026, 2)] == [date(2026, 6, 30), date(2026, 12, 31)]


def test_ledger_per_category_from_the_categories(programme):
    """C5 (000 2.2.5, 004): resident 1/yr, commercial 3/yr, coal-to-gas 2/yr (category defaults)."""
    assert _rows("A001") == [(1, 1, date(2026, 12, 31), "due")]
    assert [r[2] for r in _rows("B001")] == [date(2026, 4, 30), date(2026, 8, 31), date(2026, 12, 31)]
    assert [r[2] for r in _rows("C001")] == [date(2026, 6, 30), date(2026, 12, 31)]
    assert LedgerEntry.objects.filter(kind="household").count() == 3 + 3 + 2
    e = LedgerEntry.objects.get(customer__account_no="B001", period=1)
    assert (e.community, e.building, e.category, e.district) == ("幸福小区", "5", "commercial", "泰山区")


def test_ledger_frequency_from_the_commitment_set(planner_x, manager_x, households, time_machine):
    """The commitment set decides (C5): a C5 commitment for residents of 2/yr wins over the
    category's own value."""
    from kefu.sla.models import Commitment
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    time_machine.move_to(L(2026, 1, 5, 9), tick=False)
    s = commitment_set_from_preset(
        company=manager_x.company, year=2026, preset="laizhou-crgas-2024", by=manager_x
    )
    Commitment.objects.create(
        commitment_set=s,
        spec_id="C5",
        code="inspection_resident",
        name="居民入户安检",
        customer_category="resident",
        clock_kind="on_site",
        start_event="-",
        stop_event="-",
        limit_value=2,
        limit_unit="hours",
    )
    commitment_set_publish(commitment_set=s, by=manager_x, at=L(2026, 1, 1))
    prog = programme_generate(by=planner_x, year=2026)
    assert prog.frequencies["resident"] == 2 and prog.frequencies["commercial"] == 3
    assert "C5" in prog.source
    assert [r[2] for r in _rows("A001")] == [date(2026, 6, 30), date(2026, 12, 31)]


def test_generation_is_idempotent(programme, planner_x):
    n = LedgerEntry.objects.count()
    programme_generate(by=planner_x, year=2026)
    assert LedgerEntry.objects.count() == n


def test_customer_joining_mid_year_owes_current_and_later_periods(programme, make_customer, time_machine):
    time_machine.move_to(L(2026, 6, 10, 9), tick=False)
    make_customer("B002", category="commercial", building="5", room="2", opened_on=date(2026, 6, 10))
    ledger_sync(company_id=programme.company_id, year=2026, today=date(2026, 6, 10))
    assert [(r[1], r[2]) for r in _rows("B002")] == [(2, date(2026, 8, 31)), (3, date(2026, 12, 31))]


def test_customer_leaving_mid_year_is_cancelled_done_rows_kept(programme, households, clerk_x):
    from kefu.customers.services import customer_update

    b = households[3]
    LedgerEntry.objects.filter(customer=b, period=1).update(status="inspected")
    c = type(b).objects.get(pk=b.pk)
    customer_update(user=clerk_x, customer_id=c.pk, version=c.version, changes={"status": "closed"})
    out = ledger_sync(company_id=programme.company_id, year=2026, today=date(2026, 5, 10))
    assert out["cancelled"] == 2
    assert [r[3] for r in _rows("B001")] == ["inspected", "cancelled", "cancelled"]


def test_category_change_mid_year(programme, households, clerk_x):
    """A resident who becomes commercial in June: the yearly row is cancelled; the periods not yet
    ended at 3/yr are owed; changing back restores the yearly row."""
    from kefu.customers.services import customer_update

    a = households[0]
    customer_update(user=clerk_x, customer_id=a.pk, version=a.version, changes={"category": "商业"})
    ledger_sync(company_id=programme.company_id, year=2026, today=date(2026, 6, 1))
    rows = _rows("A001")
    assert (1, 1, date(2026, 12, 31), "cancelled") in rows
    assert [(r[0], r[1], r[3]) for r in rows if r[0] == 3] == [(3, 2, "due"), (3, 3, "due")]
    a.refresh_from_db()
    customer_update(user=clerk_x, customer_id=a.pk, version=a.version, changes={"category": "居民"})
    ledger_sync(company_id=programme.company_id, year=2026, today=date(2026, 6, 2))
    assert [(r[0], r[3]) for r in _rows("A001")] == [(1, "due"), (3, "cancelled"), (3, "cancelled")]


def test_appliance_ledger_for_registered_appliances(programme, households, planner_x):
    """C12: a customer with a registered appliance owes one appliance inspection a year."""
    assert _rows("A002", "appliance") == []
    appliance_register(by=planner_x, customer_id=households[1].pk, kind="热水器", model="JSQ20")
    assert _rows("A002", "appliance") == [(1, 1, date(2026, 12, 31), "due")]


def test_coverage_by_community_and_projection(programme, households):
    from kefu.inspections.selectors import coverage

    LedgerEntry.objects.filter(customer__account_no__in=["A001", "A002"]).update(status="inspected")
    LedgerEntry.objects.filter(customer__account_no="A003").update(status="nobody_home")
    rows = {r.key: r for r in coverage(company_id=programme.company_id, year=2026, today=date(2026, 3, 3))}
    assert (rows["幸福小区"].target, rows["幸福小区"].served, rows["幸福小区"].inspected) == (6, 3, 2)
    assert rows["和平小区"].served == 0 and rows["和平小区"].projected_finish is None
    # 3 served in 62 days; 3 left → 62 more days
    assert rows["幸福小区"].projected_finish == date(2026, 5, 4)
    by_cat = {r.key: r.target for r in coverage(company_id=programme.company_id, year=2026, by="category")}
    assert by_cat == {"coal_to_gas": 2, "commercial": 3, "resident": 3}


@pytest.mark.parametrize(
    "events, done, nxt",
    [
        ([], (), "visit1"),
        ([("visit", "day")], ("visit1",), "notice"),
        ([("visit", "day"), ("notice", "")], ("visit1", "notice"), "visit2"),
        ([("visit", "day"), ("notice", ""), ("visit", "day")], ("visit1", "notice"), "visit2"),
        ([("visit", "day"), ("notice", ""), ("visit", "weekend")], ("visit1", "notice", "visit2"), "visit3"),
        (
            [("visit", "evening"), ("notice", ""), ("visit", "day"), ("visit", "day")],
            ("visit1", "notice", "visit2", "visit3"),
            "door_gap",
        ),
        ([("letter", ""), ("visit", "day")], ("visit1",), "notice"),
    ],
)
def test_ladder_position_table(events, done, nxt):
    """The no-access ladder (P14): a step is done only by an event of its kind, in order; visit 2
    needs another time band than visit 1."""
    st = rules.ladder_position(rules.DEFAULT_LADDER, events)
    assert (st.done, st.next_code) == (done, nxt)


def test_time_band_and_deadline_and_projection():
    assert rules.time_band(L(2026, 3, 3, 17, 59)) == "day"
    assert rules.time_band(L(2026, 3, 3, 18, 0)) == "evening"
    assert rules.time_band(L(2026, 3, 7, 9, 0)) == "weekend"
    assert rules.hazard_deadline(date(2026, 3, 3), "major") == date(2026, 3, 4)
    assert rules.hazard_deadline(date(2026, 3, 3), "general", {"general": 10}) == date(2026, 3, 13)
    assert (
        rules.projected_finish(year_start=date(2026, 1, 1), today=date(2026, 1, 10), done=0, target=5) is None
    )
    assert rules.projected_finish(
        year_start=date(2026, 1, 1), today=date(2026, 1, 10), done=5, target=5
    ) == date(2026, 1, 10)
    # 10 done in 10 days, 90 left → 90 more days
    assert rules.projected_finish(
        year_start=date(2026, 1, 1), today=date(2026, 1, 10), done=10, target=100
    ) == date(2026, 4, 10)
