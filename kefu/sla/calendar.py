"""China's working-day calendar (SPEC "Time rules"; C6, C9–C11, C14 count working days).

Pure values and functions: no database, no `now()`. A `WorkCalendar` answers "is this a working
day, and who says so" from three sources, in this order:

1. **override** — a day entered by an administrator (`CalendarOverride`: next year's State Council
   notice, or a company-specific day); also every day of a year the administrator declared
   entered in full (`CalendarYear`), so that year stops warning;
2. **official** — the State Council calendar as packaged by `chinesecalendar` (public holidays,
   the weekdays given as rest in lieu, and the weekend days made working days, 调休);
3. **fallback** — a year nobody has data for (the library raises `NotImplementedError` for 2027
   today): Monday–Friday are working days, weekends are not. Such days are reported with
   `source == "fallback"` so the UI and the clock can warn, and the calendar logs one warning per
   year it falls back on. It never raises.

Speed: the due-time engine asks for working days 100,000+ times a second, so the calendar keeps,
from a fixed base date on, a byte per day (1 = working day), a prefix count of working days and the
list of working-day ordinals. Lookups are O(1) list indexing; the arrays grow lazily a year at a
time when a later date is asked for.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple
from zoneinfo import ZoneInfo

logger = logging.getLogger("kefu.sla.calendar")

OFFICIAL = "official"
OVERRIDE = "override"
FALLBACK = "fallback"
SOURCES = (OFFICIAL, OVERRIDE, FALLBACK)

#: The first day the calendar covers (chinesecalendar's first year). Work orders are never older;
#: dates before raise ValueError.
BASE_DATE = date(2004, 1, 1)
BASE_ORDINAL = BASE_DATE.toordinal()

# Chinese names of the holidays chinesecalendar knows (its enum names are English).
# (Its tables hold the English names as plain strings: "New Year's Day", ...)
HOLIDAY_NAMES_ZH: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
MAKE_UP_SUFFIX = "调休上班"
IN_LIEU_SUFFIX = "调休"


class DayInfo(NamedTuple):
    """What the calendar says about one day. `name` is empty for ordinary days."""

    is_workday: bool
    name: str
    source: str  # OFFICIAL | OVERRIDE | FALLBACK

    @property
    def fallback(self) -> bool:
        return self.source == FALLBACK


@dataclass(frozen=True)
class OverrideDay:
    """One administrator-entered day (mirrors a CalendarOverride row)."""

    is_workday: bool
    name: str = ""


def _load_official() -> tuple[dict[date, str], dict[date, str], frozenset[int]]:
    """Read chinesecalendar's tables once: holiday names, make-up working days, covered years."""
    try:
        from chinese_calendar import constants
    except ImportError:  # pragma: no cover - the dependency is pinned; degrade to fallback, never crash
        logger.error("chinesecalendar is not installed: every year falls back to weekends only")
        return {}, {}, frozenset()

    def zh(value) -> str:
        text = str(getattr(value, "value", value))
        return HOLIDAY_NAMES_ZH.get(text, text)

    holidays: dict[date, str] = {}
    for d, v in constants.holidays.items():
        holidays[d] = zh(v) + (IN_LIEU_SUFFIX if d in constants.in_lieu_days and d.weekday() < 5 else "")
    workdays = {d: zh(v) + MAKE_UP_SUFFIX for d, v in constants.workdays.items()}
    years = frozenset(range(min(holidays).year, max(holidays).year + 1)) if holidays else frozenset()
    return holidays, workdays, years


OFFICIAL_HOLIDAYS, OFFICIAL_WORKDAYS, OFFICIAL_YEARS = _load_official()
_SHARED: WorkCalendar | None = None  # official-only tables, built once per process


