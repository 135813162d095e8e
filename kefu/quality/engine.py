"""The language rules' engine (L1, L2, L3, L4, L5): a transcript and a set of rules in, findings
and a score out.
Pure: no database, no clock. `kefu.quality.services` feeds it from the database; the benchmark
`bench/quality_matching.py` and the hypothesis tests call it directly.

A rule (RuleSpec, stored as JSON on `quality.Rule`) combines:

- `kind`: `forbidden` (a finding where the condition holds, one per turn), `required` (a finding
  when the condition never holds in its scope), `silence` (L4: on a silent call the agent must use
  the script), `noise` (L4: on a noisy line), `overlap` (L5 arguing: the agent starts talking while
  the customer is still talking, `times` or more times, by more than `overlap_ms`), `hangup` (L5:
  the agent hung up first, from the call's end event), `rate` (speech faster than `rate_cpm`
  characters a minute);
- the condition: `any` (one of), `all` (every one of), `none` (none of) phrases, and/or a regular
  expression `pattern` with an `exclude` pattern, all on normalised text (kefu.quality.normalize);
  `{company}` and `{surname}` in phrases and patterns stand for the company's short name and the
  customer's surname (a rule using one is skipped when it is unknown);
- the scope: `speaker` (agent / customer / any), `turns` [first, last] among that speaker's turns
  (1-based; negative counts from the end: [-2, -1] is the last two), `after` / `before` an anchor
  phrase; `silence_ms`, `overlap_ms`, `times`, `rate_cpm` for the timing kinds.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import regex
from django.utils.translation import gettext as _

from kefu.quality import pinyin as py
from kefu.quality.matching import Match, PhraseIndex
from kefu.quality.normalize import normalize, normalize_with_map

_norm = lru_cache(maxsize=8192)(normalize)  # phrases of rules are normalised once

SPEAKERS = ("agent", "customer")
KINDS = ("forbidden", "required", "silence", "noise", "overlap", "hangup", "rate")
SEVERITIES = ("info", "minor", "major", "critical")
SEP = "\x00"  # between turns in the joined text; never in a normalised phrase
log = logging.getLogger("kefu.quality")
#: Regular expressions of rules are guarded (docs/decisions.md): at most PATTERN_MAX characters,
#: compiled on save, probed on save against long inputs, and every search at check time runs with
#: the `regex` module's timeout — a pattern that takes longer is dropped from its rule book (logged)
#: instead of stalling the worker (catastrophic backtracking, e.g. `(x+x+)+y`).
PATTERN_MAX = 200
MATCH_TIMEOUT = 0.05  # seconds, per search of one turn
PROBE_TIMEOUT = 0.2
_PROBES = ("x" * 3000 + "!", "a" * 3000 + "!", "您好" * 1500 + "！", "1" * 3000 + "a")


class SpecError(ValueError):
    """A rule's definition cannot be used (message in Chinese for the editor)."""


class Turn(NamedTuple):
    """One turn of a transcript (a tuple: a transcript of thousands of turns is built per check, and
    a frozen dataclass's constructor cost more than matching it)."""

    speaker: str
    text: str
    start_ms: int | None = None
    end_ms: int | None = None
    noise: bool = False


@dataclass(frozen=True)
class Transcript:
    """What is checked. `hangup_by` is "agent" / "customer" / "" (unknown, chats and replies)."""

    turns: tuple[Turn, ...]
    company: str = ""
    surname: str = ""
    hangup_by: str = ""
    noisy: bool = False


def _check_pattern(name: str, source: str) -> None:
    """A rule's regular expression on save: its length, that it compiles (`regex`, re-compatible
    syntax), and that it answers quickly on long inputs (catastrophic backtracking is refused)."""
    if not source:
        return
    if len(source) > PATTERN_MAX:
        raise SpecError(_("%(f)s 过长（最多 %(n)s 个字符）。") % {"f": name, "n": PATTERN_MAX})
    try:
        compiled = regex.compile(source.replace("{company}", "x").replace("{surname}", "x"))
    except (regex.error, ValueError, OverflowError) as exc:
        raise SpecError(_("%(f)s 不是有效的正则表达式：%(e)s") % {"f": name, "e": exc}) from None
    try:
        for probe in _PROBES:
            compiled.search(probe, timeout=PROBE_TIMEOUT)
    except TimeoutError:
        raise SpecError(
            _("%(f)s 的正则表达式匹配过慢（可能存在灾难性回溯），请简化。") % {"f": name}
        ) from None


