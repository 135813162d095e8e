"""API schemas of the sla app (C17 commitment sets; SPEC Time rules calendar)."""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator


class CommitmentOut(Schema):
    id: int
    spec_id: str
    code: str
    name: str
    ticket_kind: str
    ticket_sub_kind: str
    customer_category: str
    severity: str
    channel: str
    clock_kind: str
    start_event: str
    stop_event: str
    limit_value: int
    limit_unit: str
    ends_at_close_of_business: bool
    pause_reasons: list[str]
    warn_at_percent: int
    escalate_after: int | None
    source: str
    note: str


class CommitmentSetOut(Schema):
    id: int
    company_id: int
    year: int
    name: str
    version: int
    is_published: bool
    published_at: datetime | None
    cloned_from_id: int | None
    preset_code: str


class CommitmentSetDetailOut(CommitmentSetOut):
    commitments: list[CommitmentOut]


class CloneIn(Schema):
    year: int = Field(..., ge=2000, le=2100)


class FromPresetIn(Schema):
    preset: str
    year: int = Field(..., ge=2000, le=2100)


class DayOut(Schema):
    date: date
    is_workday: bool
    name: str
    source: str
    fallback: bool
    warning: str | None = None


class AddWorkingDaysOut(Schema):
    start: str
    days: int
    last_working_day: date
    due_at: datetime
    business_hours: str | None
    fallback: bool
    warning: str | None = None


class OverrideIn(Schema):
    date: date
    is_workday: bool
    name: str = Field("", max_length=60)
    note: str = Field("", max_length=200)
    all_companies: bool = False


class OverrideOut(Schema):
    id: int
    company_id: int | None
    date: date
    is_workday: bool
    name: str
    note: str
    created_at: datetime


class BusinessHoursIn(Schema):
    department_id: int | None = None
    opens_at: time
    closes_at: time

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _local_time(cls, value: time) -> time:
        """Business hours are local wall-clock times of the company's zone: an offset is refused."""
        if value.tzinfo is not None:
            raise ValueError(_("营业时间是公司所在时区的当地时间，不能带时区偏移。"))
        return value


class BusinessHoursOut(Schema):
    id: int
    department_id: int | None
    opens_at: time
    closes_at: time


class ClockPauseOut(Schema):
    started_at: datetime
    ended_at: datetime | None
    reason: str
    reason_label: str
    by: str
    ended_by: str | None
    note: str


class ClockOut(Schema):
    id: int
    subject_type: str
    subject_id: str
    commitment_id: int
    spec_id: str
    name: str
    clock_kind: str
    commitment_version: int
    limit_value: int
    limit_unit: str
    state: str
    display: str = Field(
        description="running / due_soon / breached / paused / met / met_after_breach / cancelled"
    )
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    paused_at: datetime | None
    escalation_level: int
    fallback_calendar: bool
    accepted_pause_reasons: list[str]
    pauses: list[ClockPauseOut]


class PauseIn(Schema):
    reason: str = Field(description="customer_requested_time / customer_unreachable / agreed_otherwise")
    note: str = ""
