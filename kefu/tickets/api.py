"""Work-order endpoints, /api/v1/tickets/ (P1, P3, P5, P9). Thin: parse, call one service or selector,
shape the answer. Every refusal is a 4xx JSON with a Chinese message (kefu.api handlers).

Personal data (phone, address) is masked unless the role has Perm.CUSTOMER_VIEW_UNMASKED and the
request asks `?unmasked=true` on one work order; each unmasked view is written to the audit log (S2).
"""

from __future__ import annotations

import math
from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router, UploadedFile
from ninja.responses import Status

from kefu.core.errors import DomainError, Forbidden
from kefu.customers.privacy import personal_data_view
from kefu.tickets import services
from kefu.tickets.downloads import attachment_response
from kefu.tickets.models import HandOver, Ticket, TicketEvent
from kefu.tickets.schemas import (
    AssignIn,
    AttachmentOut,
    CalledAgainIn,
    CloseChildrenIn,
    ContactAttemptIn,
    DecisionIn,
    DuplicateOut,
    ErrorOut,
    EscalateIn,
    EventOut,
    HandOverIn,
    HandOverOut,
    KindOut,
    LinkIn,
    LinkOut,
    ReassignIn,
    ReclassifyIn,
    ReplyIn,
    TextIn,
    TicketCreatedOut,
    TicketCreateIn,
    TicketOut,
    TicketPage,
    TransitionIn,
)
from kefu.tickets.selectors import (
    TICKET_PERSONAL_FIELDS,
    TicketFilter,
    pending_hand_overs_for,
    ticket_get,
    ticket_list_with_counts,
    ticket_personal_data,
)
from kefu.tickets.services.timeline import ticket_attachment_open
from kefu.tickets.states import allowed_targets, state_label
from kefu.tickets.taxonomy import kinds_for

router = Router(tags=["tickets"])

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user_ref(u) -> dict | None:
    return {"id": u.pk, "name": u.display_name} if u is not None else None


def ticket_out(t: Ticket, *, unmasked: bool = False) -> dict:
    """The API shape of a work order; phone and address masked unless `unmasked` (already authorised)."""
    personal = ticket_personal_data(t, unmasked=unmasked)
    return {
        "id": t.pk,
        "number": t.number,
        "kind": t.kind.code,
        "kind_name": t.kind.name,
        "sub_kind": t.sub_kind.code if t.sub_kind_id else None,
        "sub_kind_name": t.sub_kind.name if t.sub_kind_id else None,
        "channel": t.channel,
        "severity": t.severity,
        "state": t.state,
        "state_label": state_label(t.state),
        "state_reason": t.state_reason,
        "cancel_reason": t.cancel_reason,
        "customer_id": t.customer_id,
        "premise_id": t.premise_id,
        "caller_surname": t.caller_surname,
        "caller_title": t.caller_title,
        "salutation": t.salutation,
        "caller_phone": personal["phone"],
        "address": personal["address"],
        "content": t.content,
        "received_at": t.received_at,
        "backdate_reason": t.backdate_reason,
        "resolved_at_first_contact": t.resolved_at_first_contact,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "owner": _user_ref(t.owner),
        "assigned_department": t.assigned_department.name if t.assigned_department_id else None,
        "assigned_department_id": t.assigned_department_id,
        "assigned_team": t.assigned_team.name if t.assigned_team_id else None,
        "assigned_to": _user_ref(t.assigned_to) if t.assigned_to_id else None,
        "called_again_count": t.called_again_count,
        "version": t.version,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "allowed_transitions": sorted(allowed_targets(t.state)),
        "unmasked": unmasked,
    }


def _fresh(request, ticket_id: int) -> dict:
    return ticket_out(ticket_get(user=request.user, ticket_id=ticket_id))


def _ho_out(ho: HandOver) -> dict:
    return {
        "id": ho.pk,
        "ticket_id": ho.ticket_id,
        "ticket_number": ho.ticket.number,
        "from_user": _user_ref(ho.from_user),
        "to_user": _user_ref(ho.to_user),
        "reason": ho.reason,
        "status": ho.status,
        "created_at": ho.created_at,
        "decided_at": ho.decided_at,
        "decision_note": ho.decision_note,
    }


