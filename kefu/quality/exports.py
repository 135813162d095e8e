"""The quality report (per agent or team for a month) as CSV (S3, S4), through kefu.exports: the
checks of calls are records of calls, 机密 — delivered at once, watermarked and logged."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.roles import Perm, role_allows
from kefu.exports.classification import Level, classify
from kefu.exports.registry import ExportData, ExportKind, Sheet, register_export
from kefu.quality import selectors


def _first(params, key: str) -> str:
    v = (params or {}).get(key) or [""]
    return str(v[0] if isinstance(v, list) else v)


def report_month(value: str) -> date:
    """ "2026-11" → 2026-11-01; anything else → this month."""
    try:
        y, m = value.split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


def build_quality_report(user, params) -> ExportData:
    """The month's report per agent (or per team with by=team), as the reviewer sees it."""
    month = report_month(_first(params, "month"))
    by = "team" if _first(params, "by") == "team" else "agent"
    data = selectors.report(user, month=month, by=by)
    rows = [
        (r["label"], r["checked"], r["auto"], r["evaluated"], r["eval"], " ".join(r["top"]))
        for r in data["rows"]
    ]
    return ExportData(
        sheets=[
            Sheet(
                title=_("质检报表"),
                header=[
                    _("班组") if by == "team" else _("坐席"),
                    _("已检"),
                    _("自动评分"),
                    _("人工评分数"),
                    _("人工评分"),
                    _("命中最多的规则"),
                ],
                rows=rows,
                count=len(rows),
            )
        ],
        description=_("%(month)s，按%(by)s")
        % {"month": f"{month:%Y-%m}", "by": _("班组") if by == "team" else _("坐席")},
        detail={"month": f"{month:%Y-%m}", "by": by},
    )


def register() -> None:
    """Classes of the quality data (S4) and the report's export (S3); QualityConfig.ready()."""
    for model in ("transcript", "finding", "evaluation", "evaluationevent"):
        classify(f"quality.{model}", Level.SECRET, category=gettext_lazy("来电记录（质检）"))
    register_export(
        ExportKind(
            code="quality.report",
            label=gettext_lazy("服务用语质检报表"),
            fmt="csv",
            filename="quality",
            allowed=lambda user: role_allows(user, Perm.QUALITY_REVIEW),
            refusal=gettext_lazy("您的角色无权导出质检报表。"),
            models=lambda user, params: ("quality.evaluation",),
            build=build_quality_report,
            object_type="quality.report",
        )
    )
