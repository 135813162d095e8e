"""The State Council notice parser (SPEC Time rules): the 2026 notice as published (国务院办公厅,
2025年11月4日, via 新华社) gives exactly the official 2026 calendar; malformed texts are refused with
a message that says what is wrong."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import chinese_calendar
import pytest

from kefu.sla.calendar_notice import NoticeError, parse_notice

NOTICE_2026 = (Path(__file__).parent / "fixtures" / "notice_2026.txt").read_text(encoding="utf-8")


def test_2026_notice_gives_the_official_calendar():
    notice = parse_notice(NOTICE_2026)
    assert notice.year == 2026
    assert [i.name for i in notice.items] == [
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
    ]
    holidays = {d.day for d in notice.days if not d.is_workday}
    workdays = {d.day for d in notice.days if d.is_workday}
    official_h = {d for d in chinese_calendar.constants.holidays if d.year == 2026}
    official_w = {d for d in chinese_calendar.constants.workdays if d.year == 2026}
    assert holidays == official_h and len(holidays) == 33
    assert (
        workdays
        == official_w
        == {
            date(2026, 1, 4),
            date(2026, 2, 14),
            date(2026, 2, 28),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10),
        }
    )
    names = {d.day: d.name for d in notice.days}
    assert names[date(2026, 2, 23)] == "春节" and names[date(2026, 9, 20)] == "国庆节调休上班"


def test_half_width_punctuation_and_cross_year_range():
    text = "关于2023年部分节假日安排的通知\n一、元旦:2022年12月31日至2023年1月2日放假调休,共3天。\n"
    days = parse_notice(text).days
    assert [d.day for d in days] == [date(2022, 12, 31), date(2023, 1, 1), date(2023, 1, 2)]


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "请粘贴通知全文"),
        ("今天天气很好。", "没有读到年份"),
        ("国务院办公厅关于2026年部分节假日安排的通知\n元旦放三天。", "没有读到任何节日安排"),
        (NOTICE_2026.replace("1月1日（周四）", "1月1日（周五）"), "是周四，通知写的是周五"),
        (NOTICE_2026.replace("共9天", "共8天"), "共8天"),
        (NOTICE_2026.replace("2月15日（农历", "2月30日（农历"), "2月30日 不存在"),
        (NOTICE_2026.replace("10月10日（周六）上班", "10月7日（周三）上班"), "重复出现"),
        (
            NOTICE_2026.replace("一、元旦：1月1日（周四）至3日（周六）放假调休", "一、元旦：元旦放假调休"),
            "没有读到放假日期",
        ),
    ],
    ids=["empty", "no-year", "no-items", "wrong-weekday", "wrong-total", "no-such-date", "twice", "no-dates"],
)
def test_malformed_notice_is_refused_with_a_message(text, message):
    with pytest.raises(NoticeError) as exc:
        parse_notice(text)
    assert message in exc.value.message
