"""Notification endpoints: my inbox and marking read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Field, Router, Schema

from kefu.notify import selectors, services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    level: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class InboxOut(Schema):
    unread: int
    items: list[NotificationOut]


class MarkReadIn(Schema):
    ids: list[Annotated[int, Field(ge=1, le=2**53)]] | None = Field(default=None, max_length=1000)


@router.get("/", response=InboxOut, summary="我的通知（最新 100 条）与未读数")
def my_inbox(request, unread_only: bool = False):
    items = list(selectors.inbox(user=request.user, unread_only=unread_only)[:100])
    return InboxOut(unread=selectors.unread_count(user=request.user), items=items)


@router.post("/read", summary="标记为已读（不传 ids 则全部已读）")
def mark_read(request, payload: MarkReadIn):
    return {"marked": services.notification_mark_read(user=request.user, ids=payload.ids)}