class WorkCalendar:
    """China's working days for one company: official data + overrides, in the company's zone.

    `overrides` maps a date to an `OverrideDay` (a company's own row wins over an all-companies
    row; the selector resolves that before building the calendar). `entered_years` are years an
    administrator entered in full (no official data needed, no warning). `tz` is the zone in which
    days are evaluated (Asia/Shanghai by default); the engine returns UTC.
    """

    def __init__(
        self,
        *,
        tz: str | ZoneInfo = "Asia/Shanghai",
        overrides: Mapping[date, OverrideDay] | None = None,
        entered_years: Iterable[int] = (),
        official_holidays: Mapping[date, str] | None = None,
        official_workdays: Mapping[date, str] | None = None,
        official_years: Iterable[int] | None = None,
    ) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.overrides: dict[date, OverrideDay] = dict(overrides or {})
        self.entered_years = frozenset(entered_years)
        self.official_holidays = OFFICIAL_HOLIDAYS if official_holidays is None else dict(official_holidays)
        self.official_workdays = OFFICIAL_WORKDAYS if official_workdays is None else dict(official_workdays)
        self.official_years = OFFICIAL_YEARS if official_years is None else frozenset(official_years)
        # Lazily grown tables from BASE_DATE: flags[i] = 1 if BASE_ORDINAL + i is a working day;
        # cum[i] = number of working days with ordinal < BASE_ORDINAL + i; wd = working-day ordinals.
        self._flags = bytearray()
        self._cum = array("q", [0])
        self._wd: list[int] = []
        self._end_year = BASE_DATE.year - 1  # last year built
        self._warned_years: set[int] = set()
        if official_holidays is None and official_workdays is None and official_years is None:
            self._start_from_shared_tables()

    def _start_from_shared_tables(self) -> None:
        """Copy the official years' tables (built once per process) up to the year before the
        first override, so building a company's calendar per request costs microseconds."""
        global _SHARED
        if not self.official_years:
            return
        if _SHARED is None:
            shared = WorkCalendar(
                official_holidays=self.official_holidays,
                official_workdays=self.official_workdays,
                official_years=self.official_years,
            )
            shared._ensure_ordinal(date(max(self.official_years), 12, 31).toordinal())
            _SHARED = shared
        last = max(self.official_years)
        if self.overrides:
            last = min(last, min(self.overrides).year - 1)
        if last < BASE_DATE.year:
            return
        n_days = date(last, 12, 31).toordinal() - BASE_ORDINAL + 1
        self._flags = _SHARED._flags[:n_days]
        self._cum = _SHARED._cum[: n_days + 1]
        self._wd = _SHARED._wd[: _SHARED._cum[n_days]]
        self._end_year = last

    # ---- per-day answers -------------------------------------------------------------------
    def year_source(self, year: int) -> str:
        """Where the bulk of a year's days come from: official, override (entered) or fallback."""
        if year in self.official_years:
            return OFFICIAL
        if year in self.entered_years:
            return OVERRIDE
        return FALLBACK

    def is_fallback_year(self, year: int) -> bool:
        return self.year_source(year) == FALLBACK

    def day_info(self, d: date) -> DayInfo:
        """(is_workday, name, source) for one date; never raises for a missing year."""
        ov = self.overrides.get(d)
        if ov is not None:
            return DayInfo(ov.is_workday, ov.name, OVERRIDE)
        source = self.year_source(d.year)
        if source == OFFICIAL:
            name = self.official_workdays.get(d)
            if name is not None:
                return DayInfo(True, name, OFFICIAL)
            name = self.official_holidays.get(d)
            if name is not None:
                return DayInfo(False, name, OFFICIAL)
        return DayInfo(d.weekday() < 5, "", source)

    def is_workday(self, d: date) -> bool:
        o = d.toordinal() - BASE_ORDINAL
        if o < 0:
            raise ValueError(f"date {d} is before {BASE_DATE}")
        if o >= len(self._flags):
            self._ensure_ordinal(d.toordinal())
        return self._flags[o] == 1

    def has_fallback(self, first: date, last: date) -> bool:
        """True when a day in [first, last] lies in a year without official or entered data."""
        return any(self.is_fallback_year(y) for y in range(first.year, last.year + 1))

    def fallback_years(self, first: date, last: date) -> list[int]:
        return [y for y in range(first.year, last.year + 1) if self.is_fallback_year(y)]

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start itself not counted, Civil Code art. 201)."""
        if days < 1:
            raise ValueError("days must be ≥ 1")
        k = self.workdays_before(start.toordinal() + 1) + days - 1
        return date.fromordinal(self.nth_workday(k))

    # ---- fast tables used by the engine ----------------------------------------------------
    def workdays_before(self, ordinal: int) -> int:
        """How many working days lie in [BASE_DATE, ordinal) — O(1) after the first call."""
        i = ordinal - BASE_ORDINAL
        if i < 0:
            raise ValueError(f"date {date.fromordinal(ordinal)} is before {BASE_DATE}")
        if i >= len(self._flags):
            self._ensure_ordinal(ordinal)
        return self._cum[i]

    def count_and_flag(self, ordinal: int) -> tuple[int, bool]:
        """(working days before `ordinal`, whether `ordinal` is a working day) in one lookup."""
        i = ordinal - BASE_ORDINAL
        if i < 0:
            raise ValueError(f"date {date.fromordinal(ordinal)} is before {BASE_DATE}")
        if i >= len(self._flags):
            self._ensure_ordinal(ordinal)
        return self._cum[i], self._flags[i] == 1

    def nth_workday(self, k: int) -> int:
        """Ordinal of the k-th (0-based) working day from BASE_DATE on."""
        while k >= len(self._wd):
            self._build_year(self._end_year + 1)
        return self._wd[k]

    def _ensure_ordinal(self, ordinal: int) -> None:
        year = date.fromordinal(ordinal).year
        while self._end_year < year:
            self._build_year(self._end_year + 1)

    def _build_year(self, year: int) -> None:
        if year > 9998:
            raise ValueError("date out of range")
        if self.is_fallback_year(year) and year not in self._warned_years:
            self._warned_years.add(year)
            logger.warning(
                "no official calendar for %s: counting weekends only until an administrator enters it", year
            )
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        flags, cum, wd = self._flags, self._cum, self._wd
        count = cum[-1]
        for o in range(first, last + 1):
            w = self.day_info(date.fromordinal(o)).is_workday
            flags.append(1 if w else 0)
            if w:
                wd.append(o)
                count += 1
            cum.append(count)
        self._end_year = year
