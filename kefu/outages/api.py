"""Outage endpoints (/api/v1/outages/): the interruption from plan to close, the affected list,
notices and their proof, delivery receipts from the SMS gateway, the pipe network (import and
valve-closure analysis), callers, restoration, fault reports, K1–K3 inputs, and the public list.

Every error is a 4xx JSON body with a message in the user's language; data is scoped to the
user's company (S2); phone numbers are masked.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, UploadedFile
from ninja import Path as PathParam

from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError, NotFound
from kefu.customers.masking import mask_address, mask_phone
from kefu.outages import network, network_import, rules, selectors, services, sms
from kefu.outages.models import FaultReport, Notice, OutageCall, RestorationStep
from kefu.outages.schemas import (
    AffectedIn,
    AffectedOut,
    AnalyseIn,
    AnalyseOut,
    AtIn,
    CallerOutageOut,
    CallIn,
    ImportOut,
    NoticeOut,
    OutageDetailOut,
    OutageIn,
    OutageOut,
    ReasonIn,
    ReceiptsOut,
    ReportIn,
    RescheduleIn,
    SettingsIn,
    SettingsOut,
    StepIn,
    TextIn,
)

router = Router(tags=["outages"])
MAX_RECEIPTS = 10_000


def _aware(request, dt: datetime | None) -> datetime | None:
    """A naive time is read in the company's zone."""
    if dt is None or dt.tzinfo is not None:
        return dt
    tz = ZoneInfo(getattr(request.user.company, "timezone", "") or "Asia/Shanghai")
    return dt.replace(tzinfo=tz)


def _get(request, outage_id: int):
    return selectors.outage_get(user=request.user, outage_id=outage_id)


def detail_of(o) -> dict:
    from django.db.models import Count

    out = OutageOut.from_orm(o).dict()
    out["notice_due"] = rules.notice_due(o.planned_start) if o.is_planned else None
    out["affected"] = selectors.affected_summary(o)
    rows = Notice.objects.filter(outage=o).values("round", "channel", "status").annotate(n=Count("id"))
    notices: dict = {}
    for r in rows:
        notices.setdefault(f"round{r['round']}", {}).setdefault(r["channel"], {})[r["status"]] = r["n"]
    out["notices"] = notices
    out["calls"] = OutageCall.objects.filter(outage=o).count()
    out["steps"] = [
        {
            "at": s.at,
            "households": s.households,
            "note": s.note,
            "override_reason": s.override_reason,
            "needs_ignition": s.needs_ignition,
        }
        for s in RestorationStep.objects.filter(outage=o)
    ]
    return out


@router.get("/", response=list[OutageOut], summary="停气列表")
def list_outages(request, state: str = ""):
    return selectors.outage_list(user=request.user, state=state[:12])


@router.post("/", response={201: OutageDetailOut}, summary="新建停气单")
def create(request, payload: OutageIn):
    o = services.outage_create(
        by=request.user,
        kind=payload.kind,
        reason=payload.reason,
        area=payload.area,
        planned_start=_aware(request, payload.planned_start),
        planned_end=_aware(request, payload.planned_end),
        major=payload.major,
    )
    return 201, detail_of(o)


@router.get("/for-caller", response=list[CallerOutageOut], summary="来电地址是否在停气范围内")
def for_caller(request, customer_id: int | None = None, premise_id: int | None = None):
    rows = selectors.outages_for_caller(user=request.user, customer_id=customer_id, premise_id=premise_id)
    return [{**r.__dict__, "message": caller_message(request, r)} for r in rows]


def caller_message(request, r) -> str:
    tz = ZoneInfo(getattr(request.user.company, "timezone", "") or "Asia/Shanghai")
    return _("该地址在停气范围内（%(n)s，自%(s)s起，预计%(e)s恢复）") % {
        "n": r.number,
        "s": r.since.astimezone(tz).strftime("%m-%d %H:%M"),
        "e": r.until.astimezone(tz).strftime("%m-%d %H:%M"),
    }


@router.get("/indicators", summary="K1–K3 指标输入（按公司和月份）")
def indicators(request, year: int, month: int):
    assert_perm(request.user, Perm.REPORT_VIEW)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise DomainError(_("年份或月份无效。"), field="month")
    m = selectors.k_inputs(company=request.user.company, year=year, month=month)
    return {
        "company_id": m.company_id,
        "year": year,
        "month": month,
        "B_days": m.days,
        "N_active_customers": m.active_customers,
        "sum_A_T": round(m.a_t_sum, 4),
        "K1": m.k1,
        "K2": {"numerator": m.k2[0], "denominator": m.k2[1]},
        "K3": {"numerator": m.k3[0], "denominator": m.k3[1]},
        "interruptions": [i.__dict__ for i in m.interruptions],
    }


@router.get("/settings", response=SettingsOut, summary="停气设置")
def get_settings(request):
    return services.outage_settings(request.user.company_id)


@router.put("/settings", response=SettingsOut, summary="修改停气设置（公开页开关、夜间时段、热线）")
def put_settings(request, payload: SettingsIn):
    return services.settings_update(by=request.user, **payload.dict())


@router.get("/network", summary="管网概况")
def get_network(request):
    assert_perm(request.user, Perm.OUTAGE_PLAN)
    s = selectors.network_summary(request.user.company_id)
    last = s.pop("last_import")
    s["last_import"] = (
        {"id": last.pk, "at": last.at, "ok": last.ok, "errors": last.errors[:50]}
        if last is not None
        else None
    )
    return s


@router.post("/network/import", response=ImportOut, summary="导入管网（CSV 或 GeoJSON，逐行校验）")
def import_network(
    request,
    fmt: Form[str] = "csv",
    nodes: File[UploadedFile] | None = None,
    edges: File[UploadedFile] | None = None,
    geojson: File[UploadedFile] | None = None,
):
    run = network_import.network_import(
        by=request.user,
        fmt=fmt,
        nodes=nodes.read() if nodes else None,
        edges=edges.read() if edges else None,
        geojson=geojson.read() if geojson else None,
    )
    return run


@router.post("/network/analyse", response=AnalyseOut, summary="关阀分析")
def analyse(request, payload: AnalyseIn):
    assert_perm(request.user, Perm.OUTAGE_PLAN)
    net = selectors.company_network(request.user.company_id)
    try:
        if payload.pipe:
            iso = network.valves_for_pipe(net, payload.pipe)
        else:
            if not payload.valves:
                raise DomainError(_("请选择要关闭的阀门，或选择损坏的管段。"), field="valves")
            bad = [v for v in payload.valves if v in net.kinds and not net.is_valve(v)]
            if bad:
                raise DomainError(_("%(v)s 不是阀门。") % {"v": bad[0]}, field="valves")
            iso = network.isolate(net, payload.valves)
        out = {"closed": iso.closed, "households": len(iso.premise_ids), "premise_ids": iso.premise_ids}
        if payload.stuck:
            res = network.stuck(net, iso.closed, payload.stuck)
            out.update(
                ring=res.ring,
                extra_households=len(res.extra_premise_ids),
                extra_premise_ids=res.extra_premise_ids,
            )
    except KeyError as exc:
        raise DomainError(
            _("管网中没有 %(x)s（或它不在关闭的阀门中）。") % {"x": str(exc).strip("'")}, field="valves"
        ) from None
    return out


@router.post(
    "/sms/receipts/{gateway}", response=ReceiptsOut, summary="短信送达回执（批量，网关重发自动去重）"
)
def receipts(request, gateway: str, payload: list[dict]):
    assert_perm(request.user, Perm.OUTAGE_PLAN)
    if len(payload) > MAX_RECEIPTS:
        raise DomainError(_("一次最多 %(n)s 条回执。") % {"n": MAX_RECEIPTS})
    try:
        gw = sms.gateway(gateway)
    except KeyError:
        raise NotFound(_("未知的短信网关。"), code="not_found") from None
    try:
        parsed = gw.parse_receipts(payload)
    except (KeyError, ValueError, TypeError, AttributeError):
        raise DomainError(_("回执格式有误。"), code="invalid") from None
    return services.receipts_record(gateway_name=gw.name, receipts=parsed, company_id=request.user.company_id)


@router.post("/notices/{int:notice_id}/posted", summary="登记张贴通知（时间和照片）")
def posted(
    request, notice_id: int, at: Form[datetime | None] = None, photo: File[UploadedFile] | None = None
):
    n = services.notice_mark_posted(by=request.user, notice_id=notice_id, at=_aware(request, at), photo=photo)
    return {"id": n.pk, "status": n.status, "posted_at": n.posted_at}


