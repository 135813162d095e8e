"""The states of an export request (S3) and the moves between them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestState(models.TextChoices):
    PENDING = "pending", _("待审批")  # 绝密: waiting for a supervisor
    APPROVED = "approved", _("已批准")  # the file is made; downloadable by the requester until it expires
    REFUSED = "refused", _("已驳回")  # a supervisor said no, with a reason
    WITHDRAWN = "withdrawn", _("已撤回")  # the requester withdrew it before a decision
    DELIVERED = "delivered", _("已直接下载")  # 机密 or 内部: delivered at once, watermarked and logged


TRANSITIONS: dict[str, frozenset[str]] = {
    RequestState.PENDING: frozenset({RequestState.APPROVED, RequestState.REFUSED, RequestState.WITHDRAWN}),
    RequestState.APPROVED: frozenset(),
    RequestState.REFUSED: frozenset(),
    RequestState.WITHDRAWN: frozenset(),
    RequestState.DELIVERED: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    """True when the table allows `current` → `target`."""
    return target in TRANSITIONS.get(current, frozenset())
