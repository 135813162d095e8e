"""Normalising what callers and billing exports write, so lookups run on indexed exact values (P2).

Phones: "+86 138-0013-8000", "0086 13800138000", "(0538) 620-1234", "6201234" with the company's
area code → "13800138000", "05386201234". Addresses: "3号楼2单元501", "3-2-501", "3栋2单元501室",
"3幢2单元501", "3#楼2单元501" → building "3", unit "2", room "501".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}\d{7,8}$")
LOCAL_RE = re.compile(r"^[2-9]\d{6,7}$")
SERVICE_RE = re.compile(r"^[48]00\d{7}$")  # 400/800 numbers businesses give as their contact
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EXTENSION_RE = re.compile(r"(转|分机|ext\.?|x)\s*\d+$", re.IGNORECASE)


def fold(text: str) -> str:
    """Full-width to half-width (NFKC) and trimmed: "１３８" → "138", "３号楼" → "3号楼"."""
    text = unicodedata.normalize("NFKC", text or "")
    if _CONTROL_RE.search(text):
        # NUL and other control characters come only from broken clients; PostgreSQL refuses NUL.
        text = _CONTROL_RE.sub("", text)
    return text.strip()


def clean_text(text: str | None) -> str:
    """Free text (notes) as written — no NFKC, so "，" stays — without control characters."""
    return _CONTROL_RE.sub("", text or "").strip()


def normalize_phone(raw: str, area_code: str = "") -> str | None:
    """The canonical form of a phone number, or None if it cannot be one.

    Mobiles become 11 digits; landlines become area code + number (e.g. 05386201234); a 7–8 digit
    local number gets the company's `area_code`. Country prefixes (+86, 0086, 86) and separators go.
    """
    text = _EXTENSION_RE.sub("", fold(raw))
    digits = re.sub(r"[\s\-().·/]", "", text)
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("86"):
            return None
    if not digits.isdigit():
        return None
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (10, 11, 12):
            rest = digits[len(prefix) :]
            if MOBILE_RE.match(rest) or LANDLINE_RE.match(rest):
                return rest  # "+86 138…", "+86 (0538) 620…" (the trunk 0 written anyway)
            if LANDLINE_RE.match("0" + rest) and not rest.startswith("0"):
                return "0" + rest
    if MOBILE_RE.match(digits) or LANDLINE_RE.match(digits) or SERVICE_RE.match(digits):
        return digits
    if LOCAL_RE.match(digits) and area_code:
        return area_code + digits
    return None


def phone_kind(number: str) -> str:
    """ "mobile", "landline" or "other" (400/800 service numbers) for a normalised number."""
    if MOBILE_RE.match(number):
        return "mobile"
    return "other" if SERVICE_RE.match(number) else "landline"


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _cn_number(text: str) -> str:
    """Small Chinese numerals to digits: "三" → "3", "十二" → "12", "二十" → "20"."""
    if not text or any(c not in _CN_DIGITS and c != "十" for c in text):
        return text
    if "十" in text:
        tens, _, ones = text.partition("十")
        return str((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0))
    return "".join(str(_CN_DIGITS[c]) for c in text)


_NUM = r"([0-9A-Za-z]+|[零〇一二两三四五六七八九十]+)"
_STRUCTURED_RE = re.compile(
    _NUM + r"\s*(?:号楼|号|栋|幢|座|#楼|#|楼)\s*-?\s*"
    r"(?:" + _NUM + r"\s*(?:单元|门|-)\s*)?"
    r"(?:" + _NUM + r"\s*(?:室|号|户)?)?\s*$"
)
_DASHED_RE = re.compile(r"(\d+)\s*[-－—/]\s*(\d+)\s*[-－—/]\s*(\d+)\s*(?:室)?\s*$")


@dataclass(frozen=True)
class AddressParts:
    """The parts of a written address a caller gives; empty strings where not given."""

    community: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""

    @property
    def has_location(self) -> bool:
        return bool(self.building or self.room)


def normalize_part(value: str) -> str:
    """A building, unit or room as stored: digits/letters only, upper case, no leading zeros.

    "3号楼" → "3", "02单元" → "2", "501室" → "501", "A座" → "A", "三" → "3".
    """
    text = fold(value).upper()
    text = re.sub(r"(号楼|单元|号|栋|幢|座|楼|室|户|门|#)", "", text).strip()
    text = _cn_number(text)
    text = re.sub(r"[^0-9A-Z]", "", text)
    return text.lstrip("0") or ("0" if text else "")


# 区 but not 小区/社区, which end a community's own name ("山锦小区四期").
_ADMIN_PART_RE = re.compile(r"^.*(?:省|市|(?<![小社])区|县|旗|镇|乡|街道|大街|路|街|道|巷|弄)(?=.{2,}$)")


def community_name(prefix: str) -> str:
    """The community from what precedes the building: "泰山区岱宗大街幸福小区" → "幸福小区".

    Cuts everything up to the last district/street word, if at least two characters remain."""
    text = fold(prefix).replace(" ", "")
    return _ADMIN_PART_RE.sub("", text)


def parse_address(text: str) -> AddressParts:
    """Split a caller's address fragment into community + building/unit/room where it can.

    "幸福小区3号楼2单元501" → ("幸福小区", "3", "2", "501"); "3-2-501" → ("", "3", "2", "501");
    "幸福小区" → ("幸福小区", "", "", "").
    """
    text = fold(text).replace(" ", "")
    if not text:
        return AddressParts()
    m = _DASHED_RE.search(text)
    if m:
        return AddressParts(text[: m.start()].strip("-,， "), *(normalize_part(g) for g in m.groups()))
    m = _STRUCTURED_RE.search(text)
    if m:
        building, unit, room = (normalize_part(g) if g else "" for g in m.groups())
        return AddressParts(text[: m.start()].strip("-,， "), building, unit, room)
    return AddressParts(community=text)
