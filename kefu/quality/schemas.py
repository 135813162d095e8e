"""API shapes of the quality app (OpenAPI with examples)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

from kefu.core.schema_types import Instant

SourceCode = Literal["call", "chat", "reply", "return_visit"]


class ErrorOut(Schema):
    detail: str
    code: str = "invalid"
    field: str | None = None


class TurnIn(Schema):
    speaker: str = Field(..., max_length=20, description="agent（坐席）或 customer（客户）")
    text: str = Field("", max_length=5000)
    start_ms: int | None = Field(None, ge=0, le=86_400_000, description="本轮在录音中的开始时间（毫秒）")
    end_ms: int | None = Field(None, ge=0, le=86_400_000)
    noise: bool = Field(False, description="本轮有明显线路杂音（L4）")


class TranscriptIn(Schema):
    source: SourceCode = "call"
    external_id: str = Field(
        ..., min_length=1, max_length=100, description="通话 / 会话在来源系统中的编号（幂等键）"
    )
    turns: list[TurnIn] = Field(..., max_length=2000)
    agent_id: int | None = Field(None, ge=1, le=2**62, description="坐席的用户编号（本公司）")
    agent_username: str = Field("", max_length=150, description="或坐席的登录名")
    customer_surname: str = Field("", max_length=10, description="客户姓氏（L3 称呼检查）")
    hangup_by: Literal["", "agent", "customer"] = Field(
        "", description="先挂机的一方（L5），来自通话结束事件"
    )
    noisy: bool = False
    occurred_at: Instant | None = None
    ticket_id: int | None = Field(None, ge=1, le=2**62)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "source": "call",
                    "external_id": "PBX-20261203-000123",
                    "agent_username": "agent",
                    "customer_surname": "王",
                    "hangup_by": "customer",
                    "turns": [
                        {
                            "speaker": "agent",
                            "text": "您好，安泰燃气公司，请问有什么可以帮您？",
                            "start_ms": 0,
                            "end_ms": 3200,
                        },
                        {
                            "speaker": "customer",
                            "text": "我家没气了，我姓王",
                            "start_ms": 3500,
                            "end_ms": 6000,
                        },
                        {
                            "speaker": "agent",
                            "text": "王先生，您还有其他问题吗？",
                            "start_ms": 6200,
                            "end_ms": 8000,
                        },
                        {
                            "speaker": "agent",
                            "text": "感谢您的来电，再见！",
                            "start_ms": 8200,
                            "end_ms": 9500,
                        },
                    ],
                }
            ]
        }
    }


class FindingOut(Schema):
    rule: str
    rule_name: str
    rule_version: int
    clause: str
    severity: str
    turn: int | None
    start: int
    end: int
    at_ms: int | None
    phrase: str
    missing: bool


class TranscriptOut(Schema):
    id: int
    source: str
    external_id: str
    agent: str | None
    status: str
    score: int | None
    hit_count: int
    occurred_at: datetime
    checked_at: datetime | None
    turns: list[dict[str, Any]]
    findings: list[FindingOut]
    created: bool = False


class TranscriptRow(Schema):
    id: int
    source: str
    external_id: str
    agent: str | None
    status: str
    score: int | None
    hit_count: int
    occurred_at: datetime


class RuleIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=100)
    clause: str = Field("", max_length=60)
    severity: Literal["info", "minor", "major", "critical"] = "minor"
    weight: int = Field(5, ge=0, le=100)
    spec: dict[str, Any]
    examples: list[dict[str, Any]] = Field(default_factory=list, max_length=200)
    sources: list[SourceCode] = Field(default_factory=lambda: ["call", "chat", "reply"], min_length=1)
    active: bool = True


class RuleOut(Schema):
    id: int
    code: str
    name: str
    clause: str
    severity: str
    weight: int
    spec: dict[str, Any]
    examples: list[dict[str, Any]]
    sources: list[str]
    active: bool
    version: int
    metrics: dict[str, Any] | None = None


class TestIn(Schema):
    text: str = Field("", max_length=5000, description="一轮坐席话语；或给出 turns")
    turns: list[TurnIn] | None = Field(None, max_length=2000)
    customer_surname: str = Field("", max_length=10)
    hangup_by: Literal["", "agent", "customer"] = ""
    source: SourceCode = "call"


class HitOut(Schema):
    rule: str
    turn: int | None
    start: int
    end: int
    phrase: str
    at_ms: int | None
    missing: bool
    severity: str


class TestOut(Schema):
    score: int
    hits: list[HitOut]


class EvaluationOut(Schema):
    id: int
    transcript_id: int
    agent: str | None
    inspector: str | None
    week: date | None
    reason: str
    status: str
    items: list[dict[str, Any]]
    score: int | None
    comment: str
    appeal_reason: str
    decision: str
    decision_comment: str
    events: list[dict[str, Any]] = []


class SampleIn(Schema):
    week: date | None = Field(None, description="该周任一天；默认本周")


class ScoreIn(Schema):
    points: dict[str, int] = Field(..., description="{评分项编号: 得分}")
    comment: str = Field("", max_length=2000)


class AppealIn(Schema):
    reason: str = Field(..., max_length=2000)


class DecideIn(Schema):
    decision: Literal["upheld", "rejected"]
    comment: str = Field(..., max_length=2000)
    points: dict[str, int] | None = None


class PlanIn(Schema):
    per_agent_week: int = Field(3, ge=0, le=100)
    low_score: int = Field(80, ge=0, le=100)
    extra_low: int = Field(2, ge=0, le=100)