@router.post("/notices/{int:notice_id}/called", summary="登记外呼结果")
def called(request, notice_id: int, reached: bool = True):
    n = services.notice_mark_called(by=request.user, notice_id=notice_id, reached=reached)
    return {"id": n.pk, "status": n.status}


@router.get("/{int:outage_id}", response=OutageDetailOut, summary="停气单详情")
def get_outage(request, outage_id: int):
    return detail_of(_get(request, outage_id))


@router.post(
    "/{int:outage_id}/reschedule", response=OutageDetailOut, summary="修改计划时间（改开始时间将重新通知）"
)
def reschedule(request, outage_id: int, payload: RescheduleIn):
    o = services.outage_reschedule(
        by=request.user,
        outage_id=outage_id,
        planned_start=_aware(request, payload.planned_start),
        planned_end=_aware(request, payload.planned_end),
        reason=payload.reason,
    )
    return detail_of(o)


@router.post("/{int:outage_id}/affected", summary="选择停气范围（供气区域 / 小区楼栋 / 管网阀门）")
def set_affected(request, outage_id: int, payload: AffectedIn):
    sel = payload.dict()
    method = sel.pop("method")
    n = services.outage_set_affected(by=request.user, outage_id=outage_id, method=method, selection=sel)
    return {"households": n}


@router.get("/{int:outage_id}/affected", response=list[AffectedOut], summary="受影响用户（重点用户在前）")
def get_affected(request, outage_id: int, limit: int = 500):
    o = _get(request, outage_id)
    return [
        {
            "premise_id": a.premise_id,
            "address": mask_address(a.premise.address, a.premise.room),
            "building_key": a.building_key,
            "priority": a.priority,
            "priority_reason": a.priority_reason,
            "customer_id": a.customer_id,
            "restored_at": a.restored_step.at if a.restored_step_id else None,
        }
        for a in selectors.affected_list(o, limit=max(1, min(limit, 5000)))
    ]


@router.post("/{int:outage_id}/approve", response=OutageDetailOut, summary="批准计划停气")
def approve(request, outage_id: int):
    return detail_of(services.outage_approve(by=request.user, outage_id=outage_id))


@router.post("/{int:outage_id}/notify", summary="冻结名单并发出通知")
def notify(request, outage_id: int):
    return services.outage_notify(by=request.user, outage_id=outage_id)


@router.get("/{int:outage_id}/notices", response=list[NoticeOut], summary="通知及送达凭证")
def notices(request, outage_id: int, channel: str = "", status: str = "", limit: int = 500):
    o = _get(request, outage_id)
    qs = Notice.objects.filter(outage=o)
    if channel:
        qs = qs.filter(channel=channel[:8])
    if status:
        qs = qs.filter(status=status[:10])
    return [
        {
            **{f: getattr(n, f) for f in NoticeOut.model_fields if f != "phone_masked"},
            "phone_masked": mask_phone(n.phone),
        }
        for n in qs.order_by("id")[: max(1, min(limit, 5000))]
    ]


