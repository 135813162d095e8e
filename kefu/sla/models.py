"""Service commitments (服务承诺), the working-day calendar and commitment clocks (C17, P9).

- `CommitmentSet` / `Commitment`: what a company promises in a year, versioned and published
  (C17, seed 004 第一、二、七条). Published sets are never edited: administrators clone and publish
  a new version; a clock keeps the version in force when its work order was received.
- `CalendarOverride` / `CalendarYear`: days and whole years entered by an administrator on top of
  the official calendar (SPEC Time rules).
- `BusinessHours`: a department's daily window, for commitments that end at the close of business
  (Civil Code art. 203).
- `Clock` / `ClockPause`: one running commitment clock on any subject (a work order later; the
  subject is generic so this app does not depend on the tickets app). Due and warning times are
  indexed columns so "what is due" is one query.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company, Department
from kefu.sla import engine
from kefu.sla.states import ClockState


class ClockKind(models.TextChoices):
    """What a commitment's clock measures."""

    FIRST_RESPONSE = "first_response", _("首次响应")
    REPLY = "reply", _("答复客户")
    ON_SITE = "on_site", _("到达现场")
    HANDLED = "handled", _("处理")
    RESOLVED = "resolved", _("修复/办结")
    RETURN_VISIT = "return_visit", _("回访")
    NOTICE_LEAD = "notice_lead", _("提前通知")


class LimitUnit(models.TextChoices):
    """Units of a commitment's limit. Every unit but RINGS is a time limit that starts a clock;
    RINGS (C13 "响铃3声内接听") is measured by telephony per call and counted by indicator K14."""

    SECONDS = engine.SECONDS, _("秒")
    MINUTES = engine.MINUTES, _("分钟")
    HOURS = engine.HOURS, _("小时")
    WORKING_DAYS = engine.WORKING_DAYS, _("工作日")
    RINGS = "rings", _("响铃声数")


class PauseReason(models.TextChoices):
    """The only reasons a clock may be paused (SPEC Time rules; 000 2.2.4 "除和客户另有约定外")."""

    CUSTOMER_REQUESTED_TIME = "customer_requested_time", _("客户要求另约时间")
    CUSTOMER_UNREACHABLE = "customer_unreachable", _("客户无法联系")
    AGREED_OTHERWISE = "agreed_otherwise", _("与客户另有约定")


