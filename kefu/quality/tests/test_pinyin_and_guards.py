"""Pinyin-level matching of homophones (speech recognition writes the right sounds with the wrong
characters; phrases written in pinyin), the guards on rule regular expressions (length, compile,
slow patterns refused on save, a timeout at check time), and the rule editor's messages in English."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.quality import pinyin as py
from kefu.quality.engine import PATTERN_MAX, RuleBook, RuleSpec, SpecError, Transcript, Turn, evaluate


def _book(**spec):
    return RuleBook([RuleSpec.from_dict("t", {"kind": "forbidden", **spec}, severity="major", weight=10)])


def _check(book, *texts):
    return evaluate(book, Transcript(tuple(Turn("agent", t) for t in texts), company="安泰燃气"))


def test_homophones_match_only_when_the_rule_asks_for_pinyin():
    """ASR wrote 不只道 for 不知道 and 找领到 for 找领导: found with pinyin, not without."""
    plain = _book(any=["不知道", "找领导"])
    sounds = _book(any=["不知道", "找领导"], pinyin=True)
    texts = ("这个我不只道", "你去找领到吧")
    assert _check(plain, *texts).hits == []
    hits = _check(sounds, *texts).hits
    assert [(h.turn, texts[h.turn][h.start : h.end]) for h in hits] == [(0, "不只道"), (1, "找领到")]


def test_a_phrase_written_in_pinyin_and_the_exact_phrase_are_one_hit():
    book = _book(any=["bu zhi dao"], pinyin=True)
    assert len(_check(book, "我不知道").hits) == 1
    assert len(_check(book, "嗯，不，知道了").hits) == 1  # normalised: punctuation and fillers go
    assert _check(book, "步行知道路").hits == []  # 步行 breaks the syllables: bu xing zhi dao


def test_pinyin_matches_only_on_syllable_boundaries():
    assert py.find("wo bu zhi dao", py.key("不知道")) == [(3, 13)]
    assert py.find("bun zhidao", py.key("不知道")) == []  # "bun" is not "bu"
    assert py.key("不知道") == py.key("buzhidao") == "buzhidao"


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="不知道找领导我你好abc 1，。", max_size=40))
def test_pinyin_spans_are_inside_the_text(text):
    for a, b in py.find(text, py.key("知道")):
        assert 0 <= a < b <= len(text)


@pytest.mark.parametrize(
    "pattern,word",
    [
        ("(", "正则"),
        ("x" * (PATTERN_MAX + 1), "过长"),
        ("(x+x+)+y", "过慢"),
    ],
)
def test_bad_patterns_are_refused_on_save(pattern, word):
    with pytest.raises(SpecError, match=word):
        RuleSpec.from_dict("x", {"kind": "forbidden", "pattern": pattern})


def test_a_slow_pattern_at_check_time_is_dropped_not_stalling_the_worker(monkeypatch):
    """A pattern that passed the probes but times out on a real turn: the rule stops matching in
    this book (logged), the other rules still run."""
    import regex

    book = RuleBook(
        [
            RuleSpec.from_dict("slow", {"kind": "forbidden", "pattern": "找领导"}),
            RuleSpec.from_dict("ok", {"kind": "forbidden", "any": ["不知道"]}),
        ]
    )

    class Slow:
        def search(self, text, timeout=None):
            assert timeout is not None  # every search runs with the timeout
            raise TimeoutError("regex timed out")

    monkeypatch.setitem(book._patterns, "找领导", Slow())
    res = _check(book, "我不知道，找领导去")
    assert [h.rule for h in res.hits] == ["ok"]
    assert book._patterns["找领导"] is None
    assert isinstance(RuleBook([]).search("a", "a"), regex.Match)


def test_rule_editor_messages_in_english():
    with translation.override("en"), pytest.raises(SpecError) as e:
        RuleSpec.from_dict("x", {"kind": "forbidden", "pattern": "x" * (PATTERN_MAX + 1)})
    assert "too long" in str(e.value)
    with translation.override("en"), pytest.raises(SpecError) as e:
        RuleSpec.from_dict("x", {"kind": "nope"})
    assert "Unknown rule kind" in str(e.value)
