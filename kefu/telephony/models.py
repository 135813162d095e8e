"""Calls, offers, agent states, hotline outages, chats and transcripts (C8, C13, C15, C18, K5, K14).

The model does not depend on any PBX: adapters (kefu/telephony/adapters/) turn Asterisk and
FreeSWITCH events into the normalized `CallEvent` rows; a call's derived columns (answered_at,
rings, status …) are recomputed from all its stored events each time one arrives, so events may come
twice or out of order. Every business row belongs to one company (S2).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Company
from kefu.telephony.states import (
    AbandonReason,
    AgentState,
    CallStatus,
    ChatSender,
    ChatStatus,
    Direction,
    HangupBy,
    OfferResult,
    OutageCause,
    StateSource,
    TranscriptSource,
)


class Hotline(models.Model):
    """A published service number of a company (e.g. 0535-2218888). The number decides the company
    of every call event; an event naming another company's number is refused."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("号码"), max_length=30, unique=True, help_text=_("交换机送来的被叫号码"))
    name = models.CharField(_("名称"), max_length=60)
    queue = models.CharField(_("队列"), max_length=60, blank=True, help_text=_("交换机中的队列名"))
    is_emergency = models.BooleanField(_("抢险热线"), default=False, help_text=_("24 小时值守（C8、K5）"))
    ring_cycle_ms = models.PositiveIntegerField(
        _("振铃周期(毫秒)"), default=5000, help_text=_("中国振铃节奏：响 1 秒停 4 秒，一声 5 秒")
    )
    answer_rings = models.PositiveSmallIntegerField(_("接听目标(声)"), default=3, help_text="C13")
    short_abandon_ms = models.PositiveIntegerField(
        _("短时放弃(毫秒)"), default=5000, help_text=_("短于此时长的放弃不计入放弃率")
    )
    service_level_ms = models.PositiveIntegerField(_("服务水平时限(毫秒)"), default=20000)

    class Meta:
        verbose_name = verbose_name_plural = _("服务热线")

    def __str__(self) -> str:
        return f"{self.name} {self.number}"


class AgentProfile(models.Model):
    """A person's seat: the agent id the PBX uses (extension, `Agent/1001`, `1001@default`) and the
    current state. The state history is `AgentStateChange` (append-only)."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        on_delete=models.PROTECT,
        related_name="agent_profile",
    )
    pbx_agent = models.CharField(_("交换机坐席号"), max_length=60)
    state = models.CharField(
        _("状态"), max_length=12, choices=AgentState.choices, default=AgentState.LOGGED_OUT
    )
    reason = models.CharField(_("未就绪原因"), max_length=20, blank=True)
    since = models.DateTimeField(_("状态开始"), default=timezone.now)
    source = models.CharField(_("来源"), max_length=6, choices=StateSource.choices, default=StateSource.KEFU)
    queues = models.CharField(_("登录的队列"), max_length=200, blank=True, help_text=_("逗号分隔"))

    class Meta:
        verbose_name = verbose_name_plural = _("坐席")
        constraints = [
            models.UniqueConstraint(fields=["company", "pbx_agent"], name="telephony_agent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pbx_agent} {self.user}"


class AgentStateChange(models.Model):
    """One change of an agent's state (append-only; the wallboard and the workforce reports read it)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    agent = models.ForeignKey(AgentProfile, on_delete=models.PROTECT, related_name="changes")
    state = models.CharField(max_length=12, choices=AgentState.choices)
    reason = models.CharField(max_length=20, blank=True)
    at = models.DateTimeField()
    source = models.CharField(max_length=6, choices=StateSource.choices)

    class Meta:
        indexes = [models.Index(fields=["agent", "at"], name="telephony_state_agent_at")]


