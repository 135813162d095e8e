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


class IndicatorTarget(models.Model):
    """The target a company publishes for one indicator and year (C17, seed 004 附 "服务承诺目标":
    e.g. K1 超过99.9 %, K13 100 % 电话回访); the monthly report shows each figure as met or missed
    against it (P15). `strict` is the seed's 超过 (greater than), otherwise at least."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    code = models.CharField(_("指标"), max_length=4)
    target = models.DecimalField(_("目标值"), max_digits=6, decimal_places=2)
    strict = models.BooleanField(_("须超过目标值"), default=False)
    commitment = models.CharField(_("公开承诺"), max_length=120, blank=True)
    set_at = models.DateTimeField(_("设定时间"), default=timezone.now)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("设定人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = _("指标年度目标")
        constraints = [
            models.UniqueConstraint(fields=["company", "year", "code"], name="kpi_target_company_year_code")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.code} {'>' if self.strict else '≥'} {self.target}"


class YearPublication(models.Model):
    """The yearly publication made public (C17, 004 第二条: next year's commitments with last year's
    results): while a row exists for a company and year, its page and PDF are open to everyone."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    published_at = models.DateTimeField(_("公开时间"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("公开人"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = _("年度服务承诺公开")
        constraints = [
            models.UniqueConstraint(fields=["company", "year"], name="kpi_publication_company_year")
        ]