@router.get("/{int:outage_id}/notice.pdf", summary="张贴用停气通知（PDF，每栋一页）")
def notice_pdf(request, outage_id: int, building: str = ""):
    from kefu.outages import pdf

    o = _get(request, outage_id)
    qs = Notice.objects.filter(outage=o, round=o.notice_round, channel=Notice.Channel.POSTED)
    if building:
        qs = qs.filter(building_key=building[:100])
    buildings = list(qs.values_list("building_key", flat=True))
    if not buildings:
        raise NotFound(_("该停气单还没有张贴通知。"), code="not_found")
    data = pdf.notice_pdf(
        o,
        buildings=buildings,
        hotline=services.outage_settings(o.company_id).hotline,
        company_name=o.company.name,
    )
    resp = HttpResponse(data, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="notice-{o.number}.pdf"'
    return resp


@router.post("/{int:outage_id}/start", response=OutageDetailOut, summary="开始停气（记录实际开始时间）")
def start(request, outage_id: int, payload: AtIn):
    return detail_of(
        services.outage_start(by=request.user, outage_id=outage_id, at=_aware(request, payload.at))
    )


@router.post("/{int:outage_id}/restore-notice", response=OutageDetailOut, summary="发恢复供气预告")
def restore_notice(request, outage_id: int):
    return detail_of(services.outage_restore_notice(by=request.user, outage_id=outage_id))


@router.post("/{int:outage_id}/steps", response=OutageDetailOut, summary="恢复供气（一步：楼栋、户数、时间）")
def restore_step(request, outage_id: int, payload: StepIn):
    services.outage_restore_step(
        by=request.user,
        outage_id=outage_id,
        at=_aware(request, payload.at),
        buildings=payload.buildings,
        note=payload.note,
        override_reason=payload.override_reason,
        needs_ignition=payload.needs_ignition,
    )
    return detail_of(_get(request, outage_id))


@router.post("/{int:outage_id}/calls", summary="来电关联停气（生成子工单）")
def link_call(request, outage_id: int, payload: CallIn):
    _get(request, outage_id)
    call = services.outage_link_call(by=request.user, outage_id=outage_id, **payload.dict())
    return {
        "ticket_id": call.ticket_id,
        "number": call.ticket.number,
        "calls": OutageCall.objects.filter(outage_id=outage_id).count(),
    }


@router.post("/{int:outage_id}/answer-calls", summary="恢复供气后统一答复并关闭来电工单")
def answer_calls(request, outage_id: int, payload: TextIn):
    return {"closed": services.outage_answer_calls(by=request.user, outage_id=outage_id, text=payload.text)}


@router.post("/{int:outage_id}/close", response=OutageDetailOut, summary="关闭停气单")
def close(request, outage_id: int):
    return detail_of(services.outage_close(by=request.user, outage_id=outage_id))


@router.post("/{int:outage_id}/cancel", response=OutageDetailOut, summary="取消停气单")
def cancel(request, outage_id: int, payload: ReasonIn):
    return detail_of(services.outage_cancel(by=request.user, outage_id=outage_id, reason=payload.reason))


def _report_out(r: FaultReport) -> dict:
    return {
        f: getattr(r, f)
        for f in (
            "impact",
            "handling",
            "cause",
            "corrective",
            "preventive",
            "summary",
            "status",
            "approved_at",
            "published_at",
        )
    }


@router.put("/{int:outage_id}/report", summary="编写故障分析报告（P8）")
def write_report(request, outage_id: int, payload: ReportIn):
    return _report_out(services.fault_report_write(by=request.user, outage_id=outage_id, **payload.dict()))


@router.post("/{int:outage_id}/report/approve", summary="批准故障分析报告")
def approve_report(request, outage_id: int):
    return _report_out(services.fault_report_approve(by=request.user, outage_id=outage_id))


@router.post("/{int:outage_id}/report/publish", summary="发布故障分析报告（短信摘要）")
def publish_report(request, outage_id: int):
    return _report_out(services.fault_report_publish(by=request.user, outage_id=outage_id))


@router.get("/{int:outage_id}/report.pdf", summary="故障分析报告 PDF")
def report_pdf(request, outage_id: int):
    from kefu.outages import pdf

    o = _get(request, outage_id)
    r = FaultReport.objects.filter(outage=o).first()
    if r is None:
        raise NotFound(_("还没有故障分析报告。"), code="not_found")
    resp = HttpResponse(pdf.report_pdf(o, r, company_name=o.company.name), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="report-{o.number}.pdf"'
    return resp


@router.get("/public/{code}", auth=None, summary="公开：当前和计划中的停气（按小区，无需登录）")
def public_list(request, code: str = PathParam(..., pattern=r"^[A-Za-z0-9_-]{1,40}$")):
    from kefu.accounts.models import Company

    company = Company.objects.filter(code=code[:40]).first()
    rows = selectors.public_outages(company) if company is not None else []
    if company is None or not services.outage_settings(company.pk).public_page:
        raise NotFound(_("该公司未开放停气信息公开页。"), code="not_found")
    return [
        {
            "number": r["outage"].number,
            "state": r["outage"].state,
            "reason": r["outage"].reason,
            "area": r["outage"].area,
            "planned_start": r["outage"].planned_start,
            "planned_end": r["outage"].planned_end,
            "communities": r["communities"],
        }
        for r in rows
    ]
