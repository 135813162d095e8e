"""Writes on work orders. Every service is keyword-only, runs in one transaction, checks company and
role, writes its TicketEvent (the timeline) and, where business data changes hands, an audit row.

P1 first-contact responsibility: the creator is the owner; ownership moves only by an accepted
hand-over (`ticket_hand_over` → `ticket_accept_hand_over`) or a supervisor's `ticket_reassign`.
Concurrency: state-changing services lock the row (`select_for_update`) and compare the caller's
`version` with the stored one; a stale version is a `Conflict` (HTTP 409), so nothing is lost.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import Department, Team, User
from kefu.accounts.roles import Perm, Role, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.customers.models import Customer, Premise
from kefu.customers.normalize import normalize_phone
from kefu.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.tickets import hooks
from kefu.tickets.models import (
    Attachment,
    Channel,
    HandOver,
    Severity,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketLink,
    TicketNumberCounter,
    TicketSubKind,
    Title,
)
from kefu.tickets.selectors import open_duplicates, tickets_visible_to
from kefu.tickets.states import (
    FINAL_STATES,
    OWNED_STATES,
    REASON_REQUIRED,
    CancelReason,
    TicketState,
    can_move,
    state_label,
)
from kefu.tickets.taxonomy import kinds_for

NUMBER_PREFIX = "GD"
MAX_TEXT = 4000
MAX_REASON = 200
# A received time this far in the past is a back-dated record (needs Perm.TICKET_BACKDATE and a reason).
BACKDATE_TOLERANCE = timedelta(minutes=10)
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES: dict[str, tuple[str, ...]] = {
    # extension: accepted content types
    ".jpg": ("image/jpeg",),
    ".jpeg": ("image/jpeg",),
    ".png": ("image/png",),
    ".webp": ("image/webp",),
    ".pdf": ("application/pdf",),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    ".txt": ("text/plain",),
}
_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".webp": (b"RIFF",),
    ".pdf": (b"%PDF",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}
# Escalation levels (P9 请示报告): one level at a time, except in an emergency.
ROLE_LEVEL: dict[str, int] = {
    Role.AGENT: 0,
    Role.CLERK: 0,
    Role.DISPATCHER: 0,
    Role.TECHNICIAN: 0,
    Role.QUALITY: 0,
    Role.TEAM_LEAD: 1,
    Role.SUPERVISOR: 2,
    Role.MANAGER: 3,
}
LEVEL_ROLES: dict[int, str] = {1: Role.TEAM_LEAD, 2: Role.SUPERVISOR, 3: Role.MANAGER}


class DuplicateFound(Conflict):
    """Open work orders of the same kind exist for this customer/premise: the caller should link."""

    def __init__(self, message: str, duplicates: list[Ticket]):
        super().__init__(message, code="duplicate")
        self.duplicates = duplicates


@dataclass(frozen=True)
class CreateResult:
    ticket: Ticket
    created: bool  # False when the idempotency key named an existing work order
    duplicates: list[Ticket] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- helpers


def _event(ticket: Ticket, kind: str, by: User | None, payload: dict[str, Any] | None = None) -> TicketEvent:
    return TicketEvent.objects.create(
        company_id=ticket.company_id, ticket=ticket, kind=kind, actor=by, payload=payload or {}
    )


def _text(value: str | None, *, field_name: str, label: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("请填写%(label)s。") % {"label": label}, field=field_name)
    if len(text) > limit:
        raise DomainError(_("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": limit}, field=field_name)
    return text


def _require_company(by: User) -> int:
    if by is None or not by.is_authenticated or by.company_id is None:
        raise Forbidden(_("您的账号不属于任何公司，不能办理工单。"), code="no_company")
    return by.company_id


def _local_day(company, at: datetime):
    try:
        tz = ZoneInfo(company.time_zone or "Asia/Shanghai")
    except Exception:
        tz = ZoneInfo("Asia/Shanghai")
    return at.astimezone(tz).date()


def _next_number(company, now: datetime) -> str:
    """GD20261122-0042: the next number of the company's local day.

    The counter row is bumped with a conditional UPDATE; on PostgreSQL the row lock is held until the
    creating transaction commits, so concurrent creates queue on it and never share a number; on
    SQLite writers are serialised anyway. The first create of a day inserts the row in a savepoint and
    falls back to the UPDATE if a concurrent create inserted it first.
    """
    day = _local_day(company, now)
    seq = _bump_counter(company.pk, day)
    if seq is None:
        try:
            with transaction.atomic():
                TicketNumberCounter.objects.create(company=company, day=day, last=1)
            seq = 1
        except IntegrityError:
            seq = _bump_counter(company.pk, day)
    return f"{NUMBER_PREFIX}{day:%Y%m%d}-{seq:04d}"


def _bump_counter(company_id: int, day) -> int | None:
    """UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35): one statement takes the lock and the value."""
    table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET last = last + 1 WHERE company_id = %s AND day = %s RETURNING last",
            [company_id, connection.ops.adapt_datefield_value(day)],
        )
        row = cur.fetchone()
    return row[0] if row else None


def _lock(ticket_id: int, by: User) -> Ticket:
    """The work order, locked for update, if `by` may see it and it is in `by`'s own company."""
    company_id = _require_company(by)
    try:
        ticket = (
            tickets_visible_to(by)
            .select_for_update(of=("self",))
            .select_related("kind", "company")
            .get(pk=ticket_id, company_id=company_id)
        )
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("没有找到该工单，或您无权查看。"), code="not_found")
    return ticket


