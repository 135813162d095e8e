"""Customers (用户/户), their premises, phones and meters, and the special-care registry (C7).

Personal data here is top secret (绝密, S4): it is shown masked unless the role needs it, and
every unmasked view is logged (S2). Lookups for the hotline (P2, C15) run on indexed, normalised
columns: `Phone.number`, `Customer.account_no`, `Premise.building/unit/room`, `Customer.name`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company


class CustomerCategory(models.Model):
    """Configurable customer category (居民, 商业, 工业, 采暖, 气代煤, 公建). The inspection frequency
    (C5) differs by category, so it lives here."""

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="customer_categories"
    )
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=30)
    is_residential = models.BooleanField(_("居民类"), default=False)
    inspections_per_year = models.PositiveSmallIntegerField(_("每年安检次数"), default=1)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("客户类别")
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="category_code_unique"),
            models.UniqueConstraint(fields=["company", "name"], name="category_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Premise(models.Model):
    """A place gas is supplied to, with a structured address and a supply zone (for outages, P13).

    `building`, `unit` and `room` are stored normalised (digits and letters only, no 号楼/栋/单元/室),
    so "3号楼2单元501", "3-2-501" and "3栋2单元501室" find the same premise.
    """

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="premises"
    )
    district = models.CharField(_("区县"), max_length=30, blank=True)
    street = models.CharField(_("街道"), max_length=50, blank=True)
    community = models.CharField(_("小区"), max_length=60, blank=True)
    building = models.CharField(_("楼"), max_length=20, blank=True)
    unit = models.CharField(_("单元"), max_length=10, blank=True)
    room = models.CharField(_("室"), max_length=20, blank=True)
    address = models.CharField(
        _("地址"), max_length=200, help_text=_("书面地址，如 泰山区岱宗大街幸福小区3号楼2单元501室")
    )
    supply_zone = models.CharField(_("供气区域"), max_length=30, blank=True, db_index=True)
    # Optional coordinates (WGS-84): from the import's columns, or set from the first arrival on site
    # validated by GPS (kefu.field), so a later arrival's distance to the premise can be judged (C8).
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("用气地址")
        indexes = [
            models.Index(fields=["company", "building", "unit", "room"], name="premise_bur"),
            models.Index(fields=["company", "community"], name="premise_community"),
            # The import finds a batch's premises by address (kefu.customers.importing.bulk).
            models.Index(fields=["company", "address"], name="premise_address"),
            # Prefix search on the community ("幸福小区…"): LIKE 'x%' needs pattern_ops on PostgreSQL
            # with a non-C collation; SQLite ignores opclasses and uses a range on this index.
            models.Index(
                fields=["community"], opclasses=["varchar_pattern_ops"], name="premise_community_prefix"
            ),
        ]

    def __str__(self) -> str:
        return self.address


class Customer(models.Model):
    """A gas customer (户), identified by an account number unique in the company."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        SUSPENDED = "suspended", _("停用")
        CLOSED = "closed", _("销户")

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="customers"
    )
    account_no = models.CharField(_("户号"), max_length=30)
    name = models.CharField(_("户名"), max_length=100)
    category = models.ForeignKey(CustomerCategory, verbose_name=_("类别"), on_delete=models.PROTECT)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    opened_on = models.DateField(_("开户日期"), null=True, blank=True)
    suspended_on = models.DateField(_("停用日期"), null=True, blank=True)
    closed_on = models.DateField(_("销户日期"), null=True, blank=True)
    premise = models.ForeignKey(
        Premise,
        verbose_name=_("用气地址"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(_("版本"), default=1, help_text=_("乐观锁：每次修改加一"))

    class Meta:
        verbose_name = verbose_name_plural = _("客户")
        constraints = [
            models.UniqueConstraint(fields=["company", "account_no"], name="customer_account_unique")
        ]
        indexes = [
            models.Index(fields=["company", "status"], name="customer_status"),
            # Name lookup (P2: "ask the surname"): exact and prefix. pattern_ops serves both = and
            # LIKE 'x%' on PostgreSQL; on SQLite the plain index serves = and a BINARY range.
            models.Index(fields=["name"], opclasses=["varchar_pattern_ops"], name="customer_name_prefix"),
        ]

    def __str__(self) -> str:
        return f"{self.account_no}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class CustomerStatusChange(models.Model):
    """Append-only history of status changes, so "active customers in month M" (K1, K4) can be
    computed for any past month."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Customer.Status.choices)
    effective_on = models.DateField(_("生效日期"))
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)
    recorded_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("状态变更")
        ordering = ["effective_on", "id"]
        indexes = [models.Index(fields=["status", "effective_on"], name="status_change_month")]


class Phone(models.Model):
    """A phone number of a customer, normalised: mobiles as 11 digits, landlines as area code +
    number without separators (e.g. 05386201234)."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("手机")
        LANDLINE = "landline", _("座机")
        OTHER = "other", _("其他")

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(_("号码"), max_length=20, db_index=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    is_primary = models.BooleanField(_("主要号码"), default=False)
    label = models.CharField(_("说明"), max_length=30, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("电话")
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="phone_unique_per_customer"),
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(is_primary=True), name="one_primary_phone"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Meter(models.Model):
    class Kind(models.TextChoices):
        IC_CARD = "ic_card", _("IC卡表")
        SMART = "smart", _("智能表")
        MECHANICAL = "mechanical", _("机械表")

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="meters"
    )
    serial = models.CharField(_("表号"), max_length=40, db_index=True)
    kind = models.CharField(_("表型"), max_length=12, choices=Kind.choices)
    installed_on = models.DateField(_("安装日期"), null=True, blank=True)
    battery_replaced_on = models.DateField(_("换电池日期"), null=True, blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("燃气表")
        constraints = [
            models.UniqueConstraint(fields=["customer", "serial"], name="meter_unique_per_customer")
        ]

    def __str__(self) -> str:
        return self.serial


class CareRegistration(models.Model):
    """Special-care registry (C7, 000 2.2.7): elderly, weak, ill or disabled customers, registered with
    their consent, so staff go to their home for procedures and the agent sees it at once."""

    class Need(models.TextChoices):
        ELDERLY = "elderly", _("老")
        WEAK = "weak", _("弱")
        ILL = "ill", _("病")
        DISABLED = "disabled", _("残")

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="care"
    )
    needs = models.JSONField(_("类别"), default=list, help_text=_("elderly / weak / ill / disabled"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    consent_on = models.DateField(_("同意登记日期"))
    consent_by = models.CharField(_("同意人"), max_length=50, help_text=_("本人或监护人姓名"))
    registered_by = models.ForeignKey(
        "accounts.User", verbose_name=_("登记人"), null=True, blank=True, on_delete=models.PROTECT
    )
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("特殊关爱登记")
        ordering = ["-registered_at", "-id"]

    @property
    def is_active(self) -> bool:
        return self.ended_on is None

    def need_labels(self) -> list[str]:
        labels = dict(self.Need.choices)
        return [str(labels.get(n, n)) for n in self.needs]


class ImportRun(models.Model):
    """One import of a billing export (CSV/XLSX): its file, progress and per-line report.

    State lives here, the job is only a trigger (ARCHITECTURE): the worker processes pending runs
    and the page polls `processed_rows`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("导入中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败（未写入任何数据）")

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="import_runs"
    )
    created_by = models.ForeignKey(
        "accounts.User", verbose_name=_("操作人"), null=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200)
    dry_run = models.BooleanField(_("试运行"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    encoding = models.CharField(_("编码"), max_length=20, blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    error_count = models.PositiveIntegerField(_("错误行数"), default=0)
    errors = models.JSONField(
        _("错误明细"), default=list, blank=True, help_text=_("[{line, column, reason}]，最多保留前 1000 条")
    )
    message = models.CharField(_("说明"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        _("心跳时间"),
        null=True,
        blank=True,
        help_text=_("导入进行中定时更新；长时间未更新说明处理进程已停止"),
    )
    worker = models.CharField(_("处理进程"), max_length=200, blank=True, help_text=_("主机:进程号:启动时刻"))

    class Meta:
        verbose_name = verbose_name_plural = _("导入记录")
        ordering = ["-created_at", "-id"]


class BillingImport(models.Model):
    """One delivery of billing facts from the billing system (营业收费系统): a file import or an API
    batch. Balance, arrears, purchases and the meter's lock state are never typed in kefu."""

    class Source(models.TextChoices):
        FILE = "file", _("文件导入")
        API = "api", _("接口推送")

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", verbose_name=_("操作人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变（已是最新）"), default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("计费数据导入")
        ordering = ["-created_at", "-id"]


class BillingSnapshot(models.Model):
    """The billing system's latest facts about one customer, as of `updated_at` in that system.

    Written only by kefu.customers.billing (file import or API, idempotent: a delivery that is not
    newer than the stored one changes nothing). Empty fields mean the billing system did not say."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    customer = models.OneToOneField(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="billing"
    )
    balance = models.DecimalField(_("余额（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    arrears = models.DecimalField(_("欠费（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    last_purchase_at = models.DateTimeField(_("最近购气/充值时间"), null=True, blank=True)
    last_purchase_amount = models.DecimalField(
        _("最近购气/充值金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    meter_locked = models.BooleanField(_("表具锁定"), null=True, blank=True)
    valve_closed = models.BooleanField(_("阀门关闭"), null=True, blank=True)
    alarm_expires_on = models.DateField(_("报警器到期日"), null=True, blank=True)
    hose_expires_on = models.DateField(_("软管到期日"), null=True, blank=True)
    updated_at = models.DateTimeField(_("计费系统更新时间"))
    received_at = models.DateTimeField(_("kefu 接收时间"), default=timezone.now)
    billing_import = models.ForeignKey(
        BillingImport, verbose_name=_("导入批次"), on_delete=models.PROTECT, related_name="snapshots"
    )

    class Meta:
        verbose_name = verbose_name_plural = _("计费数据")
        indexes = [models.Index(fields=["company", "updated_at"], name="billing_company_updated")]
