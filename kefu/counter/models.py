"""The service counter (营业厅, P11, seed 003) and its cash (P12, 004 第三条5, 第四条10, 第六条1).

Queue:
- `Hall` a counter hall, `BusinessType` a kind of business with its queue letter (A, B, …), the
  documents to check and the work-order kind it is entered as; `Window` a window of a hall and the
  business types it serves.
- `QueueTicket` one queue number (A001 …), gapless per hall, local day and business type
  (`NumberCounter`), from taken to called to served to done, with its times (C15 on reports) and
  the customer's rating. `Service` one business done for it ("还有其他需要办理的吗" adds another).

Cash:
- `PriceList` / `PriceItem`: the company's fees, a new version for every change (never edited).
- `Payment` / `PaymentLine`: a charge by the price list with its receipt number, gapless per
  company and year (`NumberCounter`), taken in the same transaction as the payment.
- `Refund`: requested by a clerk, approved by someone else, paid out (its own gapless numbers).
- `DailyBalance`: a clerk's day (日结): float, recorded cash in and out, counted cash, the
  discrepancy, and the hand-over to finance signed by both.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company, Department

#: C15: a counter transaction resolved within 3 minutes where possible — a target on reports.
DEFAULT_TARGET_SECONDS = 180


class Hall(models.Model):
    """A counter hall (营业厅) of a company."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_seconds = models.PositiveIntegerField(
        _("办理目标时长（秒）"), default=DEFAULT_TARGET_SECONDS, help_text=_("C15：尽量在 3 分钟内办结")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("营业厅")
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="counter_hall_code_unique")]

    def __str__(self) -> str:
        return self.name


class BusinessType(models.Model):
    """A kind of counter business with its queue letter (A 开户, B 缴费 …), the documents the clerk
    checks (003 6.2.1 步骤3) and the work-order kind it is entered as when it is not done on the spot."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    prefix = models.CharField(_("排队字母"), max_length=2)
    name = models.CharField(_("名称"), max_length=50)
    documents = models.JSONField(_("所需证件资料"), default=list, blank=True)
    ticket_kind = models.CharField(_("工单类型代码"), max_length=40, blank=True)
    on_spot = models.BooleanField(_("可当场办结"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("营业厅业务类型")
        ordering = ["sort_order", "prefix"]
        constraints = [
            models.UniqueConstraint(fields=["company", "prefix"], name="counter_businesstype_prefix_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.name}"


class Window(models.Model):
    """A window (窗口) of a hall and the business types it serves."""

    hall = models.ForeignKey(Hall, verbose_name=_("营业厅"), on_delete=models.PROTECT, related_name="windows")
    number = models.PositiveSmallIntegerField(_("窗口号"))
    business_types = models.ManyToManyField(BusinessType, verbose_name=_("办理业务"), related_name="windows")
    is_open = models.BooleanField(_("开放"), default=True)
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("当前营业员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = _("窗口")
        ordering = ["hall", "number"]
        constraints = [models.UniqueConstraint(fields=["hall", "number"], name="counter_window_unique")]

    def __str__(self) -> str:
        return _("%(n)s号窗口") % {"n": self.number}


class NumberCounter(models.Model):
    """The last number handed out in one series (queue letter of a hall and day, receipts of a
    company and year, refunds …). Bumped by a conditional UPDATE in the transaction that uses the
    number, so the number rolls back with it: no gap, no duplicate (PostgreSQL: row lock; SQLite:
    one writer at a time)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    series = models.CharField(max_length=40)
    period = models.CharField(max_length=10)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "series", "period"], name="counter_numbercounter_unique"
            )
        ]


class QueueStatus(models.TextChoices):
    WAITING = "waiting", _("等候中")  # taken, not yet called
    CALLED = "called", _("已叫号")  # called to a window, the customer is on the way
    SERVING = "serving", _("办理中")  # at the window
    DONE = "done", _("已办结")
    NO_SHOW = "no_show", _("过号")  # called and did not come
    CANCELLED = "cancelled", _("已取消")


def _token() -> str:
    return secrets.token_urlsafe(12)