def _check_version(ticket: Ticket, version: int | None) -> None:
    if version is not None and version != ticket.version:
        raise Conflict(
            _("工单 %(n)s 刚被其他人修改过（版本 %(v)d → %(cur)d），请刷新后再操作。")
            % {"n": ticket.number, "v": version, "cur": ticket.version},
            code="stale_version",
        )


def is_handler(user: User, ticket: Ticket) -> bool:
    """Owner, assignee, or a dispatcher / lead of the company: the people who may move a work order."""
    return user.pk in (ticket.owner_id, ticket.assigned_to_id) or role_allows(user, Perm.TICKET_DISPATCH)


def _assert_handler(by: User, ticket: Ticket) -> None:
    assert_perm(by, Perm.TICKET_WORK)
    if not is_handler(by, ticket):
        raise Forbidden(_("只有首问责任人、承办人或调度/班长可以办理此工单。"), code="not_handler")


def _bump(ticket: Ticket, now: datetime, fields: list[str]) -> None:
    ticket.version += 1
    ticket.updated_at = now
    ticket.save(update_fields=[*fields, "version", "updated_at"])


def _colleague(by: User, user_id: int | None, *, field_name: str) -> User:
    try:
        user = User.objects.get(pk=user_id, company_id=by.company_id, is_active=True)
    except (User.DoesNotExist, ValueError, TypeError):
        raise DomainError(_("本公司没有这位在岗员工。"), field=field_name, code="unknown_user")
    return user


# ---------------------------------------------------------------------------------------------- create


def _resolve_kind(company, code: str, sub_code: str | None) -> tuple[TicketKind, TicketSubKind | None]:
    kinds = {k.code: k for k in kinds_for(company)}
    kind = kinds.get((code or "").strip())
    if kind is None:
        raise DomainError(_("未知的工单类型：%(c)s。") % {"c": code}, field="kind")
    sub = None
    if sub_code:
        sub = next((s for s in kind.sub_kinds.all() if s.code == sub_code and s.is_active), None)
        if sub is None:
            raise DomainError(
                _("“%(k)s”没有子类“%(s)s”。") % {"k": kind.name, "s": sub_code}, field="sub_kind"
            )
    return kind, sub


