"""The watermark of an Excel file (S3, S4): a first row on every sheet, the printed header, the
workbook's properties; no cell runs as a formula. Pure: no database."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from kefu.exports.classification import Level
from kefu.exports.registry import ExportData, Sheet, clean_params, params_from_query, params_to_query
from kefu.exports.render import Watermark, csv_safe, render_xlsx

SH = ZoneInfo("Asia/Shanghai")


def _mark(**kw) -> Watermark:
    return Watermark(
        number="DC-20260302-0042",
        level=Level.TOP_SECRET,
        who="李强（lead_x）",
        company="X市燃气有限公司",
        at=datetime(2026, 3, 2, 9, 30, tzinfo=SH),
        kind="工单列表",
        approved_by="张敏（supervisor）",
        expires_at=datetime(2026, 3, 3, 9, 30, tzinfo=SH),
        **kw,
    )


def test_xlsx_header_row_and_properties():
    data = ExportData(
        sheets=[
            Sheet(title="统计", header=["题目", "n"], rows=[("满意度", 3)], count=1),
            Sheet(
                title="答卷",
                header=["区县", "备注"],
                rows=[("泰山区", "=1+1"), ("岱岳区", "\x07响铃")],
                count=2,
            ),
        ]
    )
    wb = load_workbook(BytesIO(render_xlsx(data, _mark())))
    for ws in wb.worksheets:
        assert ws["A1"].value.startswith(
            "密级：绝密（严禁擅自复制、外传） · 内容：工单列表 · 导出编号：DC-20260302-0042"
        )
        assert "导出人：李强（lead_x） · X市燃气有限公司" in ws["A1"].value
        assert "审批人：张敏（supervisor）" in ws["A1"].value
        assert "下载有效期至：2026-03-03 09:30:00+08:00" in ws["A1"].value
        assert "DC-20260302-0042" in ws.oddHeader.center.text and "绝密" in ws.oddFooter.center.text
    answers = wb["答卷"]
    assert [c.value for c in answers[2]] == ["区县", "备注"]
    assert answers["B3"].value == "=1+1" and answers["B3"].data_type == "s"  # text, not a formula
    assert answers["B4"].value == "响铃"  # a control character an .xlsx cannot hold is dropped
    p = wb.properties
    assert p.creator == "李强（lead_x）" and p.keywords == "DC-20260302-0042" and p.subject == "绝密"
    assert p.title == "工单列表 DC-20260302-0042" and "审批人" in p.description
    custom = {prop.name: prop.value for prop in wb.custom_doc_props.props}
    assert custom == {"kefu.request": "DC-20260302-0042", "kefu.level": "top_secret"}


def test_watermark_lines_without_approval():
    mark = Watermark(
        number="DC-1", level=Level.SECRET, who="a", company="c", at=datetime(2026, 1, 1, tzinfo=SH)
    )
    assert mark.lines() == [
        "密级：机密（严禁擅自复制、外传）",
        "导出编号：DC-1",
        "导出人：a · c",
        "生成时间：2026-01-01 00:00:00+08:00",
    ]


def test_csv_safe():
    for text in ("=1", "+1", "-1", "@SUM(A1)", "＝1", "\t=1"):
        assert csv_safe(text) == "'" + text
    assert csv_safe("张三 = 1") == "张三 = 1" and csv_safe(None) == ""


def test_params_round_trip_and_hostile_params():
    from django.http import QueryDict

    q = QueryDict("state=new&state=assigned&q=3-2-501&page=2&export=csv")
    params = params_from_query(q)
    assert params == {"q": ["3-2-501"], "state": ["new", "assigned"]}
    assert params_to_query(params).getlist("state") == ["new", "assigned"]
    assert clean_params({"campaign_id": 3}) == {"campaign_id": ["3"]}
    import pytest

    from kefu.core.errors import DomainError

    for bad in ([1], {"a": {"b": 1}}, {"a": "x" * 201}, {str(i): "1" for i in range(51)}):
        with pytest.raises(DomainError):
            clean_params(bad)
