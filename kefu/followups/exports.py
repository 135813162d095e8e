"""A survey's answers and statistics as .xlsx (P16, S3, S4), through kefu.exports: survey analyses
are 机密 — delivered at once, watermarked and logged; no personal data (customers appear by
district and category only)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.exports.registry import ExportData, ExportKind, Sheet, register_export
from kefu.followups import selectors
from kefu.followups.services import campaign_stats


def _campaign_id(params) -> int:
    raw = (params or {}).get("campaign_id") or [""]
    value = str(raw[0] if isinstance(raw, list) else raw)
    if not value.isdigit() or len(value) > 10:
        raise DomainError(_("请指定要导出的调查。"), field="campaign_id")
    return int(value)


def build_campaign_export(user, params) -> ExportData:
    """The statistics sheet and the answers sheet of one campaign of the user's company."""
    campaign = selectors.campaign_get(user=user, campaign_id=_campaign_id(params))
    stats = campaign_stats(campaign)
    questions = campaign.questionnaire.questions
    keys = [q["key"] for q in questions]
    answered = campaign.responses.filter(answered_at__isnull=False).order_by("answered_at")
    stat_rows = [
        (
            item["text"],
            item["type"],
            item["n"],
            item.get("mean"),
            item.get("low"),
            item.get("high"),
            "；".join(f"{k}:{v}" for k, v in (item.get("distribution") or {}).items()),
        )
        for item in stats["questions"]
    ]
    answer_rows = (
        (
            r.district,
            r.category,
            r.get_channel_display(),
            timezone.localtime(r.answered_at).replace(tzinfo=None),
            *[r.answers.get(k) for k in keys],
        )
        for r in answered.iterator()
    )
    return ExportData(
        sheets=[
            Sheet(
                title=_("统计"),
                header=[
                    _("题目"),
                    _("类型"),
                    "n",
                    _("平均值"),
                    _("95%置信下限"),
                    _("95%置信上限"),
                    _("分布"),
                ],
                rows=stat_rows,
                count=len(stat_rows),
            ),
            Sheet(
                title=_("答卷"),
                header=[_("区县"), _("客户类别"), _("方式"), _("答卷时间"), *[q["text"] for q in questions]],
                rows=answer_rows,
                count=answered.count(),
            ),
        ],
        description=_("调查：%(name)s") % {"name": campaign.name},
        detail={"campaign_id": campaign.pk, "answered": stats["answered"]},
    )


def register() -> None:
    """The survey export (S3); FollowupsConfig.ready()."""
    register_export(
        ExportKind(
            code="followups.survey",
            label=gettext_lazy("满意度调查结果"),
            fmt="xlsx",
            filename="survey",
            allowed=lambda user: role_allows(user, Perm.REPORT_VIEW),
            refusal=gettext_lazy("您的角色无权导出调查结果。"),
            models=lambda user, params: ("followups.campaign", "followups.surveyresponse"),
            build=build_campaign_export,
            object_type="followups.campaign",
        )
    )