@router.get("/kinds", response={200: list[KindOut], **ERRORS}, summary="工单类型及子类（含各类型必填项）")
def list_kinds(request: HttpRequest):
    if request.user.company_id is None:
        raise Forbidden(_("您的账号不属于任何公司。"), code="no_company")
    return [
        {
            "code": k.code,
            "name": k.name,
            "requires_name": k.requires_name,
            "requires_phone": k.requires_phone,
            "requires_address": k.requires_address,
            "can_resolve_on_call": k.can_resolve_on_call,
            "default_severity": k.default_severity,
            "sub_kinds": [{"code": s.code, "name": s.name} for s in k.sub_kinds.all() if s.is_active],
        }
        for k in kinds_for(request.user.company)
    ]


@router.post(
    "/",
    response={
        201: TicketCreatedOut,
        200: TicketCreatedOut,
        409: DuplicateOut,
        400: ErrorOut,
        403: ErrorOut,
        422: ErrorOut,
    },
    summary="新建工单（支持幂等键；同一客户有未办结同类工单时返回 409 及其列表）",
    description=(
        "创建人即首问责任人（P1）。请求头 `Idempotency-Key` 或字段 `idempotency_key` 相同的重复请求返回"
        "第一次创建的工单（200，created=false）。维修、报警抢险须有电话和地址（P5）。"
    ),
)
def create_ticket(request: HttpRequest, payload: TicketCreateIn):
    data = payload.dict()
    key = (request.headers.get("Idempotency-Key") or data.pop("idempotency_key") or "").strip()
    data.pop("idempotency_key", None)
    try:
        result = services.ticket_create(by=request.user, idempotency_key=key, **data)
    except services.DuplicateFound as exc:
        return Status(
            409,
            {
                "detail": exc.message,
                "code": exc.code,
                "duplicates": [
                    {
                        "id": t.pk,
                        "number": t.number,
                        "state": t.state,
                        "kind": t.kind.code,
                        "received_at": t.received_at,
                    }
                    for t in exc.duplicates
                ],
            },
        )
    # The new work order already carries its kind, owner and premise: no second read (create is hot, P2).
    body = {**ticket_out(result.ticket), "created": result.created}
    return Status((201 if result.created else 200), body)


@router.get("/", response={200: TicketPage, **ERRORS}, summary="工单列表与搜索（筛选、分页、按状态计数）")
def list_tickets(
    request: HttpRequest,
    state: list[str] = Query(None, description="可多选"),
    open_only: bool = False,
    kind: str = Query("", max_length=40),
    owner_id: int | None = None,
    assigned_to_id: int | None = None,
    department_id: int | None = None,
    channel: str = Query("", max_length=10),
    date_from: date | None = None,
    date_to: date | None = None,
    number: str = Query("", max_length=30),
    phone: str = Query("", max_length=40),
    address: str = Query("", max_length=100),
    content: str = Query("", max_length=100),
    customer_id: int | None = None,
    q: str = Query("", max_length=100, description="工单号、电话或内容关键词"),
    page: int = Query(1, ge=1, le=100000),
    page_size: int = Query(20, ge=1, le=100),
):
    if date_from and date_to and date_from > date_to:
        raise DomainError(_("开始日期不能晚于结束日期。"), field="date_from")
    base = TicketFilter(
        open_only=open_only,
        kind=kind,
        owner_id=owner_id,
        assigned_to_id=assigned_to_id,
        department_id=department_id,
        channel=channel,
        date_from=date_from,
        date_to=date_to,
        number=number,
        phone=phone,
        address=address,
        content=content,
        customer_id=customer_id,
        q=q,
    )
    result = ticket_list_with_counts(user=request.user, f=base, states=tuple(state or ()))
    start = (page - 1) * page_size
    rows = result.page(
        start,
        start + page_size,
        "kind",
        "sub_kind",
        "owner",
        "assigned_department",
        "assigned_team",
        "assigned_to",
        "premise",
    )
    return {
        "count": result.total,
        "count_capped": result.capped,
        "text_window": result.window,
        "page": page,
        "page_size": page_size,
        "pages": max(math.ceil(result.total / page_size), 1),
        "counts_by_state": result.by_state or {},
        "items": [ticket_out(t) for t in rows],
    }


@router.get("/hand-overs/pending", response={200: list[HandOverOut], **ERRORS}, summary="等待我接收的移交")
def my_pending_hand_overs(request: HttpRequest):
    return [_ho_out(h) for h in pending_hand_overs_for(user=request.user).select_related("to_user")]


