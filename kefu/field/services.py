"""Writes of the field (P7, P10, C3, C4, C7–C12). Keyword-only services, one transaction each,
checking company and role; each writes its record and an audit row where business data changes
hands, and publishes its fact (kefu.field.facts) for the clocks.

The rule that matters most (C8): an on-site clock stops on an *arrival recorded with evidence*
(`job_event_record`), never on a state anyone may set. An arrival entered by the dispatcher, far from
the premise, with a poor or missing position, or with a device time that disagrees with the server
waits for a supervisor (`arrival_review`) and counts only once accepted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import Team, User
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.core.events import publish
from kefu.customers.models import CareRegistration, Meter
from kefu.field import rules
from kefu.field.facts import FieldArrivalReviewed, FieldArrived, FieldCompleted, FieldJobCancelled
from kefu.field.models import (
    Appointment,
    AppointmentSlot,
    CatalogueItem,
    Crew,
    DutyEntry,
    FieldJob,
    FieldSettings,
    JobEvent,
    JobLine,
    JobPhoto,
    Page,
    SerialChange,
    Technician,
)
from kefu.field.states import (
    EMERGENCY_KINDS,
    EVENT_MOVES,
    FINAL_STATES,
    KIND_SKILL,
    OPEN_STATES,
    AppointmentState,
    ArrivalSource,
    Duty,
    EventKind,
    JobState,
    Review,
    Skill,
)
from kefu.tickets.models import Ticket

MAX_TEXT = 200
#: a device time later than the server's by more than this is refused outright (clock far wrong)
FUTURE_TOLERANCE = timedelta(minutes=5)
#: an offline capture older than this is implausible: counted at the server time, flagged
OFFLINE_MAX_AGE = timedelta(hours=24)


# ---- helpers -----------------------------------------------------------------------------------
def _need(user, perm: str) -> None:
    if not role_allows(user, perm):
        audit_record(action=Action.PERMISSION_DENIED, actor=user, result="denied", detail={"wanted": perm})
        raise Forbidden(_("您的角色无权执行此操作。"), code="permission_denied")


def _text(value, *, field: str, label: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise DomainError(_("%(f)s含有无效字符。") % {"f": label}, field=field)
    if required and not value:
        raise DomainError(_("请填写%(f)s。") % {"f": label}, field=field)
    if len(value) > limit:
        raise DomainError(_("%(f)s不能超过 %(n)d 个字。") % {"f": label, "n": limit}, field=field)
    return value


def settings_for(company) -> FieldSettings:
    """The company's field settings (made with the defaults on first use)."""
    obj, _created = FieldSettings.objects.get_or_create(company_id=getattr(company, "pk", company))
    return obj


def _job_locked(job_id, company_id: int) -> FieldJob:
    """The job, locked, with what its services and the clock listener read (one query: the company
    for the audit row, the work order with its kind and department for the clock events)."""
    try:
        return (
            FieldJob.objects.select_for_update(of=("self",))
            .select_related(
                "company",
                "ticket",
                "ticket__kind",
                "ticket__assigned_department",
                "premise",
                "crew",
                "technician",
            )
            .get(pk=int(job_id), company_id=company_id)
        )
    except (FieldJob.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("没有找到该派工单，或您无权查看。"), code="not_found") from None


def technician_of(user) -> Technician | None:
    return Technician.objects.filter(user_id=getattr(user, "pk", None), is_active=True).first()


def is_assigned(user, job: FieldJob) -> bool:
    """The user is the job's technician or a member of its crew (the phone's rule)."""
    if job.technician_id is not None and "technician" in job._state.fields_cache:
        t = job.technician  # loaded with the job (_job_locked): no query on the phone's common path
        if t.user_id == getattr(user, "pk", None) and t.is_active and t.company_id == job.company_id:
            return True
    tech = technician_of(user)
    if tech is None or tech.company_id != job.company_id:
        return False
    if job.technician_id == tech.pk:
        return True
    return (
        bool(job.crew_id)
        and Crew.members.through.objects.filter(crew_id=job.crew_id, technician_id=tech.pk).exists()
    )


# ---- technicians, crews, duty, catalogue ---------------------------------------------------------
def technician_register(*, by, user_id: int, skills: list[str]) -> Technician:
    """Make a user of the company a technician with skills (抢险, 维修, 安装, 安检, 燃气具)."""
    _need(by, Perm.FIELD_DISPATCH)
    user = User.objects.filter(pk=user_id, company_id=by.company_id, is_active=True).first()
    if user is None:
        raise DomainError(_("本公司没有这位在岗员工。"), field="user_id")
    bad = [s for s in skills if s not in Skill.values]
    if bad:
        raise DomainError(_("未知的技能：%(s)s") % {"s": "、".join(bad)}, field="skills")
    tech, _created = Technician.objects.update_or_create(
        user=user,
        defaults={"company_id": by.company_id, "skills": list(dict.fromkeys(skills)), "is_active": True},
    )
    audit_record(action=Action.UPDATED, obj=tech, actor=by, detail={"skills": tech.skills})
    return tech


def technician_report_position(
    *, user, lat: float, lng: float, accuracy: float, at: datetime | None = None
) -> Technician:
    """The phone's last known position (latitude/longitude in degrees, accuracy in metres)."""
    _need(user, Perm.FIELD_WORK)
    tech = technician_of(user)
    if tech is None:
        raise DomainError(_("您还未登记为技术员。"), code="not_technician")
    _check_position(lat, lng, accuracy)
    now = timezone.now()
    at = min(at or now, now)
    if tech.position_at is None or at >= tech.position_at:
        Technician.objects.filter(pk=tech.pk).update(lat=lat, lng=lng, accuracy_m=accuracy, position_at=at)
        tech.lat, tech.lng, tech.accuracy_m, tech.position_at = lat, lng, accuracy, at
    return tech


def _check_position(lat, lng, accuracy) -> None:
    if lat is None or lng is None:
        raise DomainError(_("缺少经纬度。"), field="lat")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError(_("经纬度超出范围。"), field="lat")
    if accuracy is not None and not (0 <= accuracy <= 100_000):
        raise DomainError(_("定位精度应在 0 到 100000 米之间。"), field="accuracy")


