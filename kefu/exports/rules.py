"""The export rules in one place (S3): row limit, how long a download link lives, what a reason
must say, who may decide. Views and the API ask these; they never restate them."""

from __future__ import annotations

from django.conf import settings

from kefu.accounts.roles import Perm, role_allows

DEFAULT_MAX_ROWS = 10_000
DEFAULT_LINK_HOURS = 24
MIN_REASON = 4  # characters: "月度对账" — a word, not a dot


def max_rows(kind_max: int | None) -> int:
    """Rows one file may hold: the kind's own limit, else settings.KEFU_EXPORT_MAX_ROWS."""
    return kind_max or int(getattr(settings, "KEFU_EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def link_hours() -> int:
    """Hours an approved file can be downloaded (settings.KEFU_EXPORT_LINK_HOURS)."""
    return int(getattr(settings, "KEFU_EXPORT_LINK_HOURS", DEFAULT_LINK_HOURS))


def reason_ok(reason: str) -> bool:
    """A 绝密 request says why (S3): at least a few characters of text."""
    return len((reason or "").strip()) >= MIN_REASON


def may_approve(user) -> bool:
    """Supervisors and managers decide on 绝密 exports (`export.approve`)."""
    return role_allows(user, Perm.EXPORT_APPROVE)


def may_decide(user, request) -> bool:
    """An approver of the request's company, who is not the requester (four eyes)."""
    return may_approve(user) and user.company_id == request.company_id and user.pk != request.requested_by_id
