"""Turning one file line into a validated `CustomerData`, or into error lines (C-import).

Every problem becomes an `ImportError_(line, column, reason)` in Chinese, with the line number as
Excel shows it, so a clerk can open the file and fix it. Nothing here touches the database: the
categories and the company's area code are passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from unicodedata import normalize as _nfkc

from django.utils.translation import gettext as _

from kefu.customers.importing.bulk import CustomerData, MeterData, PremiseData
from kefu.customers.importing.columns import COLUMN_BY_KEY, COLUMNS, column_for_header
from kefu.customers.models import Customer, Meter
from kefu.customers.normalize import fold, normalize_part, normalize_phone, parse_address
from kefu.customers.rules import MAX_LEN, account_no_problem


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "reason": self.reason}


STATUS_WORDS = {
    Customer.Status.ACTIVE: ("正常", "在用", "启用", "有效", "开通", "active", "用气"),
    Customer.Status.SUSPENDED: ("停用", "暂停", "停气", "报停", "暂停用气", "suspended"),
    Customer.Status.CLOSED: ("销户", "注销", "拆除", "已销户", "closed"),
}
_STATUS = {w.lower(): s.value for s, words in STATUS_WORDS.items() for w in words}

METER_WORDS = {
    Meter.Kind.IC_CARD: ("IC卡表", "IC卡", "卡表", "IC卡智能表", "IC", "预付费表", "ic_card"),
    Meter.Kind.SMART: ("智能表", "物联网表", "远传表", "NB表", "NB-IoT表", "物联网智能表", "smart"),
    Meter.Kind.MECHANICAL: ("机械表", "普通表", "膜式表", "皮膜表", "基表", "mechanical"),
}
_METER = {fold(w).upper(): k.value for k, words in METER_WORDS.items() for w in words}

CATEGORY_SYNONYMS = {
    "resident": ("居民", "居民用户", "民用", "民用户", "居民户"),
    "commercial": ("商业", "商业用户", "商户", "餐饮", "商服"),
    "industrial": ("工业", "工业用户"),
    "heating": ("采暖", "采暖用户", "供暖", "壁挂炉采暖"),
    "coal_to_gas": ("气代煤", "煤改气", "气代煤用户", "煤改气用户"),
    "public_building": ("公建", "公建用户", "公共建筑", "公福", "公服", "公福用户"),
}

_PHONE_SPLIT_RE = re.compile(r"[;；,，、/\n]+")
_DATE_RES = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)
_PREMISE_KEYS = ("district", "street", "community", "building", "unit", "room", "address", "supply_zone")

_PREMISE_LIMITS = tuple(MAX_LEN[k] for k in _PREMISE_KEYS)


@lru_cache(maxsize=65536)
def parse_date_text(text: str) -> date | None:
    """ "2024-03-15", "2024/3/15", "2024.3.15", "20240315", "2024年3月15日", an Excel serial → date.

    Raises ValueError for anything else. Cached: billing exports repeat dates a lot.
    """
    for rx in _DATE_RES:
        m = rx.match(text)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
    if text.isdigit() and 20000 <= int(text) <= 80000:  # Excel day serial (1954–2119)
        return _EXCEL_EPOCH + timedelta(days=int(text))
    raise ValueError(text)


_part = lru_cache(maxsize=65536)(normalize_part)


def _as_text(value) -> str:
    """A cell as folded text (see normalize.fold); ASCII needs no NFKC (the common, fast case)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip() if value.isascii() else _nfkc("NFKC", value).strip()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return fold(str(value))


def map_header(cells: list) -> tuple[dict[str, list[int]], list[str]]:
    """Column key → positions (several for 联系电话), and the problems (duplicates) in the header."""
    mapping: dict[str, list[int]] = {}
    problems: list[str] = []
    for pos, cell in enumerate(cells):
        key = column_for_header(cell) if isinstance(cell, str) else None
        if key is None:
            continue
        if key in mapping and not COLUMN_BY_KEY[key].repeatable:
            problems.append(_("列“%(col)s”出现了两次。") % {"col": COLUMN_BY_KEY[key].title})
            continue
        mapping.setdefault(key, []).append(pos)
    return mapping, problems


def missing_required(mapping: dict[str, list[int]]) -> list[str]:
    """Required columns absent from the header (户号, 户名, 客户类别, and an address)."""
    missing = [c.title for c in COLUMNS if c.required and c.key not in mapping]
    if "address" not in mapping and not all(k in mapping for k in ("community", "building", "room")):
        missing.append(_("详细地址（或 小区+楼号+室号）"))
    return missing


_KEYS = tuple(c.key for c in COLUMNS if c.key != "phones")
_DATE_MIN, _DATE_MAX = date(1950, 1, 1), date(2100, 12, 31)


