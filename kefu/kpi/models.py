"""Closed months (P15, seed 004 第十条): a month's figures frozen when a manager closes it.

A report is never changed: a correction is a new version of the same company-month with the reason,
and the difference against the version before it is shown (docs/indicators.md "Closing a month").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company


class MonthReport(models.Model):
    """One version of a company's closed month: every indicator's figure as it was computed at the
    month's end, the formula versions, and the content hash of the records behind them."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    closed_at = models.DateTimeField(_("关闭时间"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("关闭人"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("更正原因"), max_length=500, blank=True)
    inputs_hash = models.CharField(_("输入摘要"), max_length=64)
    figures = models.JSONField(_("指标"))

    class Meta:
        verbose_name = verbose_name_plural = _("月度指标报告")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "year", "month", "version"], name="kpi_month_report_version"
            )
        ]
        ordering = ["company", "year", "month", "version"]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} v{self.version}"
