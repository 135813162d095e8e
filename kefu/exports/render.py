"""Writing an export's file with its watermark (S3, S4). Pure: no database, no clock.

CSV: the watermark as comment lines before the table ("# 密级：绝密" …) and the request number in a
last column of every row, so a row copied out of the file still says where it came from.
XLSX: the watermark as the first row of every sheet (bold, red), in the printed header and footer,
and in the workbook's properties (author, title, subject = class, keywords = request number,
description = the whole watermark, plus custom properties `kefu.request` and `kefu.level`).
Cells that a spreadsheet would run as a formula are written as text in both formats.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.exports.classification import Level
from kefu.exports.registry import ExportData

#: First characters that make a spreadsheet read a cell as a formula (S3 export guard).
FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# Characters an .xlsx cannot hold (openpyxl raises on them): control characters but tab and newlines.
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def csv_safe(value) -> str:
    """A cell a spreadsheet will not execute: text starting with = + - @ (or their full-width
    forms ＝ ＋ － ＠, which spreadsheets with East Asian input also read as a formula) gets a
    leading quote (S3)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def _local(at: datetime | None) -> str:
    return timezone.localtime(at).isoformat(sep=" ", timespec="seconds") if at else ""


@dataclass(frozen=True)
class Watermark:
    """Who took the file, when, under which request number, and its class (S3, S4)."""

    number: str
    level: Level
    who: str  # "张敏（supervisor）"
    company: str
    at: datetime
    kind: str = ""  # "工单列表"
    approved_by: str = ""  # 绝密 only
    expires_at: datetime | None = None  # 绝密 only: the download link's end

    def lines(self) -> list[str]:
        """The watermark as the lines a CSV file starts with."""
        out = [
            _("密级：%(level)s（严禁擅自复制、外传）") % {"level": self.level.label},
            _("导出编号：%(number)s") % {"number": self.number},
            _("导出人：%(who)s · %(company)s") % {"who": self.who, "company": self.company},
            _("生成时间：%(at)s") % {"at": _local(self.at)},
        ]
        if self.kind:
            out.insert(1, _("内容：%(kind)s") % {"kind": self.kind})
        if self.approved_by:
            out.append(_("审批人：%(who)s") % {"who": self.approved_by})
        if self.expires_at:
            out.append(_("下载有效期至：%(at)s") % {"at": _local(self.expires_at)})
        return out

    def text(self) -> str:
        """The watermark on one line (the first row of an Excel sheet, its printed header)."""
        return " · ".join(self.lines())


class _Echo:
    def write(self, value):
        return value


def render_csv(data: ExportData, mark: Watermark) -> Iterator[str]:
    """The file as text chunks (a StreamingHttpResponse can send them as they come): BOM, the
    watermark lines, then each sheet's header and rows with the request number in a last column."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for line in mark.lines():
        yield writer.writerow(["# " + line])
    number_col = _("导出编号")
    for i, sheet in enumerate(data.sheets):
        if i:
            yield writer.writerow([])
            yield writer.writerow(["# " + sheet.title])
        yield writer.writerow([*(csv_safe(h) for h in sheet.header), number_col])
        for row in sheet.rows:
            yield writer.writerow([*(csv_safe(v) for v in row), mark.number])


def _cell(value):
    if isinstance(value, str):
        return _ILLEGAL.sub("", value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)  # Excel has no time zones
    return value


def render_xlsx(data: ExportData, mark: Watermark) -> bytes:
    """The file as .xlsx bytes: each sheet starts with the watermark row, then its header."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    text = mark.text()
    for sheet in data.sheets:
        ws = wb.create_sheet(_ILLEGAL.sub("", sheet.title)[:31] or "Sheet")
        ws.append([text])
        ws["A1"].font = Font(bold=True, color="C53030")
        width = max(len(sheet.header), 1)
        if width > 1:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        ws.append([_cell(h) for h in sheet.header])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            values = [_cell(v) for v in row]
            ws.append(values)
            if any(isinstance(v, str) and v[:1] in FORMULA_STARTS for v in values):
                for cell in ws[ws.max_row]:  # text, never a formula (S3)
                    if isinstance(cell.value, str):
                        cell.data_type = "s"
        for i, w in enumerate(sheet.widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.oddHeader.center.text = text[:250]
        ws.oddFooter.center.text = f"{mark.level.label} · {mark.number} · &P/&N"
        ws.freeze_panes = "A3"
    props = wb.properties
    props.creator = mark.who
    props.lastModifiedBy = mark.who
    props.title = f"{mark.kind} {mark.number}".strip()
    props.subject = str(mark.level.label)
    props.category = str(mark.level.label)
    props.keywords = mark.number
    props.description = text
    props.created = props.modified = timezone.localtime(mark.at).replace(tzinfo=None)
    try:
        from openpyxl.packaging.custom import StringProperty

        wb.custom_doc_props.append(StringProperty(name="kefu.request", value=mark.number))
        wb.custom_doc_props.append(StringProperty(name="kefu.level", value=str(mark.level.value)))
    except ImportError:  # openpyxl < 3.1 has no custom properties; the core ones say it all
        pass
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
