"""Reading the State Council's holiday notice (国务院办公厅关于××××年部分节假日安排的通知).

SPEC Time rules: working days follow the official calendar. The notice is published each autumn for
the next year; a supervisor pastes its text, kefu reads the holidays and make-up working days (调休上班)
from it, shows them, and enters them as calendar overrides only after the supervisor confirms.

`parse_notice` is a pure function (no database, no clock): text in, `Notice` out, or `NoticeError`
with a message in Chinese that says which line could not be read. It checks what the notice itself
states — the weekday in brackets and "共N天" — so a typo in a pasted text is refused rather than
silently entered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

WEEKDAY_CHARS = "一二三四五六日"
ITEM = re.compile(r"^\s*[一二三四五六七八九十]+\s*、\s*([^:：]{1,12})[:：]\s*(.+)$")
# A date as the notice writes it: optional year, optional month (a range's end may omit it), day,
# and optional brackets such as （周四） or （农历腊月二十八、周日）.
DATE = r"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日(?:\((?P<{p}b>[^)]*)\))?"
HOLIDAY = re.compile(DATE.format(p="a") + r"(?:至" + DATE.format(p="b") + r")?(?:放假|休息)")
WORKDAY = re.compile(DATE.format(p="w"))
TOTAL = re.compile(r"共(\d+)天")
YEAR = re.compile(r"(?:关于|现将)\s*(\d{4})\s*年")


class NoticeError(ValueError):
    """The text is not a notice kefu can read; `message` says why, in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NoticeDay:
    day: date
    is_workday: bool
    name: str


@dataclass(frozen=True)
class NoticeItem:
    name: str
    first: date
    last: date
    workdays: tuple[date, ...]


@dataclass(frozen=True)
class Notice:
    year: int
    items: tuple[NoticeItem, ...]
    days: tuple[NoticeDay, ...]  # every holiday and make-up day, by date


def _normalize(text: str) -> str:
    # NFKC folds full-width digits, brackets and colons (（周四）→ (周四)); spaces inside a line go.
    text = unicodedata.normalize("NFKC", text)
    return "\n".join(re.sub(r"[ \t\u3000]+", "", line) for line in text.splitlines())


def _date(m: re.Match, p: str, *, year: int, month: int | None, item: str) -> date:
    y = int(m.group(f"{p}y") or year)
    mo = int(m.group(f"{p}m") or month or 0)
    try:
        d = date(y, mo, int(m.group(f"{p}d")))
    except ValueError:
        raise NoticeError(
            _("“%(item)s”中的日期 %(m)s月%(d)s日 不存在。")
            % {"item": item, "m": mo or "?", "d": m.group(f"{p}d")}
        ) from None
    bracket = m.group(f"{p}b") or ""
    stated = re.search(r"(?:周|星期)([一二三四五六日天])", bracket)
    if stated:
        expected = "日" if stated.group(1) == "天" else stated.group(1)
        if WEEKDAY_CHARS[d.weekday()] != expected:
            raise NoticeError(
                _("“%(item)s”中 %(date)s 是周%(real)s，通知写的是周%(said)s，请核对原文。")
                % {
                    "item": item,
                    "date": f"{d.month}月{d.day}日",
                    "real": WEEKDAY_CHARS[d.weekday()],
                    "said": expected,
                }
            )
    return d


def _item(name: str, body: str, year: int) -> NoticeItem:
    m = HOLIDAY.search(body)
    if m is None:
        raise NoticeError(_("“%(item)s”一行没有读到放假日期（应如“1月1日至3日放假”）。") % {"item": name})
    first = _date(m, "a", year=year, month=None, item=name)
    last = first
    if m.group("bd") and m.group("bm"):
        last = _date(m, "b", year=first.year, month=None, item=name)
        if last < first and not m.group("by"):  # 12月31日至1月2日: the end is in the next year
            last = _date(m, "b", year=first.year + 1, month=None, item=name)
    elif m.group("bd"):
        last = _date(m, "b", year=first.year, month=first.month, item=name)
    if last < first or (last - first).days > 14:
        raise NoticeError(_("“%(item)s”的放假起止日期不合理。") % {"item": name})
    total = TOTAL.search(body[m.end() :])
    if total and int(total.group(1)) != (last - first).days + 1:
        raise NoticeError(
            _("“%(item)s”写的是共%(n)s天，但 %(a)s 至 %(b)s 是 %(k)s 天，请核对原文。")
            % {
                "item": name,
                "n": total.group(1),
                "a": f"{first.month}月{first.day}日",
                "b": f"{last.month}月{last.day}日",
                "k": (last - first).days + 1,
            }
        )
    workdays: list[date] = []
    for sentence in body[m.end() :].split("。"):
        if "上班" not in sentence:
            continue
        for w in WORKDAY.finditer(sentence):
            if not w.group("wm"):
                raise NoticeError(_("“%(item)s”的调休上班日缺少月份。") % {"item": name})
            workdays.append(_date(w, "w", year=year, month=None, item=name))
    return NoticeItem(name=name, first=first, last=last, workdays=tuple(workdays))


def parse_notice(text: str) -> Notice:
    """Read a year's holidays and make-up working days from the notice text (SPEC Time rules).

    Raises NoticeError when the year, or any numbered holiday line, cannot be read, when a stated
    weekday or day count disagrees with the dates, or when one date is given twice."""
    if not text or not text.strip():
        raise NoticeError(_("请粘贴通知全文。"))
    text = _normalize(text[:20000])
    year_match = YEAR.search(text)
    if year_match is None:
        raise NoticeError(_("没有读到年份：通知应包含“关于××××年部分节假日安排”或“现将××××年”。"))
    year = int(year_match.group(1))
    if not 2004 <= year <= 2100:
        raise NoticeError(_("年份 %(y)s 超出支持范围（2004–2100）。") % {"y": year})
    items = []
    for line in text.splitlines():
        m = ITEM.match(line)
        if m and ("放假" in m.group(2) or "上班" in m.group(2) or "休息" in m.group(2)):
            items.append(_item(m.group(1), m.group(2), year))
    if not items:
        raise NoticeError(
            _(
                "没有读到任何节日安排：每个节日应单独一行，如“一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。”"
            )
        )
    seen: dict[date, str] = {}
    days: list[NoticeDay] = []
    for it in items:
        holiday = [it.first + timedelta(days=i) for i in range((it.last - it.first).days + 1)]
        for d, working in [(d, False) for d in holiday] + [(d, True) for d in it.workdays]:
            if d in seen:
                raise NoticeError(
                    _("%(date)s 在“%(a)s”和“%(b)s”中重复出现，请核对原文。")
                    % {"date": d.isoformat(), "a": seen[d], "b": it.name}
                )
            seen[d] = it.name
            days.append(NoticeDay(day=d, is_workday=working, name=it.name + ("调休上班" if working else "")))
    return Notice(year=year, items=tuple(items), days=tuple(sorted(days, key=lambda x: x.day)))
