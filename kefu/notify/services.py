"""Writing notifications (P9 escalation, clock warnings, hand-overs). Exactly once per dedupe key."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.notify.models import Notification


def notification_send(
    *,
    recipient,
    kind: str,
    title: str,
    dedupe_key: str,
    body: str = "",
    url: str = "",
    level: str = Notification.Level.INFO,
) -> tuple[Notification, bool]:
    """Create the in-app notification unless one with this key exists; returns (row, created).

    The unique constraint, not a prior SELECT, decides: two workers racing both try the INSERT and
    exactly one wins, the other gets the existing row.
    """
    try:
        with transaction.atomic():
            row = Notification.objects.create(
                company_id=recipient.company_id,
                recipient=recipient,
                kind=kind,
                level=level,
                title=title[:200],
                body=body,
                url=url[:300],
                dedupe_key=dedupe_key[:200],
                channel=Notification.Channel.IN_APP,
                status=Notification.Status.SENT,  # in-app delivery is the row itself
                sent_at=timezone.now(),
                attempts=1,
            )
            return row, True
    except IntegrityError:
        return (
            Notification.objects.get(recipient=recipient, channel=Notification.Channel.IN_APP, dedupe_key=dedupe_key[:200]),
            False,
        )


def notification_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when `ids` is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
