"""The monthly service-supervision report (服务监督报告, P15), the weekly service summary, the group
roll-up and the yearly publication (C17): reads that assemble the indicator figures with the year's
targets, their twelve-month trend, and the month's breaches, complaints and interruptions.

A closed month is read from its frozen figures (a report never changes once closed); an open month
is computed from the records as of now. docs/indicators.md "The monthly report" says what each part
shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext_lazy

from kefu.kpi import charts
from kefu.kpi import formulas as f
from kefu.kpi.registry import INDICATORS, SEED_TARGETS, Indicator, Target
from kefu.kpi.selectors import METHOD_LABELS, as_of_for, closed_report, figure_from_snapshot, month_lines

TREND_MONTHS = 12
VERDICT_LABELS = {
    f.Verdict.MET: gettext_lazy("达标"),
    f.Verdict.MISSED: gettext_lazy("未达标"),
    f.Verdict.NO_DATA: gettext_lazy("无数据"),
    f.Verdict.NO_TARGET: gettext_lazy("未设目标"),
}


def targets_for(company_id: int, year: int) -> dict[str, Target]:
    """The year's targets of a company: those it set (IndicatorTarget), else the seed's (K1, K13)."""
    from kefu.kpi.models import IndicatorTarget

    out = dict(SEED_TARGETS)
    for row in IndicatorTarget.objects.filter(company_id=company_id, year=year):
        out[row.code] = Target(row.target, row.strict, row.commitment)
    return out


def month_figures(company_id: int, month: f.Month, *, now: datetime) -> dict[str, f.Figure]:
    """The seventeen figures of a month: frozen if the month is closed, live otherwise."""
    report = closed_report(company_id, month)
    if report is not None:
        return {x["code"]: figure_from_snapshot(x) for x in report.figures}
    return {x.indicator.code: x.figure for x in month_lines(company_id, month, now=now)}


def months_back(month: f.Month, n: int) -> list[f.Month]:
    """The n months ending with `month`, oldest first."""
    out, y, m = [], month.year, month.month
    for _ in range(n):
        out.append(f.Month(y, m, month.tz))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


@dataclass(frozen=True)
class ReportLine:
    """One indicator in the report: the month's figure, the year's target and the verdict, and the
    values of the twelve months ending with it (None where 无数据)."""

    indicator: Indicator
    figure: f.Figure
    target: Target | None
    verdict: f.Verdict
    trend: tuple[tuple[str, Decimal | None], ...] = ()

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def chart(self):
        """The trend as an inline SVG (kefu.kpi.charts), the target dashed."""
        return charts.trend_svg(self.trend, target=self.target.value if self.target else None)

    @property
    def method_label(self) -> str:
        return str(METHOD_LABELS.get(self.figure.method, self.figure.method))

    @property
    def verdict_label(self) -> str:
        return str(VERDICT_LABELS[self.verdict])


def report_lines(
    company_id: int, month: f.Month, *, now: datetime, figures: dict[str, f.Figure], trend: bool = True
) -> list[ReportLine]:
    """Each indicator's figure against the year's target, with its twelve-month trend."""
    targets = targets_for(company_id, month.year)
    history: dict[str, list[tuple[str, Decimal | None]]] = {x.code: [] for x in INDICATORS}
    if trend:
        for m in months_back(month, TREND_MONTHS):
            past = figures if m == month else month_figures(company_id, m, now=now)
            for code, points in history.items():
                fig = past.get(code)
                points.append((str(m), fig.value if fig is not None else None))
    out = []
    for ind in INDICATORS:
        fig = figures[ind.code]
        target = targets.get(ind.code)
        verdict = f.against_target(
            fig.value, target.value if target else None, strict=bool(target and target.strict)
        )
        out.append(ReportLine(ind, fig, target, verdict, tuple(history[ind.code])))
    return out


@dataclass(frozen=True)
class Breach:
    """A commitment clock that passed its limit in the period."""

    commitment: str
    spec_id: str
    label: str
    url: str
    due_at: datetime | None
    done_at: datetime | None
    late_by: timedelta | None


def breaches(company_id: int, start: datetime, end: datetime, *, limit: int = 200) -> list[Breach]:
    """The clocks started in [start, end) that passed their limit, with what they ran on and how
    late they were."""
    from kefu.sla.selectors import clocks_late_started_between, describe_subjects

    clocks = list(clocks_late_started_between(company_id, start=start, end=end)[:limit])
    subjects: dict[str, list[str]] = {}
    for c in clocks:
        subjects.setdefault(c.subject_type, []).append(c.subject_id)
    described = {t: describe_subjects(t, ids) for t, ids in subjects.items()}
    out = []
    for c in clocks:
        info = described.get(c.subject_type, {}).get(c.subject_id)
        late = (c.met_at - c.due_at) if c.met_at and c.due_at else None
        out.append(
            Breach(
                c.commitment.name,
                c.commitment.spec_id,
                (info.reference or info.label) if info else f"{c.subject_type}#{c.subject_id}",
                info.url if info else "",
                c.due_at,
                c.met_at,
                late,
            )
        )
    return out


@dataclass
class MonthlyReport:
    """Everything the general manager's monthly report shows (P15)."""

    company: object
    month: f.Month
    as_of: datetime
    closed: object | None
    lines: list[ReportLine]
    breaches: list[Breach]
    breaches_by_commitment: list[tuple[str, int]]
    complaints: dict = field(default_factory=dict)
    interruptions: list = field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(1 for x in self.lines if x.verdict == f.Verdict.MET)

    @property
    def missed(self) -> int:
        return sum(1 for x in self.lines if x.verdict == f.Verdict.MISSED)


