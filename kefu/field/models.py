"""Field service (外勤): technicians, crews, the duty schedule, field jobs (派工单, P7), their
events with evidence (出发/到达/处理完成/修复, C8), parts and fees, appointments (P10, C9–C12).

Every time is UTC. An event is append-only: a supervisor's judgement of an arrival that lacks
evidence is written on the event's review columns once (pending → accepted / rejected) and audited.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company, Team, User
from kefu.customers.models import Customer, Premise
from kefu.field.states import AppointmentState, ArrivalSource, Duty, EventKind, JobState, Review
from kefu.tickets.models import Ticket


class FieldSettings(models.Model):
    """Per company: approval before dispatch, the evidence thresholds, the speeds for estimated
    arrival, and the map's tile URL (empty: positions drawn on a plain plane, no internet)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="field_settings")
    requires_approval = models.BooleanField(_("派工需审批"), default=False)
    far_metres = models.PositiveIntegerField(_("到达距离阈值（米）"), default=300)
    max_accuracy_metres = models.PositiveIntegerField(_("定位精度阈值（米）"), default=200)
    clock_skew_seconds = models.PositiveIntegerField(_("设备时间偏差阈值（秒）"), default=300)
    speeds_kmh = models.JSONField(
        _("车速（公里/小时，按时段）"),
        default=dict,
        blank=True,
        help_text=_('如 {"7-9": 20, "17-19": 20, "default": 35}'),
    )
    tile_url = models.CharField(_("地图瓦片地址"), max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("外勤设置")


class Technician(models.Model):
    """A technician (a user with the technician role) with skills and the last position reported
    by the phone."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(
        User, verbose_name=_("员工"), on_delete=models.PROTECT, related_name="technician"
    )
    skills = models.JSONField(_("技能"), default=list, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    accuracy_m = models.FloatField(_("精度（米）"), null=True, blank=True)
    position_at = models.DateTimeField(_("定位时间"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("技术员")

    def __str__(self) -> str:
        return self.user.display_name


class Crew(models.Model):
    """A crew (班组车组): technicians who go out together, optionally with a vehicle."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, verbose_name=_("班组"), on_delete=models.PROTECT, related_name="crews")
    name = models.CharField(_("名称"), max_length=50)
    vehicle = models.CharField(_("车辆"), max_length=30, blank=True)
    members = models.ManyToManyField(Technician, verbose_name=_("成员"), related_name="crews", blank=True)
    leader = models.ForeignKey(
        Technician, verbose_name=_("组长"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("作业组")
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="crew_name_unique")]

    def __str__(self) -> str:
        return self.name


class DutyEntry(models.Model):
    """The duty schedule: one row per crew and day (a table the roster can fill later)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    crew = models.ForeignKey(Crew, on_delete=models.CASCADE, related_name="duty")
    day = models.DateField(_("日期"))
    status = models.CharField(_("值班状态"), max_length=10, choices=Duty.choices, default=Duty.ON_DUTY)

    class Meta:
        verbose_name = verbose_name_plural = _("值班表")
        constraints = [models.UniqueConstraint(fields=["crew", "day"], name="duty_once_per_day")]


class CatalogueItem(models.Model):
    """A part or material (with its unit) or a priced service of the price list."""

    class Kind(models.TextChoices):
        PART = "part", _("配件材料")
        SERVICE = "service", _("服务收费")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("编码"), max_length=30)
    name = models.CharField(_("名称"), max_length=60)
    unit = models.CharField(_("单位"), max_length=10, default="个")
    price = models.DecimalField(_("单价（元）"), max_digits=10, decimal_places=2, default=Decimal("0"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("配件与收费目录")
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="catalogue_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AppointmentSlot(models.Model):
    """A bookable window of a team on a day, with a capacity (P10)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, verbose_name=_("班组"), on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    capacity = models.PositiveSmallIntegerField(_("容量"), default=4)

    class Meta:
        verbose_name = verbose_name_plural = _("预约时段")
        ordering = ["starts_at"]
        constraints = [models.UniqueConstraint(fields=["team", "starts_at"], name="slot_once")]


class Appointment(models.Model):
    """A customer's booked window on a work order; late or cancelled → the customer is told first
    (a task for the owner, recorded); installation: the recorded installable check (C9)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="appointments")
    slot = models.ForeignKey(AppointmentSlot, on_delete=models.PROTECT, related_name="appointments")
    window_start = models.DateTimeField(_("预约开始"))
    window_end = models.DateTimeField(_("预约结束"))
    state = models.CharField(
        _("状态"), max_length=10, choices=AppointmentState.choices, default=AppointmentState.BOOKED
    )
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField(_("预约时间"), default=timezone.now)
    installable = models.BooleanField(_("具备安装条件"), null=True, blank=True)
    installable_reason = models.CharField(_("安装条件说明"), max_length=200, blank=True)
    installable_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    change_reason = models.CharField(_("变更原因"), max_length=200, blank=True)
    tell_customer_by = models.DateTimeField(_("须告知客户的时限"), null=True, blank=True)
    customer_told_at = models.DateTimeField(_("已告知客户"), null=True, blank=True)
    customer_told_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = _("预约")
        indexes = [models.Index(fields=["company", "window_start"], name="appt_company_start")]


class FieldJob(models.Model):
    """One visit of a work order (派工单, P7): who goes, where, what for, and what was done."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="field_jobs")
    number = models.CharField(_("派工单号"), max_length=30)
    state = models.CharField(
        _("状态"), max_length=16, choices=JobState.choices, default=JobState.NEW, db_index=True
    )
    is_emergency = models.BooleanField(_("抢险"), default=False)
    is_care_visit = models.BooleanField(_("关怀上门"), default=False)
    skill = models.CharField(_("所需技能"), max_length=12, blank=True)
    team = models.ForeignKey(
        Team, verbose_name=_("班组"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    crew = models.ForeignKey(
        Crew, verbose_name=_("作业组"), null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    technician = models.ForeignKey(
        Technician,
        verbose_name=_("技术员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="jobs",
    )
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    premise = models.ForeignKey(Premise, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    product_model = models.CharField(_("产品型号"), max_length=60, blank=True)
    purchase_date = models.DateField(_("购买日期"), null=True, blank=True)
    fault = models.TextField(_("故障描述"), blank=True)
    care_note = models.CharField(_("关怀说明"), max_length=200, blank=True)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    due_at = models.DateTimeField(_("时限"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    approved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dispatched_at = models.DateTimeField(_("派工时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到达时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cause = models.CharField(_("故障原因"), max_length=200, blank=True)
    measures = models.TextField(_("处理措施"), blank=True)
    receipt_no = models.CharField(_("收据/发票号"), max_length=40, blank=True)
    fee_total = models.DecimalField(
        _("收费合计（元）"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    out_of_scope_reason = models.CharField(_("不在维修范围原因"), max_length=200, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    transfer_advice = models.CharField(_("转其它渠道建议"), max_length=200, blank=True)
    customer_told = models.BooleanField(_("已告知客户"), default=False)
    customer_code = models.CharField(_("客户确认码"), max_length=8, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = verbose_name_plural = _("派工单")
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="job_number_unique")]
        indexes = [
            models.Index(fields=["company", "state", "due_at"], name="job_board"),
            models.Index(fields=["company", "created_at"], name="job_month"),
        ]

    def __str__(self) -> str:
        return self.number


class JobEvent(models.Model):
    """出发 / 到达 / 处理完成 / 修复 with its evidence (C8). `client_id` (made by the phone) makes a
    replayed action land once. `at` is the time that counts: the device's capture time when the
    phone was offline (and plausible), else the server's; both are kept."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(FieldJob, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("事件"), max_length=10, choices=EventKind.choices)
    client_id = models.CharField(_("客户端编号"), max_length=64)
    at = models.DateTimeField(_("时间"))
    device_at = models.DateTimeField(_("设备时间"), null=True, blank=True)
    server_at = models.DateTimeField(_("服务器时间"), default=timezone.now)
    offline = models.BooleanField(_("离线采集"), default=False)
    source = models.CharField(_("来源"), max_length=14, choices=ArrivalSource.choices, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    distance_m = models.FloatField(_("距地址（米）"), null=True, blank=True)
    reason = models.CharField(_("说明"), max_length=200, blank=True)
    flags = models.JSONField(_("异常标记"), default=list, blank=True)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    review = models.CharField(
        _("审核"), max_length=10, choices=Review.choices, blank=True, default=Review.NONE
    )
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(_("审核理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("外勤事件")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["company", "client_id"], name="job_event_once")]
        indexes = [
            models.Index(fields=["company", "review"], name="job_event_review"),
            models.Index(fields=["job", "kind"], name="job_event_kind"),
        ]


class JobLine(models.Model):
    """A part used or a fee charged on a job (quantity × the catalogue's price at the time)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(FieldJob, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("数量"), max_digits=8, decimal_places=2)
    unit_price = models.DecimalField(_("单价"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("金额"), max_digits=10, decimal_places=2)
    technician = models.ForeignKey(Technician, null=True, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = verbose_name_plural = _("用料与收费")
        indexes = [models.Index(fields=["company", "day"], name="job_line_day")]


class SerialChange(models.Model):
    """A meter, terminal or SIM replaced on site (old → new serial)."""

    class Kind(models.TextChoices):
        METER = "meter", _("燃气表")
        TERMINAL = "terminal", _("终端")
        SIM = "sim", _("SIM卡")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(FieldJob, on_delete=models.PROTECT, related_name="serial_changes")
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    old_serial = models.CharField(_("原编号"), max_length=40, blank=True)
    new_serial = models.CharField(_("新编号"), max_length=40)
    at = models.DateTimeField(default=timezone.now)


class JobPhoto(models.Model):
    """A photo from the phone's camera (before / after)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(FieldJob, on_delete=models.PROTECT, related_name="photos")
    stage = models.CharField(
        _("阶段"), max_length=10, choices=[("before", _("处理前")), ("after", _("处理后"))]
    )
    file = models.FileField(upload_to="field/%Y/%m/", max_length=300)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)


class Page(models.Model):
    """An emergency page to a crew (C8): sent, acknowledged."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(FieldJob, on_delete=models.CASCADE, related_name="pages")
    crew = models.ForeignKey(Crew, on_delete=models.CASCADE, related_name="pages")
    sent_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "crew"], name="page_once")]