class CommitmentSet(models.Model):
    """A company's commitments for one year, in one version (C17)."""

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="commitment_sets"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    name = models.CharField(_("名称"), max_length=100)
    version = models.PositiveIntegerField(_("版本"), default=1)
    is_published = models.BooleanField(_("已发布"), default=False)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cloned_from = models.ForeignKey(
        "self",
        verbose_name=_("复制自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clones",
    )
    preset_code = models.CharField(_("预置方案"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = _("服务承诺方案")
        ordering = ["-year", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "year", "version"], name="commitment_set_version_unique"
            )
        ]
        indexes = [models.Index(fields=["company", "year", "is_published"], name="sla_set_in_force_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.name} v{self.version}"


class Commitment(models.Model):
    """One commitment: which requests it applies to, which clock it drives, and its limit.

    Empty applies-to fields mean "any". Codes are the stable codes of the tickets taxonomy
    (kind: consultation, complaint, repair, emergency, installation, inspection_appointment,
    meter_card, appliance, suggestion, praise; sub-kind e.g. repair/meter, emergency/leak).
    """

    commitment_set = models.ForeignKey(
        CommitmentSet, verbose_name=_("方案"), on_delete=models.CASCADE, related_name="commitments"
    )
    spec_id = models.CharField(_("规范编号"), max_length=4, help_text=_("C1…C20"))
    code = models.SlugField(_("代码"), max_length=60, help_text=_("方案内唯一，复制到新年度时保持不变"))
    name = models.CharField(_("名称"), max_length=120)
    ticket_kind = models.CharField(_("工单类型"), max_length=40, blank=True)
    ticket_sub_kind = models.CharField(_("工单子类"), max_length=40, blank=True)
    customer_category = models.CharField(_("客户类别"), max_length=40, blank=True)
    severity = models.CharField(_("严重程度"), max_length=20, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, blank=True)
    clock_kind = models.CharField(_("计时类型"), max_length=20, choices=ClockKind.choices)
    start_event = models.CharField(_("开始事件"), max_length=60)
    stop_event = models.CharField(_("停止事件"), max_length=60)
    limit_value = models.PositiveIntegerField(_("时限"))
    limit_unit = models.CharField(_("时限单位"), max_length=20, choices=LimitUnit.choices)
    ends_at_close_of_business = models.BooleanField(
        _("截止于营业时间结束"), default=False, help_text=_("仅用于工作日时限（民法典第二百零三条）")
    )
    pause_reasons = models.JSONField(_("可暂停原因"), default=list, blank=True)
    warn_at_percent = models.PositiveSmallIntegerField(_("预警比例(%)"), default=75)
    escalate_after = models.PositiveIntegerField(
        _("再升级(分钟)"), null=True, blank=True, help_text=_("超时后再过多少分钟升级到经理（P9）")
    )
    source = models.CharField(_("依据条款"), max_length=200, blank=True)
    note = models.TextField(_("说明"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("服务承诺")
        ordering = ["commitment_set", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["commitment_set", "code"], name="commitment_code_unique"),
            models.CheckConstraint(
                condition=Q(ends_at_close_of_business=False) | Q(limit_unit=engine.WORKING_DAYS),
                name="commitment_close_only_working_days",
            ),
            models.CheckConstraint(
                condition=Q(warn_at_percent__gte=1) & Q(warn_at_percent__lte=100),
                name="commitment_warn_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.spec_id} {self.name}"

    @property
    def is_timed(self) -> bool:
        """True when the commitment drives a clock (every unit but rings)."""
        return self.limit_unit != LimitUnit.RINGS

    @property
    def limit(self) -> engine.Limit:
        return engine.Limit(self.limit_value, self.limit_unit)

    def clean(self) -> None:
        if self.ends_at_close_of_business and self.limit_unit != LimitUnit.WORKING_DAYS:
            raise ValidationError(_("只有工作日时限可以截止于营业时间结束。"))
        bad = [r for r in self.pause_reasons or [] if r not in PauseReason.values]
        if bad:
            raise ValidationError(_("未知的暂停原因：%(r)s") % {"r": "、".join(bad)})


class CalendarOverride(models.Model):
    """A day entered by an administrator; wins over the official calendar (SPEC Time rules).

    `company` empty = all companies (e.g. next year's State Council notice); a company's own row
    wins over an all-companies row for the same date.
    """

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("日期"))
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(_("名称"), max_length=60, blank=True, help_text=_("如：元旦、春节调休上班"))
    note = models.CharField(_("备注"), max_length=200, blank=True, help_text=_("如：国办发明电〔2026〕×号"))
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = _("日历调整")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["company", "date"], name="calendar_override_company_date"),
            models.UniqueConstraint(
                fields=["date"], condition=Q(company__isnull=True), name="calendar_override_global_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}"


class CalendarYear(models.Model):
    """A year whose official calendar an administrator has entered in full as overrides: its other
    days are ordinary (Mon–Fri work) and the year no longer shows the fallback warning."""

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    notice = models.CharField(
        _("依据"), max_length=200, blank=True, help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知")
    )
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = _("已录入年度日历")
        constraints = [
            models.UniqueConstraint(fields=["company", "year"], name="calendar_year_company"),
            models.UniqueConstraint(
                fields=["year"], condition=Q(company__isnull=True), name="calendar_year_global"
            ),
        ]

    def __str__(self) -> str:
        return str(self.year)


class BusinessHours(models.Model):
    """A department's business hours on working days, e.g. 08:30–17:30 (Civil Code art. 203).

    `department` empty = the company's default. One window a day: the same on every working day,
    including make-up weekend days (调休).
    """

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opens_at = models.TimeField(_("开始营业"))
    closes_at = models.TimeField(_("停止营业"))

    class Meta:
        verbose_name = verbose_name_plural = _("营业时间")
        constraints = [
            models.UniqueConstraint(fields=["company", "department"], name="business_hours_department"),
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(department__isnull=True),
                name="business_hours_company_default",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__lt=models.F("closes_at")), name="business_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def as_engine(self) -> engine.BusinessHours:
        return engine.BusinessHours(self.opens_at, self.closes_at)


class Clock(models.Model):
    """One commitment clock on a subject. Attached to a work order by the tickets app
    (subject_type "tickets.workorder", subject_id its pk) — generic so sla does not import tickets.

    `due_at` / `warn_at` are NULL while the clock is paused (nothing is due); the worker finds
    "due soon" by `state=running, warn_at <= now, warned_at IS NULL` and "breached" by
    `state=running, due_at < now`, both on indexes.
    """

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    subject_type = models.CharField(_("对象类型"), max_length=40)
    subject_id = models.CharField(_("对象编号"), max_length=40)
    commitment = models.ForeignKey(
        Commitment, verbose_name=_("服务承诺"), on_delete=models.PROTECT, related_name="clocks"
    )
    commitment_version = models.PositiveIntegerField(_("方案版本"))
    clock_kind = models.CharField(_("计时类型"), max_length=20, choices=ClockKind.choices)
    # A snapshot of the limit as it was when the clock started (the set may be cloned and edited later).
    limit_value = models.PositiveIntegerField(_("时限"))
    limit_unit = models.CharField(_("时限单位"), max_length=20, choices=LimitUnit.choices)
    business_opens_at = models.TimeField(_("营业开始"), null=True, blank=True)
    business_closes_at = models.TimeField(_("营业结束"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    due_at = models.DateTimeField(_("到期时间"), null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True, db_index=True)
    state = models.CharField(
        _("状态"), max_length=20, choices=ClockState.choices, default=ClockState.RUNNING, db_index=True
    )
    paused_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    paused_total = models.DurationField(_("累计暂停"), default=timedelta(0))
    met_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    breached_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    warned_at = models.DateTimeField(_("已预警"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("升级级别"), default=0, help_text=_("0 未升级，1 已通知主管（超时），2 已通知经理（P9）")
    )
    # due_at + the commitment's escalate_after: when a breached clock goes on to the manager (P9).
    escalate_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    fallback_calendar = models.BooleanField(_("使用后备日历"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("计时")
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="sla_clock_subject_idx"),
            models.Index(fields=["state", "due_at"], name="sla_clock_state_due_idx"),
            models.Index(fields=["state", "warn_at"], name="sla_clock_state_warn_idx"),
            models.Index(fields=["state", "escalation_level", "escalate_at"], name="sla_clock_escalate_idx"),
            # the clocks of one commitment started in a month: the indicators (K2, K3, K6–K11)
            models.Index(fields=["commitment", "started_at"], name="sla_clock_cmt_started_idx"),
            # a company's open clocks (few among millions): wallboard, supervisor's screens
            models.Index(
                fields=["company", "state", "due_at"],
                condition=Q(state__in=["running", "paused", "breached"]),
                name="sla_clock_co_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "commitment"],
                condition=Q(state__in=["running", "paused", "breached"]),
                name="sla_clock_one_open_per_commitment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_type}#{self.subject_id} {self.clock_kind} {self.state}"

    @property
    def limit(self) -> engine.Limit:
        return engine.Limit(self.limit_value, self.limit_unit)

    @property
    def business_hours(self) -> engine.BusinessHours | None:
        if self.business_opens_at is None or self.business_closes_at is None:
            return None
        return engine.BusinessHours(self.business_opens_at, self.business_closes_at)


class ClockPause(models.Model):
    """One pause of a clock, for an accepted reason, with who and why (SPEC Time rules)."""

    clock = models.ForeignKey(Clock, verbose_name=_("计时"), on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField(_("暂停开始"))
    ended_at = models.DateTimeField(_("暂停结束"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=30, choices=PauseReason.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("恢复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("计时暂停")
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock"], condition=Q(ended_at__isnull=True), name="sla_one_open_pause"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="sla_pause_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clock_id} {self.reason} {self.started_at:%Y-%m-%d %H:%M}"

    def as_engine(self) -> engine.Pause:
        return engine.Pause(self.started_at, self.ended_at)


class ClockAttachment(models.Model):
    """The record that a subject (a work order) has been given its clocks.

    Written in the same transaction as the clocks — also when no commitment applies — so the
    periodic sweep can find open work orders whose creation hook never ran (the process died
    between the work order's commit and the hook) without re-examining every work order forever.
    """

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    subject_type = models.CharField(_("对象类型"), max_length=40)
    subject_id = models.CharField(_("对象编号"), max_length=40)
    commitment_set = models.ForeignKey(
        CommitmentSet,
        verbose_name=_("方案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind_signature = models.CharField(_("类型签名"), max_length=120, blank=True)
    attached_at = models.DateTimeField(_("挂接时间"), default=timezone.now)
    by_sweep = models.BooleanField(_("由巡检补挂"), default=False)

    class Meta:
        verbose_name = verbose_name_plural = _("计时挂接记录")
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id"], name="sla_attachment_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject_type}#{self.subject_id}"
