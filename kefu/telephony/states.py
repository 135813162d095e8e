"""The vocabularies of calls, offers, agent states, out-of-service causes and chat senders.

Agent states (item 4): the PBX sends them, or kefu's own toggle sets them when no PBX does. Any
state may follow any other (a PBX is the authority on what its agents are doing); the only rule is
that a logged-out agent is offered no calls, which the PBX enforces, not kefu.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    INBOUND = "in", _("呼入")
    OUTBOUND = "out", _("呼出")


class CallStatus(models.TextChoices):
    """Where a call is now (derived from its events, never set by hand)."""

    IVR = "ivr", _("自助语音")  # arrived, not yet queued or offered
    QUEUED = "queued", _("排队中")
    RINGING = "ringing", _("振铃中")
    CONNECTED = "connected", _("通话中")
    ENDED = "ended", _("已结束")  # answered and ended
    ABANDONED = "abandoned", _("放弃")  # ended without an answer


class OfferResult(models.TextChoices):
    """How one offer of a call to an agent ended."""

    RINGING = "ringing", _("振铃中")
    ANSWERED = "answered", _("接听")
    NO_ANSWER = "no_answer", _("振铃未接")  # counts against the agent (C13), not against the call
    REJECTED = "rejected", _("拒接")
    CANCELLED = "cancelled", _("来电方挂断")


class HangupBy(models.TextChoices):
    """Who hung up first (L5: the agent hangs up after the customer)."""

    CUSTOMER = "customer", _("客户先挂机")
    AGENT = "agent", _("坐席先挂机")
    SYSTEM = "system", _("系统")
    UNKNOWN = "", _("未知")


class AbandonReason(models.TextChoices):
    IN_QUEUE = "in_queue", _("排队中挂机")
    RINGING = "ringing", _("振铃中挂机")
    IN_IVR = "in_ivr", _("自助语音中挂机")
    TIMEOUT = "timeout", _("排队超时")
    OTHER = "other", _("其他")


class AgentState(models.TextChoices):
    LOGGED_OUT = "logged_out", _("未登录")
    READY = "ready", _("就绪")
    NOT_READY = "not_ready", _("未就绪")
    ON_CALL = "on_call", _("通话中")
    WRAP_UP = "wrap_up", _("话后处理")


class NotReadyReason(models.TextChoices):
    BREAK = "break", _("小休")
    MEAL = "meal", _("用餐")
    MEETING = "meeting", _("会议")
    TRAINING = "training", _("培训")
    OUTBOUND = "outbound", _("外呼/回访")
    OTHER = "other", _("其他")


class StateSource(models.TextChoices):
    PBX = "pbx", _("交换机")
    KEFU = "kefu", _("kefu 切换")


class OutageCause(models.TextChoices):
    """Why the hotline was out of service (K5, C8)."""

    NO_AGENT = "no_agent", _("应急队列无坐席登录")
    TRUNK_DOWN = "trunk_down", _("中继故障")
    PBX_LINK_LOST = "pbx_link", _("与交换机连接中断")
    MANUAL = "manual", _("人工登记")


class ChatSender(models.TextChoices):
    CUSTOMER = "customer", _("客户")
    BOT = "bot", _("机器人")
    AGENT = "agent", _("坐席")
    SYSTEM = "system", _("系统")


class ChatStatus(models.TextChoices):
    BOT = "bot", _("机器人接待")
    WAITING = "waiting", _("等待坐席")
    ACTIVE = "active", _("坐席接待中")
    CLOSED = "closed", _("已结束")


class TranscriptSource(models.TextChoices):
    PBX = "pbx", _("交换机转写")
    ASR = "asr", _("语音识别服务")
    CHAT = "chat", _("在线客服")
    EXTERNAL = "external", _("外部系统")
