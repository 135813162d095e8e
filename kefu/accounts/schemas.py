from __future__ import annotations

from datetime import datetime

from ninja import Schema

from kefu.core.schema_types import Instant


class MeOut(Schema):
    id: int
    username: str
    employee_no: str
    full_name: str
    role: str
    role_label: str
    company_id: int | None
    company_name: str | None
    department: str | None
    permissions: list[str]


class TokenIn(Schema):
    name: str
    scopes: list[str] = []
    expires_at: Instant | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str
