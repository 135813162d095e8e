"""API shapes of telephony: call events, agent states, calls, the wallboard, indicator inputs, chats."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import BaseModel

from kefu.core.schema_types import Instant

S = 200  # most free-text event fields


class ErrorOut(Schema):
    detail: str
    code: str = "invalid"
    field: str | None = None


class EventIn(BaseModel):  # plain pydantic: ninja.Schema's ORM getter per object cost a third of the ingest
    """One normalized event. `type` is one of call.started, call.ivr, call.queued, call.offered,
    call.offer_ended, call.answered, call.transferred, call.recording, call.abandoned, call.ended,
    agent.state, hotline.down, hotline.up, pbx.link_lost, pbx.link_restored."""

    event_id: str = Field(..., min_length=1, max_length=120, description="幂等键：同一事件重复发送只记一次")
    type: str = Field(..., max_length=30, examples=["call.answered"])
    at: Instant = Field(..., description="事件发生时间（须带时区）")
    call_id: str = Field("", max_length=80, description="交换机的通话标识（uniqueid / UUID）")
    hotline: str | None = Field(None, max_length=30, description="被叫热线号码；一通电话的首个事件须带")
    caller: str | None = Field(None, max_length=40)
    linked_id: str | None = Field(None, max_length=80)
    direction: Literal["in", "out"] | None = None
    queue: str | None = Field(None, max_length=60)
    node: str | None = Field(None, max_length=60, description="自助语音节点（call.ivr）")
    agent: str | None = Field(None, max_length=60, description="交换机坐席号")
    result: Literal["no_answer", "rejected", "cancelled"] | None = None
    reason: str | None = Field(None, max_length=20)
    hangup_by: Literal["customer", "agent", "system"] | None = None
    to: str | None = Field(None, max_length=60)
    ref: str | None = Field(None, max_length=300, description="录音文件或地址（call.recording）")
    state: str | None = Field(None, max_length=12, description="坐席状态（agent.state）")
    queues: str | None = Field(None, max_length=S)
    cause: str | None = Field(None, max_length=12, description="中断原因：trunk_down, pbx_link, no_agent")
    duration_ms: int | None = Field(None, description="交换机报告的时长（毫秒，不得为负）")
    no_rings: bool | None = Field(None, description="来源不记录振铃（如话单导入）：K14 按替代口径")


class EventsIn(BaseModel):
    events: list[EventIn] = Field(..., min_length=1, max_length=2000)


class RejectedOut(Schema):
    event_id: str
    detail: str


class IngestOut(Schema):
    accepted: int
    duplicates: int
    rejected: list[RejectedOut]


class AgentStateIn(Schema):
    state: Literal["logged_out", "ready", "not_ready"]
    reason: str = Field(
        "", max_length=20, description="未就绪原因：break, meal, meeting, training, outbound, other"
    )


class AgentStateOut(Schema):
    pbx_agent: str
    state: str
    reason: str
    since: datetime


class OfferOut(Schema):
    agent: str
    ring_start: datetime
    ring_end: datetime | None
    result: str
    ring_ms: int | None


class CallOut(Schema):
    id: int
    call_id: str
    hotline: str
    caller_number: str
    queue: str
    status: str
    started_at: datetime
    answered_at: datetime | None
    answered_by: str | None
    ended_at: datetime | None
    rings: int | None
    within_rings: bool | None
    wait_ms: int | None
    talk_ms: int | None
    hangup_by: str
    abandon_reason: str
    transfers: int
    has_recording: bool
    ticket_ids: list[int] = []
    offers: list[OfferOut] = []


class PopOut(Schema):
    call: int
    url: str
    caller_number: str


class WallboardOut(Schema):
    waiting: int
    longest_wait_s: int | None
    agents: dict[str, int]
    answered_today: int
    within_rings_today: int
    share_within_rings: float | None
    offered_today: int
    abandoned_today: int
    short_abandoned_today: int
    abandon_rate: float | None
    open_emergencies: int
    breaches: int
    hotline_down: bool


class IndicatorsOut(Schema):
    k5: dict
    k14: dict
    calls: dict
    chat: dict


class OutageIn(Schema):
    hotline_id: int
    started_at: Instant
    ended_at: Instant | None = None
    note: str = Field(..., min_length=1, max_length=300)


class OutageOut(Schema):
    id: int
    hotline: str
    cause: str
    started_at: datetime
    ended_at: datetime | None
    note: str


class TranscriptIn(Schema):
    call_id: str = Field("", max_length=80, description="交换机的通话标识")
    chat_id: int | None = None
    source: Literal["pbx", "asr", "external"] = "asr"
    text: str = Field(..., min_length=1, max_length=200_000)
    segments: list[dict] = Field(default_factory=list, max_length=5000)


class TranscriptOut(Schema):
    id: int
    call_id: int | None
    chat_id: int | None


class ChatStartIn(Schema):
    external_id: str = Field("", max_length=120, description="外部在线客服系统的会话标识（幂等）")
    contact: str = Field("", max_length=40, description="客户留下的电话或户号")
    bot: bool = Field(False, description="先由机器人接待（转人工时开始计时）")
    at: Instant | None = None


class ChatMessageIn(Schema):
    sender: Literal["customer", "bot", "agent"]
    text: str = Field(..., min_length=1, max_length=2000)
    at: Instant | None = None
    external_id: str = Field("", max_length=120)


class ChatAtIn(Schema):
    at: Instant | None = None


class ChatOut(Schema):
    id: int
    status: str
    arrived_at: datetime
    greeting_ms: int | None
    answers: int
    answers_late: int
    worst_answer_ms: int | None


class HotlineIn(Schema):
    """A hotline's configuration (checked by services.hotline_save, messages in Chinese)."""

    number: str = Field(..., max_length=30, description="交换机送来的被叫号码，如 96777")
    name: str = Field(..., max_length=60)
    queue: str = Field("", max_length=60, description="交换机中的队列名（抢险热线必填）")
    is_emergency: bool = Field(False, description="抢险热线：24 小时值守（C8、K5）")
    ring_cycle_ms: int = Field(5000, description="振铃周期（毫秒），中国振铃节奏一声 5000")
    answer_rings: int = Field(3, description="接听目标（声），C13")
    short_abandon_ms: int = Field(5000, description="短于此时长的放弃不计入放弃率")
    service_level_ms: int = Field(20000, description="服务水平时限（毫秒）")


class HotlineOut(HotlineIn):
    id: int