def monthly_report(company, month: f.Month, *, now: datetime, trend: bool = True) -> MonthlyReport:
    """The service-supervision report of one company and month (P15): the figures equal the
    registry's (frozen if the month is closed), against the year's targets, with trends, breaches,
    complaints and interruptions."""
    from kefu.followups.selectors import complaint_month_summary
    from kefu.outages.selectors import k_inputs

    figures = month_figures(company.pk, month, now=now)
    found = breaches(company.pk, month.start, min(month.end, now))
    by_commitment = Counter(f"{b.spec_id} {b.commitment}" for b in found)
    return MonthlyReport(
        company=company,
        month=month,
        as_of=as_of_for(month, now),
        closed=closed_report(company.pk, month),
        lines=report_lines(company.pk, month, now=now, figures=figures, trend=trend),
        breaches=found,
        breaches_by_commitment=by_commitment.most_common(),
        complaints=complaint_month_summary(company, month.year, month.month),
        interruptions=k_inputs(company=company, year=month.year, month=month.month).interruptions,
    )


@dataclass(frozen=True)
class GroupLine:
    """One indicator across the member companies a group reader may see: each company's figure and
    the group's, computed from the summed numerators and denominators (formulas.rolled_up)."""

    indicator: Indicator
    by_company: tuple[tuple[object, f.Figure], ...]
    total: f.Figure


def group_rollup(companies, month: f.Month, *, now: datetime) -> list[GroupLine]:
    """The month's indicators per member company and for the group (P15, group headquarters)."""
    per = [(c, month_figures(c.pk, month, now=now)) for c in companies]
    return [
        GroupLine(
            ind,
            tuple((c, figs[ind.code]) for c, figs in per),
            f.rolled_up(ind.code, [figs[ind.code] for _c, figs in per]),
        )
        for ind in INDICATORS
    ]


def year_results(company_id: int, year: int, *, now: datetime) -> dict[str, f.Figure]:
    """A year's results per indicator (C17): the twelve months' numerators and denominators summed
    (K4, counted over the year, is its last month's year-to-date figure)."""
    months = [f.Month(year, m) for m in range(1, 13) if f.Month(year, m).start <= now]
    per_month = [month_figures(company_id, m, now=now) for m in months]
    out = {}
    for ind in INDICATORS:
        figures = [x[ind.code] for x in per_month]
        if ind.period == "year":
            out[ind.code] = figures[-1] if figures else f.Figure(ind.code, None, 0, 0)
        else:
            out[ind.code] = f.rolled_up(ind.code, figures)
    return out


def week_bounds(day, tz: str = "Asia/Shanghai") -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 of the week containing `day`, in the company's zone."""
    from zoneinfo import ZoneInfo

    monday = day - timedelta(days=day.weekday())
    start = datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo(tz))
    return start, start + timedelta(days=7)


@dataclass
class WeekSummary:
    """The weekly service summary (P15): the week's breaches, complaints and interruptions, and the
    month's indicators so far."""

    company: object
    start: datetime
    end: datetime
    breaches: list[Breach]
    breaches_by_commitment: list[tuple[str, int]]
    complaints: int
    interruptions: int
    lines: list[ReportLine]


def week_summary(company, day, *, now: datetime) -> WeekSummary:
    """The week (Monday to Sunday, company time) containing `day`, up to now."""
    from kefu.followups.selectors import complaints_received_between
    from kefu.outages.selectors import k1_losses

    start, end = week_bounds(day)
    stop = min(end, now)
    found = breaches(company.pk, start, stop)
    month = f.Month(day.year, day.month)
    figures = month_figures(company.pk, month, now=now)
    return WeekSummary(
        company=company,
        start=start,
        end=end,
        breaches=found,
        breaches_by_commitment=Counter(f"{b.spec_id} {b.commitment}" for b in found).most_common(),
        complaints=complaints_received_between(company, start, stop),
        interruptions=len({x.ref for x in k1_losses(company_id=company.pk, start=start, end=stop)}),
        lines=report_lines(company.pk, month, now=now, figures=figures, trend=False),
    )


@dataclass
class Publication:
    """C17: a year's commitments (the commitment set published for it) with the previous year's
    results against the previous year's targets."""

    company: object
    year: int
    commitments: list[tuple[str, str, str]]
    results: list[ReportLine]
    public_since: datetime | None


def publication(company, year: int, *, now: datetime) -> Publication:
    from kefu.kpi.models import YearPublication
    from kefu.sla.selectors import year_commitments_public

    last = year_results(company.pk, year - 1, now=now)
    targets = targets_for(company.pk, year - 1)
    results = []
    for ind in INDICATORS:
        fig, target = last[ind.code], targets.get(ind.code)
        verdict = f.against_target(
            fig.value, target.value if target else None, strict=bool(target and target.strict)
        )
        results.append(ReportLine(ind, fig, target, verdict))
    row = YearPublication.objects.filter(company=company, year=year).first()
    return Publication(
        company=company,
        year=year,
        commitments=year_commitments_public(company, year),
        results=results,
        public_since=row.published_at if row else None,
    )
