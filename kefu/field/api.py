"""Field endpoints, /api/v1/field/ (P7, P10, C3, C4, C7–C12, S2). The technician's phone and the
integrations use the same endpoints. Thin: parse, call one service or selector, shape the answer;
every refusal is a 4xx JSON with a message in the user's language (kefu.api handlers)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, UploadedFile

from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError
from kefu.core.schema_types import Instant
from kefu.field import selectors, services
from kefu.field.models import Crew, FieldJob, JobEvent, Technician
from kefu.field.rules import FLAG_LABELS

router = Router(tags=["field"])


class ErrorOut(Schema):
    detail: str
    code: str = "invalid"
    field: str | None = None


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
Lat = Field(None, ge=-90, le=90, allow_inf_nan=False)
Lng = Field(None, ge=-180, le=180, allow_inf_nan=False)
Acc = Field(None, ge=0, le=100000, allow_inf_nan=False, description="定位精度（米）")


def _dt(v):
    return v.isoformat() if v else None


def job_out(job: FieldJob, contact: dict | None = None) -> dict:
    out = {
        "id": job.pk,
        "number": job.number,
        "ticket_id": job.ticket_id,
        "ticket_number": job.ticket.number,
        "kind": job.ticket.kind.code,
        "state": job.state,
        "state_name": str(job.get_state_display()),
        "is_emergency": job.is_emergency,
        "is_care_visit": job.is_care_visit,
        "care_note": job.care_note,
        "crew": job.crew.name if job.crew_id else None,
        "due_at": _dt(job.due_at),
        "arrived_at": _dt(job.arrived_at),
        "finished_at": _dt(job.finished_at),
        "fault": job.fault,
        "product_model": job.product_model,
        "purchase_date": job.purchase_date.isoformat() if job.purchase_date else None,
        "cause": job.cause,
        "measures": job.measures,
        "receipt_no": job.receipt_no,
        "fee_total": str(job.fee_total),
        "out_of_scope_reason": job.out_of_scope_reason,
        "transfer_advice": job.transfer_advice,
        "cancel_reason": job.cancel_reason,
        "navigation": selectors.navigation_url(job),
        "version": job.version,
    }
    out.update(contact or selectors.job_contact(user=None, job=job, unmasked=False))
    return out


def event_out(e: JobEvent) -> dict:
    return {
        "id": e.pk,
        "job_id": e.job_id,
        "kind": e.kind,
        "client_id": e.client_id,
        "at": _dt(e.at),
        "device_at": _dt(e.device_at),
        "server_at": _dt(e.server_at),
        "offline": e.offline,
        "source": e.source,
        "lat": e.lat,
        "lng": e.lng,
        "accuracy_m": e.accuracy_m,
        "distance_m": e.distance_m,
        "flags": e.flags,
        "flag_names": [FLAG_LABELS.get(f, f) for f in e.flags],
        "review": e.review,
        "review_reason": e.review_reason,
    }


# ---- jobs ---------------------------------------------------------------------------------------
class JobCreateIn(Schema):
    ticket_id: int
    fault: str = Field("", max_length=2000)
    product_model: str = Field("", max_length=60)
    purchase_date: date | None = None
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=20)
    address: str = Field("", max_length=200)
    care_visit: bool = False


@router.post("/jobs", response={201: dict, **ERRORS}, summary="新建派工单（P7）")
def create_job(request: HttpRequest, payload: JobCreateIn):
    job = services.job_create(by=request.user, **payload.dict())
    return 201, job_out(job)


@router.get("/jobs", response={200: list[dict], **ERRORS}, summary="派工单列表（技术员只见本人的）")
def list_jobs(request: HttpRequest, open_only: bool = True, limit: int = 100):
    limit = max(1, min(limit, 500))
    qs = selectors.jobs_visible_to(request.user).select_related("ticket", "ticket__kind", "crew", "premise")
    if open_only:
        qs = qs.filter(state__in=list(selectors.OPEN_STATES))
    return [job_out(j) for j in qs.order_by("-is_emergency", "due_at", "id")[:limit]]


@router.get(
    "/jobs/{job_id}",
    response={200: dict, **ERRORS},
    summary="派工单（unmasked=true：被派技术员在未完成时查看完整信息，记入审计）",
)
def get_job(request: HttpRequest, job_id: int, unmasked: bool = False):
    job = selectors.job_get(user=request.user, job_id=job_id)
    contact = selectors.job_contact(user=request.user, job=job, unmasked=unmasked)
    out = job_out(job, contact)
    out["events"] = [event_out(e) for e in job.events.all()]
    if selectors.job_is_open_for(request.user, job) and job.customer_code:
        out["customer_code_hint"] = _("请客户报出确认码，或由客户在手机上确认。")
    return out


@router.post("/jobs/{job_id}/approve", response={200: dict, **ERRORS}, summary="审批派工单")
def approve_job(request: HttpRequest, job_id: int):
    return job_out(services.job_approve(by=request.user, job_id=job_id))


class DispatchIn(Schema):
    crew_id: int
    version: int | None = None


@router.post("/jobs/{job_id}/dispatch", response={200: dict, **ERRORS}, summary="派工到作业组（通知组员）")
def dispatch_job(request: HttpRequest, job_id: int, payload: DispatchIn):
    return job_out(
        services.job_dispatch(
            by=request.user, job_id=job_id, crew_id=payload.crew_id, version=payload.version
        )
    )


@router.post("/jobs/{job_id}/acknowledge", response={200: dict, **ERRORS}, summary="技术员接单（确认派工单）")
def acknowledge_job(request: HttpRequest, job_id: int):
    return job_out(services.job_acknowledge(by=request.user, job_id=job_id))


@router.get(
    "/jobs/{job_id}/candidates", response={200: list[dict], **ERRORS}, summary="按预计到达排序的作业组（C8）"
)
def candidates(request: HttpRequest, job_id: int):
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    job = selectors.job_get(user=request.user, job_id=job_id)
    return [
        {"crew_id": c.crew_id, "name": c.name, "eta_minutes": c.eta_minutes, "reason": c.reason}
        for c in selectors.rank_for_job(job=job, now=timezone.now())
    ]


class EventIn(Schema):
    kind: Literal["departed", "arrived", "handled", "resolved"]
    client_id: str = Field(..., min_length=1, max_length=64, description="手机生成的唯一编号：重放只记一次")
    device_at: Instant | None = Field(None, description="手机采集时间（离线时以此为准）")
    offline: bool = False
    source: Literal["", "gps", "meter_code", "customer_code", "dispatcher"] = ""
    lat: float | None = Lat
    lng: float | None = Lng
    accuracy: float | None = Acc
    reason: str = Field("", max_length=200)
    code: str = Field("", max_length=40, description="客户确认码或扫描的表号")


@router.post(
    "/jobs/{job_id}/events",
    response={200: dict, 201: dict, **ERRORS},
    summary="出发 / 到达 / 处理完成 / 修复（带证据，幂等）",
)
def record_event(request: HttpRequest, job_id: int, payload: EventIn):
    event, created = services.job_event_record(
        by=request.user, job_id=job_id, data=services.EventInput(**payload.dict())
    )
    return (201 if created else 200), event_out(event)


class LineIn(Schema):
    code: str = Field(..., max_length=30)
    quantity: Decimal = Field(..., gt=0, le=100000, max_digits=10, decimal_places=2)


class SerialIn(Schema):
    kind: Literal["meter", "terminal", "sim"]
    old: str = Field("", max_length=40)
    new: str = Field(..., min_length=1, max_length=40)


class CompleteIn(Schema):
    client_id: str = Field(..., min_length=1, max_length=64)
    resolved: bool = True
    cause: str = Field(..., max_length=200)
    measures: str = Field(..., max_length=2000)
    lines: list[LineIn] = Field(default_factory=list, max_length=50)
    serials: list[SerialIn] = Field(default_factory=list, max_length=10)
    receipt_no: str = Field("", max_length=40)
    device_at: Instant | None = None
    offline: bool = False


@router.post(
    "/jobs/{job_id}/complete",
    response={200: dict, 201: dict, **ERRORS},
    summary="完成：原因、措施、用料、收费、换表（幂等）",
)
def complete_job(request: HttpRequest, job_id: int, payload: CompleteIn):
    data = payload.dict()
    data["lines"] = [{"code": x["code"], "quantity": x["quantity"]} for x in data["lines"]]
    event, created = services.job_complete(
        by=request.user, job_id=job_id, data=services.CompletionInput(**data)
    )
    return (201 if created else 200), event_out(event)


class OutOfScopeIn(Schema):
    reason: str = Field(..., max_length=200)
    transfer_advice: str = Field(..., max_length=200)
    customer_told: bool


@router.post(
    "/jobs/{job_id}/out-of-scope",
    response={200: dict, **ERRORS},
    summary="不在维修范围（C4：记录原因、已告知客户、转其它渠道建议）",
)
def out_of_scope(request: HttpRequest, job_id: int, payload: OutOfScopeIn):
    return job_out(services.job_out_of_scope(by=request.user, job_id=job_id, **payload.dict()))


class CancelIn(Schema):
    reason: str = Field(..., max_length=200)


@router.post(
    "/jobs/{job_id}/cancel",
    response={200: dict, **ERRORS},
    summary="取消上门（到达前；记录原因，C8–C12 上门计时见 docs/field.md）",
)
def cancel(request: HttpRequest, job_id: int, payload: CancelIn):
    return job_out(services.job_cancel(by=request.user, job_id=job_id, reason=payload.reason))


@router.post("/jobs/{job_id}/photos", response={201: dict, **ERRORS}, summary="现场照片（处理前 / 处理后）")
def upload_photo(
    request: HttpRequest, job_id: int, stage: Literal["before", "after"], file: File[UploadedFile]
):
    photo = services.job_add_photo(by=request.user, job_id=job_id, stage=stage, upload=file)
    return 201, {"id": photo.pk, "stage": photo.stage}


# ---- exceptions ---------------------------------------------------------------------------------
@router.get("/exceptions", response={200: list[dict], **ERRORS}, summary="待审核的到达记录（C8）")
def list_exceptions(request: HttpRequest):
    assert_perm(request.user, Perm.FIELD_REVIEW)
    return [
        {**event_out(e), "job_number": e.job.number}
        for e in selectors.exceptions_pending(user=request.user)[:500]
    ]


class ReviewIn(Schema):
    accept: bool
    reason: str = Field(..., max_length=200)


@router.post("/exceptions/{event_id}", response={200: dict, **ERRORS}, summary="认可或驳回一条到达记录")
def review_exception(request: HttpRequest, event_id: int, payload: ReviewIn):
    return event_out(services.arrival_review(by=request.user, event_id=event_id, **payload.dict()))


# ---- technicians, crews, duty, position ---------------------------------------------------------
class PositionIn(Schema):
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False)
    lng: float = Field(..., ge=-180, le=180, allow_inf_nan=False)
    accuracy: float = Field(..., ge=0, le=100000, allow_inf_nan=False)
    at: Instant | None = None


@router.post("/position", response={200: dict, **ERRORS}, summary="手机上报当前位置")
def report_position(request: HttpRequest, payload: PositionIn):
    t = services.technician_report_position(user=request.user, **payload.dict())
    return {"lat": t.lat, "lng": t.lng, "accuracy_m": t.accuracy_m, "position_at": _dt(t.position_at)}


@router.get("/my-day", response={200: list[dict], **ERRORS}, summary="技术员今天的派工单（按时限排序）")
def my_day(request: HttpRequest):
    assert_perm(request.user, Perm.FIELD_WORK)
    return [job_out(j) for j in selectors.technician_day(user=request.user)]


class TechnicianIn(Schema):
    user_id: int
    skills: list[Literal["emergency", "repair", "install", "inspection", "appliance"]] = Field(
        ..., max_length=5
    )


@router.post("/technicians", response={201: dict, **ERRORS}, summary="登记技术员和技能")
def register_technician(request: HttpRequest, payload: TechnicianIn):
    t = services.technician_register(by=request.user, user_id=payload.user_id, skills=list(payload.skills))
    return 201, {"id": t.pk, "user_id": t.user_id, "skills": t.skills}


@router.get("/technicians", response={200: list[dict], **ERRORS}, summary="技术员")
def list_technicians(request: HttpRequest):
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    return [
        {
            "id": t.pk,
            "user_id": t.user_id,
            "name": t.user.display_name,
            "skills": t.skills,
            "lat": t.lat,
            "lng": t.lng,
            "accuracy_m": t.accuracy_m,
            "position_at": _dt(t.position_at),
        }
        for t in Technician.objects.filter(company_id=request.user.company_id).select_related("user")[:1000]
    ]


class CrewIn(Schema):
    team_id: int
    name: str = Field(..., max_length=50)
    member_ids: list[int] = Field(..., max_length=20)
    leader_id: int | None = None
    vehicle: str = Field("", max_length=30)


@router.post("/crews", response={201: dict, **ERRORS}, summary="新建作业组")
def create_crew(request: HttpRequest, payload: CrewIn):
    c = services.crew_create(by=request.user, **payload.dict())
    return 201, {"id": c.pk, "name": c.name}


@router.get(
    "/crews", response={200: list[dict], **ERRORS}, summary="作业组及其状态（空闲、在途、在现场、休息）"
)
def list_crews(request: HttpRequest):
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    return [
        {
            "id": c.id,
            "name": c.name,
            "team": c.team,
            "duty": c.duty,
            "state": c.state,
            "lat": c.lat,
            "lng": c.lng,
            "position_at": _dt(c.position_at),
            "job": c.job_number,
        }
        for c in selectors.crew_rows(request.user.company_id, now=timezone.now())
    ]


class DutyIn(Schema):
    crew_id: int
    day: date
    status: Literal["on_duty", "on_call", "off"]


@router.post("/duty", response={200: dict, **ERRORS}, summary="值班表：作业组某日的值班状态")
def set_duty(request: HttpRequest, payload: DutyIn):
    d = services.duty_set(by=request.user, **payload.dict())
    return {"crew_id": d.crew_id, "day": d.day.isoformat(), "status": d.status}


@router.get("/board", response={200: dict, **ERRORS}, summary="调度台数据")
def board(request: HttpRequest):
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    b = selectors.board(user=request.user)
    return {
        "jobs": [{**j, "due_at": _dt(j["due_at"])} for j in b.jobs],
        "total_open": b.total_open,
        "counts": b.counts,
        "crews": [
            {"id": c.id, "name": c.name, "state": c.state, "duty": c.duty, "job": c.job_number}
            for c in b.crews
        ],
        "pages": [{**p, "sent_at": _dt(p["sent_at"])} for p in b.pages],
        "exceptions": b.exceptions,
    }


# ---- catalogue, fees ----------------------------------------------------------------------------
class CatalogueIn(Schema):
    kind: Literal["part", "service"]
    code: str = Field(..., max_length=30)
    name: str = Field(..., max_length=60)
    unit: str = Field("个", max_length=10)
    price: Decimal = Field(..., ge=0, le=99999999, max_digits=10, decimal_places=2)


@router.post("/catalogue", response={201: dict, **ERRORS}, summary="配件材料与收费价目")
def add_catalogue_item(request: HttpRequest, payload: CatalogueIn):
    i = services.catalogue_item_create(by=request.user, **payload.dict())
    return 201, {"id": i.pk, "code": i.code, "price": str(i.price)}


@router.get("/fees", response={200: list[dict], **ERRORS}, summary="每日收费清单（按技术员，交财务）")
def fees(request: HttpRequest, day: date):
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    return [
        {**r, "fees": str(r["fees"]), "parts": str(r["parts"])}
        for r in selectors.fees_by_technician(company_id=request.user.company_id, day=day)
    ]


# ---- appointments -------------------------------------------------------------------------------
class SlotIn(Schema):
    team_id: int
    starts_at: Instant
    ends_at: Instant
    capacity: int = Field(4, ge=1, le=100)


@router.post("/slots", response={201: dict, **ERRORS}, summary="新建预约时段（班组、日期、容量）")
def create_slot(request: HttpRequest, payload: SlotIn):
    if payload.starts_at.tzinfo is None or payload.ends_at.tzinfo is None:
        raise DomainError(_("时间须带时区。"), field="starts_at")
    s = services.slot_create(by=request.user, **payload.dict())
    return 201, {"id": s.pk}


@router.get(
    "/slots", response={200: list[dict], **ERRORS}, summary="可预约时段（含剩余名额和客户听得懂的说法）"
)
def list_slots(request: HttpRequest, team_id: int | None = None, days: int = 7):
    days = max(1, min(days, 31))
    assert_perm(request.user, Perm.APPOINTMENT_BOOK)
    return [
        {**r, "starts_at": _dt(r["starts_at"]), "ends_at": _dt(r["ends_at"])}
        for r in selectors.slots_open(
            company_id=request.user.company_id, team_id=team_id, since=timezone.now(), days=days
        )
    ]


class BookIn(Schema):
    ticket_id: int
    slot_id: int


def appt_out(a) -> dict:
    return {
        "id": a.pk,
        "ticket_id": a.ticket_id,
        "state": a.state,
        "window_start": _dt(a.window_start),
        "window_end": _dt(a.window_end),
        "installable": a.installable,
        "tell_customer_by": _dt(a.tell_customer_by),
        "customer_told_at": _dt(a.customer_told_at),
    }


@router.post("/appointments", response={201: dict, **ERRORS}, summary="为客户预约上门时段（P10）")
def book(request: HttpRequest, payload: BookIn):
    return 201, appt_out(services.appointment_book(by=request.user, **payload.dict()))


class ChangeIn(Schema):
    state: Literal["late", "cancelled"]
    reason: str = Field(..., max_length=200)


@router.post(
    "/appointments/{appointment_id}/change",
    response={200: dict, **ERRORS},
    summary="将迟到或取消（须提前告知客户）",
)
def change(request: HttpRequest, appointment_id: int, payload: ChangeIn):
    return appt_out(
        services.appointment_change(by=request.user, appointment_id=appointment_id, **payload.dict())
    )


@router.post("/appointments/{appointment_id}/told", response={200: dict, **ERRORS}, summary="已告知客户")
def told(request: HttpRequest, appointment_id: int):
    return appt_out(services.appointment_customer_told(by=request.user, appointment_id=appointment_id))


class InstallableIn(Schema):
    installable: bool
    reason: str = Field("", max_length=200)


@router.post(
    "/appointments/{appointment_id}/installable",
    response={200: dict, **ERRORS},
    summary="安装条件检查（C9：不具备的不计时）",
)
def installable(request: HttpRequest, appointment_id: int, payload: InstallableIn):
    return appt_out(
        services.appointment_installable(by=request.user, appointment_id=appointment_id, **payload.dict())
    )


class CareVisitIn(Schema):
    ticket_id: int
    note: str = Field("", max_length=2000)


@router.post("/care-visits", response={201: dict, **ERRORS}, summary="特殊关怀客户上门（C7）")
def care_visit(request: HttpRequest, payload: CareVisitIn):
    return 201, job_out(services.care_visit_create(by=request.user, **payload.dict()))


@router.get("/records", response={200: dict, **ERRORS}, summary="指标 K6–K12 所需记录（按公司和月份）")
def records(request: HttpRequest, year: int, month: int):
    assert_perm(request.user, Perm.REPORT_VIEW)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise DomainError(_("年份或月份超出范围。"), field="month")
    data = selectors.month_records(company_id=request.user.company_id, year=year, month=month)

    def plain(rows):
        return [
            {k: (v.isoformat() if isinstance(v, (datetime, date)) else v) for k, v in r.items()} for r in rows
        ]

    return {k: plain(v) for k, v in data.items()}


__all__ = ["router", "Crew"]