class RowParser:
    """Validates lines of one file for one company.

    Written for speed (a million lines must validate in well under a minute): the cells of a line
    are picked by precomputed positions in one pass, and the rest works on local variables.
    """

    def __init__(self, mapping: dict[str, list[int]], *, categories: dict[str, int], area_code: str):
        self.mapping = mapping
        self.width = 1 + max((p for ps in mapping.values() for p in ps), default=0)
        # A missing column reads the empty cell appended at position `width`.
        self.positions = [mapping[k][0] if k in mapping else self.width for k in _KEYS]
        self._pick = itemgetter(*self.positions)
        self.phone_cols = mapping.get("phones", [])
        self.area_code = area_code
        self.categories = categories  # lookup word → category id (names, codes, synonyms)
        self._titles = {c.key: c.title for c in COLUMNS}

    @staticmethod
    def category_lookup(rows: list[tuple[int, str, str]]) -> dict[str, int]:
        """(id, code, name) of the company's categories → every accepted spelling → id."""
        out: dict[str, int] = {}
        for cid, code, name in rows:
            for word in (code, name, *CATEGORY_SYNONYMS.get(code, ())):
                out.setdefault(fold(word).lower(), cid)
        return out

    def account_of(self, cells: list) -> str:
        pos = self.positions[0]
        return _as_text(cells[pos]) if pos < len(cells) else ""

    def _date(self, value, key: str, line: int, errors: list[LineError]) -> date | None:
        if not value:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            parsed = parse_date_text(value)
        except ValueError:
            errors.append(
                LineError(
                    line, self._titles[key], _("日期“%(v)s”无法识别，请写成 2024-03-15。") % {"v": value[:30]}
                )
            )
            return None
        if not _DATE_MIN <= parsed <= _DATE_MAX:
            errors.append(LineError(line, self._titles[key], _("日期“%(v)s”不合理。") % {"v": value[:30]}))
            return None
        return parsed

    def _too_long(self, key: str, value: str, line: int, errors: list[LineError]) -> bool:
        limit = MAX_LEN.get(key)
        if limit and len(value) > limit:
            errors.append(LineError(line, self._titles[key], _("超过 %(n)d 个字符。") % {"n": limit}))
            return True
        return False

    def parse(self, line: int, cells: list) -> tuple[CustomerData | None, list[LineError]]:
        """One line → (record, []) or (None, errors)."""
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        cells.append("")
        values = [
            (v.strip() if v.isascii() else _nfkc("NFKC", v).strip()) if v.__class__ is str else _as_text(v)
            for v in self._pick(cells)
        ]
        (
            account_no,
            name,
            category_text,
            status_text,
            opened_text,
            district,
            street,
            community,
            raw_building,
            raw_unit,
            raw_room,
            address,
            zone,
            serial,
            kind_text,
            installed_text,
            battery_text,
            notes,
            lat_text,
            lng_text,
        ) = values
        errors: list[LineError] = []
        titles = self._titles

        if (problem := account_no_problem(account_no)) is not None:  # the one rule (kefu.customers.rules)
            errors.append(LineError(line, titles["account_no"], problem))

        if not name:
            errors.append(LineError(line, titles["name"], _("户名不能为空。")))
        elif len(name) > 100:
            self._too_long("name", name, line, errors)

        category_id = self.categories.get(category_text.lower()) if category_text else None
        if not category_text:
            errors.append(LineError(line, titles["category"], _("客户类别不能为空。")))
        elif category_id is None:
            errors.append(
                LineError(line, titles["category"], _("未知的客户类别“%(v)s”。") % {"v": category_text[:20]})
            )

        status = _STATUS.get(status_text.lower()) if status_text else Customer.Status.ACTIVE.value
        if status is None:
            errors.append(
                LineError(
                    line,
                    titles["status"],
                    _("未知的状态“%(v)s”（应为 正常、停用 或 销户）。") % {"v": status_text[:20]},
                )
            )

        opened_on = self._date(opened_text, "opened_on", line, errors)
        premise = self._premise(
            line, errors, district, street, community, raw_building, raw_unit, raw_room, address, zone
        )
        if premise is not None and (lat_text or lng_text):
            premise.lat, premise.lng = self._coordinates(line, errors, lat_text, lng_text)
        phones = self._phones(cells, line, errors) if self.phone_cols else []
        meters = self._meters(line, errors, serial, kind_text, installed_text, battery_text)

        if errors:
            return None, errors
        record = CustomerData(
            account_no, name, category_id, status, opened_on, notes, premise, phones, meters, line
        )
        return record, errors

    def _premise(
        self, line, errors, district, street, community, raw_building, raw_unit, raw_room, address, zone
    ):
        building, unit, room = _part(raw_building), _part(raw_unit), _part(raw_room)
        if not address:
            if not (community and building and room):
                errors.append(
                    LineError(
                        line, self._titles["address"], _("地址不能为空：请填写详细地址，或 小区+楼号+室号。")
                    )
                )
                return None
            address = "".join(
                (
                    district,
                    street,
                    community,
                    raw_building + "号楼" if raw_building.isdigit() else raw_building,
                    (raw_unit + "单元" if raw_unit.isdigit() else raw_unit) if raw_unit else "",
                    raw_room + "室" if raw_room.isdigit() else raw_room,
                )
            )
        elif not (building or room):
            parts = parse_address(address)
            building, unit, room = parts.building, parts.unit, parts.room
        if (
            len(address) > 200
            or len(community) > 60
            or len(street) > 50
            or len(district) > 30
            or len(zone) > 30
            or len(building) > 20
            or len(unit) > 10
            or len(room) > 20
        ):
            values = (district, street, community, building, unit, room, address, zone)
            for key, value in zip(_PREMISE_KEYS, values, strict=True):
                self._too_long(key, value, line, errors)
            return None
        return PremiseData(district, street, community, building, unit, room, address, zone)

    def _coordinates(self, line, errors, lat_text: str, lng_text: str) -> tuple[float | None, float | None]:
        """纬度 / 经度 (WGS-84 degrees): both or neither, numbers within −90…90 and −180…180."""
        out = []
        for key, text, limit in (("lat", lat_text, 90.0), ("lng", lng_text, 180.0)):
            if not text:
                other = self._titles["lng" if key == "lat" else "lat"]
                errors.append(
                    LineError(
                        line,
                        self._titles[key],
                        _("已填%(o)s，%(c)s也须填写。") % {"o": other, "c": self._titles[key]},
                    )
                )
                out.append(None)
                continue
            try:
                value = float(text)
            except ValueError:
                value = None
            if value is None or value != value or value in (float("inf"), float("-inf")):
                errors.append(
                    LineError(line, self._titles[key], _("“%(v)s”不是有效的数字。") % {"v": text[:30]})
                )
                out.append(None)
            elif not -limit <= value <= limit:
                errors.append(
                    LineError(
                        line,
                        self._titles[key],
                        _("%(c)s“%(v)s”超出范围（−%(n)d 到 %(n)d）。")
                        % {"c": self._titles[key], "v": text[:30], "n": limit},
                    )
                )
                out.append(None)
            else:
                out.append(round(value, 7))
        return out[0], out[1]

    def _phones(self, cells: list, line: int, errors: list[LineError]) -> list[str]:
        numbers: list[str] = []
        for pos in self.phone_cols:
            raw = cells[pos]
            if not raw:
                continue
            raw = str(raw)
            if len(raw) == 11 and raw.isdigit() and raw[0] == "1" and raw[1] in "3456789":
                pieces = [raw]  # the common case: one plain mobile number, already canonical
            else:
                pieces = _PHONE_SPLIT_RE.split(raw)
            for piece in pieces:
                piece = piece.strip()
                if not piece:
                    continue
                if len(piece) == 11 and piece.isdigit() and piece[0] == "1" and piece[1] in "3456789":
                    number = piece
                else:
                    number = normalize_phone(piece, self.area_code)
                if number is None:
                    errors.append(
                        LineError(
                            line, self._titles["phones"], _("电话号码“%(v)s”无效。") % {"v": piece[:30]}
                        )
                    )
                elif number not in numbers:
                    numbers.append(number)
        return numbers

    def _meters(self, line, errors, serial, kind_text, installed_text, battery_text) -> list[MeterData]:
        installed = self._date(installed_text, "installed_on", line, errors)
        battery = self._date(battery_text, "battery_on", line, errors)
        titles = self._titles
        if not serial:
            if kind_text or installed or battery:
                errors.append(LineError(line, titles["meter_serial"], _("填写了表型或表日期，但没有表号。")))
            return []
        if self._too_long("meter_serial", serial, line, errors):
            return []
        if not kind_text:
            errors.append(
                LineError(line, titles["meter_kind"], _("有表号时必须填写表型（IC卡表、智能表 或 机械表）。"))
            )
            return []
        kind = _METER.get(kind_text.upper())
        if kind is None:
            errors.append(
                LineError(
                    line,
                    titles["meter_kind"],
                    _("未知的表型“%(v)s”（应为 IC卡表、智能表 或 机械表）。") % {"v": kind_text[:20]},
                )
            )
            return []
        return [MeterData(serial, kind, installed, battery)]
