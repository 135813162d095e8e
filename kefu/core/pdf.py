"""Printed documents in Chinese: reportlab draws them with its built-in Adobe CID font STSong-Light,
so no font file is shipped or fetched; a PDF reader supplies the glyphs (docs/decisions.md,
operator guide "Fonts")."""

from __future__ import annotations

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

CJK_FONT = "STSong-Light"


def cjk_font() -> str:
    """The registered name of the Chinese font (registered once per process)."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT
