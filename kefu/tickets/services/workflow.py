"""Moving a work order: state table, dispatch, reclassification, ownership (P1) and escalation (P9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Department, Team, User
from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.core.events import publish
from kefu.tickets import events as timeline
from kefu.tickets.facts import TicketKindChanged, TicketStateChanged
from kefu.tickets.models import HandOver, Severity, Ticket, TicketEvent, TicketLink
from kefu.tickets.services.common import (
    LEVEL_ROLES,
    MAX_REASON,
    MAX_TEXT,
    ROLE_LEVEL,
    _assert_handler,
    _bump,
    _check_version,
    _colleague,
    _lock,
    _require_company,
    _resolve_kind,
    _text,
    is_handler,
)
from kefu.tickets.states import (
    ASSIGNABLE_STATES,
    FINAL_STATES,
    MOVE_ORDER,
    OWNED_STATES,
    CancelReason,
    HoldReason,
    TicketState,
    allowed_targets,
    can_move,
    hold_pauses_clocks,
    move_verb,
    needs_agreed_time,
    needs_cancel_reason,
    needs_hold_reason,
    needs_reason,
    state_label,
)

#: How far in the past an agreed time may lie (the agent types "now" a little late).
AGREED_TIME_TOLERANCE = timedelta(minutes=10)
#: How far ahead an agreed time may lie (a typo of the year is refused, not paused for a century).
MAX_AGREED_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class Hold:
    """Why a work order is put on hold (HoldReason) and the time agreed with the customer."""

    reason: str = HoldReason.OTHER
    agreed_at: datetime | None = None


def _apply_state(
    ticket: Ticket,
    to: str,
    by: User,
    *,
    reason: str,
    cancel_reason: str,
    now: datetime,
    hold: Hold | None = None,
) -> None:
    from kefu.tickets import clocks  # the clock mapping of work orders (imports this app's models)

    source = ticket.state
    ticket.state = to
    ticket.state_reason = reason
    fields = ["state", "state_reason"]
    if to == TicketState.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    elif to == TicketState.REOPENED:
        ticket.resolved_at = None
        fields.append("resolved_at")
    if to in FINAL_STATES:
        ticket.closed_at = now
        fields.append("closed_at")
    if to == TicketState.CANCELLED:
        ticket.cancel_reason = cancel_reason
        fields.append("cancel_reason")
    _bump(ticket, now, fields)
    # C4: a hold for a reason the standard accepts pauses the clocks that accept it, taking the
    # work order up again resumes them — in this transaction, so the timeline says what happened.
    paused: list[str] = []
    resumed: list[str] = []
    if to == TicketState.ON_HOLD and hold is not None and hold_pauses_clocks(hold.reason):
        paused = clocks.ticket_clocks_hold(ticket, by, reason=hold.reason, agreed_at=hold.agreed_at, at=now)
    elif source == TicketState.ON_HOLD and to != TicketState.CANCELLED:
        resumed = clocks.ticket_clocks_release(ticket, by, at=now)
    timeline.state_changed(
        ticket,
        by,
        source=source,
        target=to,
        reason=reason,
        cancel_reason=cancel_reason,
        hold_reason=hold.reason if hold is not None and to == TicketState.ON_HOLD else "",
        agreed_at=hold.agreed_at if hold is not None and to == TicketState.ON_HOLD else None,
        paused_clocks=paused,
        resumed_clocks=resumed,
    )
    publish(TicketStateChanged(ticket_id=ticket.pk, source=source, target=to))


def _validate_hold(ticket: Ticket, to: str, hold: Hold | None, now: datetime) -> Hold | None:
    """A hold names an accepted reason code (HoldReason; none given: `other`, which pauses nothing)
    and, for another time asked or agreed with the customer, that time (not in the past)."""
    if not needs_hold_reason(to):
        return None
    hold = hold or Hold()
    reason = hold.reason or HoldReason.OTHER
    if reason not in HoldReason.values:
        raise DomainError(_("请选择挂起原因。"), field="hold_reason")
    agreed = hold.agreed_at
    if needs_agreed_time(reason):
        if agreed is None:
            raise DomainError(_("请填写与客户约定的时间。"), field="agreed_at")
        if timezone.is_naive(agreed):
            agreed = timezone.make_aware(agreed)
        if agreed < now - AGREED_TIME_TOLERANCE:
            raise DomainError(_("约定时间不能早于现在。"), field="agreed_at")
    elif agreed is not None and timezone.is_naive(agreed):
        agreed = timezone.make_aware(agreed)
    if agreed is not None:
        try:
            agreed = agreed.astimezone(dt_timezone.utc)  # stored in UTC (ARCHITECTURE: time)
        except OverflowError:
            raise DomainError(_("约定时间超出范围。"), field="agreed_at") from None
        if agreed > now + MAX_AGREED_AHEAD:
            raise DomainError(_("约定时间不能晚于一年以后。"), field="agreed_at")
    return Hold(reason=reason, agreed_at=agreed)


def _validate_move(ticket: Ticket, to: str, by: User, reason: str, cancel_reason: str) -> tuple[str, str]:
    if to not in TicketState.values:
        raise DomainError(_("未知的状态：%(s)s。") % {"s": to}, field="to")
    if not can_move(ticket.state, to):
        raise DomainError(
            _("工单 %(n)s 当前为“%(a)s”，不能改为“%(b)s”。")
            % {"n": ticket.number, "a": state_label(ticket.state), "b": state_label(to)},
            field="to",
            code="illegal_transition",
        )
    reason = _text(
        reason,
        field_name="reason",
        label=_("原因"),
        required=needs_reason(ticket.state, to),
        limit=MAX_REASON,
    )
    if needs_cancel_reason(to):
        if cancel_reason not in CancelReason.values:
            raise DomainError(_("取消工单须选择原因：重复、无效或客户撤回。"), field="cancel_reason")
    else:
        cancel_reason = ""
    if to in FINAL_STATES and not may_close_or_cancel(by, ticket):
        raise Forbidden(_("只有首问责任人或调度/班长可以关闭或取消工单。"), code="not_owner")
    return reason, cancel_reason


def ticket_transition(
    *,
    ticket_id: int,
    by: User,
    to: str,
    version: int | None,
    reason: str = "",
    cancel_reason: str = "",
    hold_reason: str = "",
    agreed_at: datetime | None = None,
) -> Ticket:
    """Move a work order along the table in kefu.tickets.states (refusing illegal moves with a clear
    message, DomainError) after checking the caller's `version` (stale → Conflict).

    A hold (`on_hold`) names its `hold_reason` (HoldReason) and, for another time asked or agreed
    with the customer, `agreed_at`: the reasons the standard accepts pause the clocks whose
    commitment accepts them (C4 "除和客户另有约定外"), any other keeps them running; taking the work
    order up again resumes them (kefu.tickets.clocks, on the timeline and audited)."""
    with transaction.atomic():
        ticket = _lock(ticket_id, by)
        _check_version(ticket, version)
        _assert_handler(by, ticket)
        reason, cancel_reason = _validate_move(ticket, to, by, reason, cancel_reason)
        now = timezone.now()
        hold = _validate_hold(ticket, to, Hold(hold_reason, agreed_at), now)
        _apply_state(ticket, to, by, reason=reason, cancel_reason=cancel_reason, now=now, hold=hold)
    return ticket


def ticket_assign(
    *,
    ticket_id: int,
    by: User,
    version: int | None,
    department_id: int | None = None,
    team_id: int | None = None,
    user_id: int | None = None,
    note: str = "",
) -> Ticket:
    """Pass the work order to a department, team and/or person (P5: repairs and alarms go to the
    responsible department at once). The owner stays the owner (P1). A new/reopened/on-hold/
    in-progress work order becomes `assigned`."""
    with transaction.atomic():
        ticket = _lock(ticket_id, by)
        _check_version(ticket, version)
        _assert_handler(by, ticket)
        if department_id is None and team_id is None and user_id is None:
            raise DomainError(_("请选择承办部门、班组或承办人。"), field="department_id")
        if ticket.state not in ASSIGNABLE_STATES:
            raise DomainError(
                _("工单 %(n)s 已是“%(s)s”，不能再派发。")
                % {"n": ticket.number, "s": state_label(ticket.state)},
                code="illegal_transition",
            )
        dept = team = person = None
        if department_id is not None:
            dept = Department.objects.filter(
                pk=department_id, company_id=ticket.company_id, is_active=True
            ).first()
            if dept is None:
                raise DomainError(_("本公司没有该部门。"), field="department_id")
        if team_id is not None:
            team = Team.objects.filter(pk=team_id, company_id=ticket.company_id, is_active=True).first()
            if team is None:
                raise DomainError(_("本公司没有该班组。"), field="team_id")
            if dept is not None and team.department_id != dept.pk:
                raise DomainError(_("班组不属于所选部门。"), field="team_id")
            dept = dept or team.department
        if user_id is not None:
            person = _colleague(by, user_id, field_name="user_id")
            if not may_be_assigned(person):
                raise DomainError(_("该员工的角色不能承办工单。"), field="user_id")
            dept = dept or person.department
            team = team or person.team
        note = _text(note, field_name="note", label=_("说明"), required=False, limit=MAX_REASON)
        before = {
            "department": ticket.assigned_department_id,
            "team": ticket.assigned_team_id,
            "user": ticket.assigned_to_id,
        }
        ticket.assigned_department = dept
        ticket.assigned_team = team
        ticket.assigned_to = person
        now = timezone.now()
        _bump(ticket, now, ["assigned_department", "assigned_team", "assigned_to"])
        timeline.assigned(ticket, by, before=before, department=dept, team=team, person=person, note=note)
        if ticket.state != TicketState.ASSIGNED and can_move(ticket.state, TicketState.ASSIGNED):
            _apply_state(ticket, TicketState.ASSIGNED, by, reason="", cancel_reason="", now=now)
    return ticket


def ticket_reclassify(
    *, ticket_id: int, by: User, version: int | None, kind: str, sub_kind: str | None = None, reason: str = ""
) -> Ticket:
    """Change the kind / sub-kind (the agent classified the call wrongly). The commitment clocks are
    recomputed by the TicketKindChanged listener (kefu.tickets.clocks)."""
    with transaction.atomic():
        ticket = _lock(ticket_id, by)
        _check_version(ticket, version)
        _assert_handler(by, ticket)
        if ticket.state in FINAL_STATES:
            raise DomainError(_("已关闭或已取消的工单不能更改类型。"), code="illegal_transition")
        kind_obj, sub_obj = _resolve_kind(ticket.company, kind, sub_kind)
        reason = _text(reason, field_name="reason", label=_("原因"), limit=MAX_REASON)
        before = {"kind": ticket.kind.code, "sub_kind": ticket.sub_kind.code if ticket.sub_kind_id else None}
        if kind_obj.pk == ticket.kind_id and (sub_obj.pk if sub_obj else None) == ticket.sub_kind_id:
            raise DomainError(_("类型没有变化。"), field="kind")
        ticket.kind, ticket.sub_kind = kind_obj, sub_obj
        _bump(ticket, timezone.now(), ["kind", "sub_kind"])
        timeline.reclassified(
            ticket,
            by,
            before=before,
            kind=kind_obj.code,
            sub_kind=sub_obj.code if sub_obj else None,
            reason=reason,
        )
        publish(TicketKindChanged(ticket_id=ticket.pk))
    return ticket


def ticket_hand_over(
    *, ticket_id: int, by: User, to_user_id: int, reason: str, version: int | None = None
) -> HandOver:
    """The owner proposes to hand the work order to a colleague, with a reason (P1). The owner stays
    responsible until the colleague accepts."""
    with transaction.atomic():
        ticket = _lock(ticket_id, by)
        _check_version(ticket, version)
        assert_perm(by, Perm.TICKET_WORK)
        if by.pk != ticket.owner_id:
            raise Forbidden(_("只有首问责任人可以移交工单；主管可使用“改派责任人”。"), code="not_owner")
        if ticket.state not in OWNED_STATES:
            raise DomainError(_("已关闭或已取消的工单不能移交。"), code="illegal_transition")
        to = _colleague(by, to_user_id, field_name="to_user_id")
        if to.pk == by.pk:
            raise DomainError(_("不能移交给自己。"), field="to_user_id")
        if not may_own(to):
            raise DomainError(_("该员工的角色不能作为工单责任人。"), field="to_user_id")
        reason = _text(reason, field_name="reason", label=_("移交原因"), limit=MAX_REASON)
        if HandOver.objects.filter(ticket=ticket, status=HandOver.Status.PENDING).exists():
            raise Conflict(_("该工单已有一个待接收的移交。"), code="pending_hand_over")
        ho = HandOver.objects.create(
            company_id=ticket.company_id, ticket=ticket, from_user=by, to_user=to, reason=reason
        )
        timeline.handed_over(ticket, by, hand_over_id=ho.pk, to=to, reason=reason)
    return ho


def _lock_hand_over(hand_over_id: int, by: User) -> tuple[HandOver, Ticket]:
    company_id = _require_company(by)
    ho = HandOver.objects.filter(pk=hand_over_id, company_id=company_id).first()
    if ho is None:
        raise NotFound(_("没有找到该移交。"), code="not_found")
    ticket = Ticket.objects.select_for_update().get(pk=ho.ticket_id)
    ho = HandOver.objects.select_for_update().get(pk=ho.pk)
    if ho.status != HandOver.Status.PENDING:
        raise Conflict(
            _("该移交已处理（%(s)s）。") % {"s": ho.get_status_display()}, code="hand_over_decided"
        )
    return ho, ticket


def ticket_accept_hand_over(*, hand_over_id: int, by: User) -> Ticket:
    """The receiver accepts: they become the owner (P1); recorded on the timeline and in the audit log."""
    with transaction.atomic():
        ho, ticket = _lock_hand_over(hand_over_id, by)
        if ho.to_user_id != by.pk:
            raise Forbidden(_("只有接收人可以接收此移交。"), code="not_receiver")
        if ticket.owner_id != ho.from_user_id or ticket.state not in OWNED_STATES:
            ho.status = HandOver.Status.WITHDRAWN
            ho.decided_at = timezone.now()
            ho.save(update_fields=["status", "decided_at"])
            raise Conflict(_("工单责任人已变更或工单已关闭，此移交已失效。"), code="hand_over_stale")
        now = timezone.now()
        ho.status, ho.decided_at = HandOver.Status.ACCEPTED, now
        ho.save(update_fields=["status", "decided_at"])
        previous = ticket.owner_id
        ticket.owner = by
        _bump(ticket, now, ["owner"])
        timeline.hand_over_accepted(
            ticket, by, hand_over_id=ho.pk, from_user_id=previous
        )  # audited by the writer
    return ticket


def ticket_decline_hand_over(*, hand_over_id: int, by: User, note: str) -> HandOver:
    """The receiver declines, saying why; the owner keeps the work order."""
    with transaction.atomic():
        ho, ticket = _lock_hand_over(hand_over_id, by)
        if ho.to_user_id != by.pk:
            raise Forbidden(_("只有接收人可以拒绝此移交。"), code="not_receiver")
        note = _text(note, field_name="note", label=_("拒绝原因"), limit=MAX_REASON)
        ho.status, ho.decided_at, ho.decision_note = HandOver.Status.DECLINED, timezone.now(), note
        ho.save(update_fields=["status", "decided_at", "decision_note"])
        timeline.hand_over_declined(ticket, by, hand_over_id=ho.pk, note=note)
    return ho


def ticket_withdraw_hand_over(*, hand_over_id: int, by: User) -> HandOver:
    """The owner takes back a hand-over nobody has accepted yet."""
    with transaction.atomic():
        ho, ticket = _lock_hand_over(hand_over_id, by)
        if ho.from_user_id != by.pk:
            raise Forbidden(_("只有移交人可以撤回此移交。"), code="not_owner")
        ho.status, ho.decided_at = HandOver.Status.WITHDRAWN, timezone.now()
        ho.save(update_fields=["status", "decided_at"])
        timeline.hand_over_withdrawn(ticket, by, hand_over_id=ho.pk)
    return ho


def ticket_reassign(*, ticket_id: int, by: User, to_user_id: int, reason: str, version: int | None) -> Ticket:
    """A supervisor moves ownership without the owner's hand-over (P1), with a reason; audited.
    A pending hand-over is withdrawn."""
    with transaction.atomic():
        ticket = _lock(ticket_id, by)
        _check_version(ticket, version)
        assert_perm(by, Perm.TICKET_REASSIGN)
        if ticket.state not in OWNED_STATES:
            raise DomainError(_("已关闭或已取消的工单不能改派。"), code="illegal_transition")
        to = _colleague(by, to_user_id, field_name="to_user_id")
        if not may_own(to):
            raise DomainError(_("该员工的角色不能作为工单责任人。"), field="to_user_id")
        if to.pk == ticket.owner_id:
            raise DomainError(_("该员工已是责任人。"), field="to_user_id")
        reason = _text(reason, field_name="reason", label=_("改派原因"), limit=MAX_REASON)
        now = timezone.now()
        HandOver.objects.filter(ticket=ticket, status=HandOver.Status.PENDING).update(
            status=HandOver.Status.WITHDRAWN, decided_at=now
        )
        previous = ticket.owner_id
        ticket.owner = to
        _bump(ticket, now, ["owner"])
        timeline.reassigned(ticket, by, from_user_id=previous, to=to, reason=reason)  # audited by the writer
    return ticket


def ticket_escalate(*, ticket_id: int, by: User, to_user_id: int, reason: str) -> TicketEvent:
    """Report a work order up the hierarchy (P9 请示报告): one level at a time; in an emergency (kind
    `emergency` or severity major) a level may be skipped and the skipped levels are listed for the
    report afterwards."""
    with transaction.atomic():
        ticket = _lock(ticket_id, by)
        assert_perm(by, Perm.TICKET_WORK)
        to = _colleague(by, to_user_id, field_name="to_user_id")
        mine, theirs = ROLE_LEVEL.get(by.role, 0), ROLE_LEVEL.get(to.role, -1)
        if theirs <= mine:
            raise DomainError(_("只能向上一级请示报告。"), field="to_user_id")
        emergency = ticket.kind.code == "emergency" or ticket.severity == Severity.MAJOR
        skipped = [LEVEL_ROLES[lvl] for lvl in range(mine + 1, theirs) if lvl in LEVEL_ROLES]
        if skipped and not emergency:
            raise DomainError(
                _("非紧急情况须逐级请示，不能越级上报。"), field="to_user_id", code="skip_level"
            )
        reason = _text(reason, field_name="reason", label=_("请示内容"), limit=MAX_TEXT)
        return timeline.escalated(ticket, by, to=to, reason=reason, skipped_levels=skipped)


# --- who may do what (P1): one place, asked by the services above and by the pages ----------------


def may_own(user: User) -> bool:
    """Whether a colleague may become a work order's owner by hand-over or reassignment (P1): their
    role works on and sees every work order of the company."""
    return role_allows(user, Perm.TICKET_WORK) and role_allows(user, Perm.TICKET_VIEW_ALL)


def may_be_assigned(user: User) -> bool:
    """Whether a colleague may be the person a work order is dispatched to (P5)."""
    return role_allows(user, Perm.TICKET_WORK)


def may_close_or_cancel(user: User, ticket: Ticket) -> bool:
    """Only the owner (P1) or a dispatcher / lead (`ticket.dispatch`) may close or cancel a work
    order, alone or with its children (ticket_close_children)."""
    return user.pk == ticket.owner_id or role_allows(user, Perm.TICKET_DISPATCH)


def may_move(user: User, ticket: Ticket, target: str) -> bool:
    """Whether `user` may move `ticket` to `target` now (ticket_transition's checks but the version
    and the reason): the table allows it, the user handles the work order, and a move to a final
    state is the owner's or a dispatcher's."""
    return (
        can_move(ticket.state, target)
        and role_allows(user, Perm.TICKET_WORK)
        and is_handler(user, ticket)
        and (target not in FINAL_STATES or may_close_or_cancel(user, ticket))
    )


@dataclass(frozen=True)
class Move:
    """A state move the user may make now, and what it must carry."""

    target: str
    label: str
    needs_reason: bool
    needs_cancel_reason: bool
    verb: str = ""  # the button: 派发, 开始处理, 恢复处理, 挂起, 办结, 关闭, 取消工单 …
    needs_hold_reason: bool = False  # a hold names why; the standard's reasons pause the clocks


@dataclass(frozen=True)
class TicketActions:
    """What `user` may do with `ticket` now: the work-order pages offer exactly these. Built from
    the same predicates and state sets the services check, so a page never offers what the service
    would refuse nor hides what it would allow (tests/test_states.py checks the moves against
    ticket_transition for every state and persona)."""

    work: bool  # notes, attachments, links (`ticket.work`)
    handle: bool  # replies, contact attempts, state moves: owner, assignee or dispatcher / lead
    moves: tuple[Move, ...]
    assign: bool
    hand_over: bool
    reassign: bool
    close_children: bool
    called_again: bool


def allowed_actions(ticket: Ticket, user: User) -> TicketActions:
    """The actions of `ticket` that `user` may take now (P1, P5). One query at most (children)."""
    work = role_allows(user, Perm.TICKET_WORK)
    handle = work and is_handler(user, ticket)
    closer = may_close_or_cancel(user, ticket)
    moves = tuple(
        Move(
            s,
            state_label(s),
            needs_reason(ticket.state, s),
            needs_cancel_reason(s),
            verb=move_verb(ticket.state, s),
            needs_hold_reason=needs_hold_reason(s),
        )
        for s in sorted(allowed_targets(ticket.state), key=MOVE_ORDER.index)
        if may_move(user, ticket, s)
    )
    owned = ticket.state in OWNED_STATES
    return TicketActions(
        work=work,
        handle=handle,
        moves=moves,
        assign=handle and ticket.state in ASSIGNABLE_STATES,
        hand_over=work and user.pk == ticket.owner_id and owned,
        reassign=role_allows(user, Perm.TICKET_REASSIGN) and owned,
        close_children=work
        and closer
        and TicketLink.objects.filter(target=ticket, kind=TicketLink.Kind.CHILD_OF).exists(),
        called_again=work and ticket.state not in FINAL_STATES,
    )
