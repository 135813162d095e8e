"""Inspection endpoints, /api/v1/inspections/ (C5, C11, C12, P14, K4, K12, S2). The inspector's
phone and the supervisors' screens use the same endpoints. Thin: parse, call one service or
selector, shape the answer; every refusal is a 4xx JSON with a message (kefu.api handlers)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, UploadedFile

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import NotFound
from kefu.core.schema_types import Instant
from kefu.inspections import selectors, services
from kefu.inspections.models import Hazard, LedgerEntry, Visit

router = Router(tags=["inspections"])


class ErrorOut(Schema):
    detail: str
    code: str = "invalid"
    field: str | None = None


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _dt(v):
    return v.isoformat() if v else None


def entry_out(e: LedgerEntry, contact: dict | None = None) -> dict:
    out = {
        "id": e.pk,
        "account_no": e.customer.account_no,
        "kind": e.kind,
        "period": e.period,
        "periods": e.periods,
        "due_on": e.due_on.isoformat(),
        "category": e.category,
        "district": e.district,
        "community": e.community,
        "building": e.building,
        "status": e.status,
        "no_access_visits": e.no_access_visits,
        "ladder_step": e.ladder_step,
        "batch_id": e.batch_id,
        "done_at": _dt(e.done_at),
    }
    if contact is not None:
        out["contact"] = contact
    return out


def visit_out(v: Visit, hazards: list[str] | None = None) -> dict:
    """A visit; `hazards` (their numbers) when the caller knows them, else they are read."""
    return {
        "id": v.pk,
        "entry_id": v.entry_id,
        "client_id": v.client_id,
        "at": _dt(v.at),
        "offline": v.offline,
        "band": v.band,
        "outcome": v.outcome,
        "reason": v.reason,
        "checklist": v.checklist,
        "meter_reading": str(v.meter_reading) if v.meter_reading is not None else None,
        "hazards": [h.number for h in v.hazards.all()] if hazards is None else hazards,
        "has_signature": bool(v.signature),
    }


def hazard_out(h: Hazard) -> dict:
    return {
        "id": h.pk,
        "number": h.number,
        "account_no": h.customer.account_no,
        "type": h.type.name,
        "severity": h.severity,
        "state": h.state,
        "deadline": h.deadline.isoformat(),
        "responsible": h.responsible.display_name,
        "rectified_by": h.rectified_by,
        "recheck_due": h.recheck_due.isoformat() if h.recheck_due else None,
        "escalation_level": h.escalation_level,
        "escalated_to": h.escalated_to.display_name if h.escalated_to_id else None,
        "emergency_ticket": h.emergency_ticket.number if h.emergency_ticket_id else None,
        "field_job": h.field_job_id,
        "supply_shut_off_at": _dt(h.supply_shut_off_at),
    }


# ---- programme and coverage ------------------------------------------------------------------------
class ProgrammeIn(Schema):
    year: int = Field(..., ge=2000, le=2100)


@router.post("/programmes", response={201: dict, **ERRORS}, summary="生成年度安检台账（C5、C12）")
def generate(request: HttpRequest, payload: ProgrammeIn):
    prog = services.programme_generate(by=request.user, year=payload.year)
    return 201, {"year": prog.year, "frequencies": prog.frequencies, "source": prog.source}


@router.get("/coverage", response={200: list[dict], **ERRORS}, summary="安检覆盖率（按小区、区县、类别）")
def coverage(request: HttpRequest, year: int, by: Literal["community", "district", "category"] = "community"):
    assert_perm(request.user, Perm.INSPECTION_PLAN)
    rows = selectors.coverage(company_id=request.user.company_id, year=year, by=by)
    return [
        {
            "key": r.key,
            "target": r.target,
            "served": r.served,
            "inspected": r.inspected,
            "hazards": r.hazards,
            "share": r.share,
            "projected_finish": r.projected_finish.isoformat() if r.projected_finish else None,
        }
        for r in rows
    ]


@router.get("/ledger", response={200: list[dict], **ERRORS}, summary="安检台账")
def ledger(request: HttpRequest, year: int, status: str = "", community: str = "", limit: int = 200):
    assert_perm(request.user, Perm.INSPECTION_PLAN)
    rows = selectors.ledger(
        company_id=request.user.company_id,
        year=year,
        status=status,
        community=community,
        limit=max(1, min(limit, 1000)),
    )
    return [entry_out(e) for e in rows]


@router.get("/no-access", response={200: list[dict], **ERRORS}, summary="不遇台账（P14）")
def no_access(request: HttpRequest, year: int):
    assert_perm(request.user, Perm.INSPECTION_PLAN)
    return [entry_out(e) for e in selectors.no_access_ledger(company_id=request.user.company_id, year=year)]


# ---- batches -------------------------------------------------------------------------------------
class BatchIn(Schema):
    year: int = Field(..., ge=2000, le=2100)
    community: str = Field(..., max_length=60)
    buildings: list[str] = Field(default_factory=list, max_length=200)
    inspector_id: int
    first_day: date
    last_day: date


@router.post("/batches", response={201: dict, **ERRORS}, summary="安检批次（小区、楼号、安检员、日期）")
def create_batch(request: HttpRequest, payload: BatchIn):
    b = services.batch_create(by=request.user, **payload.dict())
    return 201, {
        "id": b.pk,
        "households": b.entries.count(),
        "notice": f"/inspections/batches/{b.pk}/notice.pdf",
    }


@router.get("/batches", response={200: list[dict], **ERRORS}, summary="安检批次列表")
def list_batches(request: HttpRequest, year: int):
    assert_perm(request.user, Perm.INSPECTION_PLAN)
    return [
        {
            "id": b.pk,
            "community": b.community,
            "buildings": b.buildings,
            "inspector": b.inspector.user.display_name,
            "first_day": b.first_day.isoformat(),
            "last_day": b.last_day.isoformat(),
            "households": b.households,
        }
        for b in selectors.batches(company_id=request.user.company_id, year=year)
    ]


# ---- the inspector's phone ---------------------------------------------------------------------------
@router.get("/my-day", response={200: list[dict], **ERRORS}, summary="安检员今日入户清单（脱敏）")
def my_day(request: HttpRequest):
    assert_perm(request.user, Perm.FIELD_WORK)
    return [
        entry_out(e, selectors.entry_contact(user=request.user, entry=e, unmasked=False))
        for e in selectors.inspector_day(user=request.user)
    ]


@router.get(
    "/entries/{entry_id}",
    response={200: dict, **ERRORS},
    summary="安检户（unmasked=true：当日批次的安检员查看完整信息，记入审计）",
)
def get_entry(request: HttpRequest, entry_id: int, unmasked: bool = False):
    e = (
        LedgerEntry.objects.select_related("customer", "customer__premise", "batch")
        .filter(pk=entry_id, company_id=request.user.company_id)
        .first()
    )
    if e is None or not (
        role_allows(request.user, Perm.INSPECTION_PLAN) or services.is_inspector_of(request.user, e)
    ):
        raise NotFound(_("没有找到该安检户，或您无权查看。"), code="not_found")
    out = entry_out(e, selectors.entry_contact(user=request.user, entry=e, unmasked=unmasked))
    out["ladder_next"] = services.ladder_state(e).next_label
    out["visits"] = [visit_out(v) for v in e.visits.prefetch_related("hazards")]
    return out


class HazardIn(Schema):
    type_code: str = Field(..., max_length=32)
    description: str = Field("", max_length=200)
    shut_off: bool = False


class VisitIn(Schema):
    client_id: str = Field(..., min_length=1, max_length=64, description="手机生成的唯一编号：重放只记一次")
    outcome: Literal["done", "nobody_home", "refused", "vacant", "not_in_use"]
    device_at: Instant | None = Field(None, description="手机采集时间（离线时以此为准）")
    offline: bool = False
    reason: str = Field("", max_length=200)
    door_notice: bool = False
    checklist: dict[str, Literal["pass", "fail", "na"]] = Field(default_factory=dict)
    meter_reading: str | None = Field(None, max_length=20)
    advice_given: bool = False
    signed_by: str = Field("", max_length=50)
    appliances_checked: bool = False
    hazards: list[HazardIn] = Field(default_factory=list, max_length=20)
    signature_png: str = Field(
        "", max_length=300_000, description="手写签名：PNG 的 data URL 或 base64（≤ 200 KB）"
    )


@router.post(
    "/entries/{entry_id}/visits",
    response={200: dict, 201: dict, **ERRORS},
    summary="提交入户安检记录（幂等：同一客户端编号只记一次）",
)
def submit_visit(request: HttpRequest, entry_id: int, payload: VisitIn):
    data = payload.dict()
    data["hazards"] = [services.HazardInput(**h) for h in data["hazards"]]
    visit, created = services.visit_submit(
        by=request.user, entry_id=entry_id, data=services.VisitInput(**data)
    )
    # a visit just recorded without hazards has none to read back
    return (201 if created else 200), visit_out(visit, [] if created and not data["hazards"] else None)


@router.post(
    "/visits/{visit_id}/photos", response={201: dict, **ERRORS}, summary="安检照片（门贴、隐患、表具）"
)
def upload_photo(request: HttpRequest, visit_id: int, file: File[UploadedFile], label: str = ""):
    p = services.visit_add_photo(by=request.user, visit_id=visit_id, label=label, upload=file)
    return 201, {"id": p.pk, "label": p.label}


@router.get(
    "/visits/{visit_id}/signature",
    response={200: None, **ERRORS},
    summary="客户手写签名（PNG，每次查看留痕）",
)
def visit_signature(request: HttpRequest, visit_id: int):
    """The customer's drawn signature of a visit (C5 evidence): planners and above, audited."""
    from django.http import FileResponse

    from kefu.accounts.audit import audit_record

    assert_perm(request.user, Perm.INSPECTION_PLAN)
    visit = (
        Visit.objects.filter(pk=visit_id, company_id=request.user.company_id).exclude(signature="").first()
    )
    if visit is None:
        raise NotFound(_("没有这次安检的手写签名。"))
    audit_record(action="inspections.signature_viewed", obj=visit, actor=request.user)
    return FileResponse(visit.signature.open("rb"), content_type="image/png")