@dataclass(frozen=True)
class RuleSpec:
    code: str
    kind: str
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    pattern: str = ""
    exclude: str = ""
    speaker: str = "agent"
    turns: tuple[int, int] | None = None
    after: str = ""
    before: str = ""
    silence_ms: int = 0
    overlap_ms: int = 0
    times: int = 1
    rate_cpm: int = 0
    pinyin: bool = False
    severity: str = "minor"
    weight: int = 5

    @classmethod
    def from_dict(cls, code: str, data: dict, *, severity: str = "minor", weight: int = 5) -> RuleSpec:
        """Validate a rule's JSON definition (raises SpecError with a message for the editor)."""
        if not isinstance(data, dict):
            raise SpecError(_("规则定义应为 JSON 对象。"))
        kind = data.get("kind")
        if kind not in KINDS:
            raise SpecError(
                _("未知的规则类型：%(k)s（可用：%(all)s）。") % {"k": repr(kind), "all": "、".join(KINDS)}
            )
        unknown = set(data) - {f for f in cls.__dataclass_fields__ if f not in ("code", "severity", "weight")}
        if unknown:
            raise SpecError(_("未知的字段：%(f)s。") % {"f": "、".join(sorted(map(str, unknown)))})

        def phrases(name: str) -> tuple[str, ...]:
            v = data.get(name, [])
            if not isinstance(v, list) or not all(isinstance(p, str) and p.strip() for p in v):
                raise SpecError(_("%(f)s 应为非空短语的列表。") % {"f": name})
            return tuple(v)

        def integer(name: str, default: int = 0) -> int:
            v = data.get(name, default)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 10**8:
                raise SpecError(_("%(f)s 应为 0 到 100000000 之间的整数。") % {"f": name})
            return v

        speaker = data.get("speaker", "agent")
        if speaker not in (*SPEAKERS, ""):
            raise SpecError(_("speaker 应为 agent、customer 或空（任何一方）。"))
        turns = data.get("turns")
        if turns is not None:
            ok = isinstance(turns, list) and len(turns) == 2
            ok = ok and all(isinstance(t, int) and not isinstance(t, bool) and t != 0 for t in turns)
            if not ok:
                raise SpecError(_("turns 应为两个非零整数 [起, 止]（负数从最后一轮倒数）。"))
            turns = (turns[0], turns[1])
        for name in ("pattern", "exclude", "after", "before"):
            if not isinstance(data.get(name, ""), str):
                raise SpecError(_("%(f)s 应为字符串。") % {"f": name})
        for name in ("pattern", "exclude"):
            _check_pattern(name, data.get(name, ""))
        if not isinstance(data.get("pinyin", False), bool):
            raise SpecError(_("pinyin 应为 true 或 false。"))
        if severity not in SEVERITIES:
            raise SpecError(_("未知的严重程度：%(s)s。") % {"s": repr(severity)})
        spec = cls(
            code=code,
            kind=kind,
            any=phrases("any"),
            all=phrases("all"),
            none=phrases("none"),
            pattern=data.get("pattern", ""),
            exclude=data.get("exclude", ""),
            speaker=speaker,
            turns=turns,
            after=data.get("after", ""),
            before=data.get("before", ""),
            silence_ms=integer("silence_ms"),
            overlap_ms=integer("overlap_ms"),
            times=max(1, integer("times", 1)),
            rate_cpm=integer("rate_cpm"),
            pinyin=data.get("pinyin", False),
            severity=severity,
            weight=weight,
        )
        if kind in ("forbidden", "required", "silence", "noise") and not (
            spec.any or spec.all or spec.pattern
        ):
            raise SpecError(_("该类型的规则至少需要 any、all 或 pattern 之一。"))
        if kind == "rate" and not spec.rate_cpm:
            raise SpecError(_("语速规则需要 rate_cpm（每分钟字数上限）。"))
        return spec

    def phrases(self) -> Iterable[str]:
        yield from self.any
        yield from self.all
        yield from self.none
        if self.after:
            yield self.after
        if self.before:
            yield self.before