def crew_create(
    *, by, team_id: int, name: str, member_ids: list[int], leader_id: int | None = None, vehicle: str = ""
) -> Crew:
    """A crew of technicians (ids of Technician) of a team of the company."""
    _need(by, Perm.FIELD_DISPATCH)
    team = Team.objects.filter(pk=team_id, company_id=by.company_id, is_active=True).first()
    if team is None:
        raise DomainError(_("本公司没有该班组。"), field="team_id")
    name = _text(name, field="name", label=_("名称"), required=True, limit=50)
    members = list(Technician.objects.filter(pk__in=member_ids, company_id=by.company_id))
    if len(members) != len(set(member_ids)):
        raise DomainError(_("成员中有本公司以外或不存在的技术员。"), field="member_ids")
    leader = next((m for m in members if m.pk == leader_id), members[0] if members else None)
    try:
        with transaction.atomic():
            crew = Crew.objects.create(
                company_id=by.company_id,
                team=team,
                name=name,
                vehicle=_text(vehicle, field="vehicle", label=_("车辆"), limit=30),
                leader=leader,
            )
    except IntegrityError:
        raise Conflict(_("已有同名作业组。"), field="name") from None
    crew.members.set(members)
    audit_record(action=Action.CREATED, obj=crew, actor=by)
    return crew


def duty_set(*, by, crew_id: int, day: date, status: str) -> DutyEntry:
    """The duty schedule: the crew's status on a day (on duty / on call / off)."""
    _need(by, Perm.FIELD_DISPATCH)
    if status not in Duty.values:
        raise DomainError(_("未知的值班状态。"), field="status")
    crew = Crew.objects.filter(pk=crew_id, company_id=by.company_id).first()
    if crew is None:
        raise NotFound(_("没有找到该作业组。"), code="not_found")
    entry, _created = DutyEntry.objects.update_or_create(
        crew=crew, day=day, defaults={"company_id": by.company_id, "status": status}
    )
    return entry


def catalogue_item_create(
    *, by, kind: str, code: str, name: str, unit: str = "个", price: Decimal | str = "0"
) -> CatalogueItem:
    """A part / material or a priced service of the company's catalogue."""
    _need(by, Perm.FIELD_DISPATCH)
    if kind not in CatalogueItem.Kind.values:
        raise DomainError(_("未知的目录类别。"), field="kind")
    price = _decimal(price, field="price", label=_("单价"))
    try:
        with transaction.atomic():
            return CatalogueItem.objects.create(
                company_id=by.company_id,
                kind=kind,
                code=_text(code, field="code", label=_("编码"), required=True, limit=30),
                name=_text(name, field="name", label=_("名称"), required=True, limit=60),
                unit=_text(unit, field="unit", label=_("单位"), limit=10) or "个",
                price=price,
            )
    except IntegrityError:
        raise Conflict(_("编码已存在。"), field="code") from None


def _decimal(value, *, field: str, label: str, positive: bool = False) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_("%(f)s不是有效的数字。") % {"f": label}, field=field) from None
    if not d.is_finite() or d < 0 or d > Decimal("99999999") or (positive and d == 0):
        raise DomainError(_("%(f)s超出允许范围。") % {"f": label}, field=field)
    return d.quantize(Decimal("0.01"))


# ---- field jobs --------------------------------------------------------------------------------
def _job_number(ticket: Ticket) -> str:
    n = FieldJob.objects.filter(ticket=ticket).count() + 1
    return f"{ticket.number}-P{n}"


def job_create(
    *,
    by,
    ticket_id: int,
    fault: str = "",
    product_model: str = "",
    purchase_date: date | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    address: str = "",
    care_visit: bool = False,
    due_at: datetime | None = None,
) -> FieldJob:
    """A visit (派工单, P7) on a work order: customer, address and contact from the work order unless
    given, product model, purchase date and fault. Where the company asks for an approval it starts
    in `pending_approval`. A customer in the care registry gets the care note on the sheet (C7); a
    care visit needs a registration."""
    if not (role_allows(by, Perm.FIELD_DISPATCH) or role_allows(by, Perm.TICKET_DISPATCH)):
        _need(by, Perm.FIELD_DISPATCH)
    ticket = (
        Ticket.objects.select_related("kind", "customer", "premise")
        .filter(pk=ticket_id, company_id=by.company_id)
        .first()
    )
    if ticket is None:
        raise NotFound(_("没有找到该工单，或您无权查看。"), code="not_found")
    from kefu.tickets.states import OPEN_STATES as TICKET_OPEN

    if ticket.state not in TICKET_OPEN:
        raise DomainError(_("工单已办结或取消，不能再派工。"), code="illegal_transition")
    care = None
    if ticket.customer_id:
        care = CareRegistration.objects.filter(customer_id=ticket.customer_id, ended_on__isnull=True).first()
    if care_visit and care is None:
        raise DomainError(_("该客户不在特殊关怀登记中，不能建关怀上门单。"), field="care_visit")
    fs = settings_for(ticket.company_id)
    premise = ticket.premise or (ticket.customer.premise if ticket.customer_id else None)
    with transaction.atomic():
        Ticket.objects.select_for_update().filter(pk=ticket.pk).first()  # numbers per work order in turn
        job = FieldJob.objects.create(
            company_id=ticket.company_id,
            ticket=ticket,
            number=_job_number(ticket),
            state=JobState.PENDING_APPROVAL if fs.requires_approval else JobState.NEW,
            is_emergency=ticket.kind.code in EMERGENCY_KINDS,
            is_care_visit=care_visit,
            skill=KIND_SKILL.get(ticket.kind.code, ""),
            team=ticket.assigned_team,
            customer=ticket.customer,
            premise=premise,
            address=_text(address, field="address", label=_("地址")) or ticket.address,
            contact_name=_text(contact_name, field="contact_name", label=_("联系人"), limit=50)
            or (ticket.customer.name if ticket.customer_id else ticket.caller_surname),
            contact_phone=_text(contact_phone, field="contact_phone", label=_("联系电话"), limit=20)
            or ticket.caller_phone,
            product_model=_text(product_model, field="product_model", label=_("产品型号"), limit=60),
            purchase_date=purchase_date,
            fault=_text(fault, field="fault", label=_("故障描述"), limit=2000) or ticket.content,
            care_note=(care.note or _("特殊关怀客户")) if care is not None else "",
            due_at=due_at or _nearest_due(ticket.pk),
            created_by=by,
            customer_code=f"{secrets.randbelow(10**6):06d}",
        )
        audit_record(action=Action.CREATED, obj=job, actor=by, detail={"ticket": ticket.number})
    return job


