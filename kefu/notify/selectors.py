"""Reading a person's notifications: the inbox and its unread count."""

from __future__ import annotations

from django.db.models import QuerySet

from kefu.notify.models import Notification


def inbox(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user, channel=Notification.Channel.IN_APP)
    return qs.filter(read_at__isnull=True) if unread_only else qs


def unread_count(*, user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return inbox(user=user, unread_only=True).count()
