"""The rules engine on the standard's seed rules (L1, L2, L3, L4, L5): every forbidden group found
in traditional
and simplified text with full-width punctuation and fillers in between; required phrases in their
place; the bare-surname rule; silent calls; talking over; hanging up first; each rule's labelled
examples run as its tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.quality.engine import (
    RuleBook,
    RuleSpec,
    SpecError,
    Transcript,
    Turn,
    evaluate,
    example_metrics,
    score,
)
from kefu.quality.seeds import FORBIDDEN_GROUPS, seed_rules

RULES = seed_rules()
SPECS = [RuleSpec.from_dict(r["code"], r["spec"], severity=r["severity"], weight=r["weight"]) for r in RULES]
BOOK = RuleBook(SPECS)


def _tr(*turns, **kw) -> Transcript:
    return Transcript(
        tuple(Turn(*t) if isinstance(t, tuple) else t for t in turns),
        company=kw.pop("company", "安泰燃气"),
        **kw,
    )


def _spoken(phrase: str) -> str:
    """The phrase as speech recognition may write it: full-width punctuation and fillers inside."""
    chars = list(phrase)
    return (
        "嗯，"
        + "，".join(["".join(chars[: len(chars) // 2]), "那个" + "".join(chars[len(chars) // 2 :])])
        + "！"
    )


TRAD = str.maketrans(
    "这说领导题办为个们没问谁吗干对见种样么还时头发气里后来间开关电话听声换过请应",
    "這說領導題辦為個們沒問誰嗎幹對見種樣麼還時頭發氣裡後來間開關電話聽聲換過請應",
)


@pytest.mark.parametrize("clause,name,phrases", FORBIDDEN_GROUPS, ids=[g[0] for g in FORBIDDEN_GROUPS])
def test_each_forbidden_group_found_in_simplified_and_traditional(clause, name, phrases):
    """000 §4.5: each group, as written, in traditional characters, with punctuation and fillers."""
    for phrase in phrases:
        for text in (phrase, phrase.translate(TRAD), _spoken(phrase), _spoken(phrase).translate(TRAD)):
            res = evaluate(BOOK, _tr(("agent", text)))
            assert f"forbidden-{clause}" in res.rules_hit, (clause, text)
            hit = next(h for h in res.hits if h.rule == f"forbidden-{clause}")
            assert text[hit.start : hit.end].strip()  # position in the original text


def test_hit_position_and_time_in_original_text():
    text = "好的，嗯，這個我不知道。"
    res = evaluate(BOOK, _tr(Turn("agent", text, 1000, 2200)))
    hit = next(h for h in res.hits if h.rule == "forbidden-4.5.1")
    assert text[hit.start : hit.end] == "不知道"
    assert 1000 <= hit.at_ms <= 2200


def test_customer_saying_it_is_not_a_finding():
    res = evaluate(BOOK, _tr(("agent", "您好，安泰燃气公司"), ("customer", "你们是不是不管了？")))
    assert "forbidden-4.5.1" not in res.rules_hit


def test_required_opening_must_be_the_first_agent_turn():
    """000 15.2.4: 您好 + the company's name in the agent's first turn."""
    good = _tr(("agent", "您好，安泰燃气公司"), ("customer", "喂"))
    late = _tr(("agent", "喂？"), ("agent", "您好，安泰燃气公司"))
    assert "opening" not in evaluate(BOOK, good).rules_hit
    assert "opening" in evaluate(BOOK, late).rules_hit
    other = _tr(("agent", "您好，安泰燃气公司"), company="肥城燃气")
    assert "opening" in evaluate(BOOK, other).rules_hit  # another company's name is not this one's


def test_closing_question_and_farewell_at_the_end():
    """000 15.2.12: the closing question in the last turns, then the farewell."""
    ok = _tr(
        ("agent", "您好，安泰燃气公司"),
        ("customer", "好"),
        ("agent", "您還有其他問題嗎？"),
        ("agent", "感謝您的來電，再見！"),
    )
    res = evaluate(BOOK, ok)
    assert "closing-question" not in res.rules_hit and "farewell" not in res.rules_hit
    early = _tr(
        ("agent", "您好，安泰燃气公司，您还有其他问题吗"),
        ("customer", "有"),
        ("agent", "嗯"),
        ("customer", "好"),
        ("agent", "好"),
        ("agent", "挂了"),
    )
    res = evaluate(BOOK, early)
    assert "closing-question" in res.rules_hit and "farewell" in res.rules_hit
    missing = next(h for h in res.hits if h.rule == "closing-question")
    assert missing.missing and missing.turn is None


def test_address_with_title_and_bare_surname():
    """000 4.3.2, 15.2.5: surname + 先生/女士, never the bare surname."""
    good = _tr(("agent", "您好"), ("customer", "我姓王"), ("agent", "王先生，您请讲"), surname="王")
    bare = _tr(("agent", "您好"), ("customer", "我姓王"), ("agent", "王，你家表号多少？"), surname="王")
    assert not {"address-title", "bare-surname"} & set(evaluate(BOOK, good).rules_hit)
    res = evaluate(BOOK, bare)
    assert {"address-title", "bare-surname"} <= set(res.rules_hit)
    hit = next(h for h in res.hits if h.rule == "bare-surname")
    assert hit.turn == 2
    unknown = _tr(("agent", "您好"), ("agent", "您请讲"))  # surname unknown: neither rule applies
    assert not {"address-title", "bare-surname"} & set(evaluate(BOOK, unknown).rules_hit)


def test_silent_call_needs_the_script():
    """001 篇2 六6: a silent call ends with the script, not a bare hang-up."""
    scripted = _tr(
        ("agent", "您好"),
        ("customer", ""),
        ("agent", "对不起，您的电话没有声音，请您换一个电话再打过来，再见！"),
    )
    bare = _tr(("agent", "您好"), ("customer", "嗯……"), ("agent", "没声音我挂了"))
    talking = _tr(("agent", "您好"), ("customer", "我家没气了"))
    assert "silent-call-script" not in evaluate(BOOK, scripted).rules_hit
    assert "silent-call-script" in evaluate(BOOK, bare).rules_hit  # a filler alone is silence
    assert "silent-call-script" not in evaluate(BOOK, talking).rules_hit


def test_silence_longer_than_n_ms():
    spec = RuleSpec.from_dict("s", {"kind": "silence", "any": ["您的电话没有声音"], "silence_ms": 5000})
    book = RuleBook([spec])
    late = _tr(Turn("agent", "您好", 0, 1000), Turn("customer", "喂", 9000, 9500))
    soon = _tr(Turn("agent", "您好", 0, 1000), Turn("customer", "喂", 2000, 2500))
    assert evaluate(book, late).hits and not evaluate(book, soon).hits


def test_noisy_line_script():
    assert "noisy-line-script" in evaluate(BOOK, _tr(("agent", "喂喂？"), noisy=True)).rules_hit
    ok = _tr(("agent", "对不起，您的电话听不清楚，请您大点声，好吗？"), noisy=True)
    assert "noisy-line-script" not in evaluate(BOOK, ok).rules_hit


def test_talking_over_and_hanging_up_first():
    """000 15.2.11–12 (L5): arguing by talking over the customer; hanging up before the customer."""
    over = _tr(
        Turn("customer", "你们这个", 0, 5000),
        Turn("agent", "不是", 2000, 3000),
        Turn("customer", "听我说", 5000, 9000),
        Turn("agent", "你听我说", 6000, 8000),
        hangup_by="agent",
    )
    res = evaluate(BOOK, over)
    assert "talking-over" in res.rules_hit and "hangup-first" in res.rules_hit
    assert [h.at_ms for h in res.hits if h.rule == "talking-over"] == [2000, 6000]
    polite = _tr(
        Turn("customer", "我家没气了", 0, 3000), Turn("agent", "好的", 3100, 4000), hangup_by="customer"
    )
    assert not {"talking-over", "hangup-first"} & set(evaluate(BOOK, polite).rules_hit)


def test_rule_combination_all_none_turns_anchor():
    spec = RuleSpec.from_dict(
        "c",
        {
            "kind": "required",
            "all": ["再见"],
            "none": ["挂了"],
            "after": "您还有其他问题吗",
            "speaker": "agent",
        },
    )
    book = RuleBook([spec])
    assert not evaluate(book, _tr(("agent", "您还有其他问题吗"), ("agent", "再见"))).hits
    assert evaluate(
        book, _tr(("agent", "再见"), ("agent", "您还有其他问题吗"))
    ).hits  # farewell before the anchor
    assert evaluate(book, _tr(("agent", "您还有其他问题吗"), ("agent", "挂了，再见"))).hits


def test_speech_rate():
    spec = RuleSpec.from_dict("r", {"kind": "rate", "rate_cpm": 300})
    fast = _tr(Turn("agent", "请您" * 20, 0, 3000))  # 40 characters in 3 s = 800 a minute
    slow = _tr(Turn("agent", "请您稍等", 0, 4000))
    assert evaluate(RuleBook([spec]), fast).hits and not evaluate(RuleBook([spec]), slow).hits


@pytest.mark.parametrize("rule", RULES, ids=[r["code"] for r in RULES])
def test_seed_rule_examples_pass(rule):
    """Each rule's labelled examples are its tests: precision and recall 100 % on them."""
    spec = RuleSpec.from_dict(rule["code"], rule["spec"], severity=rule["severity"], weight=rule["weight"])
    m = example_metrics(rule["examples"], spec)
    assert m["failures"] == [], m
    assert m["tp"] >= 1


