"""States of the workforce records (W1, W2, W3), each with its transition table.

The only way to change a state is the service, which locks the row and refuses an illegal move.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RosterStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")  # being prepared, proposals and hand edits; nobody is on duty by it
    PUBLISHED = "published", _("已发布")  # the team head published it: it says who is on duty


class HandoverStatus(models.TextChoices):
    RECORDED = "recorded", _("交班人已填写")  # the leaver wrote the log; waits for the successor
    CONFIRMED = "confirmed", _("接班人已确认")  # the successor confirmed; the leaver may sign off
    SIGNED_OFF = "signed_off", _("交班完成")  # the leaver signed off and left


HANDOVER_MOVES = {
    HandoverStatus.RECORDED: {HandoverStatus.CONFIRMED},
    HandoverStatus.CONFIRMED: {HandoverStatus.SIGNED_OFF},
    HandoverStatus.SIGNED_OFF: set(),
}


class RequestStatus(models.TextChoices):
    PENDING_COLLEAGUE = "pending_colleague", _("待同事同意")  # swaps only
    PENDING = "pending", _("待审批")  # waiting for the approver(s)
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")
    EXPIRED = "expired", _("已过期")  # nobody answered in time (swaps)


REQUEST_MOVES = {
    RequestStatus.PENDING_COLLEAGUE: {
        RequestStatus.PENDING,
        RequestStatus.REFUSED,
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
    },
    RequestStatus.PENDING: {
        RequestStatus.APPROVED,
        RequestStatus.REFUSED,
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
    },
    RequestStatus.APPROVED: set(),
    RequestStatus.REFUSED: set(),
    RequestStatus.CANCELLED: set(),
    RequestStatus.EXPIRED: set(),
}

OPEN_REQUEST = (RequestStatus.PENDING_COLLEAGUE, RequestStatus.PENDING)


class PenaltyStatus(models.TextChoices):
    PROPOSED = "proposed", _("待经理审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已否决")
