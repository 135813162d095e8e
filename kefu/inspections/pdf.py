"""Printed documents of inspections (A4, Chinese): the 入户安检通知 posted in each building before
a batch (with the dates and the booking hotline) and the 安全隐患整改通知书 the customer signs
(P14). reportlab draws them with its built-in Adobe CID font STSong-Light, as kefu.outages.pdf
does, so no font file is shipped or fetched."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def _wrap(text: str, width_chars: int) -> list[str]:
    out: list[str] = []
    for para in str(text).splitlines() or [""]:
        while len(para) > width_chars:
            out.append(para[:width_chars])
            para = para[width_chars:]
        out.append(para)
    return out


def _d(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def _lines(
    c: Canvas, lines: list[str], y: float, *, x: float = 25 * mm, step: float = 9 * mm, width: int = 34
):
    for line in lines:
        for part in _wrap(line, width):
            c.drawString(x, y, part)
            y -= step
    return y


def batch_notice_pdf(batch, *, hotline: str, company_name: str) -> bytes:
    """One A4 page per building of the batch: 入户安检通知 with the days and the booking hotline."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    c.setTitle(f"入户安检通知 {batch.community}")
    font = _font()
    w, h = A4
    for bld in batch.buildings or [""]:
        c.setFont(font, 28)
        c.drawCentredString(w / 2, h - 40 * mm, "入 户 安 检 通 知")
        c.setFont(font, 14)
        days = (
            _d(batch.first_day)
            if batch.first_day == batch.last_day
            else f"{_d(batch.first_day)}至{_d(batch.last_day)}"
        )
        y = _lines(
            c,
            [
                f"尊敬的{batch.community}{bld + '号楼' if bld else ''}用户：",
                "",
                "    为保障您和家人的用气安全，根据《城镇燃气管理条例》，我公司将对",
                f"您家中的燃气设施进行免费入户安全检查。安检时间：{days}。",
                "    请您届时在家配合。安检人员统一着装、佩戴工作证，不收取任何费用，",
                "不推销任何产品。如该时间不便，请拨打预约电话另约时间：",
                f"    {hotline}",
                "    感谢您的支持与配合！",
            ],
            h - 65 * mm,
        )
        c.drawRightString(w - 25 * mm, y - 15 * mm, company_name)
        c.setFont(font, 9)
        c.drawString(25 * mm, 15 * mm, f"批次 {batch.pk}  {batch.community} {bld}")
        c.showPage()
    c.save()
    return buf.getvalue()


def hazard_notice_pdf(hazard, *, company_name: str, hotline: str) -> bytes:
    """安全隐患整改通知书: the hazard, its severity and deadline, the customer's signature line."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    c.setTitle(f"安全隐患整改通知书 {hazard.number}")
    font = _font()
    w, h = A4
    c.setFont(font, 24)
    c.drawCentredString(w / 2, h - 35 * mm, "安全隐患整改通知书")
    c.setFont(font, 12)
    cust = hazard.customer
    address = cust.premise.address if cust.premise_id else ""
    y = _lines(
        c,
        [
            f"编号：{hazard.number}",
            f"户号：{cust.account_no}    户名：{cust.name}",
            f"地址：{address}",
            "",
            f"    经{_d(hazard.found_at.date())}入户安全检查，发现您家中存在以下安全隐患：",
            f"    {hazard.type.name}（{hazard.get_severity_display()}）{hazard.description}",
            f"    请于{_d(hazard.deadline)}前完成整改。整改前请注意通风，发现漏气请立即",
            f"关闭表前阀、开窗通风、到室外拨打 {hotline}。",
            "    整改可由您自行完成、委托我公司（有偿服务）或有资质的第三方完成，",
            "整改后我公司将上门复查。",
            "",
            f"客户签收：{hazard.notice_signed_by or '________________'}     日期：________________",
            f"安检员：{hazard.responsible.display_name}",
        ],
        h - 55 * mm,
        step=8 * mm,
        width=40,
    )
    c.drawRightString(w - 25 * mm, y - 10 * mm, company_name)
    c.showPage()
    c.save()
    return buf.getvalue()
