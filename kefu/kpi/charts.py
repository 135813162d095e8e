"""Charts drawn on the server without a CDN (ARCHITECTURE: no third-party files at run time): a
twelve-month trend as an inline SVG line with the target as a dashed rule (P15 report, dashboard)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def scale(
    values: Sequence[Decimal | None],
    *,
    width: float,
    height: float,
    target: Decimal | None = None,
    pad: float = 4,
) -> tuple[list[tuple[float, float] | None], float | None]:
    """The points of a trend in a width × height box (None where 无数据), and the target's y. The
    vertical range is the values' own (and the target's), so a 99.8–100 % series stays readable."""
    known = [float(v) for v in values if v is not None]
    if target is not None:
        known.append(float(target))
    if not known:
        return [None] * len(values), None
    lo, hi = min(known), max(known)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return round(pad + (hi - v) / (hi - lo) * (height - 2 * pad), 1)

    points = [None if v is None else (round(pad + i * step, 1), y(float(v))) for i, v in enumerate(values)]
    return points, None if target is None else y(float(target))


def trend_svg(
    points: Sequence[tuple[str, Decimal | None]],
    *,
    target: Decimal | None = None,
    width: int = 160,
    height: int = 36,
) -> SafeString:
    """An inline SVG of a trend: a line through the months with data (gaps where 无数据), a dot on
    the last month, the target dashed; the title lists every value for screen readers."""
    values = [v for _m, v in points]
    scaled, target_y = scale(values, width=width, height=height, target=target)
    parts = [
        f'<svg class="trend" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">',
        "<title>" + escape("；".join(f"{m}: {'—' if v is None else v}" for m, v in points)) + "</title>",
    ]
    if target_y is not None:
        parts.append(f'<line x1="0" x2="{width}" y1="{target_y}" y2="{target_y}" class="trend-target"/>')
    run: list[str] = []
    for p in [*scaled, None]:
        if p is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" class="trend-line"/>')
            elif run:
                x, yy = run[0].split(",")
                parts.append(f'<circle cx="{x}" cy="{yy}" r="1.5" class="trend-line"/>')
            run = []
        else:
            run.append(f"{p[0]},{p[1]}")
    if scaled and scaled[-1] is not None:
        parts.append(f'<circle cx="{scaled[-1][0]}" cy="{scaled[-1][1]}" r="2.5" class="trend-last"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — numbers and escaped text only
