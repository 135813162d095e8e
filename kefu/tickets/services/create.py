"""Creating a work order (P1 owner, P3/P5 required fields, C15, idempotency, duplicates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import User
from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError, Forbidden
from kefu.core.events import publish
from kefu.customers.models import Customer, Premise
from kefu.customers.normalize import normalize_phone
from kefu.tickets import events as timeline
from kefu.tickets.facts import TicketCreated, TicketReplied
from kefu.tickets.models import Channel, Severity, Ticket, TicketKind, TicketLink, TicketSubKind, Title
from kefu.tickets.selectors import open_duplicates, tickets_visible_to
from kefu.tickets.services.common import (
    BACKDATE_TOLERANCE,
    MAX_REASON,
    CreateResult,
    DuplicateFound,
    _link,
    _next_number,
    _require_company,
    _resolve_kind,
    _text,
)
from kefu.tickets.states import TicketState


@dataclass(frozen=True)
class CreatePlan:
    """A create request that passed every check (`ticket_create_check`): what `_ticket_write` writes.
    `repeat` is the work order an earlier request with the same idempotency key created (nothing to
    write)."""

    by: User
    company: Any
    key: str
    kind: TicketKind
    sub_kind: TicketSubKind | None
    channel: str
    severity: str
    content: str
    surname: str
    caller_title: str
    phone: str
    address: str
    customer: Customer | None
    premise: Premise | None
    now: datetime
    received: datetime
    backdated: bool
    backdate_reason: str
    contact_started_at: datetime | None
    resolved_on_call: bool
    answer: str
    link_target: Ticket | None
    link_kind: str
    repeat: Ticket | None = None


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
      (`created=False`), so a telephone system's retry never makes two. The unique index finds the
      repeat when it inserts (the transaction, number included, is rolled back), so a first request
      pays no extra read; a repeat is validated like the first request.
    - `on_duplicate="ask"` refuses with DuplicateFound when work orders of the same kind are open for
      the same customer or premise; `"create"` creates anyway; `link_to_id` links the new one.

    A check (`ticket_create_check`: reads only, raises on the first broken rule) and a write
    (`_ticket_write`: one transaction); docs/tickets.md counts their round trips.
    """
    plan = ticket_create_check(
        by=by,
        kind=kind,
        content=content,
        channel=channel,
        sub_kind=sub_kind,
        severity=severity,
        customer_id=customer_id,
        premise_id=premise_id,
        caller_surname=caller_surname,
        caller_title=caller_title,
        caller_phone=caller_phone,
        address=address,
        received_at=received_at,
        backdate_reason=backdate_reason,
        contact_started_at=contact_started_at,
        resolved_on_call=resolved_on_call,
        answer=answer,
        idempotency_key=idempotency_key,
        on_duplicate=on_duplicate,
        link_to_id=link_to_id,
        link_kind=link_kind,
    )
    if plan.repeat is not None:  # the retry of the request that created it
        return CreateResult(plan.repeat, False)
    return _ticket_write(plan)