@dataclass(frozen=True)
class Hit:
    """One finding. `turn` is the index in the transcript (None for a whole-call finding such as a
    missing closing); `start`/`end` are positions in that turn's original text; `at_ms` the time in
    the recording when timings exist. `missing` is True for a required phrase not said."""

    rule: str
    turn: int | None
    start: int = 0
    end: int = 0
    phrase: str = ""
    at_ms: int | None = None
    missing: bool = False
    severity: str = "minor"
    weight: int = 0


@dataclass
class Result:
    hits: list[Hit] = field(default_factory=list)
    score: int = 100

    @property
    def rules_hit(self) -> list[str]:
        return sorted({h.rule for h in self.hits})


def _fill(text: str, tr: Transcript) -> str | None:
    if "{company}" in text:
        if not tr.company:
            return None
        text = text.replace("{company}", tr.company)
    if "{surname}" in text:
        if not tr.surname:
            return None
        text = text.replace("{surname}", tr.surname)
    return text


def _needs_context(spec: RuleSpec) -> bool:
    parts = (*spec.phrases(), spec.pattern, spec.exclude)
    return any("{company}" in p or "{surname}" in p for p in parts)


class RuleBook:
    """A compiled set of rules: one automaton over the phrases of every rule without placeholders;
    rules with `{company}` / `{surname}` are compiled per transcript context (cached)."""

    def __init__(self, specs: Sequence[RuleSpec]):
        self.specs = list(specs)
        self._static = [s for s in self.specs if not _needs_context(s)]
        self._dynamic = [s for s in self.specs if _needs_context(s)]
        self.index = PhraseIndex((s.code, p) for s in self._static for p in s.phrases())
        self._ctx_cache: dict[tuple[str, str], tuple[list[RuleSpec], PhraseIndex]] = {}
        self._patterns: dict[str, regex.Pattern | None] = {}
        # pinyin-level phrases (rules with "pinyin": true): (rule code, normalised phrase, pinyin key)
        self._pinyin = [
            (s.code, _norm(p), py.key(_norm(p)))
            for s in self._static
            if s.pinyin
            for p in (*s.any, *s.all)
            if py.key(_norm(p))
        ]

    def _context(self, tr: Transcript) -> tuple[list[RuleSpec], PhraseIndex]:
        key = (tr.company, tr.surname)
        if key not in self._ctx_cache:
            filled = []
            for s in self._dynamic:
                f = {name: _fill(getattr(s, name), tr) for name in ("pattern", "exclude", "after", "before")}
                lists = {
                    name: tuple(_fill(p, tr) for p in getattr(s, name)) for name in ("any", "all", "none")
                }
                if None in f.values() or any(None in v for v in lists.values()):
                    continue
                filled.append(RuleSpec(**{**s.__dict__, **f, **lists}))
            # one automaton over the static rules' phrases and these, so a transcript is scanned once
            everything = self._static + filled
            index = PhraseIndex((s.code, p) for s in everything for p in s.phrases())
            if len(self._ctx_cache) > 1000:
                self._ctx_cache.clear()
            self._ctx_cache[key] = (filled, index)
        return self._ctx_cache[key]

    def search(self, source: str, text: str):
        """`regex` search with the timeout; a pattern that times out is dropped from this book
        (None from now on, logged) so one bad rule cannot stall the worker."""
        if source not in self._patterns:
            try:
                self._patterns[source] = regex.compile(source)
            except (regex.error, ValueError, OverflowError):
                log.warning("rule pattern %r does not compile: skipped", source)
                self._patterns[source] = None
        p = self._patterns[source]
        if p is None:
            return None
        try:
            return p.search(text, timeout=MATCH_TIMEOUT)
        except TimeoutError:
            log.warning("rule pattern %r timed out: dropped from the rule book", source)
            self._patterns[source] = None
            return None


