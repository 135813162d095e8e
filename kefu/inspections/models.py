"""Household safety inspections (入户安检, C5, C11, C12, P14).

- `InspectionSettings`: the company's checklist, no-access ladder, hazard deadlines, hotline.
- `Programme`: a company's year, with the inspections a year per category (C5, from the commitment
  set in force, else the categories' own values).
- `LedgerEntry`: the due ledger — one row per household, kind (household C5 / appliance C12) and
  period; the community, district and category are copied in so coverage is one indexed query.
- `Batch`: inspectors' planned days in a community and buildings (the notice PDF is made from it).
- `Visit`: the inspector's record from the phone, applied once per client id (offline replay).
- `LadderStep`: the no-access ladder's steps done for a ledger row (append-only).
- `CoverageCount`: household rows per community, district, category and status (kept by triggers).
- `Appliance`: a registered gas appliance (C12 ledger).
- `HazardType`, `Hazard`, `HazardEvent`: the catalogue, a hazard found, its lifecycle log.
Every time is UTC.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company, User
from kefu.customers.models import Customer
from kefu.field.models import FieldJob, Technician
from kefu.inspections.states import (
    EntryStatus,
    HazardState,
    LedgerKind,
    Outcome,
    RectifiedBy,
    Severity,
    StepKind,
    TimeBand,
)
from kefu.tickets.models import Ticket


class InspectionSettings(models.Model):
    """Per company: the checklist, the no-access ladder, deadlines by severity, the booking hotline,
    days to a re-check, days overdue before the second escalation."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="inspection_settings")
    checklist = models.JSONField(_("检查项目"), default=list, blank=True)
    ladder = models.JSONField(_("不遇处置流程"), default=list, blank=True)
    deadline_days = models.JSONField(_("整改期限（天，按等级）"), default=dict, blank=True)
    hotline = models.CharField(_("预约电话"), max_length=30, blank=True)
    recheck_days = models.PositiveSmallIntegerField(_("复查期限（天）"), default=3)
    escalate_days = models.PositiveSmallIntegerField(_("再次升级（逾期天数）"), default=7)

    class Meta:
        verbose_name = verbose_name_plural = _("安检设置")


class Programme(models.Model):
    """A company's inspection programme for one year (C5)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    frequencies = models.JSONField(_("每年安检次数（按类别）"), default=dict)
    source = models.CharField(_("依据"), max_length=120, blank=True)
    generated_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    synced_at = models.DateTimeField(_("同步时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("安检计划")
        constraints = [models.UniqueConstraint(fields=["company", "year"], name="insp_programme_once")]

    def __str__(self) -> str:
        return f"{self.year}"


class Batch(models.Model):
    """A planned batch: a community and its buildings, an inspector, the days (入户安检通知)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="batches")
    community = models.CharField(_("小区"), max_length=60)
    buildings = models.JSONField(_("楼号"), default=list, blank=True)
    inspector = models.ForeignKey(
        Technician, verbose_name=_("安检员"), on_delete=models.PROTECT, related_name="inspection_batches"
    )
    first_day = models.DateField(_("开始日期"))
    last_day = models.DateField(_("结束日期"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    notice_posted_at = models.DateTimeField(_("通知张贴时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("安检批次")
        indexes = [models.Index(fields=["inspector", "first_day", "last_day"], name="insp_batch_days")]

    def __str__(self) -> str:
        return f"{self.community} {self.first_day:%m-%d}"


class LedgerEntry(models.Model):
    """One household (or its appliances) owed one inspection in one period (C5, C12)."""

    # no single-column indexes: the composite ones below start with each (a million rows a year
    # pay for every index at generation)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", db_index=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="entries", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(
        _("类别"), max_length=10, choices=LedgerKind.choices, default=LedgerKind.HOUSEHOLD
    )
    period = models.PositiveSmallIntegerField(_("期次"), default=1)
    periods = models.PositiveSmallIntegerField(_("年度期数"), default=1)
    period_start = models.DateField(_("期起"))
    due_on = models.DateField(_("应检日期"))
    category = models.CharField(_("客户类别"), max_length=32)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    community = models.CharField(_("小区"), max_length=60, blank=True)
    building = models.CharField(_("楼"), max_length=20, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=EntryStatus.choices, default=EntryStatus.DUE)
    no_access_visits = models.PositiveSmallIntegerField(_("不遇次数"), default=0)
    ladder_step = models.CharField(_("不遇处置进度"), max_length=20, blank=True)
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries")
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    status_note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("安检台账")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "customer", "kind", "periods", "period"], name="insp_entry_once"
            )
        ]
        indexes = [
            models.Index(fields=["programme", "kind", "community", "status"], name="insp_entry_coverage"),
            models.Index(fields=["company", "kind", "done_at"], name="insp_entry_done"),
            models.Index(fields=["company", "kind", "due_on"], name="insp_entry_due"),
            models.Index(fields=["customer", "programme"], name="insp_entry_customer"),
        ]