def ticket_create(
    *,
    by: User,
    kind: str,
    content: str,
    channel: str = Channel.HOTLINE,
    sub_kind: str | None = None,
    severity: str | None = None,
    customer_id: int | None = None,
    premise_id: int | None = None,
    caller_surname: str = "",
    caller_title: str = "",
    caller_phone: str = "",
    address: str = "",
    received_at: datetime | None = None,
    backdate_reason: str = "",
    contact_started_at: datetime | None = None,
    resolved_on_call: bool = False,
    answer: str = "",
    idempotency_key: str = "",
    on_duplicate: str = "ask",
    link_to_id: int | None = None,
    link_kind: str = TicketLink.Kind.DUPLICATE_OF,
) -> CreateResult:
    """Record a contact as a work order owned by `by` (P1), numbered GD<yyyymmdd>-<seq> per company.

    - Required caller fields follow the kind (P5: repair and alarm need address and phone).
    - `resolved_on_call`: a consultation or a simple card/battery question answered on the call is
      created already resolved and counted as resolved at first contact (P3, P5, C15); `answer` is
      recorded as the reply given.
    - `received_at` earlier than now needs Perm.TICKET_BACKDATE and a reason, and is audited.
    - `idempotency_key`: a repeated request with the same key returns the first work order
      (`created=False`), so a telephone system's retry never makes two.
    - `on_duplicate="ask"` refuses with DuplicateFound when work orders of the same kind are open for
      the same customer or premise; `"create"` creates anyway; `link_to_id` links the new one.
    """
    company_id = _require_company(by)
    assert_perm(by, Perm.TICKET_CREATE)
    company = by.company
    key = (idempotency_key or "").strip()
    if len(key) > 100:
        raise DomainError(_("幂等键不能超过 100 个字符。"), field="idempotency_key")
    if key:
        existing = Ticket.objects.filter(company_id=company_id, idempotency_key=key).first()
        if existing is not None:
            return CreateResult(existing, False)

    kind_obj, sub_obj = _resolve_kind(company, kind, sub_kind)
    if channel not in Channel.values:
        raise DomainError(_("未知的受理渠道：%(c)s。") % {"c": channel}, field="channel")
    severity = severity or kind_obj.default_severity
    if severity not in Severity.values:
        raise DomainError(_("未知的级别：%(s)s。") % {"s": severity}, field="severity")
    content = _text(content, field_name="content", label=_("内容"))
    surname = _text(caller_surname, field_name="caller_surname", label=_("姓氏"), required=False, limit=4)
    if caller_title and caller_title not in Title.values:
        raise DomainError(_("称呼只能是先生或女士。"), field="caller_title")
    address = _text(address, field_name="address", label=_("地址"), required=False, limit=200)

    customer = premise = None
    if customer_id is not None:
        customer = Customer.objects.filter(pk=customer_id, company_id=company_id).select_related("premise").first()
        if customer is None:
            raise DomainError(_("本公司没有该客户。"), field="customer_id")
    if premise_id is not None:
        premise = Premise.objects.filter(pk=premise_id, company_id=company_id).first()
        if premise is None:
            raise DomainError(_("本公司没有该用气地址。"), field="premise_id")
    elif customer is not None:
        premise = customer.premise

    phone = ""
    if (caller_phone or "").strip():
        phone = normalize_phone(caller_phone, company.area_code) or ""
        if not phone:
            raise DomainError(_("电话号码格式不对：%(p)s。") % {"p": caller_phone}, field="caller_phone")
    elif customer is not None:
        primary = customer.phones.order_by("-is_primary", "id").values_list("number", flat=True).first()
        phone = primary or ""
    if not address and premise is not None:
        address = premise.address

    # P5: what each kind needs before it can be passed on.
    if kind_obj.requires_phone and not phone:
        raise DomainError(_("“%(k)s”工单必须填写联系电话。") % {"k": kind_obj.name}, field="caller_phone")
    if kind_obj.requires_address and not address:
        raise DomainError(_("“%(k)s”工单必须填写地址。") % {"k": kind_obj.name}, field="address")
    if kind_obj.requires_name and not (surname or customer):
        raise DomainError(_("“%(k)s”工单必须填写来电人姓氏。") % {"k": kind_obj.name}, field="caller_surname")

    now = timezone.now()
    received = received_at or now
    if timezone.is_naive(received):
        raise DomainError(_("受理时间必须带时区。"), field="received_at")
    if received > now + BACKDATE_TOLERANCE:
        raise DomainError(_("受理时间不能晚于现在。"), field="received_at")
    backdated = received < now - BACKDATE_TOLERANCE
    backdate_reason = (backdate_reason or "").strip()
    if backdated:
        if not role_allows(by, Perm.TICKET_BACKDATE):
            raise Forbidden(_("补录过去的受理时间需要相应权限。"), code="permission_denied")
        backdate_reason = _text(backdate_reason, field_name="backdate_reason", label=_("补录原因"), limit=MAX_REASON)
    else:
        backdate_reason = ""
    if contact_started_at is not None and (timezone.is_naive(contact_started_at) or contact_started_at > now):
        raise DomainError(_("接通时间无效。"), field="contact_started_at")

    if resolved_on_call and not kind_obj.can_resolve_on_call:
        raise DomainError(
            _("“%(k)s”工单不能当场办结，请派发给承办部门。") % {"k": kind_obj.name}, field="resolved_on_call"
        )
    answer = _text(answer, field_name="answer", label=_("答复"), required=False)

    link_target = None
    if link_to_id is not None:
        if link_kind not in TicketLink.Kind.values:
            raise DomainError(_("未知的关联关系。"), field="link_kind")
        link_target = tickets_visible_to(by).filter(pk=link_to_id, company_id=company_id).first()
        if link_target is None:
            raise DomainError(_("要关联的工单不存在。"), field="link_to_id")
    elif on_duplicate == "ask" and not resolved_on_call and (customer or premise):
        dups = list(open_duplicates(company_id=company_id, kind_id=kind_obj.pk, customer=customer, premise=premise))
        if dups:
            raise DuplicateFound(
                _("该客户已有未办结的“%(k)s”工单：%(n)s。请在原工单上记录再次来电，或关联后再新建。")
                % {"k": kind_obj.name, "n": "、".join(t.number for t in dups)},
                dups,
            )
    elif on_duplicate not in ("ask", "create"):
        raise DomainError(_("on_duplicate 只能是 ask 或 create。"), field="on_duplicate")

    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                company_id=company_id,
                number=_next_number(company, now),
                idempotency_key=key,
                kind=kind_obj,
                sub_kind=sub_obj,
                channel=channel,
                severity=severity,
                state=TicketState.RESOLVED if resolved_on_call else TicketState.NEW,
                customer=customer,
                premise=premise,
                caller_surname=surname,
                caller_title=caller_title or "",
                caller_phone=phone,
                address=address,
                content=content,
                received_at=received,
                backdate_reason=backdate_reason,
                contact_started_at=contact_started_at,
                resolved_at_first_contact=resolved_on_call,
                resolved_at=now if resolved_on_call else None,
                owner=by,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
            _event(
                ticket,
                TicketEvent.Kind.CREATED,
                by,
                {"kind": kind_obj.code, "channel": channel, "state": ticket.state, "resolved_on_call": resolved_on_call},
            )
            if answer:
                _event(ticket, TicketEvent.Kind.REPLY, by, {"text": answer, "via": channel})
            if link_target is not None:
                _link(ticket, link_target, link_kind, by)
            if backdated:
                audit_record(
                    action=Action.CREATED,
                    obj=ticket,
                    actor=by,
                    detail={"backdated": True, "received_at": received.isoformat(), "reason": backdate_reason},
                )
            hooks.fire_on_commit(hooks.TICKET_CREATED, ticket_id=ticket.pk)
    except IntegrityError:
        # Two requests with the same idempotency key raced: the loser returns the winner's work order.
        if key:
            existing = Ticket.objects.filter(company_id=company_id, idempotency_key=key).first()
            if existing is not None:
                return CreateResult(existing, False)
        raise
    return CreateResult(ticket, True)