@dataclass
class _Prepared:
    texts: list[str]  # normalised text per turn
    found: list[dict[str, list[Match]]]  # per turn: normalised phrase -> matches (positions in the turn)
    turns_of: dict[str, set[int]]  # rule code -> turns where one of its phrases was found
    by_speaker: dict[str, list[int]] = field(default_factory=dict)


def _prepare(tr: Transcript, index: PhraseIndex, texts: list[str] | None = None) -> _Prepared:
    """Normalise every turn (one OpenCC call for the whole transcript) and run the automaton once
    over the joined text; matches are then given back to their turns."""
    if texts is None:
        raw = SEP.join([t.text for t in tr.turns])
        if raw.count(SEP) != len(tr.turns) - 1:  # a turn's own SEP would split it: made a space
            raw = SEP.join([t.text.replace(SEP, " ") for t in tr.turns])
        joined = normalize(raw)
        texts = joined.split(SEP) if tr.turns else []
        if len(texts) != len(tr.turns):  # cannot happen (SEP is kept by normalize) — be safe
            texts = [normalize(t.text) for t in tr.turns]
            joined = SEP.join(texts)
    else:
        joined = SEP.join(texts)
    found: list[dict[str, list[Match]]] = [{} for _ in texts]
    turns_of: dict[str, set[int]] = {}
    starts = []
    pos = 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + 1
    for m in index.find(joined):
        i = bisect_right(starts, m.start) - 1
        off = starts[i]
        for mm in (m, *m.inner):
            local = Match(mm.start - off, mm.end - off, mm.phrase, mm.keys)
            found[i].setdefault(mm.phrase, []).append(local)
            for k in mm.keys:
                turns_of.setdefault(k, set()).add(i)
    by_speaker: dict[str, list[int]] = {"": list(range(len(tr.turns)))}
    for i, t in enumerate(tr.turns):
        by_speaker.setdefault(t.speaker, []).append(i)
    return _Prepared(texts, found, turns_of, by_speaker)


def _add_pinyin(prep: _Prepared, phrases: list[tuple[str, str, str]]) -> None:
    """Homophones (and phrases written in pinyin) of the pinyin rules, found per turn at syllable
    level and added to the automaton's findings under the phrase they sound like."""
    for i, text in enumerate(prep.texts):
        for code, phrase, k in phrases:
            spots = py.find(text, k)
            if not spots:
                continue
            have = {(m.start, m.end) for m in prep.found[i].get(phrase, [])}
            extra = [Match(a, b, phrase, (code,)) for a, b in spots if (a, b) not in have]
            if extra:
                prep.found[i].setdefault(phrase, []).extend(extra)
                prep.turns_of.setdefault(code, set()).add(i)


def _scope(spec: RuleSpec, prep: _Prepared) -> list[int]:
    idx = prep.by_speaker.get(spec.speaker, [])
    if spec.turns:
        first, last = spec.turns
        n = len(idx)
        a = first - 1 if first > 0 else n + first
        b = last if last > 0 else n + last + 1
        idx = idx[max(a, 0) : max(b, 0)]
    return idx


def _turn_condition(spec: RuleSpec, book: RuleBook, text: str, found: dict) -> tuple[bool, Match | None]:
    """Whether the condition holds in one turn's text, and the match to highlight."""
    first: Match | None = None
    if spec.any:
        hits = [found[p][0] for p in (_norm(x) for x in spec.any) if p in found]
        if not hits:
            return False, None
        first = min(hits, key=lambda m: (m.start, -m.length))
    for p in spec.all:
        ms = found.get(_norm(p))
        if not ms:
            return False, None
        first = first or ms[0]
    for p in spec.none:
        if _norm(p) in found:
            return False, None
    if spec.pattern:
        m = book.search(spec.pattern, text)
        if not m:
            return False, None
        first = first or Match(m.start(), m.end(), m.group(0))
    if spec.exclude and book.search(spec.exclude, text):
        return False, None
    return True, first


