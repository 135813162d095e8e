"""Printed documents (A4, Chinese): the 停气通知 posted per building (C1) and the fault-analysis
report (P8). reportlab draws them with its built-in Adobe CID font STSong-Light, so no font file
is shipped or fetched (docs/decisions.md)."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kefu.core.pdf import cjk_font as _font


def _wrap(text: str, width_chars: int) -> list[str]:
    out: list[str] = []
    for para in str(text).splitlines() or [""]:
        while len(para) > width_chars:
            out.append(para[:width_chars])
            para = para[width_chars:]
        out.append(para)
    return out


def _fmt(dt, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%Y年%m月%d日 %H:%M") if dt else ""


def notice_pdf(outage, *, buildings: list[str], hotline: str, company_name: str) -> bytes:
    """One A4 page per building: 停气通知 with the times, reason, area and hotline."""
    tz = ZoneInfo(getattr(outage.company, "timezone", "") or "Asia/Shanghai")
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    c.setTitle(f"停气通知 {outage.number}")
    font = _font()
    w, h = A4
    for bkey in buildings or [""]:
        c.setFont(font, 30)
        c.drawCentredString(w / 2, h - 40 * mm, "停 气 通 知")
        c.setFont(font, 14)
        y = h - 65 * mm
        comm, _sep, bld = bkey.partition("/")
        lines = [
            f"尊敬的{comm}{bld + '号楼' if bld else ''}用户：",
            "",
            f"    因{outage.reason}，{outage.area or '您所在区域'}将暂停供气。",
            f"    停气时间：{_fmt(outage.planned_start, tz)}",
            f"    预计恢复：{_fmt(outage.planned_end, tz)}",
            "",
            "    停气期间请关闭燃气表前阀门及灶具开关；恢复供气后如需点火，",
            f"    请拨打服务热线 {hotline}，我们将安排人员上门。",
            "    给您带来不便，敬请谅解。",
        ]
        for line in lines:
            for part in _wrap(line, 34):
                c.drawString(25 * mm, y, part)
                y -= 9 * mm
        c.drawRightString(w - 25 * mm, y - 15 * mm, company_name)
        c.drawRightString(w - 25 * mm, y - 24 * mm, _fmt(outage.approved_at or outage.created_at, tz)[:11])
        c.setFont(font, 9)
        c.drawString(25 * mm, 15 * mm, f"编号 {outage.number}  楼栋 {bkey}")
        c.showPage()
    c.save()
    return buf.getvalue()


def report_pdf(outage, report, *, company_name: str) -> bytes:
    """The fault-analysis report: impact, handling, cause, corrective and preventive actions (P8)."""
    tz = ZoneInfo(getattr(outage.company, "timezone", "") or "Asia/Shanghai")
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    c.setTitle(f"故障分析报告 {outage.number}")
    font = _font()
    w, h = A4
    c.setFont(font, 22)
    c.drawCentredString(w / 2, h - 30 * mm, "故障分析报告")
    y = h - 45 * mm
    c.setFont(font, 11)
    began = _fmt(outage.actual_start or outage.planned_start, tz)
    head = f"{company_name}  编号 {outage.number}  停气 {began} 至 {_fmt(outage.restored_at, tz)}"
    for part in _wrap(head, 48):
        c.drawString(20 * mm, y, part)
        y -= 7 * mm
    for title, body in (
        ("一、影响", report.impact),
        ("二、处理经过", report.handling),
        ("三、原因", report.cause),
        ("四、纠正措施", report.corrective),
        ("五、预防措施", report.preventive),
    ):
        c.setFont(font, 13)
        y -= 4 * mm
        c.drawString(20 * mm, y, title)
        y -= 8 * mm
        c.setFont(font, 11)
        for part in _wrap(body, 44):
            if y < 25 * mm:
                c.showPage()
                c.setFont(font, 11)
                y = h - 25 * mm
            c.drawString(25 * mm, y, part)
            y -= 7 * mm
    c.save()
    return buf.getvalue()