class Call(models.Model):
    """One call, as its events tell it. Every derived column is recomputed from the events
    (services.call_rebuild): nobody sets `answered_at` or `rings` by hand."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    hotline = models.ForeignKey(
        Hotline, verbose_name=_("热线"), on_delete=models.PROTECT, related_name="calls"
    )
    call_id = models.CharField(_("通话标识"), max_length=80, help_text=_("交换机的 uniqueid / UUID"))
    linked_id = models.CharField(_("关联标识"), max_length=80, blank=True)
    caller_number = models.CharField(_("主叫号码"), max_length=40, blank=True)
    queue = models.CharField(_("队列"), max_length=60, blank=True)
    direction = models.CharField(
        _("方向"), max_length=3, choices=Direction.choices, default=Direction.INBOUND
    )
    ivr_path = models.CharField(_("自助语音路径"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=CallStatus.choices, default=CallStatus.IVR)
    started_at = models.DateTimeField(_("呼入时间"), db_index=True)
    queued_at = models.DateTimeField(_("进入队列"), null=True, blank=True)
    first_ring_at = models.DateTimeField(_("首次振铃"), null=True, blank=True)
    answered_at = models.DateTimeField(_("接听时间"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接听坐席"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_agent = models.CharField(_("接听坐席号"), max_length=60, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    hangup_by = models.CharField(_("先挂机方"), max_length=10, choices=HangupBy.choices, blank=True)
    abandon_reason = models.CharField(_("放弃原因"), max_length=10, choices=AbandonReason.choices, blank=True)
    wait_ms = models.PositiveIntegerField(
        _("等待(毫秒)"), null=True, blank=True, help_text=_("进入队列到接听或放弃")
    )
    rings = models.PositiveSmallIntegerField(
        _("振铃声数"), null=True, blank=True, help_text=_("C13：接听前的声数")
    )
    within_rings = models.BooleanField(
        _("按时接听"), null=True, blank=True, help_text=_("C13：目标声数内接听")
    )
    talk_ms = models.PositiveIntegerField(
        _("通话(毫秒)"), null=True, blank=True, help_text=_("C15：接听到结束")
    )
    transfers = models.PositiveSmallIntegerField(_("转接次数"), default=0)
    recording_ref = models.CharField(_("录音"), max_length=300, blank=True)
    popped_at = models.DateTimeField(_("弹屏时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("通话")
        constraints = [models.UniqueConstraint(fields=["company", "call_id"], name="telephony_call_unique")]
        indexes = [
            models.Index(fields=["company", "started_at"], name="telephony_call_company_start"),
            models.Index(fields=["company", "status"], name="telephony_call_company_status"),
            models.Index(fields=["answered_by", "answered_at"], name="telephony_call_agent_answer"),
        ]

    def __str__(self) -> str:
        return self.call_id


class CallEvent(models.Model):
    """A normalized event as it arrived (append-only, idempotent by `event_id` per company)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=120)
    call_id = models.CharField(max_length=80, blank=True, db_index=True)
    kind = models.CharField(max_length=30)
    at = models.DateTimeField()
    data = models.JSONField(default=dict)
    source = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "event_id"], name="telephony_event_unique")]
        indexes = [models.Index(fields=["company", "call_id"], name="telephony_event_call")]


class RejectedEvent(models.Model):
    """An event refused with its reason (unknown call, negative duration, another company's number):
    kept so an operator can see what the PBX link sends wrong."""

    company = models.ForeignKey(Company, null=True, on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=300)
    data = models.JSONField(default=dict)
    at = models.DateTimeField(default=timezone.now)


class CallOffer(models.Model):
    """One offer of a call to an agent: ring start, ring end and how it ended (C13 per agent)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="offers")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    agent = models.CharField(max_length=60)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ring_start = models.DateTimeField()
    ring_end = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=OfferResult.choices, default=OfferResult.RINGING)
    ring_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["company", "ring_start"], name="telephony_offer_company_ring")]


class CallTransfer(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="transfer_rows")
    at = models.DateTimeField()
    from_agent = models.CharField(max_length=60, blank=True)
    to = models.CharField(max_length=60, blank=True)


class CallTicket(models.Model):
    """A work order made during the call (P2). `ticket_id` without a foreign key: telephony sits
    below tickets; the tickets app records the link by calling telephony.services.call_link_ticket."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="tickets")
    ticket_id = models.PositiveBigIntegerField()
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "ticket_id"], name="telephony_call_ticket_unique")
        ]


