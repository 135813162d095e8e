"""Reads of customers: the caller lookup (P2, C15) and the customer card (S2 masking).

`caller_lookup` is the screen an agent opens when the phone rings: one query box, and whatever was
typed — a phone number in any written form, an account number, an address fragment
("幸福小区3号楼2单元501", "3-2-501"), a meter serial or a name — is detected and looked up on
indexed, normalised columns only, so it stays fast at a million customers. Results are ranked,
masked, and carry the special-care flags (C7) so the agent sees them before saying a word.

`customer_card` is the customer page: masked by default; unmasked only for roles with
`customer.view_unmasked`, and every unmasked view writes an audit row (S2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm, readable_company_ids
from kefu.core.errors import NotFound
from kefu.customers.masking import mask_room
from kefu.customers.models import CareRegistration, Customer, Meter, Phone
from kefu.customers.normalize import AddressParts, community_name, fold, normalize_phone, parse_address
from kefu.customers.privacy import can_view_unmasked, personal_data_view, show_address, show_name, show_phone
from kefu.customers.rules import is_account_no

MAX_LIMIT = 50

# Scores: exact identifiers first, then the full address in the named community, then the address
# alone, then names. Within a score, active customers before suspended and closed ones.
SCORE_PHONE = 100
SCORE_ACCOUNT = 100
SCORE_METER = 95
SCORE_ADDRESS_COMMUNITY = 80
SCORE_ADDRESS = 70
SCORE_ADDRESS_OTHER_COMMUNITY = 50
SCORE_NAME_EXACT = 60
SCORE_NAME_PREFIX = 40
SCORE_COMMUNITY = 30
BONUS_NAME_HINT = 15  # "张 3-2-501": the surname the caller gave matches (P2: address + surname)
PENALTY_INACTIVE = 5

# A meter serial as the lookup reads one (the account number's rule is kefu.customers.rules).
_SERIAL_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_]{2,39}$")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_NAME_RE = re.compile(r"^[\u3400-\u9fff·A-Za-z]{1,20}$")
_COMMUNITY_SUFFIX_RE = re.compile(
    r"(小区|花园|家园|新村|社区|公寓|大厦|广场|苑|园|村|庄|里|城|府|院|居|湾|庭)$"
)
_SPLIT_RE = re.compile(r"[\s,，;；]+")


@dataclass(frozen=True)
class CallerCandidate:
    """One ranked, masked lookup result (P2, S2). `match` says how it was found:
    "phone", "account", "meter", "address" or "name"."""

    customer_id: int
    account_no: str
    name_masked: str
    phone_masked: str
    address_masked: str
    category: str
    status: str
    care_needs: list[str]
    match: str
    score: int


@dataclass(frozen=True)
class PhoneLine:
    number: str
    kind: str
    kind_label: str
    is_primary: bool
    label: str


@dataclass(frozen=True)
class MeterLine:
    serial: str
    kind: str
    kind_label: str
    installed_on: date | None
    battery_replaced_on: date | None
    is_active: bool


@dataclass(frozen=True)
class CareLine:
    needs: list[str]
    note: str
    consent_on: date
    consent_by: str
    registered_at: datetime
    ended_on: date | None
    is_active: bool


@dataclass(frozen=True)
class StatusLine:
    status: str
    status_label: str
    effective_on: date
    reason: str


@dataclass(frozen=True)
class CustomerCard:
    """Everything the customer page shows. Personal fields are masked unless `unmasked` (S2)."""

    customer_id: int
    company_id: int
    account_no: str
    name: str
    category: str
    status: str
    status_label: str
    opened_on: date | None
    suspended_on: date | None
    closed_on: date | None
    address: str
    district: str
    street: str
    community: str
    building: str
    unit: str
    room: str
    supply_zone: str
    phones: list[PhoneLine]
    meters: list[MeterLine]
    care: list[CareLine]
    care_needs: list[str]
    status_history: list[StatusLine]
    notes: str
    version: int
    unmasked: bool
    can_unmask: bool = False
    can_edit: bool = False
    extra: dict = field(default_factory=dict)


# --- query detection --------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupPlan:
    """What a query box text was taken to be (pure: no database). Several kinds may apply at once:
    "6201234" is both a local phone number and possibly an account number."""

    phone: str | None = None
    ident: str | None = None  # account number or meter serial, exact
    address: AddressParts | None = None
    name: str | None = None
    community: str | None = None
    name_hint: str | None = None


def plan_lookup(query: str, *, area_code: str = "") -> LookupPlan:
    """Detect what the agent typed (P2). Pure function, tested with tables."""
    text = fold(query)
    if not text:
        return LookupPlan()
    compact = _SPLIT_RE.sub("", text)
    phone = normalize_phone(compact, area_code)
    # An account number or a meter serial; shorter than 3 characters is not worth a query.
    ident = compact if len(compact) >= 3 and (is_account_no(compact) or _SERIAL_RE.match(compact)) else None
    if ident and phone == compact and len(compact) == 11:
        ident = None  # a mobile number is never also an account number worth a second query
    name_hint = None
    tokens = [t for t in _SPLIT_RE.split(text) if t]
    # A valid phone number is not also read as an address ("+86 152-4668-6067" is not 152-4668-6067).
    address = parse_address(compact) if phone is None else AddressParts()
    if phone is None and len(tokens) > 1:
        # "张 幸福小区3-2-501" or "幸福小区3-2-501 张": a surname beside the address (P2).
        for i, tok in enumerate(tokens):
            if _NAME_RE.match(tok) and len(tok) <= 4 and not _COMMUNITY_SUFFIX_RE.search(tok):
                parts = parse_address("".join(tokens[:i] + tokens[i + 1 :]))
                if parts.has_location:
                    address, name_hint = parts, tok
                    break
    if address.has_location:
        address = AddressParts(
            community_name(address.community), address.building, address.unit, address.room
        )
        return LookupPlan(phone=phone, ident=ident, address=address, name_hint=name_hint)
    name = community = None
    if _CJK_RE.search(compact) and not re.search(r"\d", compact):
        if _COMMUNITY_SUFFIX_RE.search(compact) and len(compact) >= 3:
            community = compact
        elif _NAME_RE.match(compact):
            name = compact
            if len(compact) >= 4:
                community = compact
    return LookupPlan(phone=phone, ident=ident, name=name, community=community)


# --- the lookup --------------------------------------------------------------------------------


def _prefix(qs: QuerySet, field_name: str, prefix: str) -> QuerySet:
    """`field LIKE 'prefix%'` that uses the index on both databases.

    PostgreSQL: LIKE on a varchar_pattern_ops index. SQLite's LIKE is case-insensitive and skips
    the index, so there the same rows are found with a BINARY range, which uses it."""
    if connection.vendor == "sqlite":
        return qs.filter(**{f"{field_name}__gte": prefix, f"{field_name}__lt": prefix + "\U0010ffff"})
    return qs.filter(**{f"{field_name}__startswith": prefix})


_ROW_FIELDS = ("id", "account_no", "name", "status", "category__name", "premise__address", "premise__room")


def _rows(qs: QuerySet, limit: int) -> list[tuple]:
    """The lookup's rows in one query: the customer, category, premise, primary phone and whether
    the care registry has an active entry (so the registry is read only when it matters)."""
    primary = (
        Phone.objects.filter(customer_id=OuterRef("pk")).order_by("-is_primary", "id").values("number")[:1]
    )
    # A scalar subquery, not EXISTS: PostgreSQL may turn an EXISTS into a hashed subplan that reads
    # the whole registry; a LIMIT 1 scalar subquery is always an index probe per row.
    care = (
        CareRegistration.objects.filter(customer_id=OuterRef("pk"), ended_on__isnull=True)
        .order_by()
        .values("id")[:1]
    )
    return list(
        qs.annotate(primary_phone=Subquery(primary), care_id=Subquery(care)).values_list(
            *_ROW_FIELDS, "primary_phone", "care_id"
        )[:limit]
    )


Hit = tuple  # (match, score, matched phone, row)


def _find(plan: LookupPlan, company_ids: list[int], limit: int) -> dict[int, Hit]:
    """{customer_id: (match, score, matched phone, row)}: each kind of query runs on its index and
    fetches what the result shows in the same statement (one query for most lookups)."""
    base = Customer.objects.filter(company_id__in=company_ids)
    hits: dict[int, Hit] = {}

    def add(rows: list[tuple], match: str, score: int, phone: str = "") -> int:
        for row in rows:
            if row[0] not in hits or hits[row[0]][1] < score:
                hits[row[0]] = (match, score, phone, row)
        return len(rows)

    if plan.phone:
        add(_rows(base.filter(phones__number=plan.phone), limit), "phone", SCORE_PHONE, plan.phone)
    if plan.ident:
        idents = sorted({plan.ident, plan.ident.upper()})
        if not add(_rows(base.filter(account_no__in=idents), limit), "account", SCORE_ACCOUNT):
            # Meter serials only when no account number matched: one query fewer for the common case.
            add(_rows(base.filter(meters__serial__in=idents).distinct(), limit), "meter", SCORE_METER)
    if plan.address is not None and plan.address.building:
        # The (company, building, unit, room) index narrows; the community only filters what it found.
        a = plan.address
        q = Q(premise__company_id__in=company_ids, premise__building=a.building)
        if a.unit:
            q &= Q(premise__unit=a.unit)
        if a.room:
            q &= Q(premise__room=a.room)
        located = base.filter(q)
        if a.community:
            if not add(
                _rows(located.filter(premise__community__icontains=a.community), limit),
                "address",
                SCORE_ADDRESS_COMMUNITY,
            ):
                add(_rows(located, limit), "address", SCORE_ADDRESS_OTHER_COMMUNITY)
        else:
            add(_rows(located, limit), "address", SCORE_ADDRESS)
    if plan.name:
        add(_rows(base.filter(name=plan.name), limit), "name", SCORE_NAME_EXACT)
        if len(hits) < limit:
            add(
                _rows(_prefix(base, "name", plan.name).exclude(name=plan.name).order_by("name"), limit),
                "name",
                SCORE_NAME_PREFIX,
            )
    if plan.community and len(hits) < limit:
        add(_rows(_prefix(base, "premise__community", plan.community), limit), "address", SCORE_COMMUNITY)
    return hits


def _care_map(customer_ids: list[int]) -> dict[int, list[str]]:
    """Active care needs per customer, as Chinese labels in the registry's order (老、弱、病、残)."""
    if not customer_ids:
        return {}
    order = [n for n, _label in CareRegistration.Need.choices]
    needs: dict[int, set[str]] = {}
    for cid, values in CareRegistration.objects.filter(
        customer_id__in=customer_ids, ended_on__isnull=True
    ).values_list("customer_id", "needs"):
        needs.setdefault(cid, set()).update(v for v in (values or []) if isinstance(v, str))
    return {
        cid: care_labels(sorted(ns, key=lambda n: order.index(n) if n in order else 99))
        for cid, ns in needs.items()
    }


