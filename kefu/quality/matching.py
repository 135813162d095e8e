"""Many phrases at once: an Aho–Corasick automaton (pyahocorasick) over normalised phrases. Pure.

pyahocorasick's own longest-match mode (`iter_long`) restarts after each reported match and so
misses phrases that overlap in Chinese text (找领导去 inside 要解决就去找领导去 …). We take every
match (`iter`) and choose ourselves: a match strictly inside a longer one is not reported on its own
but is kept as `inner` of the longer one, so nothing is lost (tests: test_matching.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import ahocorasick

from kefu.quality.normalize import normalize


class Match(NamedTuple):
    """A phrase found at [start, end) of the normalised text; `keys` are the ids given with it
    (one normalised phrase may belong to several rules); `inner` the matches nested inside it."""

    start: int
    end: int
    phrase: str
    keys: tuple = ()
    inner: tuple = ()

    @property
    def length(self) -> int:
        return self.end - self.start


class PhraseIndex:
    """An automaton over normalised phrases. `phrases` is an iterable of (key, phrase); the same
    phrase under several keys is one entry with all its keys. Empty phrases (after normalisation)
    are ignored."""

    def __init__(self, phrases: Iterable[tuple[object, str]]):
        keys: dict[str, list] = {}
        for key, phrase in phrases:
            norm = normalize(phrase)
            if norm:
                bucket = keys.setdefault(norm, [])
                if key not in bucket:
                    bucket.append(key)
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_STRING)
        for norm, ks in keys.items():
            self._automaton.add_word(norm, (norm, tuple(ks)))
        self.size = len(keys)
        if keys:
            self._automaton.make_automaton()

    def all_matches(self, text: str) -> list[Match]:
        """Every occurrence of every phrase in `text` (already normalised), by start then length."""
        if not self.size or not text:
            return []
        out = [
            Match(end + 1 - len(norm), end + 1, norm, ks) for end, (norm, ks) in self._automaton.iter(text)
        ]
        out.sort(key=lambda m: (m.start, -m.length))
        return out

    def find(self, text: str) -> list[Match]:
        """The matches to report: every match not strictly inside a longer one, each carrying the
        matches inside it as `inner`. Partly overlapping matches are both reported."""
        return longest(self.all_matches(text))


def longest(matches: list[Match]) -> list[Match]:
    """Choose the longest of nested matches (pure; `matches` sorted by start, then longest first).

    Sorted that way, a match lies inside an earlier reported match exactly when the reported match
    reaching furthest right ends at or after it ends (two different phrases never share both ends),
    so one pass suffices."""
    outer: list[Match] = []
    inner_of: dict[int, list[Match]] = {}
    reach = -1  # index in `outer` of the match ending furthest right
    for m in matches:
        if reach >= 0 and outer[reach].end >= m.end:
            inner_of.setdefault(reach, []).append(m)
            continue
        outer.append(m)
        if reach < 0 or m.end > outer[reach].end:
            reach = len(outer) - 1
    return [
        Match(o.start, o.end, o.phrase, o.keys, tuple(inner_of[i])) if i in inner_of else o
        for i, o in enumerate(outer)
    ]
