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


class HoldReason(models.TextChoices):
    """Why a work order waits (挂起). The first three are the reasons the standard accepts for
    pausing a commitment clock (SPEC time rules; 000 2.2.4 "除和客户另有约定外") and carry the codes
    of kefu.sla's PauseReason; any other reason keeps the clocks running."""

    CUSTOMER_REQUESTED_TIME = "customer_requested_time", _("客户要求另约时间")
    CUSTOMER_UNREACHABLE = "customer_unreachable", _("客户无法联系")
    AGREED_OTHERWISE = "agreed_otherwise", _("与客户另有约定")
    OTHER = "other", _("其他原因（计时不暂停）")


#: Hold reasons that pause the clocks whose commitment accepts them (C4).
PAUSING_HOLD_REASONS: frozenset[str] = frozenset(
    {HoldReason.CUSTOMER_REQUESTED_TIME, HoldReason.CUSTOMER_UNREACHABLE, HoldReason.AGREED_OTHERWISE}
)
#: Hold reasons that name the time agreed with the customer (when the work is taken up again).
AGREED_TIME_HOLD_REASONS: frozenset[str] = frozenset(
    {HoldReason.CUSTOMER_REQUESTED_TIME, HoldReason.AGREED_OTHERWISE}
)


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


def needs_hold_reason(target: str) -> bool:
    """A hold names why (HoldReason): only the standard's reasons pause the clocks."""
    return target == S.ON_HOLD


def hold_pauses_clocks(hold_reason: str) -> bool:
    """Whether a hold for `hold_reason` pauses the clocks (those whose commitment accepts it)."""
    return hold_reason in PAUSING_HOLD_REASONS


def needs_agreed_time(hold_reason: str) -> bool:
    """A hold because the customer asked for another time, or agreed otherwise, records that time."""
    return hold_reason in AGREED_TIME_HOLD_REASONS


#: The verb of each move on the work-order page and the order of the work (dispatch, start, hold,
#: resolve, close, reopen; cancelling last). A move out of `on_hold` into work is "resume".
MOVE_ORDER: tuple[str, ...] = (
    S.ASSIGNED,
    S.IN_PROGRESS,
    S.ON_HOLD,
    S.RESOLVED,
    S.CLOSED,
    S.REOPENED,
    S.CANCELLED,
)
MOVE_VERBS: dict[str, str] = {
    S.ASSIGNED: _("派发"),
    S.IN_PROGRESS: _("开始处理"),
    S.ON_HOLD: _("挂起"),
    S.RESOLVED: _("办结"),
    S.CLOSED: _("关闭"),
    S.REOPENED: _("重新打开"),
    S.CANCELLED: _("取消工单"),
}


def move_verb(source: str, target: str) -> str:
    """The button of the move source → target: 恢复处理 out of a hold, else the target's verb."""
    if source == S.ON_HOLD and target == S.IN_PROGRESS:
        return str(_("恢复处理"))
    if source == S.IN_PROGRESS and target == S.ASSIGNED:
        return str(_("重新派发"))
    return str(MOVE_VERBS.get(target, state_label(target)))


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