def care_labels(needs: Iterable[str]) -> list[str]:
    labels = dict(CareRegistration.Need.choices)
    return [str(labels.get(n, n)) for n in needs]


def caller_lookup(*, user, query: str, limit: int = 20) -> list[CallerCandidate]:
    """Find the caller by phone, account number, meter serial, address fragment or name (P2, C15).

    Company-scoped (S2): only the user's readable companies. Results ranked (exact phone/account
    first, then the address in the named community, then names) and masked; care flags (C7) shown.
    Raises Forbidden if the role may not view customers.
    """
    assert_perm(user, Perm.CUSTOMER_VIEW)
    company_ids = readable_company_ids(user)
    limit = max(1, min(20 if limit is None else int(limit), MAX_LIMIT))
    if not company_ids or not query or len(query) > 100:
        return []
    area_code = user.company.area_code if user.company_id else ""
    plan = plan_lookup(query, area_code=area_code)
    hits = _find(plan, company_ids, limit)
    if not hits:
        return []
    care = _care_map([cid for cid, hit in hits.items() if hit[3][8] is not None])
    out = []
    for cid, (match, score, matched_phone, row) in hits.items():
        _id, account_no, name, status, category, address, room, primary_phone, _care_id = row
        if status != Customer.Status.ACTIVE:
            score -= PENALTY_INACTIVE
        if plan.name_hint and name.startswith(plan.name_hint):
            score += BONUS_NAME_HINT
        out.append(
            CallerCandidate(
                customer_id=cid,
                account_no=account_no,
                name_masked=show_name(name),
                phone_masked=show_phone(matched_phone or primary_phone or ""),
                address_masked=show_address(address, room or ""),
                category=category,
                status=status,
                care_needs=care.get(cid, []),
                match=match,
                score=score,
            )
        )
    out.sort(key=lambda r: (-r.score, r.account_no))
    return out[:limit]