class CoverageCount(models.Model):
    """Household ledger rows per programme, community, district, category and status (C5): the
    coverage selector sums these few thousand rows instead of counting a million. Kept by database
    triggers on `LedgerEntry` (migration 0002, SQLite and PostgreSQL), so every write — services,
    imports, bulk updates, deletes — moves it in the same transaction; a test holds it equal to the
    counted one. A SQLite migration that rebuilds the ledger table drops its triggers: recreate them."""

    # no constraint: deleting a programme removes its ledger rows, whose triggers empty these
    programme = models.ForeignKey(
        Programme, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    community = models.CharField(max_length=60)
    district = models.CharField(max_length=30)
    category = models.CharField(max_length=32)
    status = models.CharField(max_length=12)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "community", "district", "category", "status"], name="insp_coverage_key"
            )
        ]


class Appliance(models.Model):
    """A registered gas appliance of a customer (C12: inspected once a year)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("燃气具种类"), max_length=30)
    model = models.CharField(_("型号"), max_length=60, blank=True)
    installed_on = models.DateField(_("安装日期"), null=True, blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("燃气具登记")
        indexes = [models.Index(fields=["company", "customer"], name="insp_appliance_customer")]


class Visit(models.Model):
    """An inspection visit recorded on the phone (P14). `client_id` (made by the phone) makes a
    replayed offline submission land once; `at` is the device's capture time when offline."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="visits")
    inspector = models.ForeignKey(Technician, null=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    client_id = models.CharField(_("客户端编号"), max_length=64)
    at = models.DateTimeField(_("时间"))
    server_at = models.DateTimeField(default=timezone.now)
    offline = models.BooleanField(_("离线采集"), default=False)
    band = models.CharField(_("时段"), max_length=8, choices=TimeBand.choices)
    outcome = models.CharField(_("结果"), max_length=12, choices=Outcome.choices)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    door_notice = models.BooleanField(_("已留门贴"), default=False)
    checklist = models.JSONField(_("检查结果"), default=dict, blank=True)
    meter_reading = models.DecimalField(_("表读数"), max_digits=12, decimal_places=2, null=True, blank=True)
    advice_given = models.BooleanField(_("已进行安全宣传"), default=False)
    signed_by = models.CharField(_("客户签名"), max_length=50, blank=True)
    signature = models.FileField(
        _("客户手写签名"),
        upload_to="inspections/signatures/%Y/%m/",
        blank=True,
        help_text=_("手机上手写的签名（PNG）"),
    )
    appliances_checked = models.BooleanField(_("已检燃气具"), default=False)
    imported = models.BooleanField(_("导入"), default=False)

    class Meta:
        verbose_name = verbose_name_plural = _("安检记录")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["company", "client_id"], name="insp_visit_once")]
        indexes = [models.Index(fields=["company", "at"], name="insp_visit_at")]


class VisitPhoto(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="photos")
    label = models.CharField(_("说明"), max_length=30, blank=True)
    file = models.FileField(upload_to="inspections/%Y/%m/", max_length=300)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)


class LadderStep(models.Model):
    """A step of the no-access ladder done for a ledger row (append-only)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="ladder_steps")
    kind = models.CharField(_("步骤"), max_length=10, choices=StepKind.choices)
    band = models.CharField(_("时段"), max_length=8, blank=True)
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    measurement = models.DecimalField(
        _("门缝检漏读数（%LEL）"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("不遇处置记录")
        ordering = ["at", "id"]


class HazardType(models.Model):
    """The hazard catalogue (隐患目录) with severity."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=60)
    severity = models.CharField(_("等级"), max_length=10, choices=Severity.choices)

    class Meta:
        verbose_name = verbose_name_plural = _("隐患目录")
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="insp_hazard_type_code")]

    def __str__(self) -> str:
        return self.name


class Hazard(models.Model):
    """A hazard found on a visit, followed to its rectification or a named escalation (P14)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("编号"), max_length=30)
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.PROTECT, related_name="hazards")
    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="hazards")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    type = models.ForeignKey(HazardType, verbose_name=_("隐患"), on_delete=models.PROTECT)
    severity = models.CharField(_("等级"), max_length=10, choices=Severity.choices)
    description = models.CharField(_("描述"), max_length=200, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=HazardState.choices, default=HazardState.OPEN)
    found_at = models.DateTimeField(_("发现时间"))
    deadline = models.DateField(_("整改期限"), db_index=True)
    responsible = models.ForeignKey(
        User, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="+"
    )
    notice_signed_by = models.CharField(_("通知书签收人"), max_length=50, blank=True)
    notice_signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    rectified_by = models.CharField(_("整改方式"), max_length=12, choices=RectifiedBy.choices, blank=True)
    rectified_at = models.DateTimeField(_("整改时间"), null=True, blank=True)
    field_job = models.ForeignKey(FieldJob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recheck_due = models.DateField(_("复查日期"), null=True, blank=True)
    rechecked_at = models.DateTimeField(_("复查时间"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("升级级别"), default=0)
    escalated_to = models.ForeignKey(
        User, verbose_name=_("升级至"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    emergency_ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supply_shut_off_at = models.DateTimeField(_("停气时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = verbose_name_plural = _("安全隐患")
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="insp_hazard_number")]
        indexes = [models.Index(fields=["company", "state", "deadline"], name="insp_hazard_open")]


class HazardEvent(models.Model):
    """The hazard's log (append-only): found, notice signed, rectified, re-checked, escalated."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=20)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]