# ------------------------------------------------------------------------------------------ transitions


def _apply_state(ticket: Ticket, to: str, by: User, *, reason: str, cancel_reason: str, now: datetime) -> None:
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
    payload = {"from": source, "to": to}
    if reason:
        payload["reason"] = reason
    if cancel_reason:
        payload["cancel_reason"] = cancel_reason
    _event(ticket, TicketEvent.Kind.STATE_CHANGED, by, payload)
    hooks.fire_on_commit(hooks.TICKET_STATE_CHANGED, ticket_id=ticket.pk, source=source, target=to)


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
    reason = _text(reason, field_name="reason", label=_("原因"), required=to in REASON_REQUIRED, limit=MAX_REASON)
    if to == TicketState.CANCELLED:
        if cancel_reason not in CancelReason.values:
            raise DomainError(_("取消工单须选择原因：重复、无效或客户撤回。"), field="cancel_reason")
    else:
        cancel_reason = ""
    if to in (TicketState.CLOSED, TicketState.CANCELLED) and not (
        by.pk == ticket.owner_id or role_allows(by, Perm.TICKET_DISPATCH)
    ):
        raise Forbidden(_("只有首问责任人或调度/班长可以关闭或取消工单。"), code="not_owner")
    return reason, cancel_reason


def ticket_transition(
    *, ticket_id: int, by: User, to: str, version: int | None, reason: str = "", cancel_reason: str = ""
) -> Ticket:
    """Move a work order along the table in kefu.tickets.states (refusing illegal moves with a clear
    message, DomainError) after checking the caller's `version` (stale → Conflict)."""
    with transaction.atomic():
        ticket = _lock(ticket_id, by)
        _check_version(ticket, version)
        _assert_handler(by, ticket)
        reason, cancel_reason = _validate_move(ticket, to, by, reason, cancel_reason)
        _apply_state(ticket, to, by, reason=reason, cancel_reason=cancel_reason, now=timezone.now())
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
        if ticket.state in FINAL_STATES or ticket.state == TicketState.RESOLVED:
            raise DomainError(
                _("工单 %(n)s 已是“%(s)s”，不能再派发。") % {"n": ticket.number, "s": state_label(ticket.state)},
                code="illegal_transition",
            )
        dept = team = person = None
        if department_id is not None:
            dept = Department.objects.filter(pk=department_id, company_id=ticket.company_id, is_active=True).first()
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
            if not role_allows(person, Perm.TICKET_WORK):
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
        _event(
            ticket,
            TicketEvent.Kind.ASSIGNED,
            by,
            {
                "before": before,
                "department": dept.name if dept else "",
                "department_id": dept.pk if dept else None,
                "team": team.name if team else "",
                "user": person.display_name if person else "",
                "user_id": person.pk if person else None,
                "note": note,
            },
        )
        if ticket.state != TicketState.ASSIGNED and can_move(ticket.state, TicketState.ASSIGNED):
            _apply_state(ticket, TicketState.ASSIGNED, by, reason="", cancel_reason="", now=now)
    return ticket


