"""Reads of the indicators: a company's month of figures, and the records behind one figure.

Every figure is computed from the records at the moment it is asked for (`as_of`, the end of the
month or now, whichever is earlier); docs/indicators.md says how each is counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import DomainError, NotFound
from kefu.kpi import formulas as f
from kefu.kpi.inputs import CLOCK_SOURCES, clocks_by_ids, compute
from kefu.kpi.registry import INDICATORS, Indicator, indicator
from kefu.sla.selectors import describe_subjects

OUTCOME_LABELS = {
    f.Outcome.MET.value: gettext_lazy("按时"),
    f.Outcome.MISSED.value: gettext_lazy("超时"),
    f.Outcome.PENDING.value: gettext_lazy("进行中（未到期，不计）"),
    f.Outcome.EXCLUDED.value: gettext_lazy("排除（不计）"),
    f.COUNTED: gettext_lazy("计入"),
    f.NOBODY_HOME: gettext_lazy("上门无人（计入）"),
}
METHOD_LABELS = {
    "primary": "",
    "survey": gettext_lazy("回访口径"),
    "no_source": gettext_lazy("尚未接入数据来源"),
}


@dataclass(frozen=True)
class Line:
    """One indicator in a month: its definition and its figure."""

    indicator: Indicator
    figure: f.Figure

    @property
    def method_label(self) -> str:
        return str(METHOD_LABELS.get(self.figure.method, self.figure.method))


@dataclass(frozen=True)
class RecordLine:
    """One record behind a figure, as the records page and the API show it."""

    outcome: str
    ref: str
    label: str
    url: str
    started_at: datetime | None
    due_at: datetime | None
    done_at: datetime | None

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, self.outcome))


def parse_month(value: str | None, *, now: datetime, tz: str = "Asia/Shanghai") -> f.Month:
    """ "2026-11" → that month; empty → the current month. A malformed or future month is refused
    with a message (DomainError, a 4xx)."""
    local = timezone.localtime(now)
    if not value:
        return f.Month(local.year, local.month, tz)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise DomainError(_("月份格式应为 YYYY-MM，例如 2026-11。"), field="month")
    month = f.Month(int(m.group(1)), int(m.group(2)), tz)
    if month.start > now:
        raise DomainError(_("该月份尚未开始。"), field="month")
    return month


def as_of_for(month: f.Month, now: datetime) -> datetime:
    """A past month is taken as it ended; the current month as it stands now."""
    return min(now, month.end)


def month_lines(company_id: int, month: f.Month, *, now: datetime) -> list[Line]:
    """The seventeen indicators of one company for one month (004 第十条), in their numeric order."""
    as_of = as_of_for(month, now)
    return [Line(ind, compute(company_id, ind, month, as_of=as_of)) for ind in INDICATORS]


def closed_report(company_id: int, month: f.Month):
    """The latest version of the company's closed month, or None while the month is open."""
    from kefu.kpi.models import MonthReport

    return (
        MonthReport.objects.filter(company_id=company_id, year=month.year, month=month.month)
        .select_related("closed_by")
        .order_by("-version")
        .first()
    )


def figure_from_snapshot(snap: dict) -> f.Figure:
    """A figure as a closed month froze it (kefu.kpi.services.figure_snapshot)."""
    value = snap["value"]
    return f.Figure(
        snap["code"],
        None if value is None else Decimal(value),
        Fraction(snap["numerator"]),
        Fraction(snap["denominator"]),
        {k: tuple(v) for k, v in snap["records"].items()},
        snap["method"],
    )


@dataclass(frozen=True)
class MonthView:
    """What the indicator page shows for a month: the frozen figures of a closed month (with the
    codes whose records have changed since), or the live figures of an open one."""

    lines: list[Line]
    report: object | None
    changed_since_closing: tuple[str, ...]
    versions: list


def month_view(company_id: int, month: f.Month, *, now: datetime) -> MonthView:
    """A closed month never changes (P15): its figures come from the latest closed version; the
    live computation only says which indicators' records changed since, for a correction."""
    from kefu.kpi.models import MonthReport

    live = month_lines(company_id, month, now=now)
    report = closed_report(company_id, month)
    if report is None:
        return MonthView(live, None, (), [])
    frozen = {x["code"]: x for x in report.figures}
    lines = [
        Line(x.indicator, figure_from_snapshot(frozen[x.indicator.code])) if x.indicator.code in frozen else x
        for x in live
    ]
    changed = tuple(
        x.indicator.code
        for x in live
        if x.indicator.code in frozen
        and _comparable(x.figure) != _comparable(figure_from_snapshot(frozen[x.indicator.code]))
    )
    versions = list(
        MonthReport.objects.filter(company_id=company_id, year=month.year, month=month.month)
        .select_related("closed_by")
        .order_by("version")
    )
    return MonthView(lines, report, changed, versions)


def _comparable(fig: f.Figure) -> tuple:
    return (
        fig.value,
        fig.numerator,
        fig.denominator,
        {k: tuple(v) for k, v in fig.records.items()},
        fig.method,
    )


def version_changes(previous, report) -> list[tuple[str, str | None, str | None]]:
    """(code, value before, value after) of the indicators a corrected version changed."""
    before = {x["code"]: x["value"] for x in previous.figures}
    return [
        (x["code"], before.get(x["code"]), x["value"])
        for x in report.figures
        if before.get(x["code"]) != x["value"]
    ]


def indicator_or_404(code: str) -> Indicator:
    try:
        return indicator(code)
    except KeyError:
        raise NotFound(_("没有这个指标。")) from None


def figure_records(
    company_id: int, code: str, month: f.Month, *, now: datetime
) -> tuple[Line, list[RecordLine]]:
    """One figure with the records behind it, each with how it counted, a label and a link (the
    work order a clock runs on)."""
    ind = indicator_or_404(code)
    report = closed_report(company_id, month)
    frozen = {x["code"]: x for x in report.figures} if report is not None else {}
    if ind.code in frozen:  # a closed month shows the records it was closed with
        figure = figure_from_snapshot(frozen[ind.code])
    else:
        figure = compute(company_id, ind, month, as_of=as_of_for(month, now))
    if ind.code not in CLOCK_SOURCES:  # records of the domain apps: their own references
        plain = [
            RecordLine(o, ref, ref, "", None, None, None)
            for o, refs in figure.records.items()
            for ref in refs
        ]
        return Line(ind, figure), plain
    refs = {r for v in figure.records.values() for r in v}
    clocks = {str(c.pk): c for c in clocks_by_ids(company_id, refs)}
    subjects: dict[str, dict] = {}
    for c in clocks.values():
        subjects.setdefault(c.subject_type, {})[c.subject_id] = None
    described = {t: describe_subjects(t, ids) for t, ids in subjects.items()}
    lines = []
    for outcome, refs in figure.records.items():
        for ref in refs:
            c = clocks.get(ref)
            if c is None:  # (clocks are never deleted; kept defensive for a restored backup)
                continue
            info = described.get(c.subject_type, {}).get(c.subject_id)
            lines.append(
                RecordLine(
                    outcome=outcome,
                    ref=ref,
                    label=info.reference or info.label if info else f"{c.subject_type}#{c.subject_id}",
                    url=info.url if info else "",
                    started_at=c.started_at,
                    due_at=c.due_at,
                    done_at=c.met_at,
                )
            )
    lines.sort(key=lambda r: (r.started_at is None, r.started_at))
    return Line(ind, figure), lines