class HotlineOutage(models.Model):
    """A period the hotline was out of service (K5): from events (no agent logged in to the
    emergency queue, trunk down, PBX link lost) or entered by hand. Open while `ended_at` is empty."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    hotline = models.ForeignKey(
        Hotline, verbose_name=_("热线"), on_delete=models.PROTECT, related_name="outages"
    )
    cause = models.CharField(_("原因"), max_length=10, choices=OutageCause.choices)
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = _("热线中断")
        indexes = [models.Index(fields=["company", "started_at"], name="telephony_outage_company")]


class ChatSession(models.Model):
    """One customer's chat (C18). `token` is the customer's handle (no login); the clocks are
    computed from the messages (rules.chat_timing), never set."""

    company = models.ForeignKey(Company, verbose_name=_("公司"), on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=40, unique=True)
    external_id = models.CharField(_("外部会话标识"), max_length=120, blank=True)
    contact = models.CharField(_("客户留的电话或户号"), max_length=40, blank=True)
    customer_id = models.PositiveBigIntegerField(_("客户"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ChatStatus.choices, default=ChatStatus.WAITING
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("坐席"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    arrived_at = models.DateTimeField(_("进入时间"))
    human_starts = models.JSONField(
        _("人工应答起点"), default=list, blank=True, help_text=_("客户到达、机器人转人工或重新打开的时间")
    )
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    greeting_ms = models.PositiveIntegerField(_("首次问候(毫秒)"), null=True, blank=True)
    worst_answer_ms = models.PositiveIntegerField(_("最长应答(毫秒)"), null=True, blank=True)
    answers = models.PositiveIntegerField(_("应答次数"), default=0)
    answers_late = models.PositiveIntegerField(_("超时应答"), default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("在线会话")
        indexes = [models.Index(fields=["company", "arrived_at"], name="telephony_chat_company")]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "external_id"],
                condition=~models.Q(external_id=""),
                name="telephony_chat_ext",
            )
        ]


class ChatMessage(models.Model):
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=10, choices=ChatSender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    at = models.DateTimeField()
    external_id = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["at", "id"]


class Transcript(models.Model):
    """The text of a call (from the PBX or an ASR service) or of a chat, for quality checks."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.CASCADE, related_name="transcripts"
    )
    chat = models.ForeignKey(
        ChatSession, null=True, blank=True, on_delete=models.CASCADE, related_name="transcripts"
    )
    source = models.CharField(max_length=10, choices=TranscriptSource.choices)
    text = models.TextField()
    segments = models.JSONField(default=list, blank=True, help_text="[{speaker, start_ms, end_ms, text}]")
    created_at = models.DateTimeField(default=timezone.now)


class CallInterval(models.Model):
    """Pre-aggregated call counts per hotline and half-hour (UTC-aligned, so a Shanghai day is 48 of
    them), kept on ingest in the same transaction as the calls: every rebuild of a call subtracts its
    old contribution and adds its new one (services._interval_deltas). The wallboard (today's C13
    share, abandon rate) and the Erlang C staffing (calls offered per interval, mean handle time)
    read these rows instead of the calls. `services.call_intervals_rebuild` recomputes them from the
    calls (after a bulk load or a change of a hotline's short-abandon threshold)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    hotline = models.ForeignKey(Hotline, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    calls = models.IntegerField(default=0, help_text="calls started in the interval")
    offered = models.IntegerField(default=0, help_text="no longer waiting: answered or abandoned")
    answered = models.IntegerField(default=0)
    within_rings = models.IntegerField(default=0, help_text="C13: answered within the rings target")
    with_rings = models.IntegerField(default=0, help_text="answered with rings recorded")
    abandoned = models.IntegerField(default=0)
    short_abandoned = models.IntegerField(default=0)
    talked = models.IntegerField(default=0, help_text="answered calls that have ended (talk time known)")
    talk_ms = models.BigIntegerField(default=0, help_text="sum of their talk time")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hotline", "start"], name="telephony_interval_unique")]
        indexes = [models.Index(fields=["company", "start"], name="telephony_interval_company")]
