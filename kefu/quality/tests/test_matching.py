"""Aho–Corasick matching with our own longest choice: overlapping phrases report the longest and
keep the inner one (pyahocorasick's iter_long would lose it)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.quality.matching import PhraseIndex, longest
from kefu.quality.normalize import normalize


def test_overlapping_longest_reported_inner_kept():
    index = PhraseIndex([("a", "找领导去"), ("b", "你找我没用，要解决就去找领导"), ("c", "你找我没用")])
    found = index.find(normalize("你找我没用，要解决就去找领导去吧"))
    phrases = [m.phrase for m in found]
    assert "你找我没用要解决就去找领导" in phrases
    outer = next(m for m in found if m.phrase == "你找我没用要解决就去找领导")
    assert "你找我没用" in [m.phrase for m in outer.inner]  # nested: not reported alone, not lost
    assert "找领导去" in phrases  # partly overlapping: reported too


def test_iter_long_would_miss_it():
    """Why we choose ourselves: pyahocorasick's iter_long reports 我不能 and loses 不能办就是不能办."""
    index = PhraseIndex([("x", "我不能"), ("y", "不能办就是不能办")])
    text = "我不能办就是不能办"
    long_mode = [v[0] for _, v in index._automaton.iter_long(text)]
    assert "不能办就是不能办" not in long_mode
    assert {m.phrase for m in index.find(text)} == {"我不能", "不能办就是不能办"}


WORDS = st.sampled_from(["不知道", "知道", "不管", "我不能", "不能办", "找领导", "领导去", "您好"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(WORDS, min_size=1, max_size=6, unique=True),
    st.text(alphabet="不知道管我能办找领导去您好的吗", max_size=40),
)
def test_every_occurrence_reported_or_nested(phrases, text):
    index = PhraseIndex((p, p) for p in phrases)
    everything = index.all_matches(text)
    naive = {(i, i + len(p), p) for p in phrases for i in range(len(text)) if text.startswith(p, i)}
    assert {(m.start, m.end, m.phrase) for m in everything} == naive
    reported = longest(everything)
    seen = set()
    for m in reported:
        seen.add((m.start, m.end, m.phrase))
        for inner in m.inner:
            assert m.start <= inner.start and inner.end <= m.end and inner.length < m.length
            seen.add((inner.start, inner.end, inner.phrase))
    assert seen == naive
    for a in reported:  # no reported match lies inside another reported one
        assert not any(b is not a and b.start <= a.start and a.end <= b.end for b in reported)
