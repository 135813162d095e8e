"""The receipt (收据, P12; 004 第四条10 "开具票据"): a small page drawn on each download from the
payment row, which keeps the company's and the clerk's names as issued, so a reprint is always the
same receipt. reportlab with its built-in CID font STSong-Light (no font file, as kefu.outages.pdf)."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
_registered = False
PAGE = (100 * mm, 150 * mm)  # a receipt printer's roll, cut per receipt

_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def amount_in_words(amount) -> str:
    """人民币大写 of a non-negative amount with two decimals: 128.50 → 壹佰贰拾捌元伍角整."""
    cents = int(round(amount * 100))
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    units, big = ["", "拾", "佰", "仟"], ["", "万", "亿", "万亿"]
    digits = str(yuan)
    out, zero = "", False
    for i, ch in enumerate(digits):
        p, d = len(digits) - 1 - i, int(ch)
        if d == 0:
            zero = True
        else:
            out += ("零" if zero else "") + _DIGITS[d] + units[p % 4]
            zero = False
        if p % 4 == 0 and p > 0 and int(digits[max(0, i - 3) : i + 1]):
            out += big[p // 4]
    out = out or "零"
    out += "元"
    if jiao == 0 and fen == 0:
        return out + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif fen:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    else:
        out += "整"
    return out


def receipt_pdf(payment) -> bytes:
    """The receipt of one payment, drawn from its row on every download (P12): the company and clerk
    as issued, number, time, payer and account, the lines by the price list version, the total in
    figures and in words, what was tendered and the change."""
    company_name, clerk_name = payment.company_name, payment.clerk_name
    tz = ZoneInfo(payment.company.time_zone or "Asia/Shanghai")
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=PAGE)
    c.setTitle(f"收据 {payment.receipt_no}")
    font = _font()
    w, h = PAGE
    c.setFont(font, 13)
    c.drawCentredString(w / 2, h - 12 * mm, company_name)
    c.setFont(font, 15)
    c.drawCentredString(w / 2, h - 20 * mm, "收    据")
    c.setFont(font, 8.5)
    y = h - 28 * mm
    for line in (
        f"收据号：{payment.receipt_no}",
        f"时间：{payment.at.astimezone(tz):%Y-%m-%d %H:%M:%S}",
        f"户号：{payment.account_no or '—'}    交款人：{payment.payer or '—'}",
        f"收费标准：第{payment.price_list.version}版",
    ):
        c.drawString(6 * mm, y, line)
        y -= 5 * mm
    y -= 1 * mm
    c.line(6 * mm, y + 3 * mm, w - 6 * mm, y + 3 * mm)
    for ln in payment.lines.all():
        c.drawString(6 * mm, y, f"{ln.name[:14]}")
        c.drawRightString(w - 30 * mm, y, f"{ln.unit_amount} × {ln.quantity}")
        c.drawRightString(w - 6 * mm, y, f"{ln.amount}")
        y -= 5 * mm
    c.line(6 * mm, y + 3 * mm, w - 6 * mm, y + 3 * mm)
    c.setFont(font, 10)
    c.drawString(6 * mm, y - 1 * mm, f"合计：¥{payment.total}")
    c.setFont(font, 8.5)
    y -= 7 * mm
    c.drawString(6 * mm, y, f"大写：{amount_in_words(payment.total)}")
    y -= 5 * mm
    c.drawString(6 * mm, y, f"付款方式：{payment.get_method_display()}")
    if payment.tendered is not None:
        y -= 5 * mm
        c.drawString(6 * mm, y, f"实收：¥{payment.tendered}    找零：¥{payment.change}")
    if payment.refunded:
        y -= 5 * mm
        c.drawString(6 * mm, y, f"已退款：¥{payment.refunded}")
    y -= 8 * mm
    c.drawString(6 * mm, y, f"收款人：{clerk_name}")
    c.setFont(font, 7.5)
    c.drawCentredString(w / 2, 8 * mm, "请将票据与找零现金收好，谢谢！")
    c.save()
    return buf.getvalue()
