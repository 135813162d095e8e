"""Writes of household safety inspections (C5, C11, C12, P14). Keyword-only services, one
transaction each, checking company and role.

- `programme_generate` / `ledger_sync`: the year's due ledger for every active customer, by the
  frequency of their category in the commitment set (C5), kept right as customers open, close or
  change category (a daily sweep, idempotent). Written with INSERT … SELECT … ON CONFLICT DO NOTHING
  (SQLite and PostgreSQL alike) so a million customers take seconds, not a Python loop.
- `batch_create`: inspectors' days in a community and buildings; the notice PDF comes from it.
- `visit_submit`: the visit from the phone, applied once per client id (offline replay, as the field
  app's `job_event_record`); outcome, checklist, hazards, the no-access ladder's visit step.
- `ladder_record` / `restriction_approve`: the other steps of the no-access ladder.
- `hazard_*`: notice signed, rectified (by the customer, the utility through a paid field job, or a
  third party), re-check, escalation when overdue; a major hazard opens an emergency work order.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import User
from kefu.accounts.roles import Perm, Role, role_allows
from kefu.core.caching import ProcessCache
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.customers.models import Customer, CustomerCategory
from kefu.field.models import Technician
from kefu.field.services import technician_of
from kefu.inspections import rules
from kefu.inspections.models import (
    Appliance,
    Batch,
    Hazard,
    HazardEvent,
    HazardType,
    InspectionSettings,
    LadderStep,
    LedgerEntry,
    Programme,
    Visit,
)
from kefu.inspections.states import (
    HAZARD_MOVES,
    OPEN_HAZARD,
    OUTCOME_STATUS,
    Check,
    EntryStatus,
    HazardState,
    LedgerKind,
    Outcome,
    RectifiedBy,
    Severity,
    StepKind,
)

FUTURE_TOLERANCE = timedelta(minutes=5)
OFFLINE_MAX_AGE = timedelta(hours=24)

logger = logging.getLogger("kefu.inspections")


# ---- helpers -----------------------------------------------------------------------------------
def _need(user, perm: str) -> None:
    if not role_allows(user, perm):
        audit_record(action=Action.PERMISSION_DENIED, actor=user, result="denied", detail={"wanted": perm})
        raise Forbidden(_("您的角色无权执行此操作。"), code="permission_denied")


def _text(value, *, field: str, label: str, required: bool = False, limit: int = 200) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise DomainError(_("%(f)s含有无效字符。") % {"f": label}, field=field)
    if required and not value:
        raise DomainError(_("请填写%(f)s。") % {"f": label}, field=field)
    if len(value) > limit:
        raise DomainError(_("%(f)s不能超过 %(n)d 个字。") % {"f": label, "n": limit}, field=field)
    return value


def _int(value) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        return 0
    return n if 0 < n < 2**63 else 0


def tz_of(company) -> ZoneInfo:
    return ZoneInfo(getattr(company, "time_zone", "") or "Asia/Shanghai")


def local_today(company, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(tz_of(company)).date()


#: Each company's settings (read by every visit): a change in this process is seen at once, in
#: another server process within a minute (kefu.core.caching). Shared: never modify the value.
settings_cache: ProcessCache[InspectionSettings] = ProcessCache("inspections.settings", max_age=60)


def settings_for(company) -> InspectionSettings:
    """The company's inspection settings, made with the defaults on first use (checklist, ladder,
    deadlines by severity, the company's hotline for booking)."""

    def load() -> InspectionSettings:
        obj, _created = InspectionSettings.objects.get_or_create(
            company=company,
            defaults={
                "checklist": [dict(x) for x in rules.DEFAULT_CHECKLIST],
                "ladder": [{**x, "kind": str(x["kind"])} for x in rules.DEFAULT_LADDER],
                "deadline_days": dict(rules.DEFAULT_DEADLINE_DAYS),
                "hotline": getattr(company, "hotline", "") or "",
            },
        )
        return obj

    return settings_cache.get(company.pk, load)


def hazard_types_seed(company) -> int:
    """The default hazard catalogue (idempotent). Returns how many types were made."""
    made = 0
    for code, name, severity in rules.DEFAULT_HAZARDS:
        _obj, created = HazardType.objects.get_or_create(
            company=company, code=code, defaults={"name": name, "severity": str(severity)}
        )
        made += created
    return made


# ---- the programme and its due ledger (C5, C12) ---------------------------------------------------
def programme_frequencies(company, year: int) -> tuple[dict[str, int], str]:
    """Inspections a year per category code (C5): the commitment set in force on 1 January (or now,
    if later published) may carry C5 commitments (`spec_id` C5, `customer_category`, `limit_value`
    = times a year); every category without one keeps its own `inspections_per_year`."""
    from kefu.sla.models import Commitment
    from kefu.sla.selectors import commitment_set_in_force

    at = max(datetime(year, 12, 31, 23, 59, tzinfo=tz_of(company)), timezone.now())
    at = min(at, datetime(year, 12, 31, 23, 59, tzinfo=tz_of(company)))
    cset = commitment_set_in_force(company, at)
    c5: dict[str, int] = {}
    source = _("客户类别的每年安检次数")
    if cset is not None:
        for c in Commitment.objects.filter(commitment_set=cset, spec_id="C5"):
            c5[c.customer_category or ""] = int(c.limit_value)
        if c5:
            source = _("服务承诺方案 %(y)s v%(v)s（C5）") % {"y": cset.year, "v": cset.version}
    freqs = {
        cat.code: rules.frequency(cat.code, c5, cat.inspections_per_year)
        for cat in CustomerCategory.objects.filter(company=company)
    }
    return freqs, source


