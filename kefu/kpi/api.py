"""Indicator endpoints (Perm.REPORT_VIEW, the user's company): a month's figures and the records
behind one figure. Values are strings of two decimals ("99.91") or null for 无数据."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from ninja import Router, Schema

from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.kpi import formulas, report, selectors, services

router = Router(tags=["kpi"])


class FigureOut(Schema):
    code: str
    number: int
    name: str
    unit: str
    version: int
    value: str | None
    numerator: str
    denominator: str
    method: str
    records: dict[str, int]


class ClosedOut(Schema):
    version: int
    closed_at: datetime
    closed_by: str
    reason: str
    inputs_hash: str


class MonthOut(Schema):
    month: str
    as_of: datetime
    closed: ClosedOut | None = None
    changed_since_closing: list[str] = []
    figures: list[FigureOut]


class CloseIn(Schema):
    reason: str = ""


class RecordOut(Schema):
    outcome: str
    ref: str
    label: str
    url: str
    started_at: datetime | None
    due_at: datetime | None
    done_at: datetime | None


class RecordsOut(Schema):
    month: str
    figure: FigureOut
    records: list[RecordOut]


def _figure(line: selectors.Line) -> FigureOut:
    ind, fig = line.indicator, line.figure
    return FigureOut(
        code=ind.code,
        number=ind.number,
        name=str(ind.name),
        unit=ind.unit,
        version=ind.version,
        value=None if fig.value is None else str(fig.value),
        numerator=str(fig.numerator),
        denominator=str(fig.denominator),
        method=fig.method,
        records=formulas.record_counts(fig),
    )


@router.get("/months/{month}", response=MonthOut, summary="某月的服务承诺指标（K1–K17）")
def month_figures(request, month: str):
    assert_perm(request.user, Perm.REPORT_VIEW)
    now = timezone.now()
    m = selectors.parse_month(month, now=now)
    return _month_out(selectors.month_view(request.user.company_id, m, now=now), m, now)


def _month_out(view: selectors.MonthView, m, now) -> MonthOut:
    r = view.report
    closed = (
        None
        if r is None
        else ClosedOut(
            version=r.version,
            closed_at=r.closed_at,
            closed_by=r.closed_by.display_name,
            reason=r.reason,
            inputs_hash=r.inputs_hash,
        )
    )
    return MonthOut(
        month=str(m),
        as_of=selectors.as_of_for(m, now),
        closed=closed,
        changed_since_closing=list(view.changed_since_closing),
        figures=[_figure(x) for x in view.lines],
    )


@router.post("/months/{month}/close", response={201: MonthOut}, summary="关闭月度指标或发布更正版本")
def close_month(request, month: str, payload: CloseIn):
    now = timezone.now()
    m = selectors.parse_month(month, now=now)
    services.month_close(by=request.user, month=m, now=now, reason=payload.reason)
    return 201, _month_out(selectors.month_view(request.user.company_id, m, now=now), m, now)


@router.get("/months/{month}/{code}/records", response=RecordsOut, summary="某项指标背后的记录")
def figure_records(request, month: str, code: str):
    assert_perm(request.user, Perm.REPORT_VIEW)
    now = timezone.now()
    m = selectors.parse_month(month, now=now)
    line, rows = selectors.figure_records(request.user.company_id, code, m, now=now)
    return RecordsOut(month=str(m), figure=_figure(line), records=[RecordOut(**r.__dict__) for r in rows])


# ---- the monthly report with targets and trends, the group roll-up, the year's targets (P15, C17)


class TargetOut(Schema):
    code: str
    target: str
    strict: bool
    commitment: str


class ReportLineOut(Schema):
    figure: FigureOut
    target: TargetOut | None
    verdict: str
    trend: list[tuple[str, str | None]]


class ReportOut(Schema):
    month: str
    as_of: datetime
    closed_version: int | None
    met: int
    missed: int
    lines: list[ReportLineOut]
    breaches_by_commitment: list[tuple[str, int]]
    complaints_received: int
    interruptions: int


def _target(code: str, t) -> TargetOut | None:
    return (
        None
        if t is None
        else TargetOut(code=code, target=str(t.value), strict=t.strict, commitment=t.commitment)
    )


@router.get("/months/{month}/report", response=ReportOut, summary="服务监督报告（指标、目标、近12个月趋势）")
def monthly_report(request, month: str):
    assert_perm(request.user, Perm.REPORT_VIEW)
    now = timezone.now()
    m = selectors.parse_month(month, now=now)
    r = report.monthly_report(request.user.company, m, now=now)
    return ReportOut(
        month=str(m),
        as_of=r.as_of,
        closed_version=r.closed.version if r.closed else None,
        met=r.met,
        missed=r.missed,
        lines=[
            ReportLineOut(
                figure=_figure(selectors.Line(x.indicator, x.figure)),
                target=_target(x.code, x.target),
                verdict=x.verdict.value,
                trend=[(mm, None if v is None else str(v)) for mm, v in x.trend],
            )
            for x in r.lines
        ],
        breaches_by_commitment=r.breaches_by_commitment,
        complaints_received=r.complaints.get("total", 0),
        interruptions=len(r.interruptions),
    )


class GroupLineOut(Schema):
    code: str
    companies: dict[str, str | None]
    total: str | None
    numerator: str
    denominator: str


@router.get("/months/{month}/group", response=list[GroupLineOut], summary="集团汇总（各成员公司及集团）")
def group_rollup(request, month: str):
    from kefu.accounts.models import Company
    from kefu.accounts.scoping import readable_company_ids

    assert_perm(request.user, Perm.REPORT_VIEW)
    now = timezone.now()
    m = selectors.parse_month(month, now=now)
    companies = list(Company.objects.filter(pk__in=readable_company_ids(request.user)).order_by("code"))
    return [
        GroupLineOut(
            code=g.indicator.code,
            companies={c.code: None if fig.value is None else str(fig.value) for c, fig in g.by_company},
            total=None if g.total.value is None else str(g.total.value),
            numerator=str(g.total.numerator),
            denominator=str(g.total.denominator),
        )
        for g in report.group_rollup(companies, m, now=now)
    ]


class TargetIn(Schema):
    target: str | None = None
    strict: bool = False
    commitment: str = ""


@router.get("/targets/{year}", response=list[TargetOut], summary="年度指标目标")
def year_targets(request, year: int):
    assert_perm(request.user, Perm.REPORT_VIEW)
    return [_target(code, t) for code, t in sorted(report.targets_for(request.user.company_id, year).items())]


@router.put("/targets/{year}/{code}", response=TargetOut | None, summary="设定（或清除）一项年度目标")
def year_target_set(request, year: int, code: str, payload: TargetIn):
    row = services.target_set(
        by=request.user,
        year=year,
        code=code,
        target=payload.target,
        strict=payload.strict,
        commitment=payload.commitment,
    )
    return (
        None
        if row is None
        else _target(row.code, report.targets_for(request.user.company_id, year)[row.code])
    )
