"""Writes of customers: create and update with phones and premise (issue 2 item 5).

Every write validates, checks role (customer.edit) and company (S2), runs in one transaction, and
leaves an audit row with what changed (S2, 等保 level 3). Updates use optimistic locking on
`Customer.version`: a stale version raises Conflict (HTTP 409) instead of overwriting a colleague's
change. Status changes append a CustomerStatusChange row, which K1/K4 read for "active in month M".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record, diff_fields
from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_can_write, assert_perm
from kefu.core.errors import Conflict, DomainError, NotFound
from kefu.customers.models import (
    CareRegistration,
    Customer,
    CustomerCategory,
    CustomerStatusChange,
    Phone,
    Premise,
)
from kefu.customers.normalize import (
    clean_text,
    community_name,
    fold,
    normalize_part,
    normalize_phone,
    parse_address,
    phone_kind,
)
from kefu.customers.rules import MAX_LEN, clean_account_no

MAX_PHONES = 10

ADDRESS_FIELDS = ("address", "district", "street", "community", "building", "unit", "room", "supply_zone")
UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "category",
        "status",
        "status_reason",
        "status_effective_on",
        "opened_on",
        "notes",
        "phones",
        *ADDRESS_FIELDS,
    }
)


@dataclass(frozen=True)
class PhoneInput:
    """A phone as a form or the API gives it; `number` in any written form (normalised here)."""

    number: str
    is_primary: bool = False
    label: str = ""
    kind: str = ""


# --- validation (one place per rule) ------------------------------------------------------------


def clean_name(value: str) -> str:
    name = fold(value or "")
    if not name:
        raise DomainError(_("户名不能为空。"), field="name")
    if len(name) > MAX_LEN["name"]:
        raise DomainError(_("户名不能超过 %(n)d 个字符。") % {"n": MAX_LEN["name"]}, field="name")
    return name


def resolve_category(*, company_id: int, value: str) -> CustomerCategory:
    """A category of the company by code or by name ("resident" or "居民")."""
    value = fold(value or "")
    cat = (
        CustomerCategory.objects.filter(company_id=company_id, code=value).first()
        or CustomerCategory.objects.filter(company_id=company_id, name=value).first()
    )
    if cat is None:
        raise DomainError(_("未知的客户类别：%(v)s") % {"v": value}, field="category")
    return cat


def clean_phones(phones: Iterable[PhoneInput | Mapping[str, Any]], *, area_code: str) -> list[PhoneInput]:
    """Normalise phones (+86, spaces, dashes, local landlines get the area code), refuse invalid or
    repeated numbers, and make exactly one primary (the first, unless one is marked)."""
    out: list[PhoneInput] = []
    seen: set[str] = set()
    items = [p if isinstance(p, PhoneInput) else _phone_input(p) for p in phones]
    if len(items) > MAX_PHONES:
        raise DomainError(_("电话最多 %(n)d 个。") % {"n": MAX_PHONES}, field="phones")
    for i, p in enumerate(items):
        number = normalize_phone(p.number or "", area_code)
        if number is None:
            raise DomainError(_("电话号码无效：%(v)s") % {"v": p.number}, field=f"phones[{i}].number")
        if number in seen:
            raise DomainError(_("电话号码重复：%(v)s") % {"v": number}, field=f"phones[{i}].number")
        seen.add(number)
        kind = p.kind or phone_kind(number)
        if kind not in Phone.Kind.values:
            raise DomainError(_("未知的电话类型：%(v)s") % {"v": kind}, field=f"phones[{i}].kind")
        out.append(
            PhoneInput(
                number=number,
                is_primary=bool(p.is_primary),
                label=fold(p.label or "")[: MAX_LEN["phone_label"]],
                kind=kind,
            )
        )
    primaries = [p for p in out if p.is_primary]
    if len(primaries) > 1:
        raise DomainError(_("只能有一个主要号码。"), field="phones")
    if out and not primaries:
        out[0] = PhoneInput(number=out[0].number, is_primary=True, label=out[0].label, kind=out[0].kind)
    return out


def _phone_input(data: Mapping[str, Any]) -> PhoneInput:
    if not isinstance(data, Mapping):
        raise DomainError(_("电话格式有误。"), field="phones")
    return PhoneInput(
        number=str(data.get("number") or ""),
        is_primary=bool(data.get("is_primary")),
        label=str(data.get("label") or ""),
        kind=str(data.get("kind") or ""),
    )


def clean_notes(value: str | None) -> str:
    notes = clean_text(value)
    if len(notes) > MAX_LEN["notes"]:
        raise DomainError(_("备注不能超过 %(n)d 个字符。") % {"n": MAX_LEN["notes"]}, field="notes")
    return notes


def clean_status(value: str) -> str:
    if value not in Customer.Status.values:
        raise DomainError(_("未知的客户状态：%(v)s") % {"v": value}, field="status")
    return value


def premise_parts(fields: Mapping[str, Any]) -> dict[str, str]:
    """The structured address: explicit building/unit/room win; otherwise parsed from the address line."""
    address = fold(fields.get("address") or "")
    if len(address) > MAX_LEN["address"]:
        raise DomainError(_("地址不能超过 %(n)d 个字符。") % {"n": MAX_LEN["address"]}, field="address")
    parsed = parse_address(address)
    parts = {
        "address": address,
        "district": fold(fields.get("district") or "")[: MAX_LEN["district"]],
        "street": fold(fields.get("street") or "")[: MAX_LEN["street"]],
        "community": fold(fields.get("community") or "")
        or community_name(parsed.community)[: MAX_LEN["community"]],
        "building": normalize_part(fields.get("building") or "") or parsed.building,
        "unit": normalize_part(fields.get("unit") or "") or parsed.unit,
        "room": normalize_part(fields.get("room") or "") or parsed.room,
        "supply_zone": fold(fields.get("supply_zone") or "")[: MAX_LEN["supply_zone"]],
    }
    for key in ("community", "building", "unit", "room"):
        if len(parts[key]) > MAX_LEN[key]:
            raise DomainError(_("地址字段过长：%(f)s") % {"f": key}, field=key)
    return parts


# --- snapshots for the audit diff ---------------------------------------------------------------


def _snapshot(customer: Customer) -> dict[str, Any]:
    p = customer.premise
    snap: dict[str, Any] = {
        "account_no": customer.account_no,
        "name": customer.name,
        "category": customer.category.code if customer.category_id else None,
        "status": customer.status,
        "opened_on": customer.opened_on.isoformat() if customer.opened_on else None,
        "notes": customer.notes,
        "phones": [
            f"{ph.number}{'*' if ph.is_primary else ''}"
            for ph in customer.phones.order_by("-is_primary", "number")
        ],
    }
    for f in ADDRESS_FIELDS:
        snap[f] = getattr(p, f) if p else ""
    return snap


def _write_phones(customer: Customer, phones: list[PhoneInput]) -> None:
    customer.phones.all().delete()
    Phone.objects.bulk_create(
        [
            Phone(customer=customer, number=p.number, kind=p.kind, is_primary=p.is_primary, label=p.label)
            for p in phones
        ]
    )


def _today() -> date:
    return timezone.localdate()


def _apply_status(customer: Customer, *, status: str, effective_on: date, by, reason: str) -> None:
    customer.status = status
    if status == Customer.Status.SUSPENDED:
        customer.suspended_on = effective_on
    elif status == Customer.Status.CLOSED:
        customer.closed_on = effective_on
    elif status == Customer.Status.ACTIVE:
        customer.opened_on = customer.opened_on or effective_on
        customer.suspended_on = None
        customer.closed_on = None
    CustomerStatusChange.objects.create(
        customer=customer,
        status=status,
        effective_on=effective_on,
        recorded_by=by,
        reason=reason[: MAX_LEN["status_reason"]],
    )


# --- services -----------------------------------------------------------------------------------


def customer_create(
    *,
    user,
    account_no: str,
    name: str,
    category: str,
    phones: Iterable[PhoneInput | Mapping[str, Any]] = (),
    status: str = Customer.Status.ACTIVE,
    opened_on: date | None = None,
    notes: str = "",
    **address: Any,
) -> Customer:
    """Create a customer with premise and phones in the user's company (issue 2 item 5; S2 audited).

    `address` takes the premise fields: address, district, street, community, building, unit,
    room, supply_zone. Raises DomainError (400), Forbidden (403) or Conflict (409, account exists).
    """
    assert_perm(user, Perm.CUSTOMER_EDIT)
    company = user.company
    assert_can_write(user, company.pk if company else None)
    unknown = set(address) - set(ADDRESS_FIELDS)
    if unknown:
        raise DomainError(_("未知字段：%(f)s") % {"f": ", ".join(sorted(unknown))}, field=sorted(unknown)[0])
    account_no = clean_account_no(account_no)
    name = clean_name(name)
    cat = resolve_category(company_id=company.pk, value=category)
    status = clean_status(status)
    clean = clean_phones(phones, area_code=company.area_code)
    parts = premise_parts(address)
    opened_on = opened_on or _today()
    with transaction.atomic():
        if Customer.objects.filter(company=company, account_no=account_no).exists():
            raise Conflict(_("户号 %(a)s 已存在。") % {"a": account_no}, field="account_no", code="exists")
        premise = (
            Premise.objects.create(company=company, **parts)
            if parts["address"] or parts["building"]
            else None
        )
        customer = Customer(
            company=company,
            account_no=account_no,
            name=name,
            category=cat,
            premise=premise,
            notes=clean_notes(notes),
            opened_on=opened_on,
        )
        try:
            with transaction.atomic():
                customer.save()
        except IntegrityError as exc:  # a concurrent create of the same account number
            raise Conflict(
                _("户号 %(a)s 已存在。") % {"a": account_no}, field="account_no", code="exists"
            ) from exc
        CustomerStatusChange.objects.create(
            customer=customer, status=Customer.Status.ACTIVE, effective_on=opened_on, recorded_by=user
        )
        if status != Customer.Status.ACTIVE:
            _apply_status(customer, status=status, effective_on=opened_on, by=user, reason="")
            customer.save(update_fields=["status", "suspended_on", "closed_on", "opened_on"])
        _write_phones(customer, clean)
        audit_record(
            action=Action.CREATED,
            obj=customer,
            actor=user,
            detail={"changes": diff_fields({}, _snapshot(customer))},
        )
    return customer


def customer_update(*, user, customer_id: int, version: int, changes: Mapping[str, Any]) -> Customer:
    """Change a customer (issue 2 item 5), refusing a stale `version` with Conflict (409).

    `changes` may hold: name, category, status (+ status_reason, status_effective_on), opened_on,
    notes, phones (replaces the list), and the premise fields. The audit row keeps the field diff.
    """
    assert_perm(user, Perm.CUSTOMER_EDIT)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise DomainError(_("未知字段：%(f)s") % {"f": ", ".join(sorted(unknown))}, field=sorted(unknown)[0])
    with transaction.atomic():
        customer = (
            Customer.objects.select_for_update(of=("self",))
            .select_related("premise", "category", "company")
            .filter(pk=customer_id, company_id=user.company_id)
            .first()
        )
        if customer is None:
            raise NotFound(_("未找到该客户。"), code="not_found")
        assert_can_write(user, customer.company_id)
        if customer.version != version:
            raise Conflict(
                _("该客户已被他人修改（当前版本 %(v)d），请刷新后重试。") % {"v": customer.version},
                field="version",
                code="stale",
            )
        before = _snapshot(customer)
        if "name" in changes:
            customer.name = clean_name(changes["name"])
        if "category" in changes:
            customer.category = resolve_category(company_id=customer.company_id, value=changes["category"])
        if "notes" in changes:
            customer.notes = clean_notes(changes["notes"])
        if "opened_on" in changes:
            customer.opened_on = changes["opened_on"]
        if "status" in changes and changes["status"] != customer.status:
            _apply_status(
                customer,
                status=clean_status(changes["status"]),
                effective_on=changes.get("status_effective_on") or _today(),
                by=user,
                reason=changes.get("status_reason") or "",
            )
        if any(f in changes for f in ADDRESS_FIELDS):
            current = {f: getattr(customer.premise, f) for f in ADDRESS_FIELDS} if customer.premise else {}
            if "address" in changes and not any(
                f in changes for f in ("community", "building", "unit", "room")
            ):
                # A new address line re-derives the structured parts from it.
                current.update({"community": "", "building": "", "unit": "", "room": ""})
            current.update({f: changes[f] for f in ADDRESS_FIELDS if f in changes})
            parts = premise_parts(current)
            if customer.premise is None:
                customer.premise = Premise.objects.create(company_id=customer.company_id, **parts)
            else:
                for k, v in parts.items():
                    setattr(customer.premise, k, v)
                customer.premise.save()
        if "phones" in changes:
            _write_phones(
                customer, clean_phones(changes["phones"] or [], area_code=customer.company.area_code)
            )
        customer.version += 1
        customer.save()
        diff = diff_fields(before, _snapshot(customer))
        audit_record(
            action=Action.UPDATED,
            obj=customer,
            actor=user,
            detail={"changes": diff, "version": customer.version},
        )
    return customer


def care_register(
    *, user, customer_id: int, needs: Iterable[str], consent_on: date, consent_by: str, note: str = ""
) -> CareRegistration:
    """Register a customer in the special-care registry (C7, 000 2.2.7) with their consent.

    `needs` are codes (elderly, weak, ill, disabled) or their labels (老、弱、病、残)."""
    assert_perm(user, Perm.CARE_EDIT)
    by_label = {str(label): code for code, label in CareRegistration.Need.choices}
    codes: list[str] = []
    for n in needs or []:
        code = by_label.get(str(n), str(n))
        if code not in CareRegistration.Need.values:
            raise DomainError(_("未知的关爱类别：%(v)s") % {"v": n}, field="needs")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise DomainError(_("请至少选择一个关爱类别（老、弱、病、残）。"), field="needs")
    consent_by = fold(consent_by or "")
    if not consent_by:
        raise DomainError(_("须填写同意登记的本人或监护人。"), field="consent_by")
    with transaction.atomic():
        customer = Customer.objects.filter(pk=customer_id, company_id=user.company_id).first()
        if customer is None:
            raise NotFound(_("未找到该客户。"), code="not_found")
        assert_can_write(user, customer.company_id)
        reg = CareRegistration.objects.create(
            customer=customer,
            needs=codes,
            note=fold(note or "")[: MAX_LEN["care_note"]],
            consent_on=consent_on,
            consent_by=consent_by[: MAX_LEN["consent_by"]],
            registered_by=user,
        )
        audit_record(
            action=Action.CREATED,
            obj=reg,
            actor=user,
            company=customer.company,
            detail={"customer": customer.pk, "needs": codes},
        )
    return reg


def care_end(*, user, registration_id: int, ended_on: date | None = None) -> CareRegistration:
    """End a care registration (the customer moved, withdrew consent…); the row is kept (C7)."""
    assert_perm(user, Perm.CARE_EDIT)
    with transaction.atomic():
        reg = (
            CareRegistration.objects.select_for_update()
            .select_related("customer")
            .filter(pk=registration_id, customer__company_id=user.company_id)
            .first()
        )
        if reg is None:
            raise NotFound(_("未找到该登记。"), code="not_found")
        if reg.ended_on is not None:
            raise Conflict(_("该登记已结束。"), code="ended")
        reg.ended_on = ended_on or _today()
        reg.save(update_fields=["ended_on"])
        audit_record(
            action=Action.UPDATED,
            obj=reg,
            actor=user,
            company=reg.customer.company,
            detail={"changes": {"ended_on": [None, reg.ended_on.isoformat()]}},
        )
    return reg
