"""API shapes of work orders (OpenAPI with examples)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from kefu.core.schema_types import Instant
from kefu.tickets.services.common import MAX_REASON, MAX_TEXT

ChannelCode = Literal["hotline", "counter", "chat", "wechat", "portal", "visit", "letter"]
StateCode = Literal[
    "new", "assigned", "in_progress", "on_hold", "resolved", "closed", "cancelled", "reopened"
]
LinkKind = Literal["duplicate_of", "follow_up_of", "child_of"]


class ErrorOut(Schema):
    detail: str
    code: str = "invalid"
    field: str | None = None


class TicketCreateIn(Schema):
    kind: str = Field(
        ..., max_length=40, description="类型代码：consultation, complaint, repair, emergency …"
    )
    sub_kind: str | None = Field(None, max_length=40, description="子类代码，如 repair 的 meter")
    content: str = Field(..., max_length=MAX_TEXT, description="来电内容")
    channel: ChannelCode = "hotline"
    severity: Literal["general", "major"] | None = None
    customer_id: int | None = None
    premise_id: int | None = None
    caller_surname: str = Field("", max_length=10, description="来电人姓氏（L3：称呼 姓+先生/女士）")
    caller_title: Literal["", "mr", "ms"] = ""
    caller_phone: str = Field("", max_length=40)
    address: str = Field("", max_length=200)
    received_at: Instant | None = Field(None, description="受理时间；早于现在须有补录权限和原因")
    backdate_reason: str = Field("", max_length=MAX_REASON)
    contact_started_at: Instant | None = Field(None, description="通话开始时间（C15 统计用）")
    resolved_on_call: bool = Field(False, description="当场解答（咨询、读卡、换电池）：直接为“已解决”")
    answer: str = Field("", max_length=MAX_TEXT, description="当场给客户的答复")
    idempotency_key: str = Field("", max_length=100, description="也可用请求头 Idempotency-Key")
    on_duplicate: Literal["ask", "create"] = Field(
        "ask", description="ask：同一客户/地址有未办结同类工单时返回 409 及其列表"
    )
    link_to_id: int | None = None
    link_kind: LinkKind = "duplicate_of"

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "kind": "repair",
                    "sub_kind": "meter",
                    "content": "燃气表不走字，屏幕无显示",
                    "channel": "hotline",
                    "caller_surname": "张",
                    "caller_title": "mr",
                    "caller_phone": "13800138000",
                    "address": "幸福小区3号楼2单元501室",
                },
                {
                    "kind": "consultation",
                    "sub_kind": "installation",
                    "content": "咨询开户需要什么材料",
                    "resolved_on_call": True,
                    "answer": "携带身份证、房产证到营业厅办理",
                },
            ]
        }
    }


class UserRef(Schema):
    id: int
    name: str


class TicketOut(Schema):
    id: int
    number: str
    kind: str
    kind_name: str
    sub_kind: str | None
    sub_kind_name: str | None
    channel: str
    severity: str
    state: str
    state_label: str
    state_reason: str
    cancel_reason: str
    customer_id: int | None
    premise_id: int | None
    caller_surname: str
    caller_title: str
    salutation: str
    caller_phone: str = Field(description="默认脱敏")
    address: str = Field(description="默认脱敏")
    content: str
    received_at: datetime
    backdate_reason: str
    resolved_at_first_contact: bool
    resolved_at: datetime | None
    closed_at: datetime | None
    owner: UserRef
    assigned_department: str | None
    assigned_department_id: int | None
    assigned_team: str | None
    assigned_to: UserRef | None
    called_again_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    allowed_transitions: list[str] = Field(description="当前状态下状态表允许的目标状态")
    unmasked: bool = False


class TicketCreatedOut(TicketOut):
    created: bool = Field(description="false：幂等键对应的工单已存在，未重复创建")


class DuplicateItem(Schema):
    id: int
    number: str
    state: str
    kind: str
    received_at: datetime


class DuplicateOut(ErrorOut):
    duplicates: list[DuplicateItem]


class TicketPage(Schema):
    count: int = Field(description="符合条件的工单数；`count_capped` 为 true 时是下限（1000，即“1000+”）")
    count_capped: bool = Field(
        False,
        description="内容/地址搜索命中超过 1000 张时只计到 1000（`count` 为下限，`pages` 按此计算），"
        "此时 `counts_by_state` 为空；缩小搜索范围即可得到精确数。不含文字搜索的筛选总是精确计数。",
    )
    text_window: int | None = Field(
        None,
        description="关键词只有一两个字时无法使用索引，只在所选时段最近的这么多张工单中查找（20000；缩小日期范围可查更早的）；三个字以上查全部。",
    )
    page: int
    page_size: int
    pages: int
    counts_by_state: dict[str, int] = Field(
        description="未按状态筛选时各状态的数量；命中过多（见 count_capped）时为空"
    )
    items: list[TicketOut]


class EventOut(Schema):
    id: int
    kind: str
    kind_label: str
    actor: UserRef | None
    at: datetime
    payload: dict[str, Any]


class TransitionIn(Schema):
    to: StateCode
    version: int = Field(..., ge=1, description="读取工单时的 version；已被他人修改则返回 409")
    reason: str = Field("", max_length=MAX_REASON)
    cancel_reason: Literal["", "duplicate", "invalid", "withdrawn"] = ""
    hold_reason: Literal[
        "", "customer_requested_time", "customer_unreachable", "agreed_otherwise", "other"
    ] = Field(
        "",
        description="挂起原因（to=on_hold）：customer_requested_time 客户要求另约时间、"
        "customer_unreachable 客户无法联系、agreed_otherwise 与客户另有约定——"
        "这三种暂停接受该原因的承诺计时；other（默认）计时不暂停",
    )
    agreed_at: Instant | None = Field(
        None, description="与客户约定的时间（customer_requested_time、agreed_otherwise 必填，不能早于现在）"
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "to": "on_hold",
                    "version": 3,
                    "reason": "客户另约明天下午",
                    "hold_reason": "customer_requested_time",
                    "agreed_at": "2026-12-04T14:00:00+08:00",
                }
            ]
        }
    }


class AssignIn(Schema):
    version: int = Field(..., ge=1)
    department_id: int | None = None
    team_id: int | None = None
    user_id: int | None = None
    note: str = Field("", max_length=MAX_REASON)


class ReclassifyIn(Schema):
    version: int = Field(..., ge=1)
    kind: str = Field(..., max_length=40)
    sub_kind: str | None = Field(None, max_length=40)
    reason: str = Field(..., max_length=MAX_REASON)


class TextIn(Schema):
    text: str = Field(..., max_length=MAX_TEXT)

    model_config = {"json_schema_extra": {"examples": [{"text": "已联系维修班，今天下午上门"}]}}


class ReplyIn(TextIn):
    via: Literal["hotline", "counter", "chat", "wechat", "portal", "visit", "letter", "sms"] = "hotline"


class HandOverIn(Schema):
    to_user_id: int
    reason: str = Field(..., max_length=MAX_REASON)
    version: int | None = Field(None, ge=1)

    model_config = {
        "json_schema_extra": {"examples": [{"to_user_id": 12, "reason": "下班交接，客户下午回电"}]}
    }


class HandOverOut(Schema):
    id: int
    ticket_id: int
    ticket_number: str
    from_user: UserRef
    to_user: UserRef
    reason: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    decision_note: str


class DecisionIn(Schema):
    note: str = Field("", max_length=MAX_REASON)


class ReassignIn(Schema):
    to_user_id: int
    reason: str = Field(..., max_length=MAX_REASON)
    version: int = Field(..., ge=1)


class LinkIn(Schema):
    target_id: int
    kind: LinkKind

    model_config = {"json_schema_extra": {"examples": [{"target_id": 41, "kind": "child_of"}]}}


class LinkOut(Schema):
    id: int
    source_id: int
    target_id: int
    kind: str


class CalledAgainIn(Schema):
    note: str = Field("", max_length=MAX_TEXT)
    channel: ChannelCode = "hotline"


class ContactAttemptIn(Schema):
    outcome: Literal["reached", "no_answer", "busy", "wrong_number"]
    note: str = Field("", max_length=MAX_REASON)


class CloseChildrenIn(Schema):
    reason: str = Field(..., max_length=MAX_REASON)
    version: int | None = Field(None, ge=1)


class EscalateIn(Schema):
    to_user_id: int
    reason: str = Field(..., max_length=MAX_TEXT)


class SubKindOut(Schema):
    code: str
    name: str


class KindOut(Schema):
    code: str
    name: str
    requires_name: bool
    requires_phone: bool
    requires_address: bool
    can_resolve_on_call: bool
    default_severity: str
    sub_kinds: list[SubKindOut]


class AttachmentOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    uploaded_at: datetime