@pytest.mark.parametrize(
    "data,word",
    [
        ({"kind": "nope"}, "未知的规则类型"),
        ({"kind": "forbidden"}, "至少需要"),
        ({"kind": "forbidden", "any": [""]}, "非空短语"),
        ({"kind": "forbidden", "pattern": "("}, "正则"),
        ({"kind": "forbidden", "any": ["x"], "turns": [0, 1]}, "turns"),
        ({"kind": "forbidden", "any": ["x"], "colour": 1}, "未知的字段"),
    ],
)
def test_bad_rule_definitions_are_refused_with_a_message(data, word):
    with pytest.raises(SpecError, match=word):
        RuleSpec.from_dict("x", data)


def test_score_critical_and_floor():
    res = evaluate(
        BOOK,
        _tr(
            ("agent", "我不知道，找领导去，我没工夫，我就这态度，自己看着办"),
            ("agent", "快下班了"),
            ("agent", "我解决不了"),
        ),
    )
    assert res.score == score(res.hits) and 0 <= res.score < 50


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["agent", "customer"]), st.text(max_size=30)), max_size=12))
def test_any_transcript_checks_without_error(turns):
    res = evaluate(BOOK, Transcript(tuple(Turn(s, t) for s, t in turns), company="安泰燃气", surname="王"))
    assert 0 <= res.score <= 100
    for h in res.hits:
        if h.turn is not None:
            assert 0 <= h.start <= h.end <= len(turns[h.turn][1])