def _nearest_due(ticket_id: int) -> datetime | None:
    """The earliest due time of the work order's open on-site / handling clocks (shown on the card)."""
    from kefu.sla.models import Clock
    from kefu.sla.states import OPEN_STATES as CLOCK_OPEN

    return (
        Clock.objects.filter(
            subject_type="tickets.workorder",
            subject_id=str(ticket_id),
            state__in=list(CLOCK_OPEN),
            due_at__isnull=False,
        )
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )


def job_approve(*, by, job_id: int) -> FieldJob:
    """The approval step where the company configures one."""
    _need(by, Perm.FIELD_DISPATCH)
    with transaction.atomic():
        job = _job_locked(job_id, by.company_id)
        if job.state != JobState.PENDING_APPROVAL:
            raise Conflict(_("该派工单不在待审批状态。"), code="bad_state")
        job.state, job.approved_by = JobState.NEW, by
        job.version += 1
        job.save(update_fields=["state", "approved_by", "version"])
        audit_record(action=Action.UPDATED, obj=job, actor=by, detail={"approved": True})
    return job


def job_dispatch(*, by, job_id: int, crew_id: int, version: int | None = None) -> FieldJob:
    """Send a crew (its leader becomes the work order's assignee, P5); the crew is told at once."""
    _need(by, Perm.FIELD_DISPATCH)
    from kefu.tickets.services import ticket_assign

    with transaction.atomic():
        job = _job_locked(job_id, by.company_id)
        if version is not None and version != job.version:
            raise Conflict(_("派工单刚被其他人修改过，请刷新后再操作。"), code="stale_version")
        if job.state == JobState.PENDING_APPROVAL:
            raise DomainError(_("派工单尚未审批。"), code="needs_approval")
        if job.state not in {JobState.NEW, JobState.DISPATCHED, JobState.ACKNOWLEDGED}:
            raise Conflict(_("派工单已在途或已完成，不能改派。"), code="bad_state")
        crew = (
            Crew.objects.filter(pk=crew_id, company_id=by.company_id, is_active=True)
            .select_related("leader")
            .first()
        )
        if crew is None:
            raise DomainError(_("本公司没有该作业组。"), field="crew_id")
        if job.skill and not any(job.skill in (m.skills or []) for m in crew.members.all()):
            raise DomainError(_("该作业组没有所需的技能。"), field="crew_id")
        job.crew, job.technician, job.team = crew, crew.leader, crew.team
        job.state, job.dispatched_at = JobState.DISPATCHED, timezone.now()
        job.version += 1
        job.save(update_fields=["crew", "technician", "team", "state", "dispatched_at", "version"])
        if crew.leader_id:
            ticket_assign(
                ticket_id=job.ticket_id,
                by=by,
                version=None,
                team_id=crew.team_id,
                user_id=crew.leader.user_id,
            )
        audit_record(action=Action.UPDATED, obj=job, actor=by, detail={"crew": crew.name})
        _tell_crew(job, crew, kind="field.dispatched", title=_("新派工单 %(n)s") % {"n": job.number})
    return job


def _tell_crew(job: FieldJob, crew: Crew, *, kind: str, title: str, level: str = "info") -> None:
    from kefu.notify.services import notification_send

    for tech in crew.members.select_related("user"):
        notification_send(
            recipient=tech.user,
            kind=kind,
            title=title,
            body=job.address,
            url="/field/phone/",
            level=level,
            dedupe_key=f"{kind}:{job.pk}:{crew.pk}:{job.version}",
        )


def job_acknowledge(*, by, job_id: int) -> FieldJob:
    """The technician acknowledges the sheet before leaving (and an emergency page with it)."""
    _need(by, Perm.FIELD_WORK)
    with transaction.atomic():
        job = _job_locked(job_id, by.company_id)
        if not is_assigned(by, job):
            raise NotFound(_("没有找到该派工单，或您无权查看。"), code="not_found")
        if job.state == JobState.DISPATCHED:
            job.state, job.acknowledged_at = JobState.ACKNOWLEDGED, timezone.now()
            job.version += 1
            job.save(update_fields=["state", "acknowledged_at", "version"])
        Page.objects.filter(job=job, crew_id=job.crew_id, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now()
        )
    return job


@dataclass
class EventInput:
    kind: str
    client_id: str
    device_at: datetime | None = None
    offline: bool = False
    source: str = ""
    lat: float | None = None
    lng: float | None = None
    accuracy: float | None = None
    reason: str = ""
    code: str = ""


