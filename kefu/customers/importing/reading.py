"""Opening a billing export: what kind of file it is, its encoding, and its rows (C-import).

Users upload whatever their billing system produced, sometimes renamed. The bytes decide, not the
extension: an XLSX is a ZIP holding `xl/workbook.xml`; an XLS is an OLE2 file; a CSV is text in
UTF-8 (with or without BOM), GBK/GB18030 or UTF-16 ("Unicode 文本" from Excel). Anything else
(an image, a PDF, another ZIP) is refused with a message saying what it looks like.

Rows come out as (row number as Excel shows it, list of cell values).
"""
from __future__ import annotations

import codecs
import csv
import io
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_SNIFF_BYTES = 1 << 20


class FileProblem(Exception):
    """The file as a whole cannot be imported; `message` says why, in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    kind: str  # csv, xlsx, xls, ods
    encoding: str  # for CSV; "" for workbooks
    total_rows: int  # an estimate for progress (lines in the file, header included)
    rows: Iterator[tuple[int, list]]


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"BM", "BMP 图片"),
    (b"%PDF", "PDF 文档"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"{\\rtf", "RTF 文档"),
)

ENCODING_ALIASES = {
    "utf8": "utf-8", "utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "utf8-sig": "utf-8-sig",
    "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030", "cp936": "gb18030",
    "utf-16": "utf-16", "utf16": "utf-16",
}


def open_table(path: str | Path, *, encoding: str | None = None) -> Table:
    """Recognise the file and return its rows, or raise FileProblem with a clear message."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip(b" \t\r\n\xef\xbb\xbf\x00\xff\xfe"):
        raise FileProblem(_("文件是空的。"))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _open_zip(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return _open_workbook(path, "xls")
    for magic, label in _MAGIC:
        if head.startswith(magic) and not (magic == b"BM" and _looks_like_text(head)):
            raise FileProblem(_("这不是表格文件（看起来是%(what)s）。请上传 CSV 或 Excel（.xlsx/.xls）文件。") % {"what": label})
    return _open_csv(path, head, encoding)


def _looks_like_text(head: bytes) -> bool:
    return b"\x00" not in head[:4096]


def _open_zip(path: Path) -> Table:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        raise FileProblem(_("文件已损坏：看起来是 ZIP/Excel 文件，但无法打开。")) from exc
    if "xl/workbook.xml" in names:
        return _open_workbook(path, "xlsx")
    if "content.xml" in names and "mimetype" in names:
        return _open_workbook(path, "ods")
    if "word/document.xml" in names:
        raise FileProblem(_("这是 Word 文档，不是表格。请上传 CSV 或 Excel（.xlsx/.xls）文件。"))
    raise FileProblem(_("这是 ZIP 压缩包，不是表格文件。请解压后上传其中的 CSV 或 Excel 文件。"))


def _cell(value):
    """Workbook cell → text, keeping dates as dates; 100234.0 → "100234"."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    return value


def _open_workbook(path: Path, kind: str) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheet = None
        for name in wb.sheet_names:
            candidate = wb.get_sheet_by_name(name)
            if candidate.height and candidate.width:
                sheet = candidate
                break
    except Exception as exc:  # calamine raises several error types for damaged files
        raise FileProblem(_("无法读取 Excel 文件（%(err)s）。文件可能已损坏或设置了密码。") % {"err": type(exc).__name__}) from exc
    if sheet is None:
        raise FileProblem(_("文件是空的。"))
    first_row = sheet.start[0] + 1 if sheet.start else 1

    def rows() -> Iterator[tuple[int, list]]:
        for index, raw in enumerate(sheet.iter_rows()):
            yield first_row + index, [_cell(v) for v in raw]

    return Table(kind=kind, encoding="", total_rows=sheet.height, rows=rows())


def detect_encoding(head: bytes) -> str:
    """UTF-8 with BOM, UTF-16 with BOM, strict UTF-8, else GB18030 (a superset of GBK and GB2312)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise FileProblem(_("无法识别文件编码。请将文件另存为 UTF-8 或 GBK 编码的 CSV，或直接上传 Excel 文件。")) from exc


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            count += chunk.count(b"\n")
    return count + 1


def _open_csv(path: Path, head: bytes, encoding: str | None) -> Table:
    if encoding:
        enc = ENCODING_ALIASES.get(encoding.strip().lower().replace("_", "-"))
        if enc is None:
            try:
                enc = codecs.lookup(encoding).name
            except LookupError as exc:
                raise FileProblem(_("不支持的编码：%(enc)s。") % {"enc": encoding}) from exc
        if enc == "utf-8" and head.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
    else:
        enc = detect_encoding(head)
    if b"\x00" in head[:8192] and enc != "utf-16":
        raise FileProblem(_("这不是表格文件（含有二进制内容）。请上传 CSV 或 Excel（.xlsx/.xls）文件。"))
    try:
        first_text = codecs.getincrementaldecoder(enc)().decode(head[:65536], final=False)
    except UnicodeDecodeError as exc:
        raise FileProblem(_("文件不是 %(enc)s 编码：开头部分无法解码。请确认编码（UTF-8 或 GBK）。") % {"enc": _label(enc)}) from exc
    first_line = next((ln for ln in first_text.splitlines() if ln.strip()), "")
    delimiter = max(",\t;|", key=first_line.count) if first_line else ","
    if first_line.count(delimiter) == 0:
        delimiter = ","
    total = _count_lines(path)

    def rows() -> Iterator[tuple[int, list]]:
        line = 0
        with path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=enc, newline="")
            reader = csv.reader(text, delimiter=delimiter)
            try:
                for line, cells in enumerate(reader, 1):
                    yield line, cells
            except UnicodeDecodeError as exc:
                raise FileProblem(
                    _("文件不是 %(enc)s 编码：第 %(line)d 行附近无法解码。请确认编码（UTF-8 或 GBK），或用 --encoding 指定。")
                    % {"enc": _label(enc), "line": line + 1}
                ) from exc
            except csv.Error as exc:
                raise FileProblem(_("CSV 格式错误（第 %(line)d 行附近）：%(err)s") % {"line": line + 1, "err": exc}) from exc

    return Table(kind="csv", encoding=enc, total_rows=total, rows=rows())


def _label(enc: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}.get(enc, enc)