def ticket_create_check(
    *,
    by: User,
    kind: str,
    content: str,
    channel: str,
    sub_kind: str | None,
    severity: str | None,
    customer_id: int | None,
    premise_id: int | None,
    caller_surname: str,
    caller_title: str,
    caller_phone: str,
    address: str,
    received_at: datetime | None,
    backdate_reason: str,
    contact_started_at: datetime | None,
    resolved_on_call: bool,
    answer: str,
    idempotency_key: str,
    on_duplicate: str,
    link_to_id: int | None,
    link_kind: str,
) -> CreatePlan:
    """Every rule of a create, in the order the caller is told about them (P1, P3, P5, C15); reads
    but writes nothing. Returns the validated plan (see ticket_create for the rules)."""
    company_id = _require_company(by)
    assert_perm(by, Perm.TICKET_CREATE)
    company = by.company
    key = _check_key(idempotency_key)
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
    customer, premise = _check_customer(company_id, customer_id, premise_id)
    phone, address = _caller_contact(company, customer, premise, caller_phone, address)
    _check_required_fields(kind_obj, phone=phone, address=address, named=bool(surname or customer))
    now = timezone.now()
    received, backdated, backdate_reason = _check_received(by, now, received_at, backdate_reason)
    if contact_started_at is not None and (timezone.is_naive(contact_started_at) or contact_started_at > now):
        raise DomainError(_("接通时间无效。"), field="contact_started_at")
    if resolved_on_call and not kind_obj.can_resolve_on_call:
        raise DomainError(
            _("“%(k)s”工单不能当场办结，请派发给承办部门。") % {"k": kind_obj.name}, field="resolved_on_call"
        )
    answer = _text(answer, field_name="answer", label=_("答复"), required=False)
    if resolved_on_call and not answer:  # C15: resolved at first contact means the caller was answered
        raise DomainError(_("当场办结须填写给客户的答复内容。"), field="answer")
    link_target, repeat = _check_link_or_duplicates(
        by,
        company_id,
        kind_obj,
        key=key,
        customer=customer,
        premise=premise,
        resolved_on_call=resolved_on_call,
        on_duplicate=on_duplicate,
        link_to_id=link_to_id,
        link_kind=link_kind,
    )
    return CreatePlan(
        by=by,
        company=company,
        key=key,
        kind=kind_obj,
        sub_kind=sub_obj,
        channel=channel,
        severity=severity,
        content=content,
        surname=surname,
        caller_title=caller_title or "",
        phone=phone,
        address=address,
        customer=customer,
        premise=premise,
        now=now,
        received=received,
        backdated=backdated,
        backdate_reason=backdate_reason,
        contact_started_at=contact_started_at,
        resolved_on_call=resolved_on_call,
        answer=answer,
        link_target=link_target,
        link_kind=link_kind,
        repeat=repeat,
    )


def _check_key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if "\x00" in key:
        raise DomainError(_("幂等键含有非法字符。"), field="idempotency_key")
    if len(key) > 100:
        raise DomainError(_("幂等键不能超过 100 个字符。"), field="idempotency_key")
    return key


def _check_customer(
    company_id: int, customer_id: int | None, premise_id: int | None
) -> tuple[Customer | None, Premise | None]:
    """The registered customer and premise named, of the caller's own company (S2)."""
    customer = premise = None
    if customer_id is not None:
        customer = (
            Customer.objects.filter(pk=customer_id, company_id=company_id)
            .select_related("premise", "category")
            .first()
        )
        if customer is None:
            raise DomainError(_("本公司没有该客户。"), field="customer_id")
    if premise_id is not None:
        premise = Premise.objects.filter(pk=premise_id, company_id=company_id).first()
        if premise is None:
            raise DomainError(_("本公司没有该用气地址。"), field="premise_id")
    elif customer is not None:
        premise = customer.premise
    return customer, premise


def _caller_contact(company, customer, premise, caller_phone: str, address: str) -> tuple[str, str]:
    """The phone (normalised; else the customer's primary) and the address (else the premise's)."""
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
    return phone, address


def _check_required_fields(kind_obj: TicketKind, *, phone: str, address: str, named: bool) -> None:
    """P5: what each kind needs before it can be passed on."""
    if kind_obj.requires_phone and not phone:
        raise DomainError(_("“%(k)s”工单必须填写联系电话。") % {"k": kind_obj.name}, field="caller_phone")
    if kind_obj.requires_address and not address:
        raise DomainError(_("“%(k)s”工单必须填写地址。") % {"k": kind_obj.name}, field="address")
    if kind_obj.requires_name and not named:
        raise DomainError(_("“%(k)s”工单必须填写来电人姓氏。") % {"k": kind_obj.name}, field="caller_surname")


def _check_received(
    by: User, now: datetime, received_at: datetime | None, backdate_reason: str
) -> tuple[datetime, bool, str]:
    """The time received: now, or an earlier time with Perm.TICKET_BACKDATE and a reason."""
    received = received_at or now
    if timezone.is_naive(received):
        raise DomainError(_("受理时间必须带时区。"), field="received_at")
    if received > now + BACKDATE_TOLERANCE:
        raise DomainError(_("受理时间不能晚于现在。"), field="received_at")
    backdated = received < now - BACKDATE_TOLERANCE
    if not backdated:
        return received, False, ""
    if not role_allows(by, Perm.TICKET_BACKDATE):
        raise Forbidden(_("补录过去的受理时间需要相应权限。"), code="permission_denied")
    reason = _text(
        (backdate_reason or "").strip(), field_name="backdate_reason", label=_("补录原因"), limit=MAX_REASON
    )
    return received, True, reason