# --- the customer card --------------------------------------------------------------------------


def visible_customers(user) -> QuerySet[Customer]:
    """Customers of the companies the user may read (S2)."""
    return Customer.objects.filter(company_id__in=readable_company_ids(user))


def get_visible_customer(*, user, customer_id: int) -> Customer:
    """The customer if the user may read it; NotFound otherwise (also for other companies)."""
    assert_perm(user, Perm.CUSTOMER_VIEW)
    customer = visible_customers(user).select_related("premise", "category").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("未找到该客户。"), code="not_found")
    return customer


#: What the customer card shows in full when unmasked (named in the audit row, S2).
CARD_PERSONAL_FIELDS = ("name", "phones", "address", "care.consent_by")


def customer_card(*, user, customer_id: int, unmasked: bool = False) -> CustomerCard:
    """The customer page's content (C7, S2). Masked unless `unmasked`; unmasked needs
    `customer.view_unmasked` (Forbidden otherwise, the refusal logged) and writes a
    PERSONAL_DATA_VIEWED audit row (kefu.customers.privacy)."""
    customer = get_visible_customer(user=user, customer_id=customer_id)
    if unmasked:
        personal_data_view(user=user, obj=customer, fields=CARD_PERSONAL_FIELDS)
    return _card(
        customer,
        unmasked=unmasked,
        can_unmask=can_view_unmasked(user),
        can_edit=role_allows(user, Perm.CUSTOMER_EDIT),
    )


