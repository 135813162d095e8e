"""The work-order state machine (P1, P3, P5): states, their meaning, and the one transition table.

    new ──► assigned ──► in_progress ──► resolved ──► closed
    new / assigned / in_progress / reopened ──► on_hold (reason) ──► assigned / in_progress
    any open state ──► cancelled (duplicate / invalid / withdrawn + reason)
    resolved ──► reopened (reason) ──► assigned / in_progress / on_hold / resolved / cancelled

`closed` and `cancelled` are final: a later problem is a new work order linked as a follow-up
(TicketLink.follow_up_of), so the reports of a closed month never change. A consultation answered
on the call is created directly in `resolved` with `resolved_at_first_contact` (P3, C15).
The service `ticket_transition` is the only way to change a state; it consults this table.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketState(models.TextChoices):
    NEW = "new", _("新建")  # received, nobody has been assigned to work on it yet
    ASSIGNED = "assigned", _("已派发")  # passed to a department / team / person who has not started
    IN_PROGRESS = "in_progress", _("处理中")  # somebody is working on it
    ON_HOLD = "on_hold", _("挂起")  # waiting for something outside our control (reason recorded)
    RESOLVED = "resolved", _("已解决")  # the problem is solved; waiting for confirmation / return visit
    CLOSED = "closed", _("已关闭")  # finished; final — the owner's responsibility ends here (P1)
    CANCELLED = "cancelled", _("已取消")  # duplicate, invalid or withdrawn (reason recorded); final
    REOPENED = "reopened", _("已重新打开")  # the customer says a resolved problem is not solved


class CancelReason(models.TextChoices):
    DUPLICATE = "duplicate", _("重复工单")
    INVALID = "invalid", _("无效工单")
    WITHDRAWN = "withdrawn", _("客户撤回")


S = TicketState

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.ASSIGNED, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),  # → assigned: re-dispatched
    S.ON_HOLD: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD, S.RESOLVED, S.CANCELLED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Moves that must carry a reason (on hold: why we wait; cancelled: which kind and why; reopened: what is
# still wrong).
REASON_REQUIRED: frozenset[str] = frozenset({S.ON_HOLD, S.CANCELLED, S.REOPENED})

OPEN_STATES: frozenset[str] = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD, S.REOPENED})
# Final: only the owner or a dispatcher / lead may move a work order here (kefu.tickets.services.workflow).
FINAL_STATES: frozenset[str] = frozenset({S.CLOSED, S.CANCELLED})
# States in which the owner still answers for the work order (P1): everything except closed/cancelled.
# The owner may hand it over and a supervisor may reassign it in these.
OWNED_STATES: frozenset[str] = frozenset(set(S.values) - FINAL_STATES)
# States in which a work order may be dispatched (P5): open ones, not once resolved or final.
ASSIGNABLE_STATES: frozenset[str] = OPEN_STATES


def allowed_targets(state: str) -> frozenset[str]:
    """The states a work order in `state` may move to."""
    return TRANSITIONS.get(state, frozenset())


def can_move(source: str, target: str) -> bool:
    """True when the table allows source → target."""
    return target in allowed_targets(source)


def needs_reason(source: str, target: str) -> bool:
    """True when the move source → target must carry a reason (REASON_REQUIRED: the target decides)."""
    return can_move(source, target) and target in REASON_REQUIRED


def needs_cancel_reason(target: str) -> bool:
    """A cancellation names its kind (CancelReason: duplicate, invalid, withdrawn)."""
    return target == S.CANCELLED


def field_next_step(state: str) -> str | None:
    """The one move a technician's phone list offers (P5): start the work, then resolve it."""
    if state == S.IN_PROGRESS:
        return S.RESOLVED
    return S.IN_PROGRESS if can_move(state, S.IN_PROGRESS) else None


def state_label(state: str) -> str:
    try:
        return str(TicketState(state).label)
    except ValueError:
        return state
