"""API shapes of the outages app."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

from django.utils.translation import gettext
from ninja import Field, Schema
from pydantic import AfterValidator

from kefu.core.schema_types import Instant


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL cannot store NUL
        raise ValueError(gettext("请求中含有不允许的控制字符（NUL）。"))
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


class OutageIn(Schema):
    kind: Text = Field("planned", max_length=16, description="planned / emergency / force_majeure")
    reason: Text = Field(..., max_length=300)
    area: Text = Field("", max_length=300)
    planned_start: Instant
    planned_end: Instant
    major: bool = False


class RescheduleIn(Schema):
    planned_start: Instant
    planned_end: Instant
    reason: Text = Field("", max_length=200)


class AffectedIn(Schema):
    method: Text = Field(..., max_length=10, description="zone / address / network")
    zones: list[Text] = Field(default_factory=list, max_length=200)
    communities: list[Text] = Field(default_factory=list, max_length=500)
    buildings: list[Text] = Field(
        default_factory=list, max_length=2000, description="小区/楼 e.g. 幸福小区/3"
    )
    valves: list[Text] = Field(default_factory=list, max_length=200)
    pipe: Text = Field("", max_length=40)
    stuck: list[Text] = Field(default_factory=list, max_length=20)


class AnalyseIn(Schema):
    valves: list[Text] = Field(default_factory=list, max_length=200)
    pipe: Text = Field("", max_length=40)
    stuck: Text = Field("", max_length=40)


class AnalyseOut(Schema):
    closed: list[str]
    households: int
    premise_ids: list[int]
    ring: list[str] = []
    extra_households: int = 0
    extra_premise_ids: list[int] = []


class AtIn(Schema):
    at: Instant | None = None


class StepIn(Schema):
    at: Instant | None = None
    buildings: list[Text] = Field(default_factory=list, max_length=2000)
    note: Text = Field("", max_length=200)
    override_reason: Text = Field("", max_length=200)
    needs_ignition: int = Field(0, ge=0, le=1_000_000)


class CallIn(Schema):
    customer_id: int | None = Field(None, ge=1, le=2**62)
    premise_id: int | None = Field(None, ge=1, le=2**62)
    caller_phone: Text = Field("", max_length=30)
    ticket_id: int | None = Field(None, ge=1, le=2**62)


class TextIn(Schema):
    text: Text = Field("", max_length=500)


class ReasonIn(Schema):
    reason: Text = Field(..., max_length=200)


class ReportIn(Schema):
    impact: Text = Field(..., max_length=4000)
    handling: Text = Field(..., max_length=4000)
    cause: Text = Field(..., max_length=4000)
    corrective: Text = Field(..., max_length=4000)
    preventive: Text = Field(..., max_length=4000)
    summary: Text = Field(..., max_length=200)


class SettingsIn(Schema):
    public_page: bool | None = None
    quiet_from: time | None = None
    quiet_until: time | None = None
    hotline: Text | None = Field(None, max_length=30)


class SettingsOut(Schema):
    public_page: bool
    quiet_from: time
    quiet_until: time
    hotline: str


class OutageOut(Schema):
    id: int
    number: str
    kind: str
    state: str
    reason: str
    area: str
    major: bool
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None
    restored_at: datetime | None
    closed_at: datetime | None
    approved_at: datetime | None
    method: str
    frozen_at: datetime | None
    frozen_count: int
    frozen_hash: str
    frozen_method: str
    notice_round: int
    notices_complete_at: datetime | None
    restore_notice_at: datetime | None


class OutageDetailOut(OutageOut):
    notice_due: datetime | None = None
    affected: dict = {}
    notices: dict = {}
    calls: int = 0
    steps: list[dict] = []


class AffectedOut(Schema):
    premise_id: int
    address: str
    building_key: str
    priority: int
    priority_reason: str
    customer_id: int | None
    restored_at: datetime | None


class NoticeOut(Schema):
    id: int
    round: int
    purpose: str
    channel: str
    status: str
    building_key: str
    phone_masked: str
    sent_at: datetime | None
    delivered_at: datetime | None
    posted_at: datetime | None
    message_id: str | None


class CallerOutageOut(Schema):
    outage_id: int
    number: str
    state: str
    since: datetime
    until: datetime
    reason: str
    message: str


class ImportOut(Schema):
    id: int
    ok: bool
    nodes: int
    edges: int
    premises: int
    errors: list[dict]


class ReceiptsOut(Schema):
    received: int
    duplicates: int
    unknown: int
    delivered: int
    failed: int = 0