def _card(customer: Customer, *, unmasked: bool, can_unmask: bool, can_edit: bool) -> CustomerCard:
    p = customer.premise
    phone_kinds = dict(Phone.Kind.choices)
    meter_kinds = dict(Meter.Kind.choices)
    status_labels = dict(Customer.Status.choices)
    phones = [
        PhoneLine(
            number=show_phone(ph.number, unmasked=unmasked),
            kind=ph.kind,
            kind_label=str(phone_kinds.get(ph.kind, ph.kind)),
            is_primary=ph.is_primary,
            label=ph.label,
        )
        for ph in customer.phones.order_by("-is_primary", "id")
    ]
    meters = [
        MeterLine(
            serial=m.serial,
            kind=m.kind,
            kind_label=str(meter_kinds.get(m.kind, m.kind)),
            installed_on=m.installed_on,
            battery_replaced_on=m.battery_replaced_on,
            is_active=m.is_active,
        )
        for m in customer.meters.order_by("-is_active", "id")
    ]
    care = [
        CareLine(
            needs=care_labels(r.needs or []),
            note=r.note,
            consent_on=r.consent_on,
            consent_by=show_name(r.consent_by, unmasked=unmasked),
            registered_at=r.registered_at,
            ended_on=r.ended_on,
            is_active=r.is_active,
        )
        for r in customer.care.all()
    ]
    active_needs: list[str] = []
    for line in care:
        if line.is_active:
            active_needs.extend(n for n in line.needs if n not in active_needs)
    history = [
        StatusLine(
            status=s.status,
            status_label=str(status_labels.get(s.status, s.status)),
            effective_on=s.effective_on,
            reason=s.reason,
        )
        for s in customer.status_changes.all()
    ]
    return CustomerCard(
        customer_id=customer.pk,
        company_id=customer.company_id,
        account_no=customer.account_no,
        name=show_name(customer.name, unmasked=unmasked),
        category=customer.category.name,
        status=customer.status,
        status_label=str(status_labels.get(customer.status, customer.status)),
        opened_on=customer.opened_on,
        suspended_on=customer.suspended_on,
        closed_on=customer.closed_on,
        address=show_address(p.address, p.room, unmasked=unmasked) if p else "",
        district=p.district if p else "",
        street=p.street if p else "",
        community=p.community if p else "",
        building=p.building if p else "",
        unit=p.unit if p else "",
        room=(p.room if unmasked else mask_room(p.room)) if p else "",
        supply_zone=p.supply_zone if p else "",
        phones=phones,
        meters=meters,
        care=care,
        care_needs=active_needs,
        status_history=history,
        notes=customer.notes,
        version=customer.version,
        unmasked=unmasked,
        can_unmask=can_unmask,
        can_edit=can_edit,
    )