def _cut(spec: RuleSpec, prep: _Prepared, i: int) -> tuple[str, dict]:
    """The part of turn i inside the rule's after/before anchors (anchors searched in the turn)."""
    text, found = prep.texts[i], prep.found[i]
    lo, hi = 0, len(text)
    if spec.after:
        pos = text.rfind(_norm(spec.after))
        if pos >= 0:
            lo = pos + len(_norm(spec.after))
    if spec.before:
        pos = text.find(_norm(spec.before))
        if pos >= 0:
            hi = pos
    if lo == 0 and hi == len(text):
        return text, found
    sub = {p: [m for m in ms if m.start >= lo and m.end <= hi] for p, ms in found.items()}
    return text[lo:hi], {p: ms for p, ms in sub.items() if ms}


def _anchor_turns(spec: RuleSpec, prep: _Prepared, idx: list[int]) -> list[int]:
    """Restrict the scope to turns at or after the first `after` anchor / at or before the last
    `before` anchor of the whole transcript."""
    if spec.after:
        a = _norm(spec.after)
        starts = [i for i in range(len(prep.texts)) if a in prep.texts[i]]
        idx = [i for i in idx if starts and i >= starts[0]]
    if spec.before:
        b = _norm(spec.before)
        ends = [i for i in range(len(prep.texts)) if b in prep.texts[i]]
        idx = [i for i in idx if not ends or i <= ends[-1]]
    return idx


def _hit(spec: RuleSpec, tr: Transcript, i: int | None, m: Match | None, *, missing=False) -> Hit:
    if i is None or m is None:
        phrase = (spec.any or spec.all or (spec.pattern,))[0] if missing else ""
        return Hit(spec.code, i, phrase=phrase, missing=missing, severity=spec.severity, weight=spec.weight)
    turn = tr.turns[i]
    start, end = normalize_with_map(turn.text).span(m.start, m.end)
    at = None
    if turn.start_ms is not None:
        at = turn.start_ms
        if turn.end_ms is not None and turn.text:
            at += (turn.end_ms - turn.start_ms) * start // max(len(turn.text), 1)
    return Hit(spec.code, i, start, end, turn.text[start:end], at, missing, spec.severity, spec.weight)


def _holds_somewhere(spec: RuleSpec, book: RuleBook, prep: _Prepared, idx: list[int]) -> bool:
    for i in idx:
        text, found = _cut(spec, prep, i)
        if _turn_condition(spec, book, text, found)[0]:
            return True
    return False


def _silent(tr: Transcript, texts: list[str], silence_ms: int) -> bool:
    """A silent call: the customer says nothing, or nothing for more than silence_ms from the start."""
    first = next(
        (t for t, text in zip(tr.turns, texts, strict=True) if t.speaker == "customer" and text), None
    )
    if first is None:
        return True
    if silence_ms and first.start_ms is not None:
        start = min((t.start_ms for t in tr.turns if t.start_ms is not None), default=0)
        return first.start_ms - start > silence_ms
    return False


def _evaluate_rule(spec: RuleSpec, book: RuleBook, tr: Transcript, prep: _Prepared) -> list[Hit]:
    if spec.kind == "hangup":
        return [_hit(spec, tr, None, None)] if tr.hangup_by == "agent" else []
    if spec.kind == "overlap":
        return _overlaps(spec, tr)
    phrase_based = bool(spec.any or spec.all) and spec.kind in ("forbidden", "required", "silence", "noise")
    if phrase_based:  # the condition can only hold where the automaton found one of the rule's phrases
        where = prep.turns_of.get(spec.code)
        idx = [i for i in _anchor_turns(spec, prep, _scope(spec, prep)) if i in where] if where else []
    else:
        idx = _anchor_turns(spec, prep, _scope(spec, prep))
    if spec.kind == "forbidden":
        out = []
        for i in idx:
            text, found = _cut(spec, prep, i)
            ok, m = _turn_condition(spec, book, text, found)
            if ok:
                out.append(_hit(spec, tr, i, m))
        return out
    if spec.kind == "required":
        if not idx or not _holds_somewhere(spec, book, prep, idx):
            return [_hit(spec, tr, None, None, missing=True)]
        return []
    if spec.kind == "silence":
        if (
            tr.turns
            and _silent(tr, prep.texts, spec.silence_ms)
            and not _holds_somewhere(spec, book, prep, idx)
        ):
            return [_hit(spec, tr, None, None, missing=True)]
        return []
    if spec.kind == "noise":
        if (tr.noisy or any(t.noise for t in tr.turns)) and not _holds_somewhere(spec, book, prep, idx):
            return [_hit(spec, tr, None, None, missing=True)]
        return []
    if spec.kind == "rate":
        return _rate(spec, tr, prep.texts, idx)
    return []