class LadderIn(Schema):
    kind: Literal["notice", "measure", "letter", "proposal"]
    note: str = Field("", max_length=200)
    measurement: str | None = Field(None, max_length=12, description="门缝检漏读数（%LEL）")


@router.post("/entries/{entry_id}/ladder", response={201: dict, **ERRORS}, summary="不遇处置下一步")
def ladder(request: HttpRequest, entry_id: int, payload: LadderIn):
    step = services.ladder_record(by=request.user, entry_id=entry_id, **payload.dict())
    return 201, {"id": step.pk, "kind": step.kind, "next": step.entry.ladder_step}


class NoteIn(Schema):
    note: str = Field("", max_length=200)


@router.post(
    "/entries/{entry_id}/restriction", response={201: dict, **ERRORS}, summary="批准限气（需审批权限）"
)
def restriction(request: HttpRequest, entry_id: int, payload: NoteIn):
    step = services.restriction_approve(by=request.user, entry_id=entry_id, note=payload.note)
    return 201, {"id": step.pk, "kind": step.kind}


# ---- hazards -------------------------------------------------------------------------------------
def _hazard(request, hazard_id: int) -> Hazard:
    return (
        Hazard.objects.select_related("type", "customer", "responsible", "escalated_to", "emergency_ticket")
        .filter(pk=hazard_id, company_id=request.user.company_id)
        .get()
    )