def job_event_record(*, by, job_id: int, data: EventInput) -> tuple[JobEvent, bool]:
    """Record 出发 / 到达 / 处理完成 / 修复 on a job, exactly once per `client_id` (a replayed
    offline action returns the first record: (event, False)). Returns (event, created).

    Who: the assigned technician (or crew member); a dispatcher may enter an arrival by hand with a
    reason (source `dispatcher`), which always goes to the exception list. An arrival's time is the
    device's capture time when captured offline (kept with the server's), else the server's."""
    client_id = _text(data.client_id, field="client_id", label=_("客户端编号"), required=True, limit=64)
    if data.kind not in EventKind.values:
        raise DomainError(_("未知的外勤事件。"), field="kind")
    existing = JobEvent.objects.filter(company_id=by.company_id, client_id=client_id).first()
    if existing is not None:
        return _replayed(existing, job_id, data.kind)
    now = timezone.now()
    if data.device_at is not None:
        if timezone.is_naive(data.device_at):
            raise DomainError(_("设备时间须带时区。"), field="device_at")
        if data.device_at > now + FUTURE_TOLERANCE:
            raise DomainError(
                _("设备时间晚于服务器时间，请校准手机时间后重试。"), field="device_at", code="future_time"
            )
    dispatcher_entry = data.source == ArrivalSource.DISPATCHER
    try:
        with transaction.atomic():
            job = _job_locked(job_id, by.company_id)
            if dispatcher_entry:
                _need(by, Perm.FIELD_DISPATCH)
                if data.kind != EventKind.ARRIVED:
                    raise DomainError(_("调度员只能代录到达。"), field="source")
                reason = _text(data.reason, field="reason", label=_("代录原因"), required=True)
            else:
                _need(by, Perm.FIELD_WORK)
                if not is_assigned(by, job):
                    raise NotFound(_("没有找到该派工单，或您无权查看。"), code="not_found")
                reason = _text(data.reason, field="reason", label=_("说明"))
            allowed_from, target = EVENT_MOVES[data.kind]
            if job.state not in allowed_from:
                if data.kind == EventKind.ARRIVED and job.arrived_at is not None:
                    raise Conflict(
                        _("该派工单已记录到达（%(t)s），不重复记录。") % {"t": _local(job.arrived_at)},
                        code="duplicate_arrival",
                    )
                raise Conflict(
                    _("派工单当前为“%(s)s”，不能记录“%(e)s”。")
                    % {"s": JobState(job.state).label, "e": EventKind(data.kind).label},
                    code="bad_state",
                )
            event = _event_row(job, by, data, client_id, reason, now)
            _apply_event(job, event, by)
    except IntegrityError:  # the same client id raced in from a second connection: the first wins
        existing = JobEvent.objects.filter(company_id=by.company_id, client_id=client_id).first()
        if existing is None:
            raise
        return _replayed(existing, job_id, data.kind)
    return event, True


def _replayed(existing: JobEvent, job_id, kind: str) -> tuple[JobEvent, bool]:
    if str(existing.job_id) != str(job_id) or existing.kind != kind:
        raise Conflict(_("该客户端编号已用于另一条记录。"), field="client_id", code="client_id_reused")
    return existing, False


