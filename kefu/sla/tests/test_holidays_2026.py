"""Due times around every 2026 holiday, by hand (SPEC Time rules; Civil Code 民法典 arts. 201–203).

The 2026 official calendar (国务院办公厅 notice, as packaged by chinesecalendar):
元旦 1.1–1.3 (1.4 Sun works) · 春节 2.15–2.23 (2.14 Sat and 2.28 Sat work) · 清明 4.4–4.6 ·
劳动节 5.1–5.5 (5.9 Sat works) · 端午 6.19–6.21 · 中秋 9.25–9.27 (9.20 Sun works) ·
国庆 10.1–10.7 (10.10 Sat works).
Expectations are local (Asia/Shanghai) times; "24:00 of day D" is written as 00:00 of D+1.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from kefu.sla.calendar import FALLBACK, OFFICIAL, OVERRIDE, OverrideDay, WorkCalendar
from kefu.sla.engine import (
    HOURS,
    MINUTES,
    WORKING_DAYS,
    BusinessHours,
    Limit,
    Pause,
    due_at,
    elapsed,
    lead_deadline,
)

SH = ZoneInfo("Asia/Shanghai")
BH = BusinessHours(time(8, 30), time(17, 30))


def L(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


WORKING_DAY_CASES = [
    # (why, start, working days, business hours?, expected local due)
    ("元旦: 12.31 + 1 → 1.4 Sun make-up day", L(2025, 12, 31, 10), 1, None, L(2026, 1, 5)),
    ("元旦: 12.31 + 2 → 1.5 Mon", L(2025, 12, 31, 10), 2, None, L(2026, 1, 6)),
    ("元旦: 12.31 + 1, business hours → close on 1.4", L(2025, 12, 31, 10), 1, BH, L(2026, 1, 4, 17, 30)),
    ("元旦: start on the holiday 1.2 + 1 → 1.4", L(2026, 1, 2, 9), 1, None, L(2026, 1, 5)),
    ("春节: 2.13 Fri + 1 → 2.14 Sat make-up day", L(2026, 2, 13, 15), 1, None, L(2026, 2, 15)),
    ("春节: 2.14 Sat + 1 → 2.24 Tue after the holiday", L(2026, 2, 14, 9), 1, None, L(2026, 2, 25)),
    ("春节: 2.14 + 2 → 2.25", L(2026, 2, 14, 9), 2, None, L(2026, 2, 26)),
    ("春节: 2.16 on the holiday + 1 → 2.24, close", L(2026, 2, 16, 11), 1, BH, L(2026, 2, 24, 17, 30)),
    ("春节: 2.27 Fri + 1 → 2.28 Sat make-up day", L(2026, 2, 27, 10), 1, None, L(2026, 3, 1)),
    ("春节: 2.27 + 1, business hours → 2.28 17:30", L(2026, 2, 27, 10), 1, BH, L(2026, 2, 28, 17, 30)),
    ("春节: 2.26 + 2 → 2.27, 2.28", L(2026, 2, 26, 10), 2, None, L(2026, 3, 1)),
    ("春节: 2.27 + 2 → 2.28, 3.2 Mon (3.1 Sun rests)", L(2026, 2, 27, 10), 2, None, L(2026, 3, 3)),
    ("清明: 4.3 Fri + 1 → 4.7 Tue", L(2026, 4, 3, 16), 1, None, L(2026, 4, 8)),
    ("清明: 4.2 Thu + 2 → 4.3, 4.7", L(2026, 4, 2, 16), 2, BH, L(2026, 4, 7, 17, 30)),
    ("劳动节: 4.30 + 1 → 5.6 Wed", L(2026, 4, 30, 11), 1, None, L(2026, 5, 7)),
    ("劳动节: 4.30 + 3 → 5.8", L(2026, 4, 30, 11), 3, None, L(2026, 5, 9)),
    ("劳动节: 4.30 + 4 → 5.9 Sat make-up day", L(2026, 4, 30, 11), 4, None, L(2026, 5, 10)),
    ("劳动节: 5.8 Fri + 1 → 5.9 Sat make-up day, close", L(2026, 5, 8, 10), 1, BH, L(2026, 5, 9, 17, 30)),
    ("劳动节: 5.9 Sat + 1 → 5.11 Mon", L(2026, 5, 9, 10), 1, None, L(2026, 5, 12)),
    ("端午: 6.18 Thu evening + 1 → 6.22 Mon", L(2026, 6, 18, 20), 1, None, L(2026, 6, 23)),
    ("端午: 6.18 + 2 → 6.23, close", L(2026, 6, 18, 20), 2, BH, L(2026, 6, 23, 17, 30)),
    ("中秋: 9.19 Sat + 1 → 9.20 Sun make-up day", L(2026, 9, 19, 10), 1, None, L(2026, 9, 21)),
    ("中秋: 9.24 Thu + 1 → 9.28 Mon", L(2026, 9, 24, 10), 1, None, L(2026, 9, 29)),
    ("国庆: 9.30 + 1 → 10.8", L(2026, 9, 30, 10), 1, None, L(2026, 10, 9)),
    ("国庆: 9.30 + 2 → 10.9", L(2026, 9, 30, 10), 2, None, L(2026, 10, 10)),
    ("国庆: 9.30 + 3 → 10.10 Sat make-up day", L(2026, 9, 30, 10), 3, None, L(2026, 10, 11)),
    ("国庆: 9.30 + 3, business hours → 10.10 17:30", L(2026, 9, 30, 10), 3, BH, L(2026, 10, 10, 17, 30)),
    ("国庆: 10.3 on the holiday + 1 → 10.8", L(2026, 10, 3, 10), 1, None, L(2026, 10, 9)),
]


@pytest.mark.parametrize(
    "why,start,days,bh,expected", WORKING_DAY_CASES, ids=[c[0] for c in WORKING_DAY_CASES]
)
def test_working_day_due_times_around_2026_holidays(why, start, days, bh, expected):
    assert due_at(start, Limit(days, WORKING_DAYS), WorkCalendar(), bh) == expected


@pytest.mark.parametrize(
    "start,limit,expected",
    [
        # Wall-clock limits ignore the calendar: emergencies and repairs run day and night.
        (L(2026, 9, 30, 22), Limit(24, HOURS), L(2026, 10, 1, 22)),  # C2 / C12 across National Day
        (L(2026, 2, 16, 23, 50), Limit(40, MINUTES), L(2026, 2, 17, 0, 30)),  # C8 at night, Spring Festival
        (L(2026, 1, 1, 9), Limit(6, HOURS), L(2026, 1, 1, 15)),  # C4 handled on New Year's Day
        (L(2026, 5, 1, 20), Limit(72, HOURS), L(2026, 5, 4, 20)),  # C6 (000 2.2.6) over Labour Day
    ],
)
def test_wall_clock_limits_run_through_holidays(start, limit, expected):
    assert due_at(start, limit, WorkCalendar()) == expected


class TestCivilCode:
    """民法典 第二百零一条至第二百零三条."""

    def test_start_day_is_not_counted(self):
        # art. 201: received Monday 08:00, one working day → the whole of Tuesday, not Monday evening.
        assert due_at(L(2026, 3, 2, 8), Limit(1, WORKING_DAYS), WorkCalendar()) == L(2026, 3, 4)

    def test_start_at_midnight_counts_the_whole_day(self):
        assert due_at(L(2026, 3, 2), Limit(1, WORKING_DAYS), WorkCalendar()) == L(2026, 3, 3)

    def test_last_day_a_holiday_moves_to_the_next_working_day(self):
        # art. 203: Thursday 4.30 + 1 would fall on 5.1 (Labour Day) → the period ends at 24:00 of 5.6.
        assert due_at(L(2026, 4, 30, 9), Limit(1, WORKING_DAYS), WorkCalendar()) == L(2026, 5, 7)

    def test_period_ends_at_24_00(self):
        due = due_at(L(2026, 3, 2, 8), Limit(1, WORKING_DAYS), WorkCalendar())
        assert due.astimezone(SH).time() == time(0) and due.astimezone(SH).date() == date(2026, 3, 4)

    @pytest.mark.parametrize("hour", [7, 12, 18, 23])
    def test_business_hours_end_at_close(self, hour):
        # art. 203: "有业务时间的，停止业务活动的时间为截止时间" — any time on Monday → Tuesday 17:30.
        assert due_at(L(2026, 3, 2, hour), Limit(1, WORKING_DAYS), WorkCalendar(), BH) == L(
            2026, 3, 3, 17, 30
        )

    def test_returned_in_utc(self):
        due = due_at(L(2026, 3, 2, 8), Limit(1, WORKING_DAYS), WorkCalendar())
        assert due.utcoffset().total_seconds() == 0 and due == datetime(
            2026, 3, 3, 16, 0, tzinfo=ZoneInfo("UTC")
        )

    def test_other_zone_evaluates_days_in_company_zone(self):
        # Monday 2026-03-02 01:00 in Shanghai is still Sunday 17:00 in UTC: a UTC company counts
        # Monday as the first day; a Shanghai company drops Monday (its start day).
        start = L(2026, 3, 2, 1)
        assert due_at(start, Limit(1, WORKING_DAYS), WorkCalendar(tz="UTC")) == datetime(
            2026, 3, 3, tzinfo=ZoneInfo("UTC")
        )
        assert due_at(start, Limit(1, WORKING_DAYS), WorkCalendar()) == L(2026, 3, 4)

    def test_naive_datetime_is_refused(self):
        with pytest.raises(ValueError):
            due_at(datetime(2026, 3, 2, 8), Limit(1, WORKING_DAYS), WorkCalendar())


def test_c1_notice_lead_runs_backwards():
    # 004 附表: a planned interruption at 10-01 08:00 must be announced by 09-29 08:00.
    assert lead_deadline(L(2026, 10, 1, 8), Limit(48, HOURS)) == L(2026, 9, 29, 8)
    with pytest.raises(ValueError):
        lead_deadline(L(2026, 10, 1, 8), Limit(2, WORKING_DAYS))


class TestPauses:
    def test_pause_on_a_working_day_shifts_by_its_length(self):
        p = Pause(L(2026, 10, 8, 10), L(2026, 10, 8, 12))
        assert due_at(L(2026, 9, 30, 10), Limit(1, WORKING_DAYS), WorkCalendar(), pauses=[p]) == L(
            2026, 10, 9, 2
        )

    def test_pause_during_a_holiday_shifts_nothing(self):
        p = Pause(L(2026, 10, 3, 10), L(2026, 10, 5, 12))
        assert due_at(L(2026, 9, 30, 10), Limit(1, WORKING_DAYS), WorkCalendar(), pauses=[p]) == L(
            2026, 10, 9
        )

    def test_pause_over_the_close_counts_only_business_hours(self):
        p = Pause(L(2026, 10, 8, 16, 30), L(2026, 10, 8, 18, 30))  # 1 h inside 08:30–17:30
        due = due_at(L(2026, 9, 30, 10), Limit(1, WORKING_DAYS), WorkCalendar(), BH, pauses=[p])
        assert due == L(2026, 10, 9, 9, 30)

    def test_wall_clock_pause_shifts_by_wall_time(self):
        p = Pause(L(2026, 10, 1, 10), L(2026, 10, 1, 13))
        assert due_at(L(2026, 10, 1, 9), Limit(6, HOURS), WorkCalendar(), pauses=[p]) == L(2026, 10, 1, 18)

    def test_pause_after_due_changes_nothing(self):
        p = Pause(L(2026, 10, 1, 20), L(2026, 10, 1, 23))
        assert due_at(L(2026, 10, 1, 9), Limit(6, HOURS), WorkCalendar(), pauses=[p]) == L(2026, 10, 1, 15)

    def test_open_pause_has_no_due_but_counts_elapsed_to_now(self):
        p = Pause(L(2026, 10, 1, 10))
        with pytest.raises(ValueError):
            due_at(L(2026, 10, 1, 9), Limit(6, HOURS), WorkCalendar(), pauses=[p])
        assert (
            elapsed(L(2026, 10, 1, 9), L(2026, 10, 1, 12), HOURS, WorkCalendar(), [p]).total_seconds() == 3600
        )


class TestCalendarSources:
    def test_every_official_day_matches_chinesecalendar(self):
        cal = WorkCalendar()
        d = date(2004, 1, 1)
        while d <= date(2026, 12, 31):
            info = cal.day_info(d)
            assert info.source == OFFICIAL
            assert info.is_workday == chinese_calendar.is_workday(d) == cal.is_workday(d), d
            d = date.fromordinal(d.toordinal() + 1)

    def test_2026_make_up_days_are_named(self):
        cal = WorkCalendar()
        assert cal.day_info(date(2026, 2, 14)) == (True, "春节调休上班", OFFICIAL)
        assert cal.day_info(date(2026, 10, 1)) == (False, "国庆节", OFFICIAL)
        assert cal.day_info(date(2026, 1, 2)) == (False, "元旦调休", OFFICIAL)

    def test_2027_falls_back_to_weekends_with_a_warning_and_no_crash(self, caplog):
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(date(2027, 1, 1))  # the library itself raises
        cal = WorkCalendar()
        with caplog.at_level(logging.WARNING, logger="kefu.sla.calendar"):
            due = due_at(L(2026, 12, 31, 10), Limit(1, WORKING_DAYS), cal)
        assert due == L(2027, 1, 2)  # Friday 2027-01-01 counted as a working day: no official data
        assert cal.day_info(date(2027, 1, 1)) == (True, "", FALLBACK)
        assert cal.day_info(date(2027, 1, 2)).fallback
        assert cal.has_fallback(date(2026, 12, 31), date(2027, 1, 2))
        assert not cal.has_fallback(date(2026, 1, 1), date(2026, 12, 31))
        assert "2027" in caplog.text

    def test_2027_after_an_override(self):
        cal = WorkCalendar(overrides={date(2027, 1, 1): OverrideDay(False, "元旦")})
        assert cal.day_info(date(2027, 1, 1)) == (False, "元旦", OVERRIDE)
        # 1.1 rests, 1.2–1.3 weekend → Monday 1.4 is the working day.
        assert due_at(L(2026, 12, 31, 10), Limit(1, WORKING_DAYS), cal) == L(2027, 1, 5)

    def test_entered_year_is_not_fallback(self):
        cal = WorkCalendar(entered_years=[2027])
        assert cal.day_info(date(2027, 3, 1)) == (True, "", OVERRIDE)
        assert not cal.has_fallback(date(2027, 1, 1), date(2027, 12, 31))

    def test_override_can_make_a_weekend_a_working_day(self):
        cal = WorkCalendar(overrides={date(2026, 3, 7): OverrideDay(True, "公司调休上班")})
        assert due_at(L(2026, 3, 6, 10), Limit(1, WORKING_DAYS), cal) == L(2026, 3, 8)

    def test_add_working_days(self):
        cal = WorkCalendar()
        assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
        with pytest.raises(ValueError):
            cal.add_working_days(date(2026, 9, 30), 0)
