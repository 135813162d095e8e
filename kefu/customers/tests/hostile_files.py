"""Hostile billing exports, made small and fast (docs/security.md "Hostile files")."""

from __future__ import annotations

import zipfile
from pathlib import Path

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WB = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx(path: Path, sheet_xml: str, *, prolog: str = "", extra: dict[str, bytes] | None = None) -> Path:
    """A minimal XLSX whose sheet1.xml is `sheet_xml` (what a hostile tool would write)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WB)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0" encoding="UTF-8"?>' + prolog + sheet_xml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def sparse_xlsx(path: Path, *, dimension: bool = True) -> Path:
    """Only A1 and XFD1048576: 5 KB that made calamine ask for 512 GiB and abort the worker."""
    dim = '<dimension ref="A1:XFD1048576"/>' if dimension else ""
    return xlsx(
        path,
        f'<worksheet {NS}>{dim}<sheetData><row r="1">{cell("A1", "户号")}</row>'
        f'<row r="1048576">{cell("XFD1048576", "x")}</row></sheetData></worksheet>',
    )


def zip_bomb_xlsx(path: Path, *, megabytes: int = 40) -> Path:
    """A sheet of `megabytes` MB of blanks inside a few kB (compression ratio ~1000)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WB)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(f'<?xml version="1.0"?><worksheet {NS}><sheetData>'.encode())
            chunk = b" " * (1 << 20)
            for _ in range(megabytes):
                fh.write(chunk)
            fh.write(b"</sheetData></worksheet>")
    return path


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


def entity_xlsx(path: Path) -> Path:
    return xlsx(
        path,
        f'<worksheet {NS}><sheetData><row r="1">{cell("A1", "&lol3;")}</row></sheetData></worksheet>',
        prolog=BILLION_LAUGHS,
    )


def sparse_ods(path: Path) -> Path:
    """An ODS whose one cell sits at row 1,048,576, column 16,384 (repeated empty rows and cells)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="S">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>户号</text:p></table:table-cell></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048574"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
        '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        )
    return path


def long_line_csv(path: Path, chars: int) -> Path:
    """A header, then one line of `chars` characters without a line break (streamed to disk)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("户号,户名,客户类别,详细地址\r\n1,")
        chunk = "甲" * 65536
        left = chars
        while left > 0:
            fh.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
    return path
