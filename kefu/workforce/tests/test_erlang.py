"""Erlang C (W1 staffing from the call forecast), checked against hand calculations."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.workforce.erlang import agents_required, erlang_b, erlang_c, service_level


def test_hand_checked_two_agents_one_erlang():
    """A = 1 Erlang, N = 2, by hand: B(1) = 1/(1+1) = 0.5; B(2) = 0.5/(2+0.5) = 0.2;
    C = 2·0.2 / (2 − 1·0.8) = 1/3; SL(15 s, AHT 180 s) = 1 − (1/3)·e^(−15/180) = 0.6933."""
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    sl = service_level(agents=2, calls=10, interval_s=1800, aht_s=180, target_s=15)
    assert sl == pytest.approx(1 - math.exp(-15 / 180) / 3) == pytest.approx(0.6933, abs=1e-4)


def test_textbook_ten_erlangs():
    """100 calls in half an hour, 3 minutes each: A = 10 Erlangs. Erlang C tables: C(11) = 0.6821,
    C(12) = 0.4494, C(13) = 0.2853, C(14) = 0.1741. 80 % within 15 s (three rings of 5 s, C13):
    SL(13) = 1 − 0.2853·e^(−3·15/180) = 0.778 < 0.8, SL(14) = 1 − 0.1741·e^(−4·15/180) = 0.875 → 14."""
    for n, c in ((11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)):
        assert erlang_c(n, 10.0) == pytest.approx(c, abs=1e-4)
    s = agents_required(calls=100, aht_s=180, interval_s=1800, target_sl=0.8, target_s=15)
    assert s.traffic == pytest.approx(10.0) and s.agents == 14
    assert s.service_level == pytest.approx(0.8752, abs=1e-4)
    assert service_level(agents=13, calls=100, interval_s=1800, aht_s=180, target_s=15) == pytest.approx(
        0.7778, abs=1e-4
    )


def test_edges():
    assert agents_required(calls=0, aht_s=180).agents == 0
    assert erlang_c(10, 10.0) == 1.0  # the agents cannot carry the traffic
    assert agents_required(calls=100, aht_s=180, max_occupancy=0.7).agents == 15  # 10 / 0.7 → 15
    with pytest.raises(ValueError):
        agents_required(calls=1, aht_s=180, target_sl=1.0)


@given(
    calls=st.floats(min_value=0.5, max_value=800),
    aht=st.floats(min_value=20, max_value=900),
    target=st.floats(min_value=0.5, max_value=0.95),
)
def test_the_answer_is_the_fewest_agents_meeting_the_target(calls, aht, target):
    s = agents_required(calls=calls, aht_s=aht, target_sl=target, target_s=15)
    assert s.agents > s.traffic and s.service_level >= target
    below = service_level(agents=s.agents - 1, calls=calls, interval_s=1800, aht_s=aht, target_s=15)
    assert below < target