class QueueTicket(models.Model):
    """One queue number (P11): A001 is the first of business type A in this hall today."""

    hall = models.ForeignKey(Hall, verbose_name=_("营业厅"), on_delete=models.PROTECT, related_name="tickets")
    business_type = models.ForeignKey(
        BusinessType, verbose_name=_("业务类型"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("日期"))
    seq = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("排队号"), max_length=10)
    token = models.CharField(max_length=24, default=_token, unique=True)  # the phone's link (no login)
    status = models.CharField(
        _("状态"), max_length=10, choices=QueueStatus.choices, default=QueueStatus.WAITING, db_index=True
    )
    window_hint = models.ForeignKey(
        Window,
        verbose_name=_("引导到窗口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    window = models.ForeignKey(
        Window, verbose_name=_("办理窗口"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("营业员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customer_id = models.BigIntegerField(_("客户"), null=True, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    taken_at = models.DateTimeField(_("取号时间"), default=timezone.now)
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    recalls = models.PositiveSmallIntegerField(_("重呼次数"), default=0)
    started_at = models.DateTimeField(_("开始办理"), null=True, blank=True)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    anything_else_asked = models.BooleanField(_("已询问还有其他需要办理的吗"), default=False)
    rating = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=200, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("排队号")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "day", "business_type", "seq"], name="counter_queue_seq_unique"
            )
        ]
        indexes = [models.Index(fields=["hall", "status", "id"], name="counter_queue_waiting")]

    def __str__(self) -> str:
        return self.number

    @property
    def wait_seconds(self) -> int | None:
        """Waiting time: taken → called (or → now while waiting is not known here)."""
        if self.called_at is None:
            return None
        return int((self.called_at - self.taken_at).total_seconds())

    @property
    def service_seconds(self) -> int | None:
        """Service time at the window: started (or called) → finished (C15)."""
        begin = self.started_at or self.called_at
        if begin is None or self.finished_at is None:
            return None
        return int((self.finished_at - begin).total_seconds())


class Outcome(models.TextChoices):
    ON_SPOT = "on_spot", _("当场办结")
    WORK_ORDER = "work_order", _("转工单办理")


class Service(models.Model):
    """One business done at the window for a queue number (several when the customer has more)."""

    queue_ticket = models.ForeignKey(QueueTicket, on_delete=models.CASCADE, related_name="services")
    business_type = models.ForeignKey(
        BusinessType, verbose_name=_("业务类型"), on_delete=models.PROTECT, related_name="+"
    )
    documents_checked = models.JSONField(_("已核对证件资料"), default=list, blank=True)
    outcome = models.CharField(_("办理结果"), max_length=12, choices=Outcome.choices)
    ticket_id = models.BigIntegerField(_("工单"), null=True, blank=True)
    ticket_number = models.CharField(_("工单号"), max_length=24, blank=True)
    note = models.TextField(_("办理内容"), blank=True)
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("办理记录")
        ordering = ["id"]


# --- cash (P12) ---------------------------------------------------------------------------------


class PriceList(models.Model):
    """One version of a company's price list (收费标准); never edited — a change is a new version."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(_("版本"))
    effective_from = models.DateField(_("生效日期"))
    basis = models.CharField(_("依据"), max_length=200, blank=True, help_text=_("物价部门文件号等"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("收费标准")
        ordering = ["company", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["company", "version"], name="counter_pricelist_unique")
        ]

    def __str__(self) -> str:
        return _("收费标准 第%(v)s版") % {"v": self.version}


class PriceItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(_("编码"), max_length=30)
    name = models.CharField(_("收费项目"), max_length=100)
    unit = models.CharField(_("单位"), max_length=20, default="次")
    amount = models.DecimalField(_("单价（元）"), max_digits=10, decimal_places=2)
    to_billing = models.BooleanField(_("传营业收费系统"), default=False)

    class Meta:
        ordering = ["price_list", "code"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "code"], name="counter_priceitem_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Method(models.TextChoices):
    CASH = "cash", _("现金")
    CARD = "card", _("银行卡")
    WECHAT = "wechat", _("微信支付")
    ALIPAY = "alipay", _("支付宝")


class BillingStatus(models.TextChoices):
    NONE = "none", _("无需传送")
    PENDING = "pending", _("待传送")
    SENT = "sent", _("已传送")
    FAILED = "failed", _("传送失败")


class Payment(models.Model):
    """A payment at the counter with its receipt (P12; 004 第四条10: by the price list, always a
    receipt). `receipt_no` SJ2026-000001 is gapless per company and year; it is given right after the
    payment commits, by `kefu.counter.numbering.receipts_number` (empty only in between). The
    company's and the clerk's names are kept as issued, so the receipt drawn on every download
    (`kefu.counter.pdf`) shows what the customer was handed, even after a rename."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    hall = models.ForeignKey(Hall, verbose_name=_("营业厅"), on_delete=models.PROTECT, related_name="+")
    receipt_no = models.CharField(_("收据号"), max_length=20, null=True, blank=True)
    price_list = models.ForeignKey(PriceList, on_delete=models.PROTECT, related_name="+")
    queue_ticket = models.ForeignKey(
        QueueTicket, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    customer_id = models.BigIntegerField(_("客户"), null=True, blank=True)
    account_no = models.CharField(_("户号"), max_length=30, blank=True)
    payer = models.CharField(_("交款人"), max_length=100, blank=True)
    total = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    method = models.CharField(_("付款方式"), max_length=10, choices=Method.choices, default=Method.CASH)
    tendered = models.DecimalField(_("实收（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    change = models.DecimalField(_("找零（元）"), max_digits=12, decimal_places=2, default=0)
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收款人"), on_delete=models.PROTECT, related_name="+"
    )
    company_name = models.CharField(_("收据抬头"), max_length=100, blank=True)
    clerk_name = models.CharField(_("收据上的收款人"), max_length=150, blank=True)
    at = models.DateTimeField(_("收款时间"), default=timezone.now)
    day = models.DateField(_("营业日"))
    refunded = models.DecimalField(_("已退款（元）"), max_digits=12, decimal_places=2, default=0)
    billing_status = models.CharField(
        _("传送状态"), max_length=10, choices=BillingStatus.choices, default=BillingStatus.NONE, db_index=True
    )
    billing_ref = models.CharField(_("收费系统流水号"), max_length=60, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        verbose_name = verbose_name_plural = _("收费记录")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "receipt_no"], name="counter_payment_receipt_unique"),
            models.UniqueConstraint(
                fields=["company", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="counter_payment_idem_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "clerk", "day"], name="counter_payment_clerk_day"),
            models.Index(
                fields=["company", "id"],
                condition=models.Q(receipt_no__isnull=True),
                name="counter_payment_unnumbered",
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_no or f"#{self.pk}"


class PaymentLine(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(PriceItem, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100)
    unit_amount = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    PAID = "paid", _("已退款")


class Refund(models.Model):
    """A refund of (part of) a payment: requested by a clerk with a reason, approved by another
    person with counter.manage, then paid out by a clerk (cash out counts in that day's balance)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(_("退款金额（元）"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("退款原因"), max_length=300)
    status = models.CharField(
        _("状态"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.REQUESTED, db_index=True
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)
    refund_no = models.CharField(_("退款单号"), max_length=20, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_day = models.DateField(null=True, blank=True)
    method = models.CharField(_("退款方式"), max_length=10, choices=Method.choices, default=Method.CASH)

    class Meta:
        verbose_name = verbose_name_plural = _("退款")
        ordering = ["-id"]


class BalanceStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已日结，待交接")
    HANDED_OVER = "handed_over", _("已交财务")


class DailyBalance(models.Model):
    """A clerk's day (日结, 004 第六条1): float + cash taken − cash refunded = expected cash; counted
    cash; the discrepancy (a note is required when it is not zero). Signed by the clerk when
    submitted and by finance when received (交接: both signatures)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    hall = models.ForeignKey(Hall, verbose_name=_("营业厅"), on_delete=models.PROTECT, related_name="+")
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("营业员"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("营业日"))
    opening_float = models.DecimalField(_("备用金（元）"), max_digits=12, decimal_places=2, default=0)
    cash_in = models.DecimalField(_("现金收款（元）"), max_digits=12, decimal_places=2)
    cash_out = models.DecimalField(_("现金退款（元）"), max_digits=12, decimal_places=2)
    expected_cash = models.DecimalField(_("应有现金（元）"), max_digits=12, decimal_places=2)
    counted_cash = models.DecimalField(_("清点现金（元）"), max_digits=12, decimal_places=2)
    discrepancy = models.DecimalField(_("差额（元）"), max_digits=12, decimal_places=2)
    other_methods = models.JSONField(_("非现金收款"), default=dict)
    receipts = models.JSONField(_("收据"), default=dict)  # count, first, last, numbers
    note = models.CharField(_("差额说明"), max_length=300, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=BalanceStatus.choices, default=BalanceStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField(_("营业员签字时间"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("财务接收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("财务签字时间"), null=True, blank=True)
    received_amount = models.DecimalField(
        _("财务实收（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = verbose_name_plural = _("日结")
        ordering = ["-day", "clerk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "clerk", "day"], name="counter_balance_unique")
        ]
