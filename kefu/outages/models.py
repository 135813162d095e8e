"""Supply interruptions (停气, P13) and the records behind C1, C2 and K1–K3.

- `Outage`: one interruption: kind, reason, area, planned and actual times, approval, the frozen
  affected list (count, content hash, method), state (states.py).
- `AffectedPremise`: one household behind the interruption, with its priority (special care,
  hospitals, schools … first) and the restoration step that gave its gas back.
- `Notice`: one notice with its proof: an SMS (gateway id, sent, delivered), a printed notice
  per building (posted at, by whom, photo), a voice-call list line.
- `DeliveryReceipt`: a gateway's receipt, unique per (gateway, message, status) so resent
  receipts are stored once.
- `RestorationStep`: households restored at a time (Σ Aₙ·Tₙ is exact, K1).
- `OutageCall`: a work order linked to the interruption (calls counted, closed with a reply).
- `FaultReport`: the fault-analysis report of a major fault (P8).
- `OutageEvent`: the append-only timeline.
- `NetworkNode`, `NetworkEdge`, `NetworkPremise`, `NetworkImport`: the pipe network from GIS.
- `OutageSettings`: per company: public page switch, quiet hours, hotline, notice lead.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company
from kefu.customers.models import Customer, Premise
from kefu.outages.states import OutageKind, OutageState


class AffectedMethod(models.TextChoices):
    ZONE = "zone", _("按供气区域")
    ADDRESS = "address", _("按小区/楼栋")
    NETWORK = "network", _("按管网关阀分析")


class Outage(models.Model):
    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("停气编号"), max_length=20)
    kind = models.CharField(_("类型"), max_length=16, choices=OutageKind.choices, default=OutageKind.PLANNED)
    state = models.CharField(_("状态"), max_length=12, choices=OutageState.choices, default=OutageState.DRAFT)
    reason = models.CharField(_("停气原因"), max_length=300)
    area = models.CharField(_("停气范围"), max_length=300, blank=True)
    major = models.BooleanField(_("重大故障"), default=False, help_text=_("P8：立即通知各部门和经理"))
    planned_start = models.DateTimeField(_("计划开始"))
    planned_end = models.DateTimeField(_("计划恢复"))
    actual_start = models.DateTimeField(_("实际开始"), null=True, blank=True)
    restored_at = models.DateTimeField(_("全部恢复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    restore_notice_at = models.DateTimeField(_("恢复供气预告时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("批准人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    # What the affected list was chosen by (before it is frozen it can be recomputed).
    method = models.CharField(_("影响范围方式"), max_length=10, choices=AffectedMethod.choices, blank=True)
    selection = models.JSONField(_("选择条件"), default=dict, blank=True)
    # The frozen list: when notices go out (C1), so later network edits never change it.
    frozen_at = models.DateTimeField(_("名单冻结时间"), null=True, blank=True)
    frozen_count = models.PositiveIntegerField(_("受影响户数"), default=0)
    frozen_hash = models.CharField(_("名单摘要"), max_length=64, blank=True)
    frozen_method = models.CharField(
        _("冻结时的方式"), max_length=10, choices=AffectedMethod.choices, blank=True
    )
    notice_round = models.PositiveSmallIntegerField(_("通知轮次"), default=0)
    # When every affected household had a delivered SMS or its building's notice posted (C1 proof).
    notices_complete_at = models.DateTimeField(_("通知全部送达时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = verbose_name_plural = _("停气")
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="outage_number_unique")]
        indexes = [models.Index(fields=["company", "state", "planned_start"], name="outage_company_state")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_planned(self) -> bool:
        return self.kind == OutageKind.PLANNED


class AffectedPremise(models.Model):
    """One household (premise) behind an interruption. Rows are written while the outage is a draft
    and frozen with the outage (`Outage.frozen_hash` is over the sorted premise ids)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="affected")
    premise = models.ForeignKey(
        Premise, verbose_name=_("用气地址"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    building_key = models.CharField(_("楼栋"), max_length=100, blank=True)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=9, help_text=_("越小越优先"))
    priority_reason = models.CharField(_("优先原因"), max_length=30, blank=True)
    restored_step = models.ForeignKey(
        "RestorationStep", null=True, blank=True, on_delete=models.SET_NULL, related_name="premises"
    )

    @property
    def priority_label(self) -> str:
        from kefu.outages.rules import PRIORITY_LABELS

        return (
            _(PRIORITY_LABELS.get(self.priority_reason, self.priority_reason)) if self.priority_reason else ""
        )

    class Meta:
        verbose_name = verbose_name_plural = _("受影响用户")
        constraints = [models.UniqueConstraint(fields=["outage", "premise"], name="affected_unique")]
        indexes = [models.Index(fields=["premise"], name="affected_premise")]


class Notice(models.Model):
    """One notice with its proof (C1)."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        POSTED = "posted", _("张贴通知")
        VOICE = "voice", _("外呼")

    class Purpose(models.TextChoices):
        ADVANCE = "advance", _("停气通知")
        RESTORE = "restore", _("恢复供气预告")
        REPORT = "report", _("故障分析报告摘要")

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("失败")
        POSTED = "posted", _("已张贴")
        CALLED = "called", _("已接通")

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="notices")
    round = models.PositiveSmallIntegerField(_("通知轮次"), default=1)
    purpose = models.CharField(_("用途"), max_length=8, choices=Purpose.choices, default=Purpose.ADVANCE)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    affected = models.ForeignKey(
        AffectedPremise, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    building_key = models.CharField(_("楼栋"), max_length=100, blank=True)
    phone = models.CharField(_("号码"), max_length=20, blank=True)
    text = models.TextField(_("内容"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    gateway = models.CharField(_("短信网关"), max_length=20, blank=True)
    message_id = models.CharField(_("网关消息号"), max_length=64, null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    posted_at = models.DateTimeField(_("张贴时间"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    photo = models.FileField(_("张贴照片"), upload_to="outages/posted/%Y/%m/", blank=True, max_length=300)
    error = models.CharField(_("失败原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("停气通知")
        constraints = [
            models.UniqueConstraint(fields=["gateway", "message_id"], name="notice_gateway_message_unique")
        ]
        indexes = [
            models.Index(fields=["outage", "round", "channel", "status"], name="notice_outage_round"),
            models.Index(fields=["status", "channel"], name="notice_status"),
        ]


class DeliveryReceipt(models.Model):
    """A delivery receipt as the gateway posted it. Gateways resend receipts: the unique key keeps one."""

    gateway = models.CharField(_("短信网关"), max_length=20)
    message_id = models.CharField(_("网关消息号"), max_length=64)
    status = models.CharField(_("状态"), max_length=20)
    reported_at = models.DateTimeField(_("网关时间"))
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    notice = models.ForeignKey(
        Notice, null=True, blank=True, on_delete=models.SET_NULL, related_name="receipts"
    )

    class Meta:
        verbose_name = verbose_name_plural = _("短信回执")
        constraints = [
            models.UniqueConstraint(fields=["gateway", "message_id", "status"], name="receipt_unique")
        ]


class RestorationStep(models.Model):
    """Households given their gas back at one time (C2; Aₙ·Tₙ of K1 is summed per step)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField(_("恢复时间"))
    households = models.PositiveIntegerField(_("户数"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    override_reason = models.CharField(_("夜间恢复理由"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    needs_ignition = models.PositiveIntegerField(
        _("需点火户数"), default=0, help_text=_("需上门点火的户数（待外勤模块派单）")
    )

    class Meta:
        verbose_name = verbose_name_plural = _("恢复供气步骤")
        ordering = ["at", "pk"]


class OutageCall(models.Model):
    """A caller's work order linked to the interruption (one click on the desk)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="calls")
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("关联时间"), default=timezone.now)
    answered_at = models.DateTimeField(_("恢复后答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("停气来电")


class FaultReport(models.Model):
    """Fault-analysis report of a major fault (P8): written, approved, published to the affected."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草拟")
        APPROVED = "approved", _("已批准")
        PUBLISHED = "published", _("已发布")

    outage = models.OneToOneField(Outage, on_delete=models.CASCADE, related_name="fault_report")
    impact = models.TextField(_("影响"))
    handling = models.TextField(_("处理经过"))
    cause = models.TextField(_("原因"))
    corrective = models.TextField(_("纠正措施"))
    preventive = models.TextField(_("预防措施"))
    summary = models.CharField(_("短信摘要"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(_("编写时间"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("故障分析报告")


class OutageEvent(models.Model):
    """The interruption's timeline (append-only)."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=30)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("停气事件")
        ordering = ["at", "pk"]


class NetworkNode(models.Model):
    class Kind(models.TextChoices):
        SOURCE = "source", _("气源")
        REGULATOR = "regulator", _("调压站")
        JUNCTION = "junction", _("节点")
        VALVE = "valve", _("阀门")
        SERVICE = "service", _("用户接入点")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    ext_id = models.CharField(_("编号"), max_length=40)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("管网节点")
        constraints = [models.UniqueConstraint(fields=["company", "ext_id"], name="node_ext_unique")]


class NetworkEdge(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    ext_id = models.CharField(_("编号"), max_length=40)
    a = models.ForeignKey(NetworkNode, on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey(NetworkNode, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("管段")
        constraints = [models.UniqueConstraint(fields=["company", "ext_id"], name="edge_ext_unique")]


class NetworkPremise(models.Model):
    """A service connection's premise (one connection, e.g. a building riser, serves many)."""

    node = models.ForeignKey(NetworkNode, on_delete=models.CASCADE, related_name="+")
    premise = models.ForeignKey(Premise, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "premise"], name="netpremise_unique")]


class NetworkImport(models.Model):
    """One import of the GIS export: what was read, and the per-line report when refused."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    fmt = models.CharField(max_length=10)
    ok = models.BooleanField(default=False)
    nodes = models.PositiveIntegerField(default=0)
    edges = models.PositiveIntegerField(default=0)
    premises = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("管网导入")


class OutageSettings(models.Model):
    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+")
    public_page = models.BooleanField(_("公开停气信息页"), default=False)
    quiet_from = models.TimeField(_("居民夜间不恢复供气：自"), default=time(22, 0))
    quiet_until = models.TimeField(_("至"), default=time(6, 0))
    hotline = models.CharField(_("服务热线"), max_length=30, default="96777")

    class Meta:
        verbose_name = verbose_name_plural = _("停气设置")