@router.post(
    "/hand-overs/{hand_over_id}/accept",
    response={200: TicketOut, **ERRORS},
    summary="接收移交（成为首问责任人）",
)
def accept_hand_over(request: HttpRequest, hand_over_id: int):
    t = services.ticket_accept_hand_over(hand_over_id=hand_over_id, by=request.user)
    return _fresh(request, t.pk)


@router.post(
    "/hand-overs/{hand_over_id}/decline",
    response={200: HandOverOut, **ERRORS},
    summary="拒绝移交（须说明原因）",
)
def decline_hand_over(request: HttpRequest, hand_over_id: int, payload: DecisionIn):
    return _ho_out(
        services.ticket_decline_hand_over(hand_over_id=hand_over_id, by=request.user, note=payload.note)
    )


@router.post(
    "/hand-overs/{hand_over_id}/withdraw", response={200: HandOverOut, **ERRORS}, summary="撤回尚未接收的移交"
)
def withdraw_hand_over(request: HttpRequest, hand_over_id: int):
    return _ho_out(services.ticket_withdraw_hand_over(hand_over_id=hand_over_id, by=request.user))


@router.get("/{ticket_id}", response={200: TicketOut, **ERRORS}, summary="查看工单")
def get_ticket(request: HttpRequest, ticket_id: int, unmasked: bool = False):
    t = ticket_get(user=request.user, ticket_id=ticket_id)
    if unmasked:
        personal_data_view(user=request.user, obj=t, fields=TICKET_PERSONAL_FIELDS)
    return ticket_out(t, unmasked=unmasked)


@router.get("/{ticket_id}/events", response={200: list[EventOut], **ERRORS}, summary="工单时间线")
def ticket_events(request: HttpRequest, ticket_id: int):
    t = ticket_get(user=request.user, ticket_id=ticket_id)
    labels = dict(TicketEvent.Kind.choices)
    return [
        {
            "id": e.pk,
            "kind": e.kind,
            "kind_label": str(labels.get(e.kind, e.kind)),
            "actor": _user_ref(e.actor),
            "at": e.at,
            "payload": e.payload,
        }
        for e in t.events.select_related("actor").order_by("at", "id")
    ]


@router.post(
    "/{ticket_id}/transition",
    response={200: TicketOut, **ERRORS},
    summary="变更状态（按状态表；版本过期返回 409）",
)
def transition(request: HttpRequest, ticket_id: int, payload: TransitionIn):
    services.ticket_transition(
        ticket_id=ticket_id,
        by=request.user,
        to=payload.to,
        version=payload.version,
        reason=payload.reason,
        cancel_reason=payload.cancel_reason,
        hold_reason=payload.hold_reason,
        agreed_at=payload.agreed_at,
    )
    return _fresh(request, ticket_id)


@router.post("/{ticket_id}/assign", response={200: TicketOut, **ERRORS}, summary="派发给承办部门/班组/人员")
def assign(request: HttpRequest, ticket_id: int, payload: AssignIn):
    services.ticket_assign(ticket_id=ticket_id, by=request.user, **payload.dict())
    return _fresh(request, ticket_id)


@router.post("/{ticket_id}/reclassify", response={200: TicketOut, **ERRORS}, summary="更改工单类型")
def reclassify(request: HttpRequest, ticket_id: int, payload: ReclassifyIn):
    services.ticket_reclassify(ticket_id=ticket_id, by=request.user, **payload.dict())
    return _fresh(request, ticket_id)


@router.post("/{ticket_id}/comment", response={201: EventOut, **ERRORS}, summary="内部备注")
def comment(request: HttpRequest, ticket_id: int, payload: TextIn):
    e = services.ticket_comment(ticket_id=ticket_id, by=request.user, text=payload.text)
    return Status(201, _event_out(e))


@router.post("/{ticket_id}/reply", response={201: EventOut, **ERRORS}, summary="答复客户")
def reply(request: HttpRequest, ticket_id: int, payload: ReplyIn):
    e = services.ticket_reply(ticket_id=ticket_id, by=request.user, text=payload.text, via=payload.via)
    return Status(201, _event_out(e))


@router.post(
    "/{ticket_id}/contact-attempts", response={201: EventOut, **ERRORS}, summary="记录联系客户（回访/回电）"
)
def contact_attempt(request: HttpRequest, ticket_id: int, payload: ContactAttemptIn):
    e = services.ticket_record_contact_attempt(ticket_id=ticket_id, by=request.user, **payload.dict())
    return Status(201, _event_out(e))


