"""Opening a billing export: what kind of file it is, its encoding, and its rows (C-import).

Users upload whatever their billing system produced, sometimes renamed. The bytes decide, not the
extension: an XLSX is a ZIP holding `xl/workbook.xml`; an XLS is an OLE2 file; a CSV is text in
UTF-8 (with or without BOM), GBK/GB18030 or UTF-16 ("Unicode 文本" from Excel). Anything else
(an image, a PDF, another ZIP) is refused with a message saying what it looks like.

Rows come out as (row number as Excel shows it, list of cell values as text).

Hostile files (docs/security.md "Hostile files"): the file is read in a child process with a memory
and CPU limit (kefu.core.sandbox), which streams the rows back as CSV; a reader that runs out of
memory or time dies alone and the import fails with a message. Before reading, a workbook's ZIP
entries (total size, compression ratio: zip bombs; DTDs: entity expansion) and its declared
dimension are checked; XLSX rows are streamed (openpyxl read-only, the declared dimension ignored),
so nothing is allocated by declared size; CSV physical lines, columns and fields are bounded, and
NUL characters refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import signal
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.core.sandbox import run_in_child

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
    close: Callable[[], object] = lambda: None  # ends the reading child early (see open_table)


@dataclass(frozen=True)
class ReadLimits:
    """Bounds of what a file may make the reader do (settings.KEFU_IMPORT)."""

    memory_mb: int = 1024
    cpu_seconds: int = 1800
    max_line_chars: int = 65536
    max_columns: int = 256
    max_cells: int = 64_000_000
    max_unzipped_mb: int = 4096
    max_zip_ratio: int = 200

    @classmethod
    def from_settings(cls) -> "ReadLimits":
        conf = getattr(settings, "KEFU_IMPORT", {})
        return cls(**{f: conf[f.upper()] for f in cls.__dataclass_fields__ if f.upper() in conf})


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
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "cp936": "gb18030",
    "utf-16": "utf-16",
    "utf16": "utf-16",
}


def open_table(path: str | Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> Table:
    """Recognise the file and return its rows, or raise FileProblem with a clear message.

    The file is read in a child process (see the module docstring); `Table.rows` streams what it
    sends, and raises FileProblem if the child reports a problem or dies. Call `Table.close()` when
    stopping before the end.
    """
    limits = limits or ReadLimits.from_settings()
    language = translation.get_language() or settings.LANGUAGE_CODE
    child = run_in_child(
        lambda out: _child_main(out, Path(path), encoding, limits, language),
        memory_mb=limits.memory_mb,
        cpu_seconds=limits.cpu_seconds,
    )
    records = _records(io.TextIOWrapper(child.stream, encoding="utf-8", newline=""))

    def problem(record: list[str] | None, *, at_end: bool = False) -> FileProblem:
        if record and record[0] == "E" and len(record) > 1:
            child.close()
            return FileProblem(record[1])
        # At the end of the stream the child has gone (or is going): wait for how it ended.
        return FileProblem(_died(child.close(kill=not at_end)))

    try:
        first = next(records, None)
    except (UnicodeDecodeError, ValueError):
        raise problem(None) from None
    if not first or first[0] != "T" or len(first) != 4:
        raise problem(first, at_end=first is None)

    def rows() -> Iterator[tuple[int, list]]:
        try:
            for record in records:
                head = record[0]
                if head[:1] == "R":
                    yield int(head[1:]), record[1:]
                elif head == "Z":
                    child.wait()
                    return
                else:
                    raise problem(record)
        except (UnicodeDecodeError, ValueError, IndexError):
            raise problem(None) from None
        raise problem(None, at_end=True)  # the stream ended without its end mark: the child died

    return Table(kind=first[1], encoding=first[2], total_rows=int(first[3]), rows=rows(), close=child.close)


# The child's stream: records ended by RS, fields separated by US (ASCII record and unit separators,
# which the child removes from cell text); cheaper to write and read than CSV. A record's first field
# is its tag: T(kind, encoding, total rows), R<line>(cells…), E(message), Z (the end).
_RS, _US = "\x1e", "\x1f"
_MAX_RECORD = 1 << 26


def _records(text: io.TextIOBase) -> Iterator[list[str]]:
    rest = ""
    while chunk := text.read(1 << 16):
        parts = (rest + chunk).split(_RS)
        rest = parts.pop()
        if len(rest) > _MAX_RECORD:
            raise ValueError("record too long")
        for part in parts:
            yield part.split(_US)


def _died(status: int) -> str:
    """The message for a reading child that ended abnormally (status as from ChildProcess.close)."""
    if status in (-signal.SIGXCPU, -signal.SIGKILL):
        return _(
            "读取文件超时，已停止（读取进程超出时间上限），未写入任何数据。文件可能过大或已损坏；请在 Excel 中删除多余的空行空列，或另存为 CSV 后重试。"
        )
    return _(
        "读取文件失败：读取进程超出内存上限或意外退出（%(status)s），未写入任何数据。文件可能过大或已损坏；请在 Excel 中删除多余的空行空列，或另存为 CSV 后重试。"
    ) % {"status": status}


def _child_main(out, path: Path, encoding: str | None, limits: ReadLimits, language: str) -> None:
    """In the child: read the untrusted file and write its records (see _records) to `out`."""
    translation.activate(language)
    csv.field_size_limit(limits.max_line_chars)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    write = text.write
    try:
        table = _open_untrusted(path, encoding, limits)
        write(_US.join(("T", table.kind, table.encoding, str(table.total_rows))) + _RS)
        for line, cells in table.rows:
            rec = _US.join(cells)
            if _RS in rec or rec.count(_US) != len(cells) - 1:
                rec = _US.join(c.replace(_RS, " ").replace(_US, " ") for c in cells)
            write(f"R{line}{_US}{rec}{_RS}")
        write("Z" + _RS)
    except FileProblem as exc:
        write(f"E{_US}{exc.message}{_RS}")
    except (MemoryError, SystemError):  # SystemError: a C extension that could not allocate
        write(
            f"E{_US}"
            + _(
                "文件太大：读取时超出内存上限，未写入任何数据。请把文件拆成几个较小的文件，或另存为 CSV 后重试。"
            )
            + _RS
        )
    except UnicodeEncodeError:
        write(f"E{_US}" + _("文件含有无效的字符，无法读取。请在 Excel 中另存为 CSV（UTF-8）后重试。") + _RS)
    except Exception as exc:  # a reader's bug on a strange file: a message, not a crash
        traceback.print_exc()
        write(
            f"E{_US}"
            + _("无法读取文件（%(err)s）。请在 Excel 中另存为 CSV（UTF-8）后重试。")
            % {"err": type(exc).__name__}
            + _RS
        )
    text.flush()


def _open_untrusted(path: Path, encoding: str | None, limits: ReadLimits) -> Table:
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe"):
        raise FileProblem(_("文件是空的。"))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _open_zip(path, limits)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return _open_calamine(path, "xls", limits)
    for magic, label in _MAGIC:
        if head.startswith(magic) and not (magic == b"BM" and _looks_like_text(head)):
            raise FileProblem(
                _("这不是表格文件（看起来是%(what)s）。请上传 CSV 或 Excel（.xlsx/.xls）文件。")
                % {"what": label}
            )
    return _open_csv(path, head, encoding, limits)


def _looks_like_text(head: bytes) -> bool:
    return b"\x00" not in head[:4096]


_DIMENSION_RE = re.compile(
    rb"<(?:\w+:)?dimension\s+ref=\"([A-Za-z]{1,3})(\d{1,7})(?::([A-Za-z]{1,3})(\d{1,7}))?\""
)
_MAX_ZIP_ENTRIES = 10000
_RATIO_FLOOR = 16 * 1024 * 1024  # smaller entries may compress as well as they like


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _check_zip(zf: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Refuse zip bombs (total size, compression ratio), XML with a DTD (entity expansion) and a
    declared sheet dimension beyond the limits — before anything is parsed."""
    infos = zf.infolist()
    if len(infos) > _MAX_ZIP_ENTRIES:
        raise FileProblem(_("文件结构异常（压缩包内文件过多），拒绝读取。"))
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_mb * 1024 * 1024:
        raise FileProblem(
            _("文件解压后过大（约 %(mb)d MB，上限 %(max)d MB），拒绝读取。请拆分文件或另存为 CSV。")
            % {"mb": total // 1048576, "max": limits.max_unzipped_mb}
        )
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_zip_ratio * max(
            info.compress_size, 1
        ):
            raise FileProblem(
                _("文件压缩比异常（%(name)s 解压后是压缩时的 %(ratio)d 倍），疑似“压缩炸弹”，拒绝读取。")
                % {"name": info.filename[:60], "ratio": info.file_size // max(info.compress_size, 1)}
            )
    for info in infos:
        if not info.filename.endswith((".xml", ".rels")):
            continue
        with zf.open(info) as fh:
            head = fh.read(65536)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise FileProblem(_("文件含有不允许的 XML 声明（DTD/实体），拒绝读取。"))
        if info.filename.startswith("xl/worksheets/"):
            m = _DIMENSION_RE.search(head)
            if m and m[3]:
                cols = _column_number(m[3]) - _column_number(m[1]) + 1
                rows = int(m[4]) - int(m[2]) + 1
                if cols > limits.max_columns or rows * cols > limits.max_cells:
                    raise FileProblem(
                        _(
                            "工作表声明的范围过大（%(ref)s，%(rows)d 行 × %(cols)d 列），拒绝读取。请在 Excel 中删除多余的行和列（或只复制有数据的区域到新文件）后重试。"
                        )
                        % {"ref": (m[1] + m[2] + b":" + m[3] + m[4]).decode(), "rows": rows, "cols": cols}
                    )


def _open_zip(path: Path, limits: ReadLimits) -> Table:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" in names or ("content.xml" in names and "mimetype" in names):
                _check_zip(zf, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise FileProblem(_("文件已损坏：看起来是 ZIP/Excel 文件，但无法打开。")) from exc
    if "xl/workbook.xml" in names:
        return _open_xlsx(path, limits)
    if "content.xml" in names and "mimetype" in names:
        return _open_calamine(path, "ods", limits)
    if "word/document.xml" in names:
        raise FileProblem(_("这是 Word 文档，不是表格。请上传 CSV 或 Excel（.xlsx/.xls）文件。"))
    raise FileProblem(_("这是 ZIP 压缩包，不是表格文件。请解压后上传其中的 CSV 或 Excel 文件。"))


def _cell(value) -> str:
    """Workbook cell → text: 100234.0 → "100234", a date → "2015-06-01" (what the CSV path reads)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _workbook_row(line: int, raw, limits: ReadLimits) -> list[str] | None:
    """One workbook row as bounded text cells, or None when blank."""
    if not raw:
        return None
    if len(raw) > limits.max_columns:
        if any(v is not None and v != "" for v in raw[limits.max_columns :]):
            raise FileProblem(
                _("第 %(line)d 行有超过 %(n)d 列的内容，拒绝读取。请删除多余的列后重试。")
                % {"line": line, "n": limits.max_columns}
            )
        raw = raw[: limits.max_columns]
    cells = [_cell(v) for v in raw]
    if not any(cells):
        return None
    for c in cells:
        if len(c) > limits.max_line_chars or "\x00" in c:
            raise FileProblem(_("第 %(line)d 行有过长或含空字符（NUL）的单元格，拒绝读取。") % {"line": line})
    return cells


def _open_xlsx(path: Path, limits: ReadLimits) -> Table:
    """Stream the first non-empty sheet (openpyxl read-only): rows as stored, the declared dimension
    ignored, so a sparse sheet allocates nothing for the cells it does not have."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
        for ws in wb.worksheets:
            declared = ws.max_row if ws.max_row and ws.max_row < 2_000_000 else 0
            ws.reset_dimensions()
            it = enumerate(ws.iter_rows(values_only=True), 1)
            for line, raw in it:
                first = _workbook_row(line, raw, limits)
                if first is not None:
                    break
            else:
                continue
            return Table(
                kind="xlsx", encoding="", total_rows=declared, rows=_xlsx_rows(line, first, it, limits)
            )
    except FileProblem:
        raise
    except Exception as exc:  # openpyxl raises many error types for damaged files
        raise FileProblem(
            _("无法读取 Excel 文件（%(err)s）。文件可能已损坏或设置了密码。") % {"err": type(exc).__name__}
        ) from exc
    raise FileProblem(_("文件是空的。"))


def _xlsx_rows(line: int, first: list[str], it, limits: ReadLimits) -> Iterator[tuple[int, list]]:
    yield line, first
    try:
        for line, raw in it:
            cells = _workbook_row(line, raw, limits)
            if cells is not None:
                yield line, cells
    except FileProblem:
        raise
    except Exception as exc:
        raise FileProblem(
            _("无法读取 Excel 文件（%(err)s）。文件可能已损坏或设置了密码。") % {"err": type(exc).__name__}
        ) from exc


def _open_calamine(path: Path, kind: str, limits: ReadLimits) -> Table:
    """XLS (OLE2) and ODS through calamine, which builds the whole sheet in memory: bounded by the
    child's memory limit (an XLS sheet has at most 65,536 × 256 cells)."""
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
        raise FileProblem(
            _("无法读取 Excel 文件（%(err)s）。文件可能已损坏或设置了密码。") % {"err": type(exc).__name__}
        ) from exc
    if sheet is None:
        raise FileProblem(_("文件是空的。"))
    first_row = sheet.start[0] + 1 if sheet.start else 1

    def rows() -> Iterator[tuple[int, list]]:
        for index, raw in enumerate(sheet.iter_rows()):
            cells = _workbook_row(first_row + index, raw, limits)
            if cells is not None:
                yield first_row + index, cells

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
        raise FileProblem(
            _("无法识别文件编码。请将文件另存为 UTF-8 或 GBK 编码的 CSV，或直接上传 Excel 文件。")
        ) from exc


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            count += chunk.count(b"\n")
    return count + 1


def _bounded_lines(text: io.TextIOBase, limits: ReadLimits, counter: list[int]) -> Iterator[str]:
    """Physical lines of at most `max_line_chars` characters, without NUL; counter[0] is the line."""
    limit = limits.max_line_chars
    while True:
        ln = text.readline(limit + 1)
        if not ln:
            return
        counter[0] += 1
        if len(ln) > limit and not ln.endswith(("\n", "\r")):
            raise FileProblem(
                _("第 %(line)d 行过长（超过 %(n)d 个字符），拒绝读取。请确认文件是按行分隔的 CSV。")
                % {"line": counter[0], "n": limit}
            )
        if "\x00" in ln:
            raise FileProblem(
                _("第 %(line)d 行含有空字符（NUL），这不是文本表格文件。请另存为 CSV 后重试。")
                % {"line": counter[0]}
            )
        yield ln


def _open_csv(path: Path, head: bytes, encoding: str | None, limits: ReadLimits) -> Table:
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
    except UnicodeError as exc:  # UnicodeDecodeError, and UTF-16 without its byte order mark
        raise FileProblem(
            _("文件不是 %(enc)s 编码：开头部分无法解码。请确认编码（UTF-8 或 GBK）。") % {"enc": _label(enc)}
        ) from exc
    first_line = next((ln for ln in first_text.splitlines() if ln.strip()), "")
    delimiter = max(",\t;|", key=first_line.count) if first_line else ","
    if first_line.count(delimiter) == 0:
        delimiter = ","
    total = _count_lines(path)

    def rows() -> Iterator[tuple[int, list]]:
        line = 0
        physical = [0]
        with path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=enc, newline="")
            reader = csv.reader(_bounded_lines(text, limits, physical), delimiter=delimiter)
            try:
                for line, cells in enumerate(reader, 1):
                    if len(cells) > limits.max_columns:
                        raise FileProblem(
                            _("第 %(line)d 行有 %(cols)d 列，超过上限 %(n)d 列，拒绝读取。")
                            % {"line": line, "cols": len(cells), "n": limits.max_columns}
                        )
                    yield line, cells
            except UnicodeError as exc:
                raise FileProblem(
                    _(
                        "文件不是 %(enc)s 编码：第 %(line)d 行附近无法解码。请确认编码（UTF-8 或 GBK），或用 --encoding 指定。"
                    )
                    % {"enc": _label(enc), "line": line + 1}
                ) from exc
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise FileProblem(
                        _("第 %(line)d 行附近有超过 %(n)d 个字符的单元格（可能是引号没有配对），拒绝读取。")
                        % {"line": line + 1, "n": limits.max_line_chars}
                    ) from exc
                raise FileProblem(
                    _("CSV 格式错误（第 %(line)d 行附近）：%(err)s") % {"line": line + 1, "err": exc}
                ) from exc

    return Table(kind="csv", encoding=enc, total_rows=total, rows=rows())


def _label(enc: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030", "utf-16": "UTF-16"}.get(
        enc, enc
    )