def _local(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%H:%M")


def _event_row(job: FieldJob, by, data: EventInput, client_id: str, reason: str, now: datetime) -> JobEvent:
    has_position = data.lat is not None and data.lng is not None
    if has_position:
        _check_position(data.lat, data.lng, data.accuracy)
    at = now
    device_at = data.device_at
    if data.offline and device_at is not None and now - device_at <= OFFLINE_MAX_AGE:
        at = device_at  # captured offline: the capture time counts (the server time is kept)
    distance = None
    premise = job.premise
    if has_position and premise is not None and premise.lat is not None and premise.lng is not None:
        distance = round(rules.distance_m(data.lat, data.lng, premise.lat, premise.lng), 1)
    source = data.source
    if data.kind == EventKind.ARRIVED:
        source = source or (ArrivalSource.GPS if has_position else ArrivalSource.CUSTOMER_CODE)
        if source not in ArrivalSource.values:
            raise DomainError(_("未知的到达来源。"), field="source")
        if source == ArrivalSource.CUSTOMER_CODE and (data.code or "").strip() != job.customer_code:
            raise DomainError(_("客户确认码不对。"), field="code", code="bad_code")
        if source == ArrivalSource.METER_CODE and not _meter_matches(job, data.code):
            raise DomainError(_("扫描的表号不是该客户的燃气表。"), field="code", code="bad_code")
        fs = settings_for(job.company_id)  # the thresholds: read for arrivals only
        flags = rules.arrival_flags(
            source=source,
            now=now,
            device_at=device_at if not data.offline else None,
            distance=distance,
            accuracy=data.accuracy if data.accuracy is not None else (float("inf") if has_position else None),
            far_metres=fs.far_metres,
            max_accuracy=fs.max_accuracy_metres,
            skew_seconds=fs.clock_skew_seconds,
            has_position=has_position,
        )
        if data.offline and device_at is not None and now - device_at > OFFLINE_MAX_AGE:
            flags.append("clock_skew")
    else:
        flags = []
    return JobEvent.objects.create(
        company_id=job.company_id,
        job=job,
        kind=data.kind,
        client_id=client_id,
        at=at,
        device_at=device_at,
        server_at=now,
        offline=bool(data.offline),
        source=source if data.kind == EventKind.ARRIVED else "",
        lat=data.lat,
        lng=data.lng,
        accuracy_m=data.accuracy,
        distance_m=distance,
        reason=reason,
        flags=flags,
        actor=by,
        review=Review.PENDING if flags else Review.NONE,
    )


def _meter_matches(job: FieldJob, code: str) -> bool:
    code = (code or "").strip()
    return (
        bool(code)
        and bool(job.customer_id)
        and Meter.objects.filter(customer_id=job.customer_id, serial=code).exists()
    )


def _apply_event(job: FieldJob, event: JobEvent, by) -> None:
    """Move the job along its events; an arrival stamps the job, sets a premise's coordinates from
    the first clean GPS arrival, moves the work order to 处理中 (best effort) and publishes the fact."""
    _allowed, target = EVENT_MOVES[event.kind]
    job.state = target
    fields = ["state", "version"]
    if event.kind == EventKind.ARRIVED:
        job.arrived_at = event.at
        fields.append("arrived_at")
        premise = job.premise
        if (
            premise is not None
            and premise.lat is None
            and event.source == ArrivalSource.GPS
            and not event.flags
            and event.lat is not None
        ):
            from kefu.customers.models import Premise

            Premise.objects.filter(pk=premise.pk, lat__isnull=True).update(lat=event.lat, lng=event.lng)
        _ticket_in_progress(job, by)
        publish(FieldArrived(job_id=job.pk, event_id=event.pk, counts=not event.flags, event=event))
    elif event.kind in (EventKind.HANDLED, EventKind.RESOLVED):
        job.finished_at = event.at
        fields.append("finished_at")
        publish(
            FieldCompleted(
                job_id=job.pk, event_id=event.pk, resolved=event.kind == EventKind.RESOLVED, event=event
            )
        )
    job.version += 1
    job.save(update_fields=fields)
    audit_record(
        action=f"field.{event.kind}",
        obj=job,
        actor=by,
        detail={"event": event.pk, "source": event.source, "flags": event.flags, "offline": event.offline},
    )


def _ticket_in_progress(job: FieldJob, by) -> None:
    from kefu.tickets.services import ticket_transition
    from kefu.tickets.states import TicketState, can_move

    ticket = job.ticket
    if not can_move(ticket.state, TicketState.IN_PROGRESS):
        return
    try:
        with transaction.atomic():
            ticket_transition(ticket_id=ticket.pk, by=by, to=TicketState.IN_PROGRESS, version=None)
    except DomainError:  # e.g. a crew member who is not the assignee: the arrival stands on its own
        pass


@dataclass
class CompletionInput:
    client_id: str
    resolved: bool = True
    cause: str = ""
    measures: str = ""
    lines: list[dict] | None = None  # [{"code": "P001", "quantity": 1}]
    serials: list[dict] | None = None  # [{"kind": "meter", "old": "…", "new": "…"}]
    receipt_no: str = ""
    device_at: datetime | None = None
    offline: bool = False


def job_complete(*, by, job_id: int, data: CompletionInput) -> tuple[JobEvent, bool]:
    """处理完成 or 修复 with the completion form: cause, measures, parts and fees from the catalogue
    with quantities (priced at today's catalogue price), replaced meter / terminal / SIM serials (the
    customer's meter is replaced, the old one kept inactive as history) and the receipt number.
    Exactly once per `client_id`."""
    cause = _text(data.cause, field="cause", label=_("故障原因"), required=True)
    measures = _text(data.measures, field="measures", label=_("处理措施"), required=True, limit=2000)
    receipt_no = _text(data.receipt_no, field="receipt_no", label=_("收据/发票号"), limit=40)
    kind = EventKind.RESOLVED if data.resolved else EventKind.HANDLED
    existing = JobEvent.objects.filter(company_id=by.company_id, client_id=data.client_id).first()
    if existing is not None:
        return _replayed(existing, job_id, kind)
    items = {i.code: i for i in CatalogueItem.objects.filter(company_id=by.company_id, is_active=True)}
    lines: list[tuple[CatalogueItem, Decimal]] = []
    for raw in data.lines or []:
        item = items.get(str(raw.get("code", "")))
        if item is None:
            raise DomainError(_("目录中没有编码 %(c)s。") % {"c": raw.get("code", "")}, field="lines")
        lines.append((item, _decimal(raw.get("quantity", 0), field="lines", label=_("数量"), positive=True)))
    serials = []
    for raw in data.serials or []:
        if raw.get("kind") not in SerialChange.Kind.values:
            raise DomainError(_("未知的更换类别。"), field="serials")
        new = _text(raw.get("new"), field="serials", label=_("新编号"), required=True, limit=40)
        serials.append(
            (raw["kind"], _text(raw.get("old"), field="serials", label=_("原编号"), limit=40), new)
        )
    if any(item.kind == CatalogueItem.Kind.SERVICE for item, _q in lines) and not receipt_no:
        raise DomainError(_("收费须填写收据或发票号。"), field="receipt_no")
    with transaction.atomic():
        event, created = job_event_record(
            by=by,
            job_id=job_id,
            data=EventInput(
                kind=kind, client_id=data.client_id, device_at=data.device_at, offline=data.offline
            ),
        )
        if not created:
            return event, False
        job = FieldJob.objects.select_for_update().get(pk=event.job_id)
        tech = technician_of(by)
        day = timezone.localdate(event.at)
        total = Decimal("0")
        for item, qty in lines:
            amount = (item.price * qty).quantize(Decimal("0.01"))
            JobLine.objects.create(
                company_id=job.company_id,
                job=job,
                item=item,
                quantity=qty,
                unit_price=item.price,
                amount=amount,
                technician=tech,
                day=day,
            )
            if item.kind == CatalogueItem.Kind.SERVICE:
                total += amount
        for kind_, old, new in serials:
            SerialChange.objects.create(
                company_id=job.company_id, job=job, kind=kind_, old_serial=old, new_serial=new
            )
            if kind_ == SerialChange.Kind.METER and job.customer_id:
                _replace_meter(job.customer_id, old, new, day)
        job.cause, job.measures, job.receipt_no = cause, measures, receipt_no
        job.fee_total = job.fee_total + total
        job.save(update_fields=["cause", "measures", "receipt_no", "fee_total"])
    return event, True


def _replace_meter(customer_id: int, old: str, new: str, day: date) -> None:
    """The customer's meter history: the old meter stays, inactive; the new one is in use."""
    previous = Meter.objects.filter(customer_id=customer_id, is_active=True)
    if old:
        previous = previous.filter(serial=old)
    kind = previous.values_list("kind", flat=True).first() or Meter.Kind.IC_CARD
    previous.update(is_active=False)
    Meter.objects.update_or_create(
        customer_id=customer_id, serial=new, defaults={"kind": kind, "installed_on": day, "is_active": True}
    )


def job_out_of_scope(*, by, job_id: int, reason: str, transfer_advice: str, customer_told: bool) -> FieldJob:
    """C4: not our equipment, or no parts — recorded with the reason, the customer told, and the
    advice on where to turn recorded."""
    reason = _text(reason, field="reason", label=_("原因"), required=True)
    advice = _text(transfer_advice, field="transfer_advice", label=_("转其它渠道建议"), required=True)
    if not customer_told:
        raise DomainError(_("须先告知客户。"), field="customer_told")
    with transaction.atomic():
        job = _job_locked(job_id, by.company_id)
        if not (is_assigned(by, job) or role_allows(by, Perm.FIELD_DISPATCH)):
            raise NotFound(_("没有找到该派工单，或您无权查看。"), code="not_found")
        if job.state in FINAL_STATES:
            raise Conflict(_("派工单已结束。"), code="bad_state")
        job.state, job.out_of_scope_reason, job.transfer_advice, job.customer_told = (
            JobState.OUT_OF_SCOPE,
            reason,
            advice,
            True,
        )
        job.finished_at = timezone.now()
        job.version += 1
        job.save(
            update_fields=[
                "state",
                "out_of_scope_reason",
                "transfer_advice",
                "customer_told",
                "finished_at",
                "version",
            ]
        )
        audit_record(
            action="field.out_of_scope", obj=job, actor=by, detail={"reason": reason, "advice": advice}
        )
    return job


#: a visit can be called off until someone arrives (after an arrival the clock has its verdict)
CANCELLABLE = frozenset(
    {JobState.PENDING_APPROVAL, JobState.NEW, JobState.DISPATCHED, JobState.ACKNOWLEDGED, JobState.EN_ROUTE}
)


def job_cancel(*, by, job_id: int, reason: str) -> FieldJob:
    """Call a visit off before anyone arrived (the customer cancelled, a false alarm, a duplicate
    report), with the reason, audited. When every visit of a resolved or closed work order is called
    off, its on-site clocks are not measured (kefu.field.clocks.onsite_clocks_settle, C8–C12); a
    clock already past due when the last visit was called off stays breached."""
    _need(by, Perm.FIELD_DISPATCH)
    reason = _text(reason, field="reason", label=_("取消原因"), required=True)
    with transaction.atomic():
        job = _job_locked(job_id, by.company_id)
        if job.state not in CANCELLABLE:
            raise Conflict(
                _("派工单当前为“%(s)s”，不能取消。") % {"s": JobState(job.state).label}, code="bad_state"
            )
        _call_off(job, reason, by=by)
    return job


def _call_off(job: FieldJob, reason: str, *, by) -> None:
    """Cancel one locked visit: its pages stop, audited (`by` None: the system), FieldJobCancelled."""
    job.state, job.cancel_reason, job.finished_at = JobState.CANCELLED, reason, timezone.now()
    job.version += 1
    job.save(update_fields=["state", "cancel_reason", "finished_at", "version"])
    Page.objects.filter(job=job, acknowledged_at__isnull=True).update(acknowledged_at=job.finished_at)
    audit_record(action="field.cancelled", obj=job, actor=by, detail={"reason": reason})
    publish(FieldJobCancelled(job_id=job.pk, ticket_id=job.ticket_id))


def jobs_cancel_with_ticket(ticket_id: int) -> int:
    """A work order cancelled as a whole (duplicate, invalid, withdrawn by the customer) calls off
    the visits nobody has reached yet, with the order's reason, as the system: no crew drives to a
    cancelled order and its pages stop (C8–C12). A visit already on site goes on. Idempotent;
    returns how many were called off."""
    from kefu.tickets.states import CancelReason, TicketState

    ticket = Ticket.objects.filter(pk=ticket_id, state=TicketState.CANCELLED).values("cancel_reason").first()
    if ticket is None:
        return 0
    why = dict(CancelReason.choices).get(ticket["cancel_reason"], ticket["cancel_reason"])
    reason = _("工单已取消：%(r)s") % {"r": why}
    with transaction.atomic():
        jobs = list(FieldJob.objects.select_for_update().filter(ticket_id=ticket_id, state__in=CANCELLABLE))
        for job in jobs:
            _call_off(job, reason, by=None)
    return len(jobs)


def cancelled_tickets_with_open_jobs(*, now, limit: int = 200) -> list[int]:
    """Work orders cancelled in the last week whose visits are still open — the catch-up of
    kefu.field.clocks.on_ticket_cancelled."""
    from kefu.tickets.states import TicketState

    return list(
        Ticket.objects.filter(
            state=TicketState.CANCELLED,
            updated_at__gte=now - timedelta(days=7),
            field_jobs__state__in=CANCELLABLE,
        )
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def job_add_photo(*, by, job_id: int, stage: str, upload) -> JobPhoto:
    """A photo from the phone's camera (before / after), JPEG or PNG up to 10 MB."""
    if stage not in ("before", "after"):
        raise DomainError(_("照片阶段应为处理前或处理后。"), field="stage")
    if getattr(upload, "content_type", "") not in ("image/jpeg", "image/png", "image/webp"):
        raise DomainError(_("只接受 JPEG、PNG 或 WebP 照片。"), field="file")
    if upload.size > 10 * 1024 * 1024:
        raise DomainError(_("照片不能超过 10 MB。"), field="file")
    with transaction.atomic():
        job = _job_locked(job_id, by.company_id)
        if not is_assigned(by, job):
            raise NotFound(_("没有找到该派工单，或您无权查看。"), code="not_found")
        return JobPhoto.objects.create(
            company_id=job.company_id, job=job, stage=stage, file=upload, uploaded_by=by
        )


# ---- the exception list ------------------------------------------------------------------------
def arrival_review(*, by, event_id: int, accept: bool, reason: str) -> JobEvent:
    """A supervisor judges an arrival that lacks evidence: accepted → counts at its recorded time
    (the on-site clock stops there); rejected → does not count (the clock runs on until a countable
    arrival). Once only; audited."""
    _need(by, Perm.FIELD_REVIEW)
    reason = _text(reason, field="reason", label=_("审核理由"), required=True)
    with transaction.atomic():
        try:
            event = JobEvent.objects.select_for_update().get(pk=int(event_id), company_id=by.company_id)
        except (JobEvent.DoesNotExist, ValueError, TypeError, OverflowError):
            raise NotFound(_("没有找到该到达记录。"), code="not_found") from None
        if event.review != Review.PENDING:
            raise Conflict(_("该记录已审核过或无需审核。"), code="bad_state")
        event.review = Review.ACCEPTED if accept else Review.REJECTED
        event.reviewed_by, event.reviewed_at, event.review_reason = by, timezone.now(), reason
        event.save(update_fields=["review", "reviewed_by", "reviewed_at", "review_reason"])
        if not accept:
            # A rejected arrival does not count: the job may record a new, countable arrival.
            FieldJob.objects.filter(pk=event.job_id, state=JobState.ON_SITE).update(
                state=JobState.EN_ROUTE, arrived_at=None
            )
        audit_record(
            action="field.arrival_reviewed",
            obj=event.job,
            actor=by,
            detail={"event": event.pk, "accepted": accept, "reason": reason},
        )
        publish(FieldArrivalReviewed(job_id=event.job_id, event_id=event.pk, accepted=accept))
    return event


# ---- emergencies (C8, C3) ----------------------------------------------------------------------
def emergency_job_open(*, ticket_id: int) -> FieldJob | None:
    """A leak / fire / pipe-damage work order goes to the emergency team at creation: a field job
    (once per work order) and a page to the on-duty emergency crews. Idempotent (listener and
    catch-up)."""
    ticket = Ticket.objects.select_related("kind", "created_by").filter(pk=ticket_id).first()
    if ticket is None or ticket.kind.code not in EMERGENCY_KINDS:
        return None
    existing = FieldJob.objects.filter(ticket_id=ticket_id).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        job = FieldJob.objects.create(
            company_id=ticket.company_id,
            ticket=ticket,
            number=f"{ticket.number}-P1",
            state=JobState.NEW,
            is_emergency=True,
            skill=Skill.EMERGENCY,
            customer_id=ticket.customer_id,
            premise_id=ticket.premise_id,
            address=ticket.address,
            contact_name=ticket.caller_surname,
            contact_phone=ticket.caller_phone,
            fault=ticket.content,
            due_at=_nearest_due(ticket.pk),
            created_by=ticket.created_by,
            customer_code=f"{secrets.randbelow(10**6):06d}",
        )
        emergency_page(job=job)
    return job


def on_duty_crews(company_id: int, at: datetime, skill: str = "") -> list[Crew]:
    """The crews on duty or on call at `at` (kefu.field.selectors.crews_duty: the published roster of
    kefu.workforce where it has data, else the duty schedule), with a member who has `skill`."""
    from kefu.field.selectors import crews_duty

    crews = list(Crew.objects.filter(company_id=company_id, is_active=True).prefetch_related("members"))
    duty = crews_duty(company_id, {c.pk: [m.user_id for m in c.members.all()] for c in crews}, at=at)
    return [
        c
        for c in crews
        if duty.get(c.pk) in (Duty.ON_DUTY, Duty.ON_CALL)
        and (not skill or any(skill in (m.skills or []) for m in c.members.all()))
    ]


def emergency_page(*, job: FieldJob) -> list[Page]:
    """Page the on-duty emergency crews (sound on the board and the phone) and tell the
    dispatchers; one page per crew and job."""
    from kefu.notify.services import notification_send

    pages = []
    for crew in on_duty_crews(job.company_id, timezone.now(), Skill.EMERGENCY):
        page, created = Page.objects.get_or_create(
            job=job, crew=crew, defaults={"company_id": job.company_id}
        )
        pages.append(page)
        if created:
            _tell_crew(
                job, crew, kind="field.page", title=_("抢险呼叫 %(n)s") % {"n": job.number}, level="alert"
            )
    for user in User.objects.filter(
        company_id=job.company_id, is_active=True, role__in=["dispatcher", "supervisor"]
    ):
        notification_send(
            recipient=user,
            kind="field.emergency",
            title=_("抢险工单 %(n)s 已进入调度台") % {"n": job.ticket.number},
            body=job.address,
            url="/field/board/",
            level="alert",
            dedupe_key=f"field.emergency:{job.pk}",
        )
    return pages


# ---- appointments (P10, C9–C12) --------------------------------------------------------------------
def slot_create(
    *, by, team_id: int, starts_at: datetime, ends_at: datetime, capacity: int
) -> AppointmentSlot:
    """A bookable window of a team (capacity: how many visits it can take)."""
    _need(by, Perm.FIELD_DISPATCH)
    team = Team.objects.filter(pk=team_id, company_id=by.company_id, is_active=True).first()
    if team is None:
        raise DomainError(_("本公司没有该班组。"), field="team_id")
    if ends_at <= starts_at or ends_at - starts_at > timedelta(hours=12):
        raise DomainError(_("时段的结束须晚于开始，且不超过 12 小时。"), field="ends_at")
    if not 1 <= capacity <= 100:
        raise DomainError(_("容量应在 1 到 100 之间。"), field="capacity")
    try:
        with transaction.atomic():
            return AppointmentSlot.objects.create(
                company_id=by.company_id, team=team, starts_at=starts_at, ends_at=ends_at, capacity=capacity
            )
    except IntegrityError:
        raise Conflict(_("该班组在这个时间已有时段。"), field="starts_at") from None


def appointment_book(*, by, ticket_id: int, slot_id: int) -> Appointment:
    """Book the customer's window on a slot with room left (the slot row is locked: two agents
    booking the last place get one booking and one clear refusal)."""
    _need(by, Perm.APPOINTMENT_BOOK)
    ticket = Ticket.objects.filter(pk=ticket_id, company_id=by.company_id).first()
    if ticket is None:
        raise NotFound(_("没有找到该工单，或您无权查看。"), code="not_found")
    with transaction.atomic():
        slot = (
            AppointmentSlot.objects.select_for_update().filter(pk=slot_id, company_id=by.company_id).first()
        )
        if slot is None:
            raise DomainError(_("没有该预约时段。"), field="slot_id")
        if slot.ends_at <= timezone.now():
            raise DomainError(_("该时段已过。"), field="slot_id")
        if Appointment.objects.filter(
            ticket=ticket, state__in=[AppointmentState.BOOKED, AppointmentState.LATE]
        ).exists():
            raise Conflict(_("该工单已有有效预约，请先改约或取消。"), code="already_booked")
        taken = slot.appointments.exclude(state=AppointmentState.CANCELLED).count()
        if taken >= slot.capacity:
            raise Conflict(_("该时段已约满，请选其它时段。"), code="full")
        appt = Appointment.objects.create(
            company_id=by.company_id,
            ticket=ticket,
            slot=slot,
            window_start=slot.starts_at,
            window_end=slot.ends_at,
            booked_by=by,
        )
        FieldJob.objects.filter(ticket=ticket, state__in=list(OPEN_STATES), appointment__isnull=True).update(
            appointment=appt
        )
        audit_record(
            action=Action.CREATED,
            obj=appt,
            actor=by,
            detail={"ticket": ticket.number, "window": slot.starts_at.isoformat()},
        )
    return appt


def appointment_change(*, by, appointment_id: int, state: str, reason: str) -> Appointment:
    """Late or cancelled: the customer must be told before the window — a task for the work order's
    owner (a notification, and `tell_customer_by` on the record until `appointment_customer_told`)."""
    _need(by, Perm.APPOINTMENT_BOOK)
    if state not in (AppointmentState.LATE, AppointmentState.CANCELLED):
        raise DomainError(_("只能标记为将迟到或取消。"), field="state")
    reason = _text(reason, field="reason", label=_("原因"), required=True)
    from kefu.notify.services import notification_send

    with transaction.atomic():
        appt = (
            Appointment.objects.select_for_update()
            .select_related("ticket__owner")
            .filter(pk=appointment_id, company_id=by.company_id)
            .first()
        )
        if appt is None:
            raise NotFound(_("没有找到该预约。"), code="not_found")
        if appt.state in (AppointmentState.CANCELLED, AppointmentState.DONE):
            raise Conflict(_("该预约已结束。"), code="bad_state")
        appt.state, appt.change_reason, appt.tell_customer_by = state, reason, appt.window_start
        appt.customer_told_at = None
        appt.save(update_fields=["state", "change_reason", "tell_customer_by", "customer_told_at"])
        audit_record(action=Action.UPDATED, obj=appt, actor=by, detail={"state": state, "reason": reason})
        notification_send(
            recipient=appt.ticket.owner,
            kind="field.tell_customer",
            title=_("请在 %(t)s 前告知客户：工单 %(n)s 的预约%(s)s")
            % {
                "t": timezone.localtime(appt.window_start).strftime("%m-%d %H:%M"),
                "n": appt.ticket.number,
                "s": AppointmentState(state).label,
            },
            body=reason,
            url=f"/tickets/{appt.ticket_id}/",
            level="warning",
            dedupe_key=f"field.tell:{appt.pk}:{state}",
        )
    return appt


def appointment_customer_told(*, by, appointment_id: int) -> Appointment:
    """The owner recorded that the customer was told (in advance, or late: both are recorded)."""
    with transaction.atomic():
        appt = (
            Appointment.objects.select_for_update()
            .filter(pk=appointment_id, company_id=by.company_id)
            .first()
        )
        if appt is None:
            raise NotFound(_("没有找到该预约。"), code="not_found")
        if appt.tell_customer_by is None:
            raise Conflict(_("该预约没有需要告知的变更。"), code="bad_state")
        appt.customer_told_at, appt.customer_told_by = timezone.now(), by
        appt.save(update_fields=["customer_told_at", "customer_told_by"])
        audit_record(action=Action.UPDATED, obj=appt, actor=by, detail={"customer_told": True})
    return appt


def appointment_installable(*, by, appointment_id: int, installable: bool, reason: str) -> Appointment:
    """C9: the recorded "installable" check. Not installable → the installation's on-site clock is
    excluded (cancelled, not measured) with the reason recorded here and in the audit log."""
    _need(by, Perm.APPOINTMENT_BOOK)
    reason = _text(reason, field="reason", label=_("说明"), required=not installable)
    from kefu.sla.models import Clock
    from kefu.sla.services import clock_cancel
    from kefu.sla.states import OPEN_STATES as CLOCK_OPEN

    with transaction.atomic():
        appt = (
            Appointment.objects.select_for_update()
            .select_related("ticket__kind")
            .filter(pk=appointment_id, company_id=by.company_id)
            .first()
        )
        if appt is None:
            raise NotFound(_("没有找到该预约。"), code="not_found")
        if appt.ticket.kind.code not in ("installation", "appliance"):
            raise DomainError(_("只有报装和燃气具安装需要确认安装条件。"), code="not_installation")
        appt.installable, appt.installable_reason, appt.installable_by = installable, reason, by
        appt.save(update_fields=["installable", "installable_reason", "installable_by"])
        excluded = []
        if not installable:
            for clock in Clock.objects.filter(
                subject_type="tickets.workorder",
                subject_id=str(appt.ticket_id),
                state__in=list(CLOCK_OPEN),
                commitment__stop_event="ticket.arrived",
            ):
                clock_cancel(clock=clock, at=timezone.now())
                excluded.append(clock.pk)
        audit_record(
            action=Action.UPDATED,
            obj=appt,
            actor=by,
            detail={"installable": installable, "reason": reason, "clocks_excluded": excluded},
        )
    return appt


def care_visit_create(*, by, ticket_id: int, note: str = "") -> FieldJob:
    """C7: a home-visit job for a registered care customer's procedure (the care note on the sheet)."""
    job = job_create(by=by, ticket_id=ticket_id, care_visit=True, fault=note)
    return job


def tickets_without_field_jobs(
    *, now: datetime, grace: timedelta = timedelta(minutes=1), limit: int = 200
) -> list[int]:
    """Emergency work orders (last day, open) without a field job — the catch-up of the emergency
    listener (a process died between the commit and the listener)."""
    from kefu.tickets.states import OPEN_STATES as TICKET_OPEN

    return list(
        Ticket.objects.filter(
            kind__code__in=list(EMERGENCY_KINDS),
            state__in=list(TICKET_OPEN),
            created_at__lte=now - grace,
            created_at__gte=now - timedelta(days=1),
        )
        .filter(~Q(field_jobs__isnull=False))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