def ticket_reclassify(
    *, ticket_id: int, by: User, version: int | None, kind: str, sub_kind: str | None = None, reason: str = ""
) -> Ticket:
    """Change the kind / sub-kind (the agent classified the call wrongly). The commitment clocks are
    recomputed by the `ticket_kind_changed` hook (kefu.sla)."""
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
        _event(
            ticket,
            TicketEvent.Kind.RECLASSIFIED,
            by,
            {"before": before, "kind": kind_obj.code, "sub_kind": sub_obj.code if sub_obj else None, "reason": reason},
        )
        hooks.fire_on_commit(hooks.TICKET_KIND_CHANGED, ticket_id=ticket.pk)
    return ticket


# ------------------------------------------------------------------------------------- ownership (P1)


def ticket_hand_over(*, ticket_id: int, by: User, to_user_id: int, reason: str, version: int | None = None) -> HandOver:
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
        if not (role_allows(to, Perm.TICKET_WORK) and role_allows(to, Perm.TICKET_VIEW_ALL)):
            raise DomainError(_("该员工的角色不能作为工单责任人。"), field="to_user_id")
        reason = _text(reason, field_name="reason", label=_("移交原因"), limit=MAX_REASON)
        if HandOver.objects.filter(ticket=ticket, status=HandOver.Status.PENDING).exists():
            raise Conflict(_("该工单已有一个待接收的移交。"), code="pending_hand_over")
        ho = HandOver.objects.create(
            company_id=ticket.company_id, ticket=ticket, from_user=by, to_user=to, reason=reason
        )
        _event(
            ticket,
            TicketEvent.Kind.HANDED_OVER,
            by,
            {"hand_over_id": ho.pk, "to_user_id": to.pk, "to": to.display_name, "reason": reason},
        )
    return ho


