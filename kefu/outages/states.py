"""The life of a supply interruption (停气, P13): plan → approve → notify → start → restore → close.

The only way to change state is `kefu.outages.services`, which locks the row, asks `can_move`
and records an OutageEvent. Emergency repairs and force majeure start without approval or
advance notice (C1 excludes them); planned stops need a manager's approval first.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.errors import DomainError


class OutageKind(models.TextChoices):
    PLANNED = "planned", _("计划停气")  # C1 applies: ≥ 48 h notice
    EMERGENCY = "emergency", _("抢修停气")  # excluded from C1 and C2
    FORCE_MAJEURE = "force_majeure", _("不可抗力")  # excluded from C1 and C2


class OutageState(models.TextChoices):
    DRAFT = "draft", _("草拟")  # planned, area and times being chosen
    APPROVED = "approved", _("已批准")  # the responsible manager approved the planned stop
    NOTIFIED = "notified", _("已通知")  # the affected list is frozen and notices went out
    STARTED = "started", _("停气中")  # gas is off (actual start recorded)
    RESTORED = "restored", _("已恢复供气")  # every affected household restored (C2 stops)
    CLOSED = "closed", _("已关闭")  # linked work orders answered, records complete
    CANCELLED = "cancelled", _("已取消")  # never carried out


S = OutageState
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.APPROVED, S.STARTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.DRAFT, S.NOTIFIED, S.STARTED, S.CANCELLED}),
    S.NOTIFIED: frozenset({S.STARTED, S.CANCELLED}),
    S.STARTED: frozenset({S.RESTORED}),
    S.RESTORED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

#: states in which the interruption is current or ahead (the desk banner, the public page)
LIVE_STATES = frozenset({S.APPROVED, S.NOTIFIED, S.STARTED})
FINAL_STATES = frozenset({S.CLOSED, S.CANCELLED})


def can_move(source: str, target: str, *, kind: str = OutageKind.PLANNED) -> bool:
    """True when the table allows source → target. A planned stop must be approved before it
    starts; emergencies and force majeure go from draft to started."""
    if target not in TRANSITIONS.get(source, frozenset()):
        return False
    if source == S.DRAFT and target == S.STARTED:
        return kind != OutageKind.PLANNED
    if source == S.DRAFT and target == S.APPROVED:
        return kind == OutageKind.PLANNED
    return True


def assert_move(source: str, target: str, *, kind: str = OutageKind.PLANNED) -> None:
    if not can_move(source, target, kind=kind):
        raise DomainError(
            _("停气单不能从“%(a)s”变为“%(b)s”。") % {"a": S(source).label, "b": S(target).label},
            code="bad_state",
        )
