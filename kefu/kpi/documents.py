"""The monthly report (P15), the weekly summary and the yearly publication (C17) as files: a PDF for
the general manager and the public (reportlab, kefu.core.pdf's Chinese font) and an Excel workbook
(openpyxl) whose figures are the exact numerators and denominators of the registry."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from reportlab.graphics.shapes import Drawing, Line, PolyLine
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kefu.core.pdf import cjk_font
from kefu.kpi import charts
from kefu.kpi import formulas as f

VERDICT_TEXT = {
    f.Verdict.MET: "达标",
    f.Verdict.MISSED: "未达标",
    f.Verdict.NO_DATA: "无数据",
    f.Verdict.NO_TARGET: "未设目标",
}


def value_text(fig: f.Figure, unit: str) -> str:
    return "无数据" if fig.value is None else f"{fig.value}{' %' if unit == '%' else ' 分'}"


def ratio_text(fig: f.Figure) -> str:
    if fig.value is None:
        return "—"
    return f"{_num(fig.numerator)} / {_num(fig.denominator)}"


def _num(x) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):.2f}"


def target_text(target) -> str:
    if target is None:
        return "—"
    return target.commitment or f"{'>' if target.strict else '≥'} {target.value}"


def _local(dt: datetime | None, tz: str) -> str:
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if dt else ""


class _Doc:
    """A4 document with the Chinese font: title, headings, paragraphs and tables."""

    def __init__(self, title: str):
        self.font = cjk_font()
        self.title = title
        self.story: list = []
        self.h1 = ParagraphStyle("h1", fontName=self.font, fontSize=18, leading=24, spaceAfter=6)
        self.h2 = ParagraphStyle(
            "h2", fontName=self.font, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4
        )
        self.p = ParagraphStyle("p", fontName=self.font, fontSize=9.5, leading=14)

    def heading(self, text: str, level: int = 2) -> None:
        self.story.append(Paragraph(text, self.h1 if level == 1 else self.h2))

    def para(self, text: str) -> None:
        self.story.append(Paragraph(text, self.p))

    def table(self, rows: list[list], widths: list[float] | None = None) -> None:
        if len(rows) <= 1:
            self.para("（无）")
            return
        cells = [[c if isinstance(c, Drawing) else Paragraph(str(c), self.p) for c in r] for r in rows]
        t = Table(cells, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.94, 0.97)),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        self.story.append(t)
        self.story.append(Spacer(1, 3 * mm))

    def render(self) -> bytes:
        buf = io.BytesIO()
        doc = SimpleDocTemplate(
            buf, pagesize=A4, title=self.title, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm
        )
        doc.build(self.story)
        return buf.getvalue()


def _sparkline(line, width: float = 34 * mm, height: float = 8 * mm) -> Drawing:
    values = [v for _m, v in line.trend]
    scaled, target_y = charts.scale(
        values, width=width, height=height, target=line.target.value if line.target else None, pad=2
    )
    d = Drawing(width, height)
    if target_y is not None:
        d.add(
            Line(
                0, height - target_y, width, height - target_y, strokeColor=colors.red, strokeDashArray=[2, 2]
            )
        )
    run: list[float] = []
    for p in [*scaled, None]:
        if p is None:
            if len(run) >= 4:
                d.add(PolyLine(run, strokeColor=colors.darkblue, strokeWidth=0.8))
            run = []
        else:
            run += [p[0], height - p[1]]
    return d


def _indicator_rows(lines, *, with_trend: bool) -> list[list]:
    head = ["指标", "分子 / 分母", "数值", "年度目标", "结论"] + (["近12个月"] if with_trend else [])
    rows: list[list] = [head]
    for x in lines:
        row = [
            f"{x.code} {x.indicator.name}",
            ratio_text(x.figure),
            value_text(x.figure, x.indicator.unit),
            target_text(x.target),
            VERDICT_TEXT[x.verdict],
        ]
        rows.append(row + ([_sparkline(x)] if with_trend else []))
    return rows


def report_pdf(report, *, tz: str = "Asia/Shanghai") -> bytes:
    """The monthly service-supervision report (P15) for the general manager."""
    name = report.company.name
    doc = _Doc(f"{name} {report.month} 服务监督报告")
    doc.heading(f"{name}<br/>{report.month.year}年{report.month.month}月 服务监督报告", 1)
    state = (
        f"已关闭（第 {report.closed.version} 版，{_local(report.closed.closed_at, tz)}）"
        if report.closed
        else f"未关闭，数据截至 {_local(report.as_of, tz)}"
    )
    doc.para(
        f"{state}。达标 {report.met} 项，未达标 {report.missed} 项。"
        "各项数值按量化考核公式（004 第十条）由系统记录计算。"
    )
    doc.heading("一、服务承诺指标")
    doc.table(
        _indicator_rows(report.lines, with_trend=True), [48 * mm, 30 * mm, 22 * mm, 26 * mm, 18 * mm, 36 * mm]
    )
    doc.heading("二、超时记录及所属承诺")
    doc.table([["承诺", "次数"]] + [[k, n] for k, n in report.breaches_by_commitment], [130 * mm, 30 * mm])
    doc.table(
        [["承诺", "记录", "时限", "完成"]]
        + [
            [f"{b.spec_id} {b.commitment}", b.label, _local(b.due_at, tz), _local(b.done_at, tz) or "未完成"]
            for b in report.breaches[:100]
        ],
        [55 * mm, 45 * mm, 40 * mm, 40 * mm],
    )
    c = report.complaints
    doc.heading("三、投诉及处理结果")
    doc.para(
        f"受理投诉 {c.get('total', 0)} 件，成立 {c.get('stood', 0)} 件，不成立 {c.get('not_stood', 0)} 件，"
        f"已办结 {c.get('closed', 0)} 件。"
    )
    doc.table([["类别", "件数"]] + [list(x) for x in c.get("by_category", [])], [130 * mm, 30 * mm])
    doc.table([["工单", "原因分析"]] + [list(x) for x in c.get("causes", [])], [40 * mm, 140 * mm])
    doc.heading("四、停气")
    doc.table(
        [["编号", "类别", "影响户数", "户·小时", "通知及时", "按时恢复"]]
        + [
            [
                i.number,
                "计划" if i.kind == "planned" else "抢险",
                i.a,
                f"{i.a_t:.1f}",
                _yes(i.notice_in_time),
                _yes(i.restored_in_time),
            ]
            for i in report.interruptions
        ],
        [32 * mm, 20 * mm, 24 * mm, 26 * mm, 26 * mm, 26 * mm],
    )
    doc.heading("五、入户安检覆盖及隐患")
    inspections = getattr(report, "inspections", None)
    doc.para(inspections or "入户安检数据见 K4 指标。")
    return doc.render()


def _yes(v) -> str:
    return "—" if v is None else ("是" if v else "否")


def week_pdf(summary, *, tz: str = "Asia/Shanghai") -> bytes:
    """The weekly service summary (P15): the week's breaches, complaints and interruptions, and the
    month's indicators so far."""
    doc = _Doc(f"{summary.company.name} 周服务小结 {summary.start:%Y-%m-%d}")
    week = f"{_local(summary.start, tz)[:10]} 至 {_local(summary.end - timedelta(days=1), tz)[:10]}"
    doc.heading(f"{summary.company.name}<br/>周服务小结 {week}", 1)
    doc.heading("本周超时记录")
    doc.table([["承诺", "次数"]] + [[k, n] for k, n in summary.breaches_by_commitment], [130 * mm, 30 * mm])
    doc.heading("本周投诉")
    doc.para(f"受理投诉 {summary.complaints} 件；停气 {summary.interruptions} 次。")
    doc.heading("本月至今指标")
    doc.table(_indicator_rows(summary.lines, with_trend=False), [55 * mm, 35 * mm, 25 * mm, 35 * mm, 25 * mm])
    return doc.render()


