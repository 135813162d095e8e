"""Normalisation of spoken and written Chinese before phrase matching (L1, L2, L3, L4, L5). Pure functions.

The same steps apply to a rule's phrases and to the text checked, so a phrase written once matches
every way it is spoken or typed:

1. traditional → simplified (OpenCC `t2s`): 請您稍等 → 请您稍等;
2. full-width → half-width and lower case (NFKC per character): ＡＢＣ１２３ → abc123;
3. punctuation, symbols and spaces dropped: 不知道，。！ → 不知道;
4. filler words dropped: 嗯、啊、呃、额、哦、噢 and 那个 (speech recognition writes them between words);
5. a run of three or more Chinese digits becomes digits (telephone numbers): 八六一九六一二 → 8619612.

`normalize(text)` is the fast path (str.translate, one OpenCC call); `normalize_with_map(text)`
also returns, for each normalised character, the index of the character it came from in the
original, so a hit is shown at its place in the original transcript. Both give the same text
(tested with hypothesis); matching uses the fast path and only the turns with hits are mapped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

#: Single-character fillers of speech (dropped). 那个 is dropped as a word (FILLER_WORDS).
FILLER_CHARS = "嗯啊呃额哦噢唔"
FILLER_WORDS = ("那个",)
_DIGITS = {"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4"}
_DIGITS |= {"五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
#: A run this long of Chinese digits is a number read out (telephone, account number).
MIN_DIGIT_RUN = 3
_DIGIT_RUN = re.compile("[" + "".join(_DIGITS) + "]{%d,}" % MIN_DIGIT_RUN)


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _char_out(ch: str) -> str:
    """What one (already simplified) character becomes after steps 2–4 ("" = dropped)."""
    if ch in FILLER_CHARS:
        return ""
    if ch == "\x00":  # the separator of turns in a joined transcript (kefu.quality.engine.SEP)
        return ch
    cat = unicodedata.category(ch)
    if cat[0] in "PZSC":
        return ""
    folded = unicodedata.normalize("NFKC", ch).lower()
    out = []
    for c in folded:  # NFKC may expand (e.g. ㈱); drop punctuation it produced
        if unicodedata.category(c)[0] not in "PZSC" and c not in FILLER_CHARS:
            out.append(c)
    return "".join(out)


class _Table(dict):
    """str.translate table computed lazily, one entry per character ever seen."""

    def __missing__(self, code: int) -> str:
        out = _char_out(chr(code))
        self[code] = out
        return out


_TABLE = _Table()


def to_simplified(text: str) -> str:
    """Traditional → simplified, one character for one character (OpenCC t2s). Where OpenCC's phrase
    conversion would change the length, each character is converted on its own instead, so positions
    in the original keep their meaning."""
    if not text:
        return text
    out = _converter().convert(text)
    if len(out) == len(text):
        return out
    conv = _converter().convert
    chars = []
    for ch in text:
        c = conv(ch)
        chars.append(c if len(c) == 1 else ch)
    return "".join(chars)


def _digits(match: re.Match) -> str:
    return "".join(_DIGITS[c] for c in match.group(0))


def _ranges(cps: list[int]) -> str:
    out, i = [], 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        a, b = cps[i], cps[j]
        out.append(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}")
        i = j + 1
    return "".join(out)


@lru_cache(maxsize=1)
def _classes() -> tuple[re.Pattern, re.Pattern]:
    """Two character classes over the Basic Multilingual Plane, computed once from `_char_out`:
    the characters dropped, and the characters changed (full-width, upper case …). Astral
    characters always take the slow path. This lets `normalize` do its work with two C-speed regex
    passes; it gives exactly what `str.translate(_TABLE)` gives (tested with hypothesis)."""
    dropped, changed = [], []
    for cp in range(0x10000):
        out = _char_out(chr(cp))
        if out == "":
            dropped.append(cp)
        elif out != chr(cp) and not (0x41 <= cp <= 0x5A):  # ASCII capitals: _UPPER, cheaper
            changed.append(cp)
    astral = "\U00010000-\U0010ffff"
    return re.compile(f"[{_ranges(dropped)}]+"), re.compile(f"[{_ranges(changed)}{astral}]")


_UPPER = re.compile("[A-Z]+")


def _lower(match: re.Match) -> str:
    return match.group(0).lower()


def normalize(text: str) -> str:
    """The normalised form of `text` (steps 1–5 of the module docstring)."""
    drop, change = _classes()
    s = drop.sub("", to_simplified(text))
    if change.search(s):
        s = s.translate(_TABLE)
    elif _UPPER.search(s):  # "IC卡": only ASCII capitals to fold
        s = _UPPER.sub(_lower, s)
    for word in FILLER_WORDS:
        if word in s:
            s = s.replace(word, "")
    return _DIGIT_RUN.sub(_digits, s)


@dataclass(frozen=True)
class Normalized:
    """A normalised text and, per normalised character, the index of its source in the original."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span [start, end) of the normalised text as a span of the original text."""
        if start >= end or not self.origin:
            return (0, 0)
        return (self.origin[start], self.origin[end - 1] + 1)


def normalize_with_map(text: str) -> Normalized:
    """Like `normalize`, with the original position of every normalised character."""
    simple = to_simplified(text)
    pairs: list[tuple[str, int]] = []
    for i, ch in enumerate(simple):
        for c in _TABLE[ord(ch)]:
            pairs.append((c, i))
    for word in FILLER_WORDS:  # same left-to-right, non-overlapping removal as str.replace
        s = "".join(c for c, _ in pairs)
        if word not in s:
            continue
        keep, i = [], 0
        while i < len(pairs):
            if s.startswith(word, i):
                i += len(word)
                continue
            keep.append(pairs[i])
            i += 1
        pairs = keep
    s = "".join(c for c, _ in pairs)
    out: list[tuple[str, int]] = []
    last = 0
    for m in _DIGIT_RUN.finditer(s):
        out.extend(pairs[last : m.start()])
        out.extend((_DIGITS[c], pairs[m.start() + k][1]) for k, c in enumerate(m.group(0)))
        last = m.end()
    out.extend(pairs[last:])
    return Normalized("".join(c for c, _ in out), tuple(i for _, i in out))
