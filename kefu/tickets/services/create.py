"""Creating a work order (P1 owner, P3/P5 required fields, C15, idempotency, duplicates)."""
from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import User
from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.customers.models import Customer, Premise
from kefu.customers.normalize import normalize_phone
from kefu.core.errors import DomainError, Forbidden
from kefu.core.events import publish
from kefu.tickets.facts import TicketCreated, TicketReplied
from kefu.tickets import events as timeline
from kefu.tickets.models import Channel, Severity, Ticket, TicketLink, Title
from kefu.tickets.selectors import open_duplicates, tickets_visible_to
from kefu.tickets.states import TicketState
from kefu.tickets.services.common import (
    BACKDATE_TOLERANCE,
    CreateResult,
    DuplicateFound,
    MAX_REASON,
    _link,
    _next_number,
    _require_company,
    _resolve_kind,
    _text,
)


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
    """
    company_id = _require_company(by)
    assert_perm(by, Perm.TICKET_CREATE)
    company = by.company
    key = (idempotency_key or "").strip()
    if "\x00" in key:
        raise DomainError(_("幂等键含有非法字符。"), field="idempotency_key")
    if len(key) > 100:
        raise DomainError(_("幂等键不能超过 100 个字符。"), field="idempotency_key")

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
        customer = (
            Customer.objects.filter(pk=customer_id, company_id=company_id).select_related("premise", "category").first()
        )
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
        repeated = next((t for t in dups if key and t.idempotency_key == key), None)
        if repeated is not None:  # the retry of the request that created it
            return CreateResult(repeated, False)
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
                company=company,
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
            timeline.created(
                ticket, by, kind_code=kind_obj.code, channel=channel, state=ticket.state, resolved_on_call=resolved_on_call
            )
            reply = timeline.reply(ticket, by, text=answer, via=channel) if answer else None
            if link_target is not None:
                _link(ticket, link_target, link_kind, by)
            if backdated:
                audit_record(
                    action=Action.CREATED,
                    obj=ticket,
                    actor=by,
                    detail={"backdated": True, "received_at": received.isoformat(), "reason": backdate_reason},
                )
            publish(TicketCreated(ticket_id=ticket.pk, ticket=ticket))
            if reply is not None and not resolved_on_call:  # resolved on the call: the state stands for it
                publish(TicketReplied(ticket_id=ticket.pk, at=reply.at, event_id=reply.pk, via=channel))
    except IntegrityError:
        # A repeated idempotency key (a retry, or two requests racing): the first work order wins.
        if key:
            existing = _by_idempotency_key(company_id, key)
            if existing is not None:
                return CreateResult(existing, False)
        raise
    return CreateResult(ticket, True)


def _by_idempotency_key(company_id: int, key: str) -> Ticket | None:
    """The work order an earlier request with this idempotency key created. The condition of the
    partial unique index is repeated, or SQLite cannot use the index and scans every work order."""
    return Ticket.objects.filter(company_id=company_id, idempotency_key=key).exclude(idempotency_key="").first()