def publication_pdf(publication) -> bytes:
    """The yearly publication (C17): next year's commitments with last year's results."""
    p = publication
    doc = _Doc(f"{p.company.name} {p.year}年服务承诺")
    doc.heading(f"{p.company.name}<br/>{p.year}年服务承诺及{p.year - 1}年承诺完成情况", 1)
    doc.heading(f"一、{p.year}年服务承诺")
    doc.table([["承诺", "时限", "依据"]] + [list(r) for r in p.commitments], [80 * mm, 45 * mm, 55 * mm])
    doc.heading(f"二、{p.year - 1}年指标完成情况")
    doc.table(
        [["指标", "目标", "完成", "结论"]]
        + [
            [
                f"{x.code} {x.indicator.name}",
                target_text(x.target),
                value_text(x.figure, x.indicator.unit),
                VERDICT_TEXT[x.verdict],
            ]
            for x in p.results
        ],
        [70 * mm, 40 * mm, 40 * mm, 30 * mm],
    )
    return doc.render()


def report_xlsx(report, *, tz: str = "Asia/Shanghai") -> bytes:
    """The monthly report as a workbook: indicators (exact numerator and denominator), the
    twelve-month trend, breaches, interruptions."""
    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    ws.append(["指标", "名称", "分子", "分母", "数值", "单位", "年度目标", "结论", "口径"])
    for x in report.lines:
        fig = x.figure
        ws.append(
            [
                x.code,
                str(x.indicator.name),
                float(fig.numerator) if fig.value is not None else None,
                float(fig.denominator) if fig.value is not None else None,
                float(fig.value) if fig.value is not None else "无数据",
                x.indicator.unit,
                target_text(x.target),
                VERDICT_TEXT[x.verdict],
                fig.method,
            ]
        )
    trend = wb.create_sheet("近12个月")
    months = [m for m, _v in report.lines[0].trend] if report.lines and report.lines[0].trend else []
    trend.append(["指标", *months])
    for x in report.lines:
        trend.append([x.code, *[float(v) if v is not None else None for _m, v in x.trend]])
    br = wb.create_sheet("超时记录")
    br.append(["规范编号", "承诺", "记录", "时限", "完成"])
    for b in report.breaches:
        br.append([b.spec_id, b.commitment, b.label, _local(b.due_at, tz), _local(b.done_at, tz)])
    out = wb.create_sheet("停气")
    out.append(["编号", "类别", "影响户数", "户·小时", "通知及时", "按时恢复"])
    for i in report.interruptions:
        out.append([i.number, i.kind, i.a, round(i.a_t, 2), _yes(i.notice_in_time), _yes(i.restored_in_time)])
    wb.properties.title = f"{report.company.name} {report.month} 服务监督报告"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
