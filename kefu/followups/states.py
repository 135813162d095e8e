"""The complaint steps (P4, seed 004 第五条; 000 15.4) and the one table of moves.

    received 受理 ─► judged 判定 ─► responsibility 责任 ─► analysed 原因分析 ─► planned 处理方案
        ─► approved 审批 ─► executed 执行 ─► closed 总结评价
    planned ─(sent back by the manager, with a reason)─► analysed (a new plan is needed)
    judged, not standing ─► executed (the customer is told why; no penalty) ─► closed

`Complaint.step` is the last step completed; the services are the only way to move it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintStep(models.TextChoices):
    RECEIVED = "received", _("受理")  # complainant, time, target, demand recorded
    JUDGED = "judged", _("判定")  # stands / does not stand, with the reason
    RESPONSIBILITY = "responsibility", _("责任认定")  # responsible department and person
    ANALYSED = "analysed", _("原因分析")
    PLANNED = "planned", _("处理方案")  # waiting for the manager's approval
    APPROVED = "approved", _("审批通过")
    EXECUTED = "executed", _("执行")  # penalty applied, customer informed, feedback collected
    CLOSED = "closed", _("总结评价")  # final


S = ComplaintStep

NEXT: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.JUDGED}),
    S.JUDGED: frozenset({S.RESPONSIBILITY, S.EXECUTED}),  # → executed only when it does not stand
    S.RESPONSIBILITY: frozenset({S.ANALYSED}),
    S.ANALYSED: frozenset({S.PLANNED}),
    S.PLANNED: frozenset({S.APPROVED, S.ANALYSED}),  # → analysed: sent back
    S.APPROVED: frozenset({S.EXECUTED}),
    S.EXECUTED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

ORDER: tuple[str, ...] = tuple(S.values)


def can_move(source: str, target: str) -> bool:
    """True when the table allows the step `target` after `source`."""
    return target in NEXT.get(source, frozenset())


def next_steps(step: str, *, stands: bool | None) -> list[str]:
    """The steps that may come next, for the page's forms (a complaint that does not stand skips
    responsibility, analysis, plan and approval)."""
    out = [s for s in ORDER if can_move(step, s)]
    if step == S.JUDGED:
        out = [S.EXECUTED] if stands is False else [S.RESPONSIBILITY]
    if step == S.PLANNED:
        out = [S.APPROVED]
    return out
