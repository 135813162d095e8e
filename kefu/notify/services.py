"""Writing notifications (P9 escalation, clock warnings, hand-overs). Exactly once per dedupe key."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.notify.models import Notification


def _row(
    *, recipient, kind: str, title: str, dedupe_key: str, body: str, url: str, level: str, now
) -> Notification:
    return Notification(
        company_id=recipient.company_id,
        recipient=recipient,
        kind=kind,
        level=level or Notification.Level.INFO,
        title=title[:200],
        body=body or "",
        url=(url or "")[:300],
        dedupe_key=dedupe_key[:200],
        channel=Notification.Channel.IN_APP,
        status=Notification.Status.SENT,  # in-app delivery is the row itself
        sent_at=now,
        created_at=now,
        attempts=1,
    )


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
            row = _row(
                recipient=recipient,
                kind=kind,
                title=title,
                dedupe_key=dedupe_key,
                body=body,
                url=url,
                level=level,
                now=timezone.now(),
            )
            row.save(force_insert=True)
            return row, True
    except IntegrityError:
        return (
            Notification.objects.get(
                recipient=recipient, channel=Notification.Channel.IN_APP, dedupe_key=dedupe_key[:200]
            ),
            False,
        )


def notification_send_many(items: list[dict]) -> int:
    """Send a batch (dicts with notification_send's keyword arguments) in one INSERT; returns how many
    were new. Same uniqueness as notification_send: rows whose key exists are skipped, and
    ON CONFLICT DO NOTHING covers a racing writer. Used by the clock sweep (P9)."""
    now = timezone.now()
    wanted: dict[tuple[int, str], dict] = {}
    for item in items:
        wanted.setdefault((item["recipient"].pk, item["dedupe_key"][:200]), item)
    if not wanted:
        return 0
    existing = set(
        Notification.objects.filter(
            channel=Notification.Channel.IN_APP,
            recipient_id__in={pk for pk, _ in wanted},
            dedupe_key__in={key for _, key in wanted},
        ).values_list("recipient_id", "dedupe_key")
    )
    rows = [
        _row(
            now=now,
            body=i.get("body", ""),
            url=i.get("url", ""),
            level=i.get("level", ""),
            **{k: i[k] for k in ("recipient", "kind", "title", "dedupe_key")},
        )
        for pair, i in wanted.items()
        if pair not in existing
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def notification_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all unread ones when `ids` is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