@router.post(
    "/{ticket_id}/called-again", response={200: TicketOut, **ERRORS}, summary="记录客户再次来电（不新建工单）"
)
def called_again(request: HttpRequest, ticket_id: int, payload: CalledAgainIn):
    services.ticket_record_called_again(
        ticket_id=ticket_id, by=request.user, note=payload.note, channel=payload.channel
    )
    return _fresh(request, ticket_id)


@router.post(
    "/{ticket_id}/hand-over",
    response={201: HandOverOut, **ERRORS},
    summary="移交工单（接收人接收后才转移责任）",
)
def hand_over(request: HttpRequest, ticket_id: int, payload: HandOverIn):
    ho = services.ticket_hand_over(ticket_id=ticket_id, by=request.user, **payload.dict())
    return Status(
        201, _ho_out(HandOver.objects.select_related("ticket", "from_user", "to_user").get(pk=ho.pk))
    )


@router.post(
    "/{ticket_id}/reassign", response={200: TicketOut, **ERRORS}, summary="主管改派首问责任人（须说明原因）"
)
def reassign(request: HttpRequest, ticket_id: int, payload: ReassignIn):
    services.ticket_reassign(ticket_id=ticket_id, by=request.user, **payload.dict())
    return _fresh(request, ticket_id)


@router.post(
    "/{ticket_id}/escalate", response={201: EventOut, **ERRORS}, summary="请示上报（逐级；紧急情况可越级）"
)
def escalate(request: HttpRequest, ticket_id: int, payload: EscalateIn):
    e = services.ticket_escalate(ticket_id=ticket_id, by=request.user, **payload.dict())
    return Status(201, _event_out(e))


@router.post("/{ticket_id}/links", response={201: LinkOut, **ERRORS}, summary="关联工单（重复、跟进、父子）")
def link(request: HttpRequest, ticket_id: int, payload: LinkIn):
    lk = services.ticket_link(
        ticket_id=ticket_id, by=request.user, target_id=payload.target_id, kind=payload.kind
    )
    return Status(201, {"id": lk.pk, "source_id": lk.source_id, "target_id": lk.target_id, "kind": lk.kind})


@router.post(
    "/{ticket_id}/close-with-children",
    response={200: list[TicketOut], **ERRORS},
    summary="批量办结父工单及其子工单",
)
def close_with_children(request: HttpRequest, ticket_id: int, payload: CloseChildrenIn):
    closed = services.ticket_close_children(ticket_id=ticket_id, by=request.user, **payload.dict())
    return [_fresh(request, t.pk) for t in closed]


@router.post(
    "/{ticket_id}/attachments",
    response={201: AttachmentOut, **ERRORS},
    summary="上传附件（图片/PDF/Office，≤10 MB）",
)
def upload_attachment(request: HttpRequest, ticket_id: int, file: File[UploadedFile]):
    att = services.ticket_add_attachment(ticket_id=ticket_id, by=request.user, upload=file)
    return Status(201, att)


_FILE_TYPES = sorted({t for types in services.ATTACHMENT_TYPES.values() for t in types})


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    response={**ERRORS},
    summary="下载附件（图片、PDF 可在浏览器中直接打开；每次下载记入审计日志）",
    description=(
        "只有能查看该工单的用户（本公司；维修工只限本人的工单）才能下载，否则一律 404，不透露附件是否存在。"
        "返回文件本身：`Content-Type` 为上传时核验的类型，`Content-Disposition` 中图片和 PDF 为 inline、"
        "其他为 attachment，文件名按 RFC 5987 编码（`filename*=UTF-8''…`）。附件可能含个人信息（S2），"
        "每次下载写入审计日志（`privacy.attachment_view`）。"
    ),
    openapi_extra={
        "responses": {
            "200": {
                "description": "文件内容",
                "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in _FILE_TYPES},
            }
        }
    },
)
def download_attachment(request: HttpRequest, ticket_id: int, attachment_id: int):
    att, handle = ticket_attachment_open(ticket_id=ticket_id, attachment_id=attachment_id, by=request.user)
    return attachment_response(att, handle)


def _event_out(e: TicketEvent) -> dict:
    return {
        "id": e.pk,
        "kind": e.kind,
        "kind_label": str(dict(TicketEvent.Kind.choices).get(e.kind, e.kind)),
        "actor": _user_ref(e.actor),
        "at": e.at,
        "payload": e.payload,
    }