@router.get("/hazards", response={200: list[dict], **ERRORS}, summary="隐患台账（未整改、待复查）")
def hazards(request: HttpRequest):
    assert_perm(request.user, Perm.INSPECTION_PLAN)
    return [hazard_out(h) for h in selectors.hazards_open(company_id=request.user.company_id)]


class SignIn(Schema):
    signed_by: str = Field(..., max_length=50)


@router.post("/hazards/{hazard_id}/sign", response={200: dict, **ERRORS}, summary="整改通知书已签收")
def sign(request: HttpRequest, hazard_id: int, payload: SignIn):
    h = services.hazard_notice_sign(by=request.user, hazard_id=hazard_id, signed_by=payload.signed_by)
    return hazard_out(_hazard(request, h.pk))


class RectifyIn(Schema):
    how: Literal["customer", "utility", "third_party"]
    note: str = Field("", max_length=200)


@router.post("/hazards/{hazard_id}/rectify", response={200: dict, **ERRORS}, summary="已整改（安排复查）")
def rectify(request: HttpRequest, hazard_id: int, payload: RectifyIn):
    h = services.hazard_rectify(by=request.user, hazard_id=hazard_id, how=payload.how, note=payload.note)
    return hazard_out(_hazard(request, h.pk))


class RecheckIn(Schema):
    passed: bool
    note: str = Field("", max_length=200)


@router.post("/hazards/{hazard_id}/recheck", response={200: dict, **ERRORS}, summary="复查结果")
def recheck(request: HttpRequest, hazard_id: int, payload: RecheckIn):
    h = services.hazard_recheck(
        by=request.user, hazard_id=hazard_id, passed=payload.passed, note=payload.note
    )
    return hazard_out(_hazard(request, h.pk))


# ---- indicator inputs ------------------------------------------------------------------------------
@router.get("/indicators/k4", response={200: dict, **ERRORS}, summary="K4 入户安全检查的原始记录")
def k4(request: HttpRequest, start: Instant, end: Instant):
    assert_perm(request.user, Perm.REPORT_VIEW)
    got = selectors.k4_inputs(company_id=request.user.company_id, start=start, end=end)
    return {"served": got.served, "nobody_home": got.nobody_home, "active_households": got.active_households}


@router.get("/indicators/k12", response={200: list[dict], **ERRORS}, summary="K12 燃气具安检的原始记录")
def k12(request: HttpRequest, start: Instant, end: Instant):
    assert_perm(request.user, Perm.REPORT_VIEW)
    rows = selectors.k12_inputs(company_id=request.user.company_id, start=start, end=end)
    return [{"ref": r, "due_at": _dt(d), "done_at": _dt(x)} for r, d, x in rows]
