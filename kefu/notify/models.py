"""Notifications: an outbox of rows with a status (ARCHITECTURE: state lives in the database).

A warning before a breach, an escalation (P9), a hand-over request — each is one row per recipient,
unique by `dedupe_key`, so a worker that dies and sweeps again, or two workers sweeping at once,
never notify twice.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Channel(models.TextChoices):
        IN_APP = "in_app", _("站内通知")
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    class Level(models.TextChoices):
        INFO = "info", _("提示")
        WARNING = "warning", _("预警")
        ALERT = "alert", _("告警")

    company = models.ForeignKey("accounts.Company", verbose_name=_("公司"), on_delete=models.PROTECT)
    recipient = models.ForeignKey(
        "accounts.User", verbose_name=_("接收人"), on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=40)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices, default=Level.INFO)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=200)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.IN_APP)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "channel", "dedupe_key"], name="notification_once")
        ]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return self.title
