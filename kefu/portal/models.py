"""The customer's own portal (网上营业厅; S2, C8, C16, C17): links between a customer account and the
phone on file, the SMS challenges that make them, the customer's sessions (not staff logins), the
access log (S2: every access logged), ratings (C16) and WeChat followers.

Customers are not users of kefu: nothing here points at accounts.User except the company and the
work orders the portal creates through the tickets services.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company
from kefu.customers.models import Customer
from kefu.tickets.models import Ticket


class PortalAccount(models.Model):
    """A customer account linked to one verified mobile number (户号 + 预留手机号 + 短信验证码)."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.PROTECT, related_name="portal_accounts"
    )
    phone = models.CharField(_("手机"), max_length=20)
    linked_at = models.DateTimeField(_("绑定时间"), default=timezone.now)
    last_login_at = models.DateTimeField(_("最近登录"), null=True, blank=True)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("网上营业厅账户")
        constraints = [
            models.UniqueConstraint(fields=["customer", "phone"], name="portal_account_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.phone[-4:]}"


class PortalChallenge(models.Model):
    """One SMS code sent to the phone on file. Five wrong codes lock it (and the customer's portal
    log-in for LOCK_MINUTES); the code itself is stored only as a hash."""

    class State(models.TextChoices):
        PENDING = "pending", _("待验证")
        VERIFIED = "verified", _("已验证")
        LOCKED = "locked", _("已锁定")
        EXPIRED = "expired", _("已过期")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(_("手机"), max_length=20)
    code_hash = models.CharField(max_length=100)  # "salt$sha256"
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    failures = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    source_ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, default="web")
    sms_message_id = models.CharField(max_length=64, blank=True)
    wechat_openid = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("短信验证码")
        indexes = [
            models.Index(fields=["customer", "created_at"], name="portal_chal_customer"),
            models.Index(fields=["source_ip", "created_at"], name="portal_chal_ip"),
        ]


class PortalSession(models.Model):
    """A customer's session: a random token (cookie on the web, Bearer on the API) stored as its
    SHA-256; idle for IDLE_MINUTES or past MAX_HOURS it is over."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(_("渠道"), max_length=10, default="web")
    created_at = models.DateTimeField(_("开始"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("最近访问"), default=timezone.now)
    expires_at = models.DateTimeField(_("到期"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("网上营业厅会话")


class PortalAccess(models.Model):
    """Append-only log of every portal request and log-in step (S2): who (the account, or the account
    number tried), from where, what, and the answer."""

    company = models.ForeignKey(Company, null=True, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        PortalAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customer_id_seen = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=10, default="web")
    action = models.CharField(_("动作"), max_length=40)
    path = models.CharField(max_length=200, blank=True)
    object_ref = models.CharField(max_length=60, blank=True)
    status = models.PositiveSmallIntegerField(default=200)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("网上营业厅访问记录")
        indexes = [
            models.Index(fields=["account", "at"], name="portal_access_account"),
            models.Index(fields=["company", "at"], name="portal_access_company"),
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("访问记录只能追加，不能修改")
        super().save(*args, **kwargs)


class PortalRating(models.Model):
    """The customer's rating of a finished work order (C16: 1–10 for attitude and ability)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(PortalAccount, on_delete=models.PROTECT, related_name="+")
    ticket = models.OneToOneField(Ticket, on_delete=models.PROTECT, related_name="portal_rating")
    attitude_score = models.PositiveSmallIntegerField(_("服务态度评分"))
    ability_score = models.PositiveSmallIntegerField(_("专业能力评分"))
    satisfied = models.BooleanField(_("满意"))
    comment = models.CharField(_("意见"), max_length=500, blank=True)
    return_visit_id = models.BigIntegerField(_("回访"), null=True, blank=True)
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("网上评价")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(attitude_score__gte=1, attitude_score__lte=10)
                & models.Q(ability_score__gte=1, ability_score__lte=10),
                name="portal_rating_1_10",
            )
        ]


class WechatFollower(models.Model):
    """A WeChat official-account follower (openid) and the portal account it is bound to."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    openid = models.CharField(max_length=64)
    account = models.ForeignKey(
        PortalAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="wechat_followers"
    )
    subscribed = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    bound_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("微信关注者")
        constraints = [models.UniqueConstraint(fields=["company", "openid"], name="wechat_openid_once")]


class WechatTemplateMessage(models.Model):
    """A template message to a follower (work-order progress), one row per (follower, dedupe key)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("失败")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    follower = models.ForeignKey(WechatFollower, on_delete=models.PROTECT, related_name="messages")
    dedupe_key = models.CharField(max_length=120)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    msgid = models.CharField(max_length=40, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("微信模板消息")
        constraints = [
            models.UniqueConstraint(fields=["follower", "dedupe_key"], name="wechat_message_once"),
        ]
