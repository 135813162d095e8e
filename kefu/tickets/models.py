"""Work orders (工单): taxonomy, the work order itself, links, the append-only timeline, attachments
and hand-overs (P1 first-contact responsibility, P3–P5, P9, L3, C15).

Every row carries its company (S2). The only writer is `kefu.tickets.services`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company, Department, Team, User
from kefu.customers.models import Customer, Premise
from kefu.tickets.states import CancelReason, TicketState


class Channel(models.TextChoices):
    HOTLINE = "hotline", _("热线电话")
    COUNTER = "counter", _("营业厅")
    CHAT = "chat", _("在线客服")
    WECHAT = "wechat", _("微信")
    PORTAL = "portal", _("网上营业厅")
    VISIT = "visit", _("上门")
    LETTER = "letter", _("信函")


class Severity(models.TextChoices):
    GENERAL = "general", _("一般")
    MAJOR = "major", _("重大")


class Title(models.TextChoices):
    """How the customer is addressed: surname + 先生/女士 (L3)."""

    MR = "mr", _("先生")
    MS = "ms", _("女士")


class TicketKind(models.Model):
    """A kind of work order (咨询, 投诉, 维修, 报警抢险 …), configurable per company; seeded from the
    standard (kefu.tickets.taxonomy). Which caller fields are required depends on the kind (P5)."""

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="ticket_kinds"
    )
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=30)
    requires_name = models.BooleanField(_("须填姓氏"), default=False)
    requires_phone = models.BooleanField(_("须填电话"), default=False)
    requires_address = models.BooleanField(_("须填地址"), default=False)
    default_severity = models.CharField(
        _("默认级别"), max_length=10, choices=Severity.choices, default=Severity.GENERAL
    )
    can_resolve_on_call = models.BooleanField(
        _("可当场解决"), default=False, help_text=_("如咨询、IC卡读卡、换电池")
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("工单类型")
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="ticketkind_code_unique")]

    def __str__(self) -> str:
        return self.name


class TicketSubKind(models.Model):
    kind = models.ForeignKey(
        TicketKind, verbose_name=_("类型"), on_delete=models.CASCADE, related_name="sub_kinds"
    )
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=30)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = verbose_name_plural = _("工单子类")
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="ticketsubkind_code_unique")]

    def __str__(self) -> str:
        return f"{self.kind.name} / {self.name}"


class TicketNumberCounter(models.Model):
    """The last sequence number handed out per company and local day. Incremented with a conditional
    UPDATE inside the creating transaction, so two concurrent creates never share a number on
    PostgreSQL (row lock) or SQLite (one writer at a time)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "day"], name="ticketcounter_company_day")]


