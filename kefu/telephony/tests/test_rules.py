"""Pure rules: rings at cycle boundaries (C13, K14), out-of-service minutes (K5), chat timing (C18)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.telephony.rules import chat_timing, k5_availability, merged_minutes, rings_for

T = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ms", "rings"),
    [
        (0, 1),  # answered as the first ring began
        (1000, 1),  # during the first ring's 1 s tone
        (4999, 1),
        (5000, 1),  # the second ring begins at 5.000 s: not yet heard
        (5001, 2),
        (10_000, 2),
        (14_999, 3),
        (15_000, 3),  # exactly three cycles: within 3 rings (C13)
        (15_001, 4),
        (60_000, 12),
    ],
)
def test_rings_at_cycle_boundaries_china_cadence(ms, rings):
    """China's ring cadence is 1 s on, 4 s off: one ring every 5 s (C13 "3 rings" = 15 s)."""
    assert rings_for(ms, 5000) == rings


def test_ring_cycle_is_configurable():
    assert rings_for(15_000, 6000) == 3 and rings_for(18_001, 6000) == 4


def test_negative_ring_time_is_refused():
    with pytest.raises(ValueError):
        rings_for(-1, 5000)


@given(st.integers(0, 10**7), st.integers(1000, 10_000))
def test_rings_monotonic_and_bounded(ms, cycle):
    r = rings_for(ms, cycle)
    assert r >= 1 and (r - 1) * cycle <= ms or ms == 0
    assert rings_for(ms + 1, cycle) >= r


def test_k5_overlapping_periods_count_once_and_clip_to_month():
    start, end = T, T + timedelta(days=31)
    periods = [
        (T - timedelta(minutes=10), T + timedelta(minutes=20)),  # began last month: 20 min count
        (T + timedelta(hours=1), T + timedelta(hours=1, minutes=30)),
        (T + timedelta(hours=1, minutes=10), T + timedelta(hours=1, minutes=40)),  # overlaps: 40 min in all
    ]
    assert merged_minutes(periods, start, end, now=end) == 60
    assert k5_availability(60, 31 * 24 * 60) == pytest.approx(1 - 60 / 44640)


def test_k5_open_period_runs_to_now():
    assert merged_minutes([(T, None)], T, T + timedelta(days=30), now=T + timedelta(minutes=7)) == 7


def s(n):
    return T + timedelta(seconds=n)


def test_chat_greeting_and_answers():
    msgs = [
        ("customer", s(0)),
        ("agent", s(12)),
        ("customer", s(30)),
        ("customer", s(35)),
        ("agent", s(55)),
        ("customer", s(60)),
        ("agent", s(70)),
    ]
    t = chat_timing(msgs, [s(0)])
    assert t.greeting_ms == 12_000 and t.answer_ms == (25_000, 10_000)


def test_chat_bot_messages_excluded_and_clock_restarts_on_hand_off():
    """The bot talks first; the 15 s greeting clock starts at the hand-off, not the arrival (C18)."""
    msgs = [("customer", s(0)), ("bot", s(1)), ("customer", s(20)), ("bot", s(21)), ("agent", s(70))]
    t = chat_timing(msgs, [s(60)])
    assert t.greeting_ms == 10_000 and t.answer_ms == ()


def test_chat_reopening_owes_a_new_greeting():
    msgs = [("customer", s(0)), ("agent", s(5)), ("customer", s(600)), ("agent", s(630))]
    t = chat_timing(msgs, [s(0), s(600)])
    assert (
        t.greeting_ms == 5000 and t.answer_ms == ()
    )  # the 30 s reply after reopening is a greeting, not an answer