def _check_link_or_duplicates(
    by: User,
    company_id: int,
    kind_obj: TicketKind,
    *,
    key: str,
    customer,
    premise,
    resolved_on_call: bool,
    on_duplicate: str,
    link_to_id: int | None,
    link_kind: str,
) -> tuple[Ticket | None, Ticket | None]:
    """(the work order to link to, the earlier work order this request repeats): a link target the
    user may see; else open work orders of the same kind for the customer or premise refuse the
    create (DuplicateFound) unless `on_duplicate="create"`."""
    if link_to_id is not None:
        if link_kind not in TicketLink.Kind.values:
            raise DomainError(_("未知的关联关系。"), field="link_kind")
        target = tickets_visible_to(by).filter(pk=link_to_id, company_id=company_id).first()
        if target is None:
            raise DomainError(_("要关联的工单不存在。"), field="link_to_id")
        return target, None
    if on_duplicate == "ask" and not resolved_on_call and (customer or premise):
        dups = list(
            open_duplicates(company_id=company_id, kind_id=kind_obj.pk, customer=customer, premise=premise)
        )
        repeated = next((t for t in dups if key and t.idempotency_key == key), None)
        if repeated is not None:
            return None, repeated
        if dups:
            raise DuplicateFound(
                _("该客户已有未办结的“%(k)s”工单：%(n)s。请在原工单上记录再次来电，或关联后再新建。")
                % {"k": kind_obj.name, "n": "、".join(t.number for t in dups)},
                dups,
            )
    elif on_duplicate not in ("ask", "create"):
        raise DomainError(_("on_duplicate 只能是 ask 或 create。"), field="on_duplicate")
    return None, None


def _ticket_write(plan: CreatePlan) -> CreateResult:
    """Write a checked create in one transaction: number, work order, timeline, link, audit of a
    backdated time, and the facts published on commit (TicketCreated, TicketReplied)."""
    by, company = plan.by, plan.company
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                company=company,
                number=_next_number(company, plan.now),
                idempotency_key=plan.key,
                kind=plan.kind,
                sub_kind=plan.sub_kind,
                channel=plan.channel,
                severity=plan.severity,
                state=TicketState.RESOLVED if plan.resolved_on_call else TicketState.NEW,
                customer=plan.customer,
                premise=plan.premise,
                caller_surname=plan.surname,
                caller_title=plan.caller_title,
                caller_phone=plan.phone,
                address=plan.address,
                content=plan.content,
                received_at=plan.received,
                backdate_reason=plan.backdate_reason,
                contact_started_at=plan.contact_started_at,
                resolved_at_first_contact=plan.resolved_on_call,
                resolved_at=plan.now if plan.resolved_on_call else None,
                owner=by,
                created_by=by,
                created_at=plan.now,
                updated_at=plan.now,
            )
            timeline.created(
                ticket,
                by,
                kind_code=plan.kind.code,
                channel=plan.channel,
                state=ticket.state,
                resolved_on_call=plan.resolved_on_call,
            )
            reply = timeline.reply(ticket, by, text=plan.answer, via=plan.channel) if plan.answer else None
            if plan.link_target is not None:
                _link(ticket, plan.link_target, plan.link_kind, by)
            if plan.backdated:
                audit_record(
                    action=Action.CREATED,
                    obj=ticket,
                    actor=by,
                    detail={
                        "backdated": True,
                        "received_at": plan.received.isoformat(),
                        "reason": plan.backdate_reason,
                    },
                )
            publish(TicketCreated(ticket_id=ticket.pk, ticket=ticket))
            if (
                reply is not None and not plan.resolved_on_call
            ):  # resolved on the call: the state stands for it
                publish(TicketReplied(ticket_id=ticket.pk, at=reply.at, event_id=reply.pk, via=plan.channel))
    except IntegrityError:
        # A repeated idempotency key (a retry, or two requests racing): the first work order wins.
        if plan.key:
            existing = _by_idempotency_key(company.pk, plan.key)
            if existing is not None:
                return CreateResult(existing, False)
        raise
    return CreateResult(ticket, True)


def _by_idempotency_key(company_id: int, key: str) -> Ticket | None:
    """The work order an earlier request with this idempotency key created. The condition of the
    partial unique index is repeated, or SQLite cannot use the index and scans every work order."""
    return (
        Ticket.objects.filter(company_id=company_id, idempotency_key=key).exclude(idempotency_key="").first()
    )
