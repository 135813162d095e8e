"""API schemas of the sla app (C17 commitment sets; SPEC Time rules calendar)."""

from __future__ import annotations

from datetime import date, datetime, time

from ninja import Field, Schema


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


class BusinessHoursOut(Schema):
    id: int
    department_id: int | None
    opens_at: time
    closes_at: time
