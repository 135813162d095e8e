"""Normalisation before matching (L1, L2, L3, L4, L5): traditional → simplified, full- →
half-width, punctuation,
fillers, Chinese numerals; the fast path and the mapped path agree (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.quality.normalize import normalize, normalize_with_map

CHINESE = st.text(
    alphabet=st.one_of(
        st.sampled_from("不知道請您稍等這個問題嗯啊那个，。！？、 　ＡＢＣ１２３八六一九零幺两王先生女士"),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=60,
)


def test_traditional_to_simplified():
    assert normalize("請您稍等，這個問題不歸我們管") == "请您稍等这个问题不归我们管"


def test_full_width_punctuation_and_spaces():
    assert normalize("ＡＢＣ　１２３！不 知 道。") == "abc123不知道"


def test_fillers_dropped():
    assert normalize("嗯，那个，不……啊知道") == "不知道"


def test_chinese_digits_in_runs():
    assert normalize("请拨打八六一九六一二") == "请拨打8619612"
    assert normalize("一下") == "一下"  # a single numeral inside a word stays


@settings(max_examples=300, deadline=None)
@given(CHINESE)
def test_fast_and_mapped_paths_agree(text):
    mapped = normalize_with_map(text)
    assert mapped.text == normalize(text)
    assert len(mapped.origin) == len(mapped.text)
    assert all(0 <= i < len(text) for i in mapped.origin)
    assert list(mapped.origin) == sorted(mapped.origin)


@settings(max_examples=200, deadline=None)
@given(CHINESE)
def test_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once