def _lock_hand_over(hand_over_id: int, by: User) -> tuple[HandOver, Ticket]:
    company_id = _require_company(by)
    ho = HandOver.objects.filter(pk=hand_over_id, company_id=company_id).first()
    if ho is None:
        raise NotFound(_("没有找到该移交。"), code="not_found")
    ticket = Ticket.objects.select_for_update().get(pk=ho.ticket_id)
    ho = HandOver.objects.select_for_update().get(pk=ho.pk)
    if ho.status != HandOver.Status.PENDING:
        raise Conflict(_("该移交已处理（%(s)s）。") % {"s": ho.get_status_display()}, code="hand_over_decided")
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
        _event(ticket, TicketEvent.Kind.ACCEPTED, by, {"hand_over_id": ho.pk, "from_user_id": previous})
        audit_record(
            action=Action.UPDATED,
            obj=ticket,
            actor=by,
            detail={"owner": [previous, by.pk], "hand_over_id": ho.pk, "reason": ho.reason},
        )
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
        _event(ticket, TicketEvent.Kind.DECLINED, by, {"hand_over_id": ho.pk, "note": note})
    return ho


def ticket_withdraw_hand_over(*, hand_over_id: int, by: User) -> HandOver:
    """The owner takes back a hand-over nobody has accepted yet."""
    with transaction.atomic():
        ho, ticket = _lock_hand_over(hand_over_id, by)
        if ho.from_user_id != by.pk:
            raise Forbidden(_("只有移交人可以撤回此移交。"), code="not_owner")
        ho.status, ho.decided_at = HandOver.Status.WITHDRAWN, timezone.now()
        ho.save(update_fields=["status", "decided_at"])
        _event(ticket, TicketEvent.Kind.DECLINED, by, {"hand_over_id": ho.pk, "withdrawn": True})
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
        if not (role_allows(to, Perm.TICKET_WORK) and role_allows(to, Perm.TICKET_VIEW_ALL)):
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
        _event(
            ticket,
            TicketEvent.Kind.REASSIGNED,
            by,
            {"from_user_id": previous, "to_user_id": to.pk, "to": to.display_name, "reason": reason},
        )
        audit_record(action=Action.UPDATED, obj=ticket, actor=by, detail={"owner": [previous, to.pk], "reason": reason})
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
            raise DomainError(_("非紧急情况须逐级请示，不能越级上报。"), field="to_user_id", code="skip_level")
        reason = _text(reason, field_name="reason", label=_("请示内容"), limit=MAX_TEXT)
        return _event(
            ticket,
            TicketEvent.Kind.ESCALATED,
            by,
            {"to_user_id": to.pk, "to": to.display_name, "reason": reason, "skipped_levels": skipped,
             "report_afterwards": bool(skipped)},
        )


# ------------------------------------------------------------------------------------ timeline entries


def _open_for_notes(ticket_id: int, by: User) -> Ticket:
    company_id = _require_company(by)
    assert_perm(by, Perm.TICKET_WORK)
    ticket = tickets_visible_to(by).filter(pk=ticket_id, company_id=company_id).first()
    if ticket is None:
        raise NotFound(_("没有找到该工单，或您无权查看。"), code="not_found")
    return ticket


def ticket_comment(*, ticket_id: int, by: User, text: str) -> TicketEvent:
    """An internal note on the timeline (not shown to the customer). Anyone who may work on and see
    the work order may add one; notes never conflict, so no version is needed."""
    ticket = _open_for_notes(ticket_id, by)
    text = _text(text, field_name="text", label=_("备注"))
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        return _event(ticket, TicketEvent.Kind.COMMENT, by, {"text": text})


