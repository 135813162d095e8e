"""Golden months for the formulas of seed 004 第十条: small data sets whose arithmetic is
written out in each test, months with no data, interruptions crossing a month end, a leap-year
February, and properties that hold for any records (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.kpi import formulas as f
from kefu.kpi.registry import INDICATORS, indicator

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


MARCH = f.Month(2026, 3)
END_OF_MARCH = at(2026, 4, 1)


class TestK1ContinuousSupply:
    def test_two_interruptions(self):
        """004 第十条 1: 1,000 customers for 6 h and 200 for 3 h in March (31 days), 10,000 active:
        Σ A·T = 6,000 + 600 = 6,600; N·B·24 = 10,000 × 31 × 24 = 7,440,000;
        (1 − 6,600 / 7,440,000) × 100 % = 99.911290… % → 99.91."""
        interruptions = [
            f.Interval("T1", at(2026, 3, 5, 8), at(2026, 3, 5, 14), affected=1000),
            f.Interval("T2", at(2026, 3, 20, 9), at(2026, 3, 20, 12), affected=200),
        ]
        fig = f.continuous_supply(interruptions, active_customers=10_000, month=MARCH, as_of=END_OF_MARCH)
        assert fig.numerator == 6600 and fig.denominator == 7_440_000
        assert fig.value == Decimal("99.91")
        assert fig.records["counted"] == ("T1", "T2")

    def test_crossing_a_month_end_counts_in_each_month(self):
        """An interruption from 31 March 22:00 to 1 April 04:00 (100 customers): 2 h in March
        (200 customer-hours), 4 h in April (400)."""
        cut = [f.Interval("T", at(2026, 3, 31, 22), at(2026, 4, 1, 4), affected=100)]
        march = f.continuous_supply(cut, active_customers=1000, month=MARCH, as_of=at(2026, 5, 1))
        april = f.continuous_supply(cut, active_customers=1000, month=f.Month(2026, 4), as_of=at(2026, 5, 1))
        assert march.numerator == 200 and april.numerator == 400
        assert april.denominator == 1000 * 30 * 24

    def test_leap_year_february_has_29_days(self):
        """B = 29 in February 2028: 100 customers × 29 h lost out of 100 × 29 × 24 → (1 − 1/24) = 95.83 %."""
        feb = f.Month(2028, 2)
        fig = f.continuous_supply(
            [f.Interval("T", at(2028, 2, 28, 0), at(2028, 2, 29, 5), affected=100)],
            active_customers=100,
            month=feb,
            as_of=at(2028, 3, 1),
        )
        assert feb.days == 29 and fig.denominator == 100 * 29 * 24
        assert fig.numerator == 100 * 29 and fig.value == Decimal("95.83")

    def test_open_interruption_counts_until_as_of(self):
        fig = f.continuous_supply(
            [f.Interval("T", at(2026, 3, 10, 8), None, affected=10)],
            active_customers=100,
            month=MARCH,
            as_of=at(2026, 3, 10, 11),
        )
        assert fig.numerator == 30

    def test_no_active_customers_is_no_data(self):
        fig = f.continuous_supply([], active_customers=0, month=MARCH, as_of=END_OF_MARCH)
        assert fig.value is None and not fig.has_data

    def test_no_interruption_is_full_supply(self):
        assert f.continuous_supply([], active_customers=5, month=MARCH, as_of=END_OF_MARCH).value == 100


class TestWithinLimit:
    """K2, K3, K6–K12, K17: B/A × 100 %."""

    def test_k6_emergencies(self):
        """004 第十条 6: four emergencies in March; arrived in 25 min, 40 min (the limit itself is
        on time), 41 min; the fourth still has no arrival and its limit passed: 2 / 4 = 50 %."""
        t0 = at(2026, 3, 2, 10)
        due = t0 + timedelta(minutes=40)
        fig = f.within_limit(
            "K6",
            [
                f.Deadline("E1", due, t0 + timedelta(minutes=25)),
                f.Deadline("E2", due, due),
                f.Deadline("E3", due, due + timedelta(minutes=1)),
                f.Deadline("E4", due, None),
            ],
            as_of=END_OF_MARCH,
        )
        assert (fig.numerator, fig.denominator, fig.value) == (2, 4, Decimal("50.00"))
        assert fig.records["met"] == ("E1", "E2") and fig.records["missed"] == ("E3", "E4")

    def test_pending_and_excluded_are_listed_not_counted(self):
        """C9: a not-installable request is excluded with its reason; one whose two working days
        are still ahead is pending: 1 met of 1 = 100 %."""
        as_of = at(2026, 3, 31, 12)
        fig = f.within_limit(
            "K7",
            [
                f.Deadline("A1", at(2026, 3, 10, 17), at(2026, 3, 9, 15)),
                f.Deadline("A2", at(2026, 4, 2, 17)),
                f.Deadline("A3", at(2026, 3, 12, 17), excluded="不具备安装条件"),
            ],
            as_of=as_of,
        )
        assert fig.value == 100 and fig.denominator == 1
        assert fig.records["pending"] == ("A2",) and fig.records["excluded"] == ("A3",)

    def test_nothing_due_is_no_data_not_100(self):
        fig = f.within_limit("K17", [f.Deadline("X", at(2026, 4, 2))], as_of=END_OF_MARCH)
        assert fig.value is None and fig.records["pending"] == ("X",)

    @given(
        st.lists(
            st.tuples(st.integers(-100, 100), st.one_of(st.none(), st.integers(-100, 100)), st.booleans()),
            max_size=30,
        ),
        st.integers(-100, 100),
    )
    def test_counts_add_up(self, rows, as_of_minutes):
        """Every record has exactly one outcome; met ≤ counted; the value is 0–100 or 无数据."""
        t0 = at(2026, 3, 15)
        records = [
            f.Deadline(
                f"R{i}",
                t0 + timedelta(minutes=due),
                None if done is None else t0 + timedelta(minutes=done),
                "reason" if excluded else "",
            )
            for i, (due, done, excluded) in enumerate(rows)
        ]
        fig = f.within_limit("K8", records, as_of=t0 + timedelta(minutes=as_of_minutes))
        assert sum(len(v) for v in fig.records.values()) == len(records)
        assert fig.denominator == len(fig.records["met"]) + len(fig.records["missed"])
        assert fig.value is None if fig.denominator == 0 else 0 <= fig.value <= 100


class TestK4K5K13K14K15:
    def test_k4_nobody_home_counts_once_per_household(self):
        """004 第十条 4: households H1 (visited twice), H2 (nobody home) and H3 of 8 active: 3/8 = 37.5 %."""
        fig = f.household_inspection(["H1", "H1", "H2", "H3"], active_households=8)
        assert (fig.numerator, fig.denominator, fig.value) == (3, 8, Decimal("37.50"))

    def test_k5_overlapping_outages_counted_once(self):
        """Outages 10:00–10:30 and 10:20–10:50 (overlap counted once: 50 min) in March's 44,640
        minutes: (1 − 50/44,640) × 100 % = 99.888… → 99.89."""
        fig = f.hotline_availability(
            [
                f.Interval("O1", at(2026, 3, 3, 10), at(2026, 3, 3, 10, 30)),
                f.Interval("O2", at(2026, 3, 3, 10, 20), at(2026, 3, 3, 10, 50)),
            ],
            month=MARCH,
            as_of=END_OF_MARCH,
            tracked=True,
        )
        assert fig.numerator == 50 and fig.denominator == 31 * 24 * 60
        assert fig.value == Decimal("99.89")

    def test_k5_untracked_month_is_no_data(self):
        assert f.hotline_availability([], month=MARCH, as_of=END_OF_MARCH, tracked=False).value is None

    @given(st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 600)), max_size=12))
    def test_k5_down_time_never_exceeds_the_union_bound(self, rows):
        outages = [
            f.Interval(f"O{i}", MARCH.start + timedelta(minutes=s), MARCH.start + timedelta(minutes=s + d))
            for i, (s, d) in enumerate(rows)
        ]
        fig = f.hotline_availability(outages, month=MARCH, as_of=END_OF_MARCH, tracked=True)
        assert fig.numerator <= sum(d for _s, d in rows)
        assert fig.numerator <= (max((s + d for s, d in rows), default=0))
        assert 0 <= fig.value <= 100

    def test_k13_return_visits(self):
        fig = f.return_visits([("J1", True), ("J2", False), ("J3", True)])
        assert (fig.numerator, fig.denominator, fig.value) == (2, 3, Decimal("66.67"))

    def test_k14_rings_counted(self):
        """Five calls answered at 1, 3, 3, 4 and 6 rings: 3 within three rings / 5 = 60 %."""
        calls = [("C1", 1), ("C2", 3), ("C3", 3), ("C4", 4), ("C5", 6)]
        fig = f.service_phone(calls, survey_answers=[("V1", False)])
        assert (fig.value, fig.method) == (Decimal("60.00"), "primary")

    def test_k14_falls_back_to_return_visits_when_rings_are_missing(self):
        """A call without a ring count: the seed's fallback, 3 of 4 surveyed customers = 75 %."""
        fig = f.service_phone(
            [("C1", 2), ("C2", None)],
            survey_answers=[("V1", True), ("V2", True), ("V3", False), ("V4", True)],
        )
        assert (fig.value, fig.method) == (Decimal("75.00"), "survey")

    def test_k14_nothing_at_all_is_no_data(self):
        assert f.service_phone([]).value is None

    def test_k15_mean_of_scores(self):
        """(10 + 9 + 8) / 3 = 9.00 分."""
        fig = f.mean_score("K15", [("V1", 10), ("V2", 9), ("V3", 8)])
        assert (fig.numerator, fig.denominator, fig.value) == (27, 3, Decimal("9.00"))

    def test_k16_refuses_a_score_outside_1_to_10(self):
        with pytest.raises(ValueError, match="1–10"):
            f.mean_score("K16", [("V1", 11)])

    def test_k15_no_visits_is_no_data(self):
        assert f.mean_score("K15", []).value is None

    def test_rounding_is_half_up(self):
        """2/3 = 66.666…% → 66.67; 1/8 = 12.5 % → 12.50; 1/16 = 6.25 %; 1/1600 = 0.0625 % → 0.06."""
        assert f.return_visits([("a", True), ("b", True), ("c", False)]).value == Decimal("66.67")
        assert f._round(Fraction(1, 1600) * 100) == Decimal("0.06")
        assert f._round(Fraction(5, 1000)) == Decimal("0.01")


class TestRegistry:
    def test_seventeen_indicators_in_order(self):
        assert [i.code for i in INDICATORS] == [f"K{n}" for n in range(1, 18)]
        assert [i.number for i in INDICATORS] == list(range(1, 18))

    def test_every_indicator_names_its_formula_and_source(self):
        sources = {"outages", "inspections", "telephony", "field", "followups"}
        for ind in INDICATORS:
            assert callable(ind.formula) and ind.source in sources and ind.version >= 1
            assert str(ind.name) and str(ind.rules) and ind.definition

    def test_lookup_by_code(self):
        assert indicator("k6").formula is f.within_limit
        with pytest.raises(KeyError, match="K1–K17"):
            indicator("K18")

    def test_month_bounds(self):
        assert (MARCH.start, MARCH.end, MARCH.days, str(MARCH)) == (
            at(2026, 3, 1),
            at(2026, 4, 1),
            31,
            "2026-03",
        )
        assert f.Month(2026, 12).end == at(2027, 1, 1)
        with pytest.raises(ValueError):
            f.Month(2026, 13)
