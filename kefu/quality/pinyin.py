"""Pinyin-level matching (pure functions): a phrase also matches its homophones — what a speech
recogniser writes when it picks the wrong characters for the right sounds (不知道 → 不只道), and a
phrase written in pinyin (`buzhidao`, `bu zhi dao`). Tones are dropped: 找领导 matches 找领到.

Text and phrase become toneless pinyin (pypinyin, docs/decisions.md); a match must start and end on
a syllable boundary of the text, and gives back the positions of the characters it covers, so a hit
is highlighted in the transcript like any other. Only rules with `"pinyin": true` use it (the
conversion costs more than the automaton), and only for their fixed phrases (`any`, `all`).
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache

from pypinyin import Style, lazy_pinyin


def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"


@lru_cache(maxsize=4096)
def _run_pinyin(run: str) -> tuple[str, ...]:
    out = lazy_pinyin(run, style=Style.NORMAL, errors="default")
    if len(out) != len(run):  # a character pypinyin keeps whole: one by one
        out = [lazy_pinyin(c, style=Style.NORMAL)[0] if _is_cjk(c) else c for c in run]
    return tuple(s.lower() for s in out)


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(syllable, start, end) of `text`: one per Chinese character (its toneless pinyin), one per
    run of Latin letters or digits (lower-cased); other characters are skipped."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if _is_cjk(c):
            j = i
            while j < n and _is_cjk(text[j]):
                j += 1
            for k, syl in enumerate(_run_pinyin(text[i:j])):
                out.append((syl, i + k, i + k + 1))
            i = j
        elif c.isascii() and c.isalnum():
            j = i
            while j < n and text[j].isascii() and text[j].isalnum():
                j += 1
            out.append((text[i:j].lower(), i, j))
            i = j
        else:
            i += 1
    return out


@lru_cache(maxsize=8192)
def key(phrase: str) -> str:
    """The phrase's toneless pinyin letters without separators: 不知道 / bu zhi dao → buzhidao."""
    return "".join(s for s, _a, _b in tokens(phrase))


def find(text: str, phrase_key: str) -> list[tuple[int, int]]:
    """Where `phrase_key` (see key()) occurs in `text` at syllable level: [(start, end)] positions
    of `text`'s characters, matches aligned on syllable boundaries only."""
    if not phrase_key:
        return []
    toks = tokens(text)
    if not toks:
        return []
    joined = "".join(s for s, _a, _b in toks)
    bounds, pos = [], 0
    for s, _a, _b in toks:
        bounds.append(pos)
        pos += len(s)
    out = []
    at = joined.find(phrase_key)
    while at >= 0:
        i = bisect_left(bounds, at)
        end = at + len(phrase_key)
        j = bisect_left(bounds, end)
        if (
            i < len(bounds)
            and bounds[i] == at
            and (j == len(bounds) and end == pos or j < len(bounds) and bounds[j] == end)
        ):
            out.append((toks[i][1], toks[j - 1][2]))
        at = joined.find(phrase_key, at + 1)
    return out