def ticket_reply(*, ticket_id: int, by: User, text: str, via: str = Channel.HOTLINE) -> TicketEvent:
    """What was told to the customer (by phone, SMS, letter …), by the owner, assignee or a lead."""
    ticket = _open_for_notes(ticket_id, by)
    if not is_handler(by, ticket):
        raise Forbidden(_("只有首问责任人、承办人或调度/班长可以答复客户。"), code="not_handler")
    if via not in Channel.values and via != "sms":
        raise DomainError(_("未知的答复方式。"), field="via")
    text = _text(text, field_name="text", label=_("答复内容"))
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        return _event(ticket, TicketEvent.Kind.REPLY, by, {"text": text, "via": via})


CONTACT_OUTCOMES = {"reached": "已联系上", "no_answer": "无人接听", "busy": "占线", "wrong_number": "号码错误"}


def ticket_record_contact_attempt(*, ticket_id: int, by: User, outcome: str, note: str = "") -> TicketEvent:
    """One attempt to reach the customer (call back, visit), with its outcome."""
    ticket = _open_for_notes(ticket_id, by)
    if outcome not in CONTACT_OUTCOMES:
        raise DomainError(_("联系结果无效。"), field="outcome")
    note = _text(note, field_name="note", label=_("说明"), required=False, limit=MAX_REASON)
    return _event(ticket, TicketEvent.Kind.CONTACT_ATTEMPT, by, {"outcome": outcome, "note": note})


def ticket_record_called_again(*, ticket_id: int, by: User, note: str = "", channel: str = Channel.HOTLINE) -> Ticket:
    """The customer called again about an open work order (P1: the customer never has to start over):
    recorded on that work order instead of opening a new one. The counter is bumped with an atomic
    UPDATE (not the version), so it never conflicts with the people working on it."""
    ticket = _open_for_notes(ticket_id, by)
    if ticket.state in FINAL_STATES:
        raise DomainError(
            _("工单 %(n)s 已关闭，请新建工单并关联为跟进。") % {"n": ticket.number}, code="illegal_transition"
        )
    if channel not in Channel.values:
        raise DomainError(_("未知的受理渠道：%(c)s。") % {"c": channel}, field="channel")
    note = _text(note, field_name="note", label=_("说明"), required=False)
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(
            called_again_count=F("called_again_count") + 1, updated_at=timezone.now()
        )
        _event(ticket, TicketEvent.Kind.CALLED_AGAIN, by, {"note": note, "channel": channel})
    ticket.refresh_from_db()
    return ticket


def ticket_add_attachment(*, ticket_id: int, by: User, upload) -> Attachment:
    """A photo or document (jpg/png/webp/pdf/docx/xlsx/txt up to 10 MB), checked by extension,
    declared type and leading bytes."""
    ticket = _open_for_notes(ticket_id, by)
    name = os.path.basename(getattr(upload, "name", "") or "")[:200]
    ext = os.path.splitext(name)[1].lower()
    size = getattr(upload, "size", 0) or 0
    if ext not in ATTACHMENT_TYPES:
        raise DomainError(_("不支持的文件类型，请上传图片、PDF、Word、Excel 或文本文件。"), field="file")
    if size <= 0:
        raise DomainError(_("文件是空的。"), field="file")
    if size > ATTACHMENT_MAX_BYTES:
        raise DomainError(_("文件不能超过 10 MB。"), field="file")
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if declared and declared not in ATTACHMENT_TYPES[ext] and declared != "application/octet-stream":
        raise DomainError(_("文件内容类型与扩展名不符。"), field="file")
    head = upload.read(16)
    upload.seek(0)
    if ext in _MAGIC and not any(head.startswith(m) for m in _MAGIC[ext]):
        raise DomainError(_("文件内容与扩展名不符。"), field="file")
    with transaction.atomic():
        att = Attachment(
            company_id=ticket.company_id,
            ticket=ticket,
            original_name=name,
            content_type=ATTACHMENT_TYPES[ext][0],
            size=size,
            uploaded_by=by,
        )
        att.file.save(name, upload, save=False)
        att.save()
        _event(ticket, TicketEvent.Kind.ATTACHMENT, by, {"attachment_id": att.pk, "name": name, "size": size})
    return att