def _insert_periods(
    prog: Programme, freqs: dict[int, int], *, kind: str, not_before: date | None, customer_id: int | None
) -> None:
    """INSERT … SELECT the ledger rows of the categories in `freqs` (id → times a year) for every
    period, in one statement: one pass over the customers however many categories and periods (ON
    CONFLICT DO NOTHING: rerunning adds only what is missing). Active customers only; a period that
    ended before the customer opened (or before `not_before`, for a sync) is not owed (C5, C12)."""
    owed = [
        (cat_id, p)
        for cat_id, freq in freqs.items()
        for p in rules.periods(prog.year, freq)
        if not_before is None or p.end >= not_before
    ]
    if not owed:
        return
    plan = " UNION ALL ".join(
        ["SELECT %s AS category_id, %s AS period, %s AS periods, %s AS period_start, %s AS due_on"]
        * len(owed)
    )
    params: list = [prog.company_id, prog.pk, kind, EntryStatus.DUE]
    params += [x for cat_id, p in owed for x in (cat_id, p.index, p.count, p.start, p.end)]
    where = ["c.company_id = %s", "c.status = 'active'", "(c.opened_on IS NULL OR c.opened_on <= v.due_on)"]
    params.append(prog.company_id)
    if customer_id is not None:
        where.append("c.id = %s")
        params.append(customer_id)
    if kind == LedgerKind.APPLIANCE:
        appl = Appliance._meta.db_table
        where.append(f"EXISTS (SELECT 1 FROM {appl} a WHERE a.customer_id = c.id AND a.is_active)")
    sql = (
        f"INSERT INTO {LedgerEntry._meta.db_table} (company_id, programme_id, customer_id, kind, period,"
        " periods, period_start, due_on, category, district, community, building, status,"
        " no_access_visits, ladder_step, status_note)"
        " SELECT %s, %s, c.id, %s, v.period, v.periods, v.period_start, v.due_on, cat.code,"
        " COALESCE(p.district, ''), COALESCE(p.community, ''), COALESCE(p.building, ''), %s, 0, '', ''"
        f" FROM ({plan}) v JOIN {Customer._meta.db_table} c ON c.category_id = v.category_id"
        " JOIN customers_customercategory cat ON cat.id = c.category_id"
        " LEFT JOIN customers_premise p ON p.id = c.premise_id"
        f" WHERE {' AND '.join(where)}"
        " ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)


def programme_generate(*, by, year: int) -> Programme:
    """Generate (or complete) the year's due ledger for every active customer (C5): one row per
    household and period by its category's frequency, and one appliance row (C12, once a year) per
    customer with registered appliances. Idempotent: a rerun adds only what is missing."""
    _need(by, Perm.INSPECTION_PLAN)
    company = by.company
    freqs, source = programme_frequencies(company, year)
    with transaction.atomic():
        prog, _created = Programme.objects.select_for_update().get_or_create(
            company=company, year=year, defaults={"frequencies": freqs, "source": source}
        )
        prog.frequencies, prog.source = freqs, source
        cats = list(CustomerCategory.objects.filter(company=company))
        household = {cat.pk: freqs[cat.code] for cat in cats}
        _insert_periods(prog, household, kind=LedgerKind.HOUSEHOLD, not_before=None, customer_id=None)
        appliance = {cat.pk: 1 for cat in cats}
        _insert_periods(prog, appliance, kind=LedgerKind.APPLIANCE, not_before=None, customer_id=None)
        prog.generated_at = prog.synced_at = timezone.now()
        prog.save()
        audit_record(action=Action.CREATED, obj=prog, actor=by, detail={"year": year, "source": source})
    return prog


def ledger_sync(*, company_id: int, year: int, today: date, customer_id: int | None = None) -> dict[str, int]:
    """Keep the ledger right as customers open, close or change category (C5); the daily sweep, or
    one customer after a change. Still-due rows of a customer no longer active are cancelled; rows of
    a frequency the category no longer has are cancelled; missing rows for periods not yet ended are
    added (a new customer owes the current period and the later ones); a cancelled row owed again
    (reopened, category changed back) becomes due again. Done rows are never touched."""
    prog = Programme.objects.filter(company_id=company_id, year=year).first()
    if prog is None:
        return {"cancelled": 0, "restored": 0}
    out = {"cancelled": 0, "restored": 0}
    cats = list(CustomerCategory.objects.filter(company_id=company_id))
    freqs = {c.code: int(prog.frequencies.get(c.code, c.inspections_per_year or 1)) for c in cats}
    base = LedgerEntry.objects.filter(programme=prog)
    if customer_id is not None:
        base = base.filter(customer_id=customer_id)
    with transaction.atomic():
        gone = base.filter(status=EntryStatus.DUE).exclude(customer__status=Customer.Status.ACTIVE)
        out["cancelled"] += gone.update(status=EntryStatus.CANCELLED, status_note=_("客户已销户或停用"))
        for cat in cats:
            moved = base.filter(
                status=EntryStatus.DUE, kind=LedgerKind.HOUSEHOLD, customer__category_id=cat.pk
            ).exclude(periods=freqs[cat.code])
            out["cancelled"] += moved.update(status=EntryStatus.CANCELLED, status_note=_("客户类别已变更"))
            out["restored"] += base.filter(
                status=EntryStatus.CANCELLED,
                kind=LedgerKind.HOUSEHOLD,
                customer__category_id=cat.pk,
                customer__status=Customer.Status.ACTIVE,
                periods=freqs[cat.code],
                due_on__gte=today,
            ).update(status=EntryStatus.DUE, status_note="", category=cat.code)
            household = {cat.pk: freqs[cat.code]}
            _insert_periods(
                prog, household, kind=LedgerKind.HOUSEHOLD, not_before=today, customer_id=customer_id
            )
            _insert_periods(
                prog, {cat.pk: 1}, kind=LedgerKind.APPLIANCE, not_before=today, customer_id=customer_id
            )
        Programme.objects.filter(pk=prog.pk).update(synced_at=timezone.now())
    return out


def appliance_register(
    *, by, customer_id: int, kind: str, model: str = "", installed_on: date | None = None
) -> Appliance:
    """Register a gas appliance of a customer (C12); the customer joins this year's appliance ledger."""
    if not (role_allows(by, Perm.INSPECTION_PLAN) or role_allows(by, Perm.FIELD_WORK)):
        _need(by, Perm.INSPECTION_PLAN)
    cust = Customer.objects.filter(pk=customer_id, company_id=by.company_id).first()
    if cust is None:
        raise NotFound(_("没有找到该客户，或您无权查看。"), code="not_found")
    a = Appliance.objects.create(
        company_id=by.company_id,
        customer=cust,
        kind=_text(kind, field="kind", label=_("燃气具种类"), required=True, limit=30),
        model=_text(model, field="model", label=_("型号"), limit=60),
        installed_on=installed_on,
    )
    today = local_today(by.company)
    ledger_sync(company_id=by.company_id, year=today.year, today=today, customer_id=cust.pk)
    return a


# ---- planning ----------------------------------------------------------------------------------
def batch_create(
    *,
    by,
    year: int,
    community: str,
    buildings: list[str],
    inspector_id: int,
    first_day: date,
    last_day: date,
) -> Batch:
    """Plan a batch: the due households of a community (and buildings, if given) go to an inspector
    for the days; the 入户安检通知 PDF is printed from it (P14)."""
    _need(by, Perm.INSPECTION_PLAN)
    prog = Programme.objects.filter(company_id=by.company_id, year=year).first()
    if prog is None:
        raise DomainError(_("请先生成 %(y)s 年度安检计划。") % {"y": year}, field="year")
    community = _text(community, field="community", label=_("小区"), required=True, limit=60)
    if last_day < first_day:
        raise DomainError(_("结束日期不能早于开始日期。"), field="last_day")
    tech = Technician.objects.filter(pk=inspector_id, company_id=by.company_id, is_active=True).first()
    if tech is None:
        raise NotFound(_("没有找到该安检员。"), field="inspector_id", code="not_found")
    if "inspection" not in (tech.skills or []):
        raise DomainError(_("该技术员没有安检技能。"), field="inspector_id")
    blds = [str(b).strip() for b in buildings or [] if str(b).strip()]
    with transaction.atomic():
        batch = Batch.objects.create(
            company_id=by.company_id,
            programme=prog,
            community=community,
            buildings=blds,
            inspector=tech,
            first_day=first_day,
            last_day=last_day,
            created_by=by,
        )
        rows = LedgerEntry.objects.filter(
            programme=prog, community=community, status__in=[EntryStatus.DUE, EntryStatus.NOBODY_HOME]
        ).filter(due_on__gte=first_day, period_start__lte=last_day)
        if blds:
            rows = rows.filter(building__in=blds)
        n = rows.update(batch=batch)
        audit_record(action=Action.CREATED, obj=batch, actor=by, detail={"households": n})
    return batch


def batch_notice_posted(*, by, batch_id: int) -> Batch:
    """Record that the notice was posted in the buildings."""
    _need(by, Perm.INSPECTION_PLAN)
    b = Batch.objects.filter(pk=batch_id, company_id=by.company_id).first()
    if b is None:
        raise NotFound(_("没有找到该批次。"), code="not_found")
    Batch.objects.filter(pk=b.pk).update(notice_posted_at=timezone.now())
    b.refresh_from_db()
    return b


# ---- the visit (P14) ---------------------------------------------------------------------------
@dataclass
class HazardInput:
    type_code: str
    description: str = ""
    shut_off: bool = False


@dataclass
class VisitInput:
    client_id: str
    outcome: str
    device_at: datetime | None = None
    offline: bool = False
    reason: str = ""
    door_notice: bool = False
    checklist: dict = field(default_factory=dict)
    meter_reading: str | None = None
    advice_given: bool = False
    signed_by: str = ""
    appliances_checked: bool = False
    hazards: list[HazardInput] = field(default_factory=list)
    signature_png: str = ""  # the signature drawn on the phone: a PNG as a data URL or base64


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 200 * 1024


def signature_png(value: str) -> bytes | None:
    """The customer's drawn signature (C5 visit record) as PNG bytes: a data URL or plain base64 of
    a PNG image no larger than 200 KB; None when none was drawn. Anything else is refused."""
    import base64
    import binascii

    value = (value or "").strip()
    if not value:
        return None
    if value.startswith("data:"):
        head, _sep, value = value.partition(",")
        if head != "data:image/png;base64":
            raise DomainError(_("手写签名须为 PNG 图片。"), field="signature_png")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(_("手写签名的数据已损坏。"), field="signature_png") from None
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise DomainError(_("手写签名不能超过 200 KB。"), field="signature_png")
    if not raw.startswith(PNG_MAGIC) or raw[12:16] != b"IHDR":
        raise DomainError(_("手写签名须为 PNG 图片。"), field="signature_png")
    return raw


def is_inspector_of(user, entry: LedgerEntry) -> bool:
    """The user is the inspector of the entry's batch (the phone's rule)."""
    return _inspects(technician_of(user), entry)


def _entry_locked(entry_id, company_id: int) -> LedgerEntry:
    try:
        return (
            LedgerEntry.objects.select_for_update(of=("self",))
            .select_related("batch__inspector", "customer", "programme")
            .get(pk=int(entry_id), company_id=company_id)
        )
    except (LedgerEntry.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("没有找到该安检户，或您无权查看。"), code="not_found") from None


def _visit_time(data: VisitInput, now: datetime) -> datetime:
    if data.device_at is None:
        return now
    if timezone.is_naive(data.device_at):
        raise DomainError(_("设备时间须带时区。"), field="device_at")
    if data.device_at > now + FUTURE_TOLERANCE:
        raise DomainError(
            _("设备时间晚于服务器时间，请校准手机时间后重试。"), field="device_at", code="future_time"
        )
    if data.offline and now - data.device_at <= OFFLINE_MAX_AGE:
        return data.device_at
    return now


def _clean_visit(data: VisitInput, settings: InspectionSettings) -> tuple[dict, Decimal | None]:
    if data.outcome not in Outcome.values:
        raise DomainError(_("未知的安检结果。"), field="outcome")
    checklist: dict = {}
    codes = [x["code"] for x in settings.checklist]
    for code, value in (data.checklist or {}).items():
        if code not in codes:
            raise DomainError(_("未知的检查项目：%(c)s") % {"c": code}, field="checklist")
        if value not in Check.values:
            raise DomainError(_("检查结果只能是合格、不合格或不适用。"), field="checklist")
        checklist[code] = value
    reading = None
    if data.meter_reading not in (None, ""):
        try:
            reading = Decimal(str(data.meter_reading))
        except InvalidOperation:
            raise DomainError(_("表读数须为数字。"), field="meter_reading") from None
        if reading < 0 or reading >= Decimal("1e10"):
            raise DomainError(_("表读数超出范围。"), field="meter_reading")
    if data.outcome == Outcome.DONE:
        missing = [c for c in codes if c not in checklist]
        if missing:
            raise DomainError(_("请完成全部检查项目。"), field="checklist")
        _text(data.signed_by, field="signed_by", label=_("客户签名"), required=True, limit=50)
    elif data.hazards:
        raise DomainError(_("只有完成入户安检时才能登记隐患。"), field="hazards")
    if data.outcome == Outcome.REFUSED:
        _text(data.reason, field="reason", label=_("拒绝原因"), required=True)
    if data.outcome == Outcome.NOBODY_HOME and not data.door_notice:
        raise DomainError(_("到访不遇须留下门贴。"), field="door_notice")
    return checklist, reading


def visit_submit(*, by, entry_id: int, data: VisitInput) -> tuple[Visit, bool]:
    """Record a visit from the inspector's phone, exactly once per `client_id` (P14): a replayed
    offline submission returns the first record, (visit, False). The entry's status follows the
    outcome; a completed visit closes the customer's appliance row too when the appliances were
    checked (C12); hazards are opened (a major one opens an emergency work order); a nobody-home
    visit is a step of the no-access ladder (with the door notice and the SMS booking link)."""
    client_id = _text(data.client_id, field="client_id", label=_("客户端编号"), required=True, limit=64)
    existing = Visit.objects.filter(company_id=by.company_id, client_id=client_id).first()
    if existing is not None:
        return _replayed(existing, entry_id)
    _need(by, Perm.FIELD_WORK)
    settings = settings_for(by.company)
    try:
        with transaction.atomic():
            entry = _entry_locked(_int(entry_id), by.company_id)
            tech = _batch_inspector(by, entry)
            if tech is None:  # before any validation: nothing told to strangers
                raise NotFound(_("没有找到该安检户，或您无权查看。"), code="not_found")
            now = timezone.now()
            at = _visit_time(data, now)
            checklist, reading = _clean_visit(data, settings)
            drawn = signature_png(data.signature_png) if data.outcome == Outcome.DONE else None
            types = _hazard_types(by.company_id, data.hazards)
            if entry.status == EntryStatus.CANCELLED:
                raise Conflict(_("该户已不在安检计划中。"), code="cancelled")
            visit = Visit.objects.create(
                company_id=by.company_id,
                entry=entry,
                inspector=tech,
                actor=by,
                client_id=client_id,
                at=at,
                server_at=now,
                offline=bool(data.offline),
                band=rules.time_band(at.astimezone(tz_of(by.company))),
                outcome=data.outcome,
                reason=_text(data.reason, field="reason", label=_("原因")),
                door_notice=bool(data.door_notice),
                checklist=checklist,
                meter_reading=reading,
                advice_given=bool(data.advice_given),
                signed_by=_text(data.signed_by, field="signed_by", label=_("客户签名"), limit=50),
                appliances_checked=bool(data.appliances_checked),
            )
            if drawn:
                visit.signature.save(f"{visit.pk}-{uuid.uuid4().hex[:12]}.png", ContentFile(drawn), save=True)
            _apply_visit(entry, visit, by, settings)
            for h in data.hazards:
                _hazard_open(
                    entry=entry, visit=visit, by=by, htype=types[h.type_code], data=h, settings=settings
                )
    except IntegrityError:  # the same client id raced in from a second connection: the first wins
        existing = Visit.objects.filter(company_id=by.company_id, client_id=client_id).first()
        if existing is None:
            raise
        return _replayed(existing, entry_id)
    return visit, True


def _inspects(tech: Technician | None, entry: LedgerEntry) -> bool:
    return bool(tech and entry.batch_id and entry.batch.inspector_id == tech.pk)


def _batch_inspector(user, entry: LedgerEntry) -> Technician | None:
    """The technician of the entry's batch when it is this user, active (what `is_inspector_of`
    asks, read from the batch loaded with the entry instead of a query of its own)."""
    tech = entry.batch.inspector if entry.batch_id else None
    return tech if tech is not None and tech.user_id == user.pk and tech.is_active else None


def _hazard_types(company_id: int, hazards: list[HazardInput]) -> dict[str, HazardType]:
    """The catalogue entries of the hazards reported (P14); an unknown code is refused."""
    if not hazards:
        return {}
    types = {t.code: t for t in HazardType.objects.filter(company_id=company_id)}
    for h in hazards:
        if h.type_code not in types:
            raise DomainError(_("未知的隐患：%(c)s") % {"c": h.type_code}, field="hazards")
    return types


def _replayed(existing: Visit, entry_id) -> tuple[Visit, bool]:
    if str(existing.entry_id) != str(entry_id):
        raise Conflict(_("该客户端编号已用于另一条记录。"), field="client_id", code="client_id_reused")
    return existing, False


def _apply_visit(entry: LedgerEntry, visit: Visit, by, settings: InspectionSettings) -> None:
    if visit.outcome == Outcome.DONE:
        entry.status = EntryStatus.INSPECTED  # a hazard opened below makes it HAZARD
        entry.done_at = visit.at
        if visit.appliances_checked:
            LedgerEntry.objects.filter(
                programme_id=entry.programme_id,
                customer_id=entry.customer_id,
                kind=LedgerKind.APPLIANCE,
                status__in=[EntryStatus.DUE, EntryStatus.NOBODY_HOME],
            ).update(status=EntryStatus.INSPECTED, done_at=visit.at)
    elif entry.status not in (EntryStatus.INSPECTED, EntryStatus.HAZARD):
        entry.status = OUTCOME_STATUS[visit.outcome]
        entry.done_at = entry.done_at or visit.at
    if visit.outcome == Outcome.NOBODY_HOME:
        entry.no_access_visits += 1
        LadderStep.objects.create(
            company_id=entry.company_id,
            entry=entry,
            kind=StepKind.VISIT,
            band=visit.band,
            visit=visit,
            at=visit.at,
            by=by,
        )
        if visit.door_notice:
            step = LadderStep.objects.create(
                company_id=entry.company_id,
                entry=entry,
                kind=StepKind.NOTICE,
                visit=visit,
                note=_("已留门贴"),
                at=visit.at,
                by=by,
            )
            transaction.on_commit(lambda: notice_sms_send(step.pk))
    entry.ladder_step = ladder_state(entry, settings).next_code if entry.no_access_visits else ""
    entry.save(update_fields=["status", "done_at", "no_access_visits", "ladder_step"])


def notice_sms_send(step_id: int) -> bool:
    """P14 no-access ladder: with the door notice, an SMS to the household's mobile asking it to
    book the inspection (the hotline; the portal's address when KEFU_PUBLIC_URL is set), through the
    SMS gateway adapter (kefu.outages.sms). The step's note records what was done — sent to which
    (masked) number and the gateway's message id, or why not — never more. Returns whether sent."""
    from django.conf import settings as django_settings

    from kefu.customers.masking import mask_phone
    from kefu.customers.models import Phone
    from kefu.outages.sms import Outgoing, SendResult, gateway

    step = LadderStep.objects.select_related("entry__customer__company").filter(pk=step_id).first()
    if step is None:
        return False
    customer = step.entry.customer
    phone = (
        Phone.objects.filter(customer=customer, kind=Phone.Kind.MOBILE)
        .order_by("-is_primary", "pk")
        .values_list("number", flat=True)
        .first()
    )
    if not phone:
        LadderStep.objects.filter(pk=step.pk).update(note=_("已留门贴；无手机号，未发短信"))
        return False
    company = customer.company
    base = getattr(django_settings, "KEFU_PUBLIC_URL", "").rstrip("/")
    link = f" {base}/portal/c/{company.code}/" if base else ""
    with translation.override(django_settings.LANGUAGE_CODE):  # the customer reads Chinese
        text = _("【%(c)s】您好，今天上门安全检查时家中无人。请拨打 %(h)s 预约上门时间%(l)s。") % {
            "c": company.short_name or company.name,
            "h": company.hotline or "",
            "l": link,
        }
    try:
        result = gateway().send([Outgoing(ref=step.pk, phone=phone, text=text, message_id=f"i{step.pk}")])
    except Exception as exc:  # noqa: BLE001 - the visit stands; the note says the SMS did not go
        logger.warning("inspection notice SMS %s failed", step.pk, exc_info=True)
        result = [SendResult(step.pk, "", False, error=type(exc).__name__)]
    sent = bool(result and result[0].ok)
    note = (
        _("已留门贴，短信预约已发送至 %(p)s（%(m)s）") % {"p": mask_phone(phone), "m": result[0].message_id}
        if sent
        else _("已留门贴；短信发送失败：%(e)s") % {"e": (result[0].error if result else "")[:80]}
    )
    LadderStep.objects.filter(pk=step.pk).update(note=note[:200])
    return sent


def ladder_state(entry: LedgerEntry, settings: InspectionSettings | None = None) -> rules.LadderState:
    """Where the entry stands on the company's no-access ladder (P14)."""
    settings = settings or settings_for(entry.company)
    events = list(LadderStep.objects.filter(entry=entry).order_by("at", "id").values_list("kind", "band"))
    return rules.ladder_position(settings.ladder, events)


def ladder_record(
    *, by, entry_id: int, kind: str, note: str = "", measurement: str | None = None
) -> LadderStep:
    """Record the next step of the no-access ladder other than a visit (P14): the door notice and
    SMS, the leak check at the door gap (a measurement, %LEL), the letter to the property management
    or street office, the proposal to restrict supply. Only the step that is next may be recorded;
    the approval of a restriction is `restriction_approve`."""
    if kind not in (StepKind.NOTICE, StepKind.MEASURE, StepKind.LETTER, StepKind.PROPOSAL):
        raise DomainError(_("只能登记门贴、门缝检漏、致函或限气申请。"), field="kind")
    if not role_allows(by, Perm.INSPECTION_PLAN):
        _need(by, Perm.FIELD_WORK)
    settings = settings_for(by.company)
    value = None
    if kind == StepKind.MEASURE:
        try:
            value = Decimal(str(measurement))
        except (InvalidOperation, TypeError):
            raise DomainError(_("请填写门缝检漏读数。"), field="measurement") from None
        if value < 0 or value > 100:
            raise DomainError(_("门缝检漏读数应在 0–100 %LEL 之间。"), field="measurement")
    with transaction.atomic():
        entry = _entry_locked(entry_id, by.company_id)
        if not role_allows(by, Perm.INSPECTION_PLAN) and not is_inspector_of(by, entry):
            raise NotFound(_("没有找到该安检户，或您无权查看。"), code="not_found")
        return _ladder_step(entry, by, settings, kind=kind, note=note, value=value)


def _ladder_step(entry, by, settings, *, kind: str, note: str, value) -> LadderStep:
    state = ladder_state(entry, settings)
    if state.next_kind != kind:
        raise Conflict(
            _("不遇处置的下一步是“%(s)s”。") % {"s": state.next_label or _("（已完成）")}, code="ladder_order"
        )
    step = LadderStep.objects.create(
        company_id=entry.company_id,
        entry=entry,
        kind=kind,
        note=_text(note, field="note", label=_("说明")),
        measurement=value,
        by=by,
    )
    entry.ladder_step = ladder_state(entry, settings).next_code
    entry.save(update_fields=["ladder_step"])
    audit_record(action=Action.UPDATED, obj=entry, actor=by, detail={"ladder": kind})
    return step


def restriction_approve(*, by, entry_id: int, note: str) -> LadderStep:
    """Approve the proposal to restrict supply to a household never reached (P14; needs
    `inspection.approve`)."""
    _need(by, Perm.INSPECTION_APPROVE)
    settings = settings_for(by.company)
    with transaction.atomic():
        entry = _entry_locked(entry_id, by.company_id)
        return _ladder_step(entry, by, settings, kind=StepKind.APPROVAL, note=note, value=None)


# ---- hazards (P14) -----------------------------------------------------------------------------
def _hazard_number(company_id: int, at: datetime) -> str:
    prefix = f"YH{at:%Y%m%d}-"
    n = Hazard.objects.filter(company_id=company_id, number__startswith=prefix).count() + 1
    return f"{prefix}{n:04d}"


def _hazard_event(h: Hazard, kind: str, by, note: str = "") -> None:
    HazardEvent.objects.create(company_id=h.company_id, hazard=h, kind=kind, by=by, note=note[:200])


def _hazard_open(*, entry, visit, by, htype: HazardType, data: HazardInput, settings) -> Hazard:
    found_on = visit.at.astimezone(tz_of(by.company)).date()
    h = Hazard.objects.create(
        company_id=entry.company_id,
        number=_hazard_number(entry.company_id, visit.at.astimezone(tz_of(by.company))),
        visit=visit,
        entry=entry,
        customer_id=entry.customer_id,
        type=htype,
        severity=htype.severity,
        description=_text(data.description, field="hazards", label=_("隐患描述")),
        found_at=visit.at,
        deadline=rules.hazard_deadline(found_on, htype.severity, settings.deadline_days),
        responsible=by,
        supply_shut_off_at=visit.at if data.shut_off else None,
    )
    _hazard_event(h, "found", by, htype.name)
    LedgerEntry.objects.filter(pk=entry.pk).update(status=EntryStatus.HAZARD)
    entry.status = EntryStatus.HAZARD
    if htype.severity == Severity.MAJOR:
        _hazard_emergency(h, entry, by)
    return h


def _hazard_emergency(h: Hazard, entry: LedgerEntry, by) -> None:
    """A major hazard on site opens an emergency work order (C8 then applies) in the name of the
    batch's planner, who may take calls (the inspector's role may not); the shut-off is recorded."""
    from kefu.customers.models import Phone
    from kefu.tickets.services import ticket_create

    planner = entry.batch.created_by if entry.batch_id else None
    if planner is None or not role_allows(planner, Perm.TICKET_CREATE):
        return
    cust = entry.customer
    phone = (
        Phone.objects.filter(customer=cust)
        .order_by("-is_primary", "id")
        .values_list("number", flat=True)
        .first()
    )
    content = _("入户安检发现重大隐患（%(n)s %(t)s），安检员 %(u)s 现场报告%(s)s。") % {
        "n": h.number,
        "t": h.type.name,
        "u": by.display_name,
        "s": _("，已关闭表前阀停气") if h.supply_shut_off_at else "",
    }
    ticket = ticket_create(
        by=planner,
        kind="emergency",
        sub_kind="leak",
        content=content,
        customer_id=cust.pk,
        caller_surname=(cust.name or "")[:1],
        caller_phone=phone or (entry.company.hotline if hasattr(entry.company, "hotline") else "") or "12345",
        address=cust.premise.address if cust.premise_id else "",
        on_duplicate="create",
        idempotency_key=f"hazard-{h.number}",
    ).ticket
    Hazard.objects.filter(pk=h.pk).update(emergency_ticket=ticket)
    h.emergency_ticket = ticket
    _hazard_event(h, "emergency", by, ticket.number)


def _hazard_locked(hazard_id, company_id: int) -> Hazard:
    try:
        return (
            Hazard.objects.select_for_update(of=("self",))
            .select_related("entry", "type")
            .get(pk=int(hazard_id), company_id=company_id)
        )
    except (Hazard.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("没有找到该隐患，或您无权查看。"), code="not_found") from None


def _may_work_hazard(by, h: Hazard) -> None:
    if role_allows(by, Perm.INSPECTION_PLAN):
        return
    _need(by, Perm.FIELD_WORK)
    if h.responsible_id != by.pk:
        raise NotFound(_("没有找到该隐患，或您无权查看。"), code="not_found")


def _move(h: Hazard, to: str) -> None:
    if to not in HAZARD_MOVES[h.state]:
        raise Conflict(
            _("隐患当前为“%(s)s”，不能改为“%(t)s”。")
            % {"s": HazardState(h.state).label, "t": HazardState(to).label},
            code="illegal_transition",
        )
    h.state = to
    h.version += 1


def hazard_notice_sign(*, by, hazard_id: int, signed_by: str) -> Hazard:
    """The customer signed the rectification notice (安全隐患整改通知书)."""
    with transaction.atomic():
        h = _hazard_locked(hazard_id, by.company_id)
        _may_work_hazard(by, h)
        h.notice_signed_by = _text(signed_by, field="signed_by", label=_("签收人"), required=True, limit=50)
        h.notice_signed_at = timezone.now()
        h.save(update_fields=["notice_signed_by", "notice_signed_at"])
        _hazard_event(h, "notice_signed", by, h.notice_signed_by)
    return h


def hazard_rectify(*, by, hazard_id: int, how: str, note: str = "") -> Hazard:
    """The hazard is reported rectified — by the customer, by the utility (a paid field job on a
    repair work order is opened for it) or by a third party; a re-check is scheduled by itself
    (`recheck_days` later) for the responsible inspector (P14)."""
    if how not in RectifiedBy.values:
        raise DomainError(_("未知的整改方式。"), field="how")
    settings = settings_for(by.company)
    with transaction.atomic():
        h = _hazard_locked(hazard_id, by.company_id)
        _may_work_hazard(by, h)
        _move(h, HazardState.RECHECK)
        h.rectified_by, h.rectified_at = how, timezone.now()
        h.recheck_due = local_today(by.company) + timedelta(days=settings.recheck_days)
        if how == RectifiedBy.UTILITY:
            h.field_job = _utility_job(h, by, note)
        h.save()
        _hazard_event(h, "rectified", by, f"{RectifiedBy(how).label} {note}".strip())
    return h


def _utility_job(h: Hazard, by, note: str):
    """The utility rectifies: a repair work order with a field job (paid on completion by the
    field's price list)."""
    from kefu.customers.models import Phone
    from kefu.field.services import job_create
    from kefu.tickets.services import ticket_create

    _need(by, Perm.INSPECTION_PLAN)
    cust = h.customer
    phone = (
        Phone.objects.filter(customer=cust)
        .order_by("-is_primary", "id")
        .values_list("number", flat=True)
        .first()
    )
    ticket = ticket_create(
        by=by,
        kind="repair",
        sub_kind="indoor_facility",
        content=_("安全隐患整改（%(n)s %(t)s）：%(d)s %(x)s")
        % {"n": h.number, "t": h.type.name, "d": h.description, "x": note},
        customer_id=cust.pk,
        caller_surname=(cust.name or "")[:1] or "-",
        caller_phone=phone or "12345",
        address=cust.premise.address if cust.premise_id else "-",
        on_duplicate="create",
        idempotency_key=f"hazard-fix-{h.number}",
    ).ticket
    return job_create(by=by, ticket_id=ticket.pk, fault=_("安全隐患整改：%(t)s") % {"t": h.type.name})


def hazard_recheck(*, by, hazard_id: int, passed: bool, note: str = "") -> Hazard:
    """The re-check visit: passed → rectified (closed); failed → open again with a new deadline."""
    settings = settings_for(by.company)
    with transaction.atomic():
        h = _hazard_locked(hazard_id, by.company_id)
        _may_work_hazard(by, h)
        _move(h, HazardState.RECTIFIED if passed else HazardState.OPEN)
        h.rechecked_at = timezone.now()
        if not passed:
            h.deadline = rules.hazard_deadline(local_today(by.company), h.severity, settings.deadline_days)
            h.rectified_by, h.rectified_at, h.recheck_due = "", None, None
        h.save()
        _hazard_event(h, "recheck_passed" if passed else "recheck_failed", by, note)
    return h


def hazard_assign(*, by, hazard_id: int, user_id: int) -> Hazard:
    """Name another person responsible for a hazard."""
    _need(by, Perm.INSPECTION_PLAN)
    u = User.objects.filter(pk=user_id, company_id=by.company_id, is_active=True).first()
    if u is None:
        raise NotFound(_("没有找到该员工。"), field="user_id", code="not_found")
    with transaction.atomic():
        h = _hazard_locked(hazard_id, by.company_id)
        h.responsible = u
        h.save(update_fields=["responsible"])
        _hazard_event(h, "assigned", by, u.display_name)
    return h


def _escalation_target(company_id: int, level: int) -> User | None:
    roles = [Role.SUPERVISOR, Role.TEAM_LEAD] if level == 1 else [Role.MANAGER, Role.SUPERVISOR]
    for role in roles:
        u = User.objects.filter(company_id=company_id, role=role, is_active=True).order_by("id").first()
        if u is not None:
            return u
    return None


def hazards_escalate(*, now: datetime | None = None, company_id: int | None = None) -> int:
    """Escalate overdue hazards (P14; the sweep): an open hazard past its deadline (or a re-check
    past its date) goes to a named supervisor (level 1), and `escalate_days` later to a manager
    (level 2); each escalation is logged and notified. Idempotent: a level is reached once."""
    from kefu.notify.services import notification_send

    now = now or timezone.now()
    qs = Hazard.objects.filter(state__in=OPEN_HAZARD, escalation_level__lt=2).select_related(
        "company", "type"
    )
    if company_id is not None:
        qs = qs.filter(company_id=company_id)
    n = 0
    for h in qs.iterator():
        today = local_today(h.company, now)
        settings = settings_for(h.company)
        late_since = h.recheck_due if h.state == HazardState.RECHECK and h.recheck_due else h.deadline
        if today <= late_since:
            continue
        level = (
            2
            if h.escalation_level >= 1 and today > late_since + timedelta(days=settings.escalate_days)
            else 1
        )
        if level <= h.escalation_level:
            continue
        target = _escalation_target(h.company_id, level)
        with transaction.atomic():
            updated = Hazard.objects.filter(pk=h.pk, escalation_level=h.escalation_level).update(
                escalation_level=level, escalated_to=target, escalated_at=now
            )
            if not updated:
                continue
            _hazard_event(h, f"escalated_{level}", None, target.display_name if target else "")
        if target is not None:
            notification_send(
                recipient=target,
                kind="inspection.hazard_overdue",
                title=_("安全隐患逾期未整改：%(n)s %(t)s") % {"n": h.number, "t": h.type.name},
                dedupe_key=f"hazard-{h.pk}-esc-{level}",
                url=f"/inspections/hazards/?number={h.number}",
                level="warning",
            )
        n += 1
    return n


def visit_add_photo(*, by, visit_id: int, label: str, upload):
    """A photo of a visit from the phone's camera (the door notice left, a hazard, the meter):
    JPEG, PNG or WebP up to 10 MB, by the visit's inspector (P14)."""
    from kefu.inspections.models import VisitPhoto

    if getattr(upload, "content_type", "") not in ("image/jpeg", "image/png", "image/webp"):
        raise DomainError(_("只接受 JPEG、PNG 或 WebP 照片。"), field="file")
    if upload.size > 10 * 1024 * 1024:
        raise DomainError(_("照片不能超过 10 MB。"), field="file")
    visit = Visit.objects.filter(pk=visit_id, company_id=by.company_id, actor=by).first()
    if visit is None:
        raise NotFound(_("没有找到该安检记录，或您无权查看。"), code="not_found")
    return VisitPhoto.objects.create(
        company_id=by.company_id,
        visit=visit,
        label=_text(label, field="label", label=_("说明"), limit=30),
        file=upload,
        uploaded_by=by,
    )
