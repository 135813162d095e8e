"""Pure maths of inspection (hypothesis): the form's score and the sampling choice."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.quality.scoring import Candidate, FormError, choose_sample, form_score

ITEM = st.builds(
    lambda mx, frac, crit: {"code": "x", "max": mx, "points": int(mx * frac), "critical": crit},
    st.integers(1, 50),
    st.floats(0, 1),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ITEM, min_size=1, max_size=10))
def test_form_score_bounds_and_critical(items):
    s = form_score(items)
    assert 0 <= s <= 100
    if any(i["critical"] and i["points"] == 0 for i in items):
        assert s == 0
    if all(i["points"] == i["max"] for i in items):
        assert s == 100


def test_points_out_of_range_refused():
    with pytest.raises(FormError):
        form_score([{"code": "a", "max": 10, "points": 11}])


CANDS = st.lists(
    st.builds(
        Candidate, st.integers(1, 10_000), st.integers(1, 5), st.one_of(st.none(), st.integers(0, 100))
    ),
    max_size=60,
    unique_by=lambda c: c.id,
)


@settings(max_examples=200, deadline=None)
@given(CANDS, st.integers(0, 5), st.integers(0, 100), st.integers(0, 3))
def test_sample_limits_reproducible_and_low_first(cands, per_agent, low, extra):
    a = choose_sample(cands, per_agent=per_agent, low_score=low, extra_low=extra, seed="1:2026-11-30")
    assert a == choose_sample(
        list(reversed(cands)), per_agent=per_agent, low_score=low, extra_low=extra, seed="1:2026-11-30"
    )
    ids = [i for i, _ in a]
    assert len(ids) == len(set(ids))
    by_id = {c.id: c for c in cands}
    for agent in {c.agent_id for c in cands}:
        mine = [(i, why) for i, why in a if by_id[i].agent_id == agent]
        assert len(mine) <= per_agent + extra
        for i, why in mine:
            if why == "low":
                assert by_id[i].score is not None and by_id[i].score < low