# ------------------------------------------------------------------------------ links and mass incidents


def _link(source: Ticket, target: Ticket, kind: str, by: User) -> TicketLink:
    if source.pk == target.pk:
        raise DomainError(_("工单不能关联自己。"), field="target_id")
    if source.company_id != target.company_id:
        raise DomainError(_("只能关联本公司的工单。"), field="target_id")
    if TicketLink.objects.filter(source=source, target=target, kind=kind).exists():
        raise Conflict(_("这两个工单已经关联过了。"), code="already_linked")
    if kind == TicketLink.Kind.CHILD_OF:
        if TicketLink.objects.filter(source=target, kind=TicketLink.Kind.CHILD_OF).exists():
            raise DomainError(_("父工单本身是子工单，请关联到最上层的父工单。"), field="target_id")
        if TicketLink.objects.filter(target=source, kind=TicketLink.Kind.CHILD_OF).exists():
            raise DomainError(_("该工单已有子工单，不能再作为子工单。"), field="target_id")
        if TicketLink.objects.filter(source=source, kind=TicketLink.Kind.CHILD_OF).exists():
            raise DomainError(_("该工单已有父工单。"), field="target_id")
    link = TicketLink.objects.create(company_id=source.company_id, source=source, target=target, kind=kind, created_by=by)
    _event(source, TicketEvent.Kind.LINKED, by, {"kind": kind, "target_id": target.pk, "target": target.number})
    _event(target, TicketEvent.Kind.LINKED, by, {"kind": kind, "source_id": source.pk, "source": source.number, "inverse": True})
    return link


def ticket_link(*, ticket_id: int, by: User, target_id: int, kind: str) -> TicketLink:
    """Record that this work order is a duplicate of / a follow-up of / a child of another."""
    if kind not in TicketLink.Kind.values:
        raise DomainError(_("未知的关联关系。"), field="kind")
    with transaction.atomic():
        source = _lock(ticket_id, by)
        assert_perm(by, Perm.TICKET_WORK)
        target = tickets_visible_to(by).filter(pk=target_id, company_id=source.company_id).first()
        if target is None:
            raise DomainError(_("要关联的工单不存在。"), field="target_id")
        return _link(source, target, kind, by)


def ticket_close_children(*, ticket_id: int, by: User, reason: str, version: int | None = None) -> list[Ticket]:
    """Mass incident (one leak, one outage, many calls): close the parent and every linked child
    together, each through the state table (open → resolved → closed) with its own events.
    Returns the work orders that were closed."""
    with transaction.atomic():
        parent = _lock(ticket_id, by)
        _check_version(parent, version)
        assert_perm(by, Perm.TICKET_WORK)
        if not (by.pk == parent.owner_id or role_allows(by, Perm.TICKET_DISPATCH)):
            raise Forbidden(_("只有父工单的责任人或调度/班长可以批量关闭。"), code="not_owner")
        reason = _text(reason, field_name="reason", label=_("办结说明"), limit=MAX_REASON)
        child_ids = list(
            TicketLink.objects.filter(target=parent, kind=TicketLink.Kind.CHILD_OF).values_list("source_id", flat=True)
        )
        children = list(Ticket.objects.select_for_update().filter(pk__in=child_ids).order_by("pk"))
        closed: list[Ticket] = []
        now = timezone.now()
        for t in [parent, *children]:
            if t.state in FINAL_STATES:
                continue
            note = reason if t is parent else _("随父工单 %(n)s 办结：%(r)s") % {"n": parent.number, "r": reason}
            if t.state != TicketState.RESOLVED:
                if not can_move(t.state, TicketState.RESOLVED):
                    continue
                _apply_state(t, TicketState.RESOLVED, by, reason=note[:MAX_REASON], cancel_reason="", now=now)
            _apply_state(t, TicketState.CLOSED, by, reason=note[:MAX_REASON], cancel_reason="", now=now)
            closed.append(t)
    return closed
