"""Writes of the kpi app: closing a company's month (P15; the figures of seed 004 第十条 frozen)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.accounts.audit import audit_record
from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import Conflict, DomainError
from kefu.kpi import formulas as f
from kefu.kpi.models import IndicatorTarget, MonthReport
from kefu.kpi.registry import indicator
from kefu.kpi.selectors import Line, month_lines

REASON_MAX = 500


def figure_snapshot(line: Line) -> dict:
    """One figure as a closed month keeps it: value, exact numerator and denominator, the formula's
    version and method, and the references of its records by outcome."""
    fig = line.figure
    return {
        "code": fig.code,
        "version": line.indicator.version,
        "value": None if fig.value is None else str(fig.value),
        "numerator": str(fig.numerator),
        "denominator": str(fig.denominator),
        "method": fig.method,
        "records": {k: list(v) for k, v in fig.records.items()},
    }


def inputs_hash(figures: list[dict]) -> str:
    """The content hash of what the figures were computed from (records, outcomes, versions)."""
    payload = json.dumps(
        [[x["code"], x["version"], x["method"], x["records"]] for x in figures],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def month_close(*, by, month: f.Month, now: datetime, reason: str = "") -> MonthReport:
    """Close `month` for the user's company: freeze every figure as of the month's end (Perm.REPORT_CLOSE).

    The first close needs no reason; closing again issues a corrected version and needs one. A
    month that has not ended cannot be closed. Two managers closing at once: one wins, the other is
    told to reload (the version is unique)."""
    assert_perm(by, Perm.REPORT_CLOSE)
    reason = (reason or "").strip()
    if month.end > now:
        raise DomainError(_("该月份尚未结束，不能关闭。"), field="month")
    if len(reason) > REASON_MAX:
        raise DomainError(_("更正原因不能超过 %(n)s 个字。") % {"n": REASON_MAX}, field="reason")
    last = (
        MonthReport.objects.filter(company_id=by.company_id, year=month.year, month=month.month)
        .order_by("-version")
        .first()
    )
    if last is not None and not reason:
        raise DomainError(_("该月份已关闭；发布更正版本须填写更正原因。"), field="reason")
    figures = [figure_snapshot(x) for x in month_lines(by.company_id, month, now=now)]
    try:
        with transaction.atomic():
            report = MonthReport.objects.create(
                company_id=by.company_id,
                year=month.year,
                month=month.month,
                version=1 if last is None else last.version + 1,
                closed_at=now,
                closed_by=by,
                reason=reason,
                inputs_hash=inputs_hash(figures),
                figures=figures,
            )
            audit_record(
                action="kpi.month_closed" if last is None else "kpi.month_corrected",
                obj=report,
                actor=by,
                detail={"version": report.version, "reason": reason} if reason else {"version": 1},
            )
    except IntegrityError:
        raise Conflict(_("该月份刚被他人关闭或更正，请刷新后再试。"), code="conflict") from None
    return report


def target_set(
    *, by, year: int, code: str, target: Decimal | str | None, strict: bool = False, commitment: str = ""
) -> IndicatorTarget | None:
    """Set (or clear, with `target` None) the company's published target of one indicator for a
    year (C17; Perm.REPORT_CLOSE). A percentage lies in 0–100, a K15/K16 score in 1–10."""
    assert_perm(by, Perm.REPORT_CLOSE)
    try:
        ind = indicator(code)
    except KeyError:
        raise DomainError(_("没有这个指标。"), field="code") from None
    if not 2000 <= int(year) <= 2100:
        raise DomainError(_("年度无效。"), field="year")
    if target in (None, ""):
        IndicatorTarget.objects.filter(company_id=by.company_id, year=year, code=ind.code).delete()
        audit_record(action="kpi.target_cleared", obj=None, actor=by, detail={"year": year, "code": ind.code})
        return None
    try:
        value = Decimal(str(target)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("目标值应为数字。"), field="target") from None
    low, high = (Decimal(1), Decimal(10)) if ind.unit == "分" else (Decimal(0), Decimal(100))
    if not low <= value <= high:
        raise DomainError(_("目标值应在 %(a)s 到 %(b)s 之间。") % {"a": low, "b": high}, field="target")
    if len(commitment) > 120:
        raise DomainError(_("公开承诺不能超过 120 个字。"), field="commitment")
    row, _created = IndicatorTarget.objects.update_or_create(
        company_id=by.company_id,
        year=year,
        code=ind.code,
        defaults={"target": value, "strict": strict, "commitment": commitment.strip(), "set_by": by},
    )
    audit_record(
        action="kpi.target_set",
        obj=row,
        actor=by,
        detail={"year": year, "code": ind.code, "target": str(value), "strict": strict},
    )
    return row


def publication_make_public(*, by, year: int, public: bool = True) -> None:
    """Open (or withdraw) the company's yearly publication to everyone (C17; Perm.REPORT_CLOSE)."""
    from kefu.kpi.models import YearPublication

    assert_perm(by, Perm.REPORT_CLOSE)
    if public:
        YearPublication.objects.get_or_create(
            company_id=by.company_id, year=year, defaults={"published_by": by}
        )
    else:
        YearPublication.objects.filter(company_id=by.company_id, year=year).delete()
    audit_record(
        action="kpi.publication_public" if public else "kpi.publication_withdrawn",
        actor=by,
        detail={"year": year},
    )