class Ticket(models.Model):
    """A work order: one contact of a customer and everything done about it until it is closed.

    `owner` is the first-contact person (P1); ownership changes only through an accepted HandOver
    or a reassignment. `version` is the optimistic lock every write checks (concurrency).
    """

    company = models.ForeignKey(
        Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="tickets"
    )
    number = models.CharField(_("工单号"), max_length=24)
    idempotency_key = models.CharField(_("幂等键"), max_length=100, blank=True, default="")
    kind = models.ForeignKey(TicketKind, verbose_name=_("类型"), on_delete=models.PROTECT, related_name="+")
    sub_kind = models.ForeignKey(
        TicketSubKind,
        verbose_name=_("子类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.HOTLINE)
    severity = models.CharField(_("级别"), max_length=10, choices=Severity.choices, default=Severity.GENERAL)
    state = models.CharField(_("状态"), max_length=12, choices=TicketState.choices, default=TicketState.NEW)
    state_reason = models.CharField(_("状态原因"), max_length=200, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=10, choices=CancelReason.choices, blank=True)

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    premise = models.ForeignKey(
        Premise, verbose_name=_("用气地址"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    caller_surname = models.CharField(_("来电人姓氏"), max_length=10, blank=True)
    caller_title = models.CharField(_("称呼"), max_length=2, choices=Title.choices, blank=True)
    caller_phone = models.CharField(_("联系电话"), max_length=20, blank=True, help_text=_("规范化后的号码"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    content = models.TextField(_("内容"))

    received_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    backdate_reason = models.CharField(_("补录原因"), max_length=200, blank=True)
    contact_started_at = models.DateTimeField(
        _("接通时间"), null=True, blank=True, help_text=_("C15：通话/办理开始时间")
    )
    resolved_at_first_contact = models.BooleanField(_("首次接触即解决"), default=False)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    owner = models.ForeignKey(
        User, verbose_name=_("首问责任人"), on_delete=models.PROTECT, related_name="owned_tickets"
    )
    created_by = models.ForeignKey(User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+")
    assigned_department = models.ForeignKey(
        Department,
        verbose_name=_("承办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assigned_team = models.ForeignKey(
        Team, verbose_name=_("承办班组"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_to = models.ForeignKey(
        User,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    called_again_count = models.PositiveIntegerField(_("再次来电次数"), default=0)

    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("工单")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="ticket_number_unique"),
            models.UniqueConstraint(
                fields=["company", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="ticket_idempotency_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "received_at"], name="ticket_co_received"),
            models.Index(fields=["company", "state", "received_at"], name="ticket_co_state"),
            models.Index(fields=["company", "owner", "state"], name="ticket_co_owner_state"),
            models.Index(fields=["company", "assigned_to", "state"], name="ticket_co_assignee_state"),
            models.Index(fields=["company", "assigned_department", "state"], name="ticket_co_dept_state"),
            models.Index(fields=["company", "caller_phone"], name="ticket_co_phone"),
            models.Index(fields=["company", "customer", "state"], name="ticket_co_customer"),
            models.Index(fields=["company", "premise", "kind", "state"], name="ticket_co_premise_kind"),
            # "Open work orders of one owner, newest first" (P1): a small partial index walked backwards,
            # so a page is 20 index entries, not a sort of all the owner's open rows (migration 0005).
            models.Index(
                fields=["company", "owner", "received_at", "id", "state"],
                condition=models.Q(state__in=["assigned", "in_progress", "new", "on_hold", "reopened"]),
                name="ticket_co_owner_open",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def salutation(self) -> str:
        """ "张先生" / "李女士" (L3); "郭先生/女士" when the title was not recorded (never a bare
        surname); "" when the surname is unknown."""
        if not self.caller_surname:
            return ""
        title = Title(self.caller_title).label if self.caller_title else _("先生/女士")
        return f"{self.caller_surname}{title}"

    @property
    def is_open(self) -> bool:
        from kefu.tickets.states import OPEN_STATES

        return self.state in OPEN_STATES

    @property
    def handling_seconds(self) -> int | None:
        """Seconds from the start of the call/visit to the creation of an on-the-spot resolution (C15)."""
        if self.contact_started_at is None or not self.resolved_at_first_contact:
            return None
        return max(int((self.created_at - self.contact_started_at).total_seconds()), 0)


class TicketLink(models.Model):
    """A relation between two work orders: `source` is a duplicate of / a follow-up of / a child of `target`."""

    class Kind(models.TextChoices):
        DUPLICATE_OF = "duplicate_of", _("重复于")
        FOLLOW_UP_OF = "follow_up_of", _("跟进于")
        CHILD_OF = "child_of", _("子工单，父工单为")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("关系"), max_length=15, choices=Kind.choices)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("工单关联")
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="ticketlink_unique"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="ticketlink_not_self"
            ),
        ]


class TicketEvent(models.Model):
    """One line of a work order's timeline. Append-only: corrections are new events."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建")
        ASSIGNED = "assigned", _("派发")
        HANDED_OVER = "handed_over", _("移交")
        ACCEPTED = "accepted", _("接收移交")
        DECLINED = "declined", _("拒绝移交")
        REASSIGNED = "reassigned", _("改派责任人")
        COMMENT = "comment", _("内部备注")
        REPLY = "reply", _("答复客户")
        STATE_CHANGED = "state_changed", _("状态变更")
        ATTACHMENT = "attachment", _("附件")
        CONTACT_ATTEMPT = "contact_attempt", _("联系客户")
        CALLED_AGAIN = "called_again", _("客户再次来电")
        LINKED = "linked", _("关联工单")
        RECLASSIFIED = "reclassified", _("更改类型")
        ESCALATED = "escalated", _("请示上报")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        User, verbose_name=_("操作人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    payload = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("工单事件")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="ticketevent_ticket_at")]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("工单时间线只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("工单时间线只能追加，不能删除")


def _attachment_path(instance: "Attachment", filename: str) -> str:
    return f"tickets/{instance.company_id}/{timezone.now():%Y/%m}/{filename}"


class Attachment(models.Model):
    """A photo or document on a work order; type and size are checked by the service."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), upload_to=_attachment_path, max_length=300)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小"))
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("工单附件")


class HandOver(models.Model):
    """A proposed move of ownership (P1): the owner hands the work order to a colleague, who accepts or
    declines. Until accepted the owner stays responsible."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待接收")
        ACCEPTED = "accepted", _("已接收")
        DECLINED = "declined", _("已拒绝")
        WITHDRAWN = "withdrawn", _("已撤回")

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="hand_overs")
    from_user = models.ForeignKey(User, verbose_name=_("移交人"), on_delete=models.PROTECT, related_name="+")
    to_user = models.ForeignKey(
        User, verbose_name=_("接收人"), on_delete=models.PROTECT, related_name="incoming_hand_overs"
    )
    reason = models.CharField(_("移交原因"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("工单移交")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=models.Q(status="pending"), name="one_pending_hand_over"
            )
        ]
        indexes = [models.Index(fields=["to_user", "status"], name="handover_to_status")]