def _overlaps(spec: RuleSpec, tr: Transcript) -> list[Hit]:
    """The agent starts while the customer's turn is still going on by more than overlap_ms."""
    talking_over = []
    customer_end = None
    for i, t in enumerate(tr.turns):
        if t.start_ms is None or t.end_ms is None:
            continue
        if t.speaker == "customer":
            customer_end = t.end_ms if customer_end is None else max(customer_end, t.end_ms)
        elif (
            t.speaker == "agent" and customer_end is not None and customer_end - t.start_ms > spec.overlap_ms
        ):
            talking_over.append(i)
    if len(talking_over) < spec.times:
        return []
    return [
        Hit(spec.code, i, 0, 0, "", tr.turns[i].start_ms, False, spec.severity, spec.weight)
        for i in talking_over
    ]


def _rate(spec: RuleSpec, tr: Transcript, texts: list[str], idx: list[int]) -> list[Hit]:
    out = []
    for i in idx:
        t = tr.turns[i]
        if t.start_ms is None or t.end_ms is None or t.end_ms - t.start_ms < 3000:
            continue  # a short turn says nothing about speed
        cpm = len(texts[i]) * 60000 / (t.end_ms - t.start_ms)
        if cpm > spec.rate_cpm:
            out.append(Hit(spec.code, i, 0, 0, "", t.start_ms, False, spec.severity, spec.weight))
    return out


def score(hits: Iterable[Hit], *, base: int = 100) -> int:
    """The automatic score: `base` less each rule's weight once per rule hit, 0 if any critical rule
    is hit, never below 0."""
    seen: dict[str, Hit] = {}
    for h in hits:
        seen.setdefault(h.rule, h)
    if any(h.severity == "critical" for h in seen.values()):
        return 0
    return max(0, base - sum(h.weight for h in seen.values()))


def evaluate(book: RuleBook, tr: Transcript) -> Result:
    """Check one transcript against every rule of the book."""
    if book._dynamic:
        dynamic, index = book._context(tr)
    else:
        dynamic, index = [], book.index
    prep = _prepare(tr, index)
    if book._pinyin:
        _add_pinyin(prep, book._pinyin)
    hits: list[Hit] = []
    for spec in book._static:
        hits.extend(_evaluate_rule(spec, book, tr, prep))
    for spec in dynamic:
        hits.extend(_evaluate_rule(spec, book, tr, prep))
    hits.sort(key=lambda h: (h.turn if h.turn is not None else 10**9, h.start, h.rule))
    return Result(hits, score(hits))


def example_metrics(examples: Sequence[dict], spec: RuleSpec) -> dict:
    """Precision and recall of one rule on its labelled examples (each `{"text" or "turns",
    "hit": bool}`): the rule's own tests, shown when it is edited."""
    tp = fp = fn = tn = 0
    failures = []
    book = RuleBook([spec])
    for n, ex in enumerate(examples):
        tr = example_transcript(ex)
        got = bool(evaluate(book, tr).hits)
        want = bool(ex.get("hit"))
        if got and want:
            tp += 1
        elif got and not want:
            fp += 1
            failures.append(n)
        elif want:
            fn += 1
            failures.append(n)
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "failures": failures,
    }


def example_transcript(ex: dict) -> Transcript:
    """A labelled example as a transcript: `text` is one agent turn; or `turns` like the API's."""
    ctx = {k: ex.get(k, "") for k in ("company", "surname", "hangup_by")}
    if "turns" in ex:
        turns = tuple(
            Turn(
                t.get("speaker", "agent"),
                t.get("text", ""),
                t.get("start_ms"),
                t.get("end_ms"),
                bool(t.get("noise")),
            )
            for t in ex["turns"]
        )
    else:
        turns = (Turn("agent", ex.get("text", "")),)
    return Transcript(turns, noisy=bool(ex.get("noisy")), **ctx)
