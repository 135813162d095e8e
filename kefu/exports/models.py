"""Export requests (S3): one row per file that left kefu, or that someone asked to take out.

A 绝密 export is a request (reason, pending) that a supervisor approves or refuses; on approval the
file is made, watermarked, and kept here until its download link expires (then the content is
dropped by the hourly purge). A 机密 or 内部 export is delivered at once and recorded here as
`delivered`, so its file carries a request number too. Who downloaded what is in the audit log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.exports.classification import Level
from kefu.exports.states import RequestState


class ExportRequest(models.Model):
    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    number = models.CharField(_("导出编号"), max_length=30, blank=True, db_index=True)
    kind = models.CharField(_("导出类型"), max_length=60)
    kind_label = models.CharField(_("导出内容"), max_length=100)
    params = models.JSONField(_("条件"), default=dict, blank=True)
    description = models.CharField(_("条件说明"), max_length=500, blank=True)
    facts = models.JSONField(default=dict, blank=True)  # what `build` reported: filters, masked or not
    level = models.CharField(_("密级"), max_length=20, choices=Level.choices)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    reason = models.TextField(_("导出原因"), blank=True)
    state = models.CharField(_("状态"), max_length=20, choices=RequestState.choices, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="export_requests",
    )
    requested_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="export_decisions",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    file_name = models.CharField(_("文件名"), max_length=120, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(null=True, blank=True)  # dropped once the link has expired
    produced_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("下载有效期至"), null=True, blank=True, db_index=True)
    downloads = models.PositiveIntegerField(_("下载次数"), default=0)
    purged_at = models.DateTimeField(_("文件清除时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("导出申请")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["company", "state"], name="export_company_state")]

    def __str__(self) -> str:
        return f"{self.number} {self.kind_label}"

    def is_expired(self, now) -> bool:
        """The download link has run out (S3): nothing more is served, whatever the state."""
        return self.expires_at is not None and now >= self.expires_at
