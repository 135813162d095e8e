"""Telephony endpoints, /api/v1/telephony/ (C8, C13, C15, C18, K5, K14, P2).

Call events come from the PBX or CTI link with a bearer token of an account holding
`telephony.feed`; refused events are answered with their message (and kept, logged and audited).
Caller numbers are masked unless the role sees unmasked personal data (S2).
"""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError, NotFound
from kefu.customers.masking import mask_phone
from kefu.telephony import selectors, services
from kefu.telephony.models import Call, ChatSession
from kefu.telephony.schemas import (
    AgentStateIn,
    AgentStateOut,
    CallOut,
    ChatAtIn,
    ChatMessageIn,
    ChatOut,
    ChatStartIn,
    ErrorOut,
    EventsIn,
    HotlineIn,
    HotlineOut,
    IndicatorsOut,
    IngestOut,
    OutageIn,
    OutageOut,
    PopOut,
    TranscriptIn,
    TranscriptOut,
    WallboardOut,
)

router = Router(tags=["telephony"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _clean(value):
    return value.replace("\x00", "") if isinstance(value, str) else value


@router.post(
    "/events", response={200: IngestOut, **ERRORS}, summary="接收交换机/CTI 事件（幂等，可乱序、重复）"
)
def events_in(request: HttpRequest, payload: EventsIn):
    raw = [{k: _clean(v) for k, v in e.model_dump(exclude_none=True).items()} for e in payload.events]
    result = services.call_events_ingest(by=request.user, events=raw, source="api")
    body = {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": [{"event_id": i, "detail": m} for i, m in result.rejected],
    }
    if result.rejected and not result.accepted and not result.duplicates:
        return Status(400, {"detail": result.rejected[0][1], "code": "event_rejected"})
    return body


def call_out(c: Call, user, *, detail: bool = False) -> dict:
    unmasked = role_allows(user, Perm.CUSTOMER_VIEW_UNMASKED)
    out = {
        "id": c.pk,
        "call_id": c.call_id,
        "hotline": c.hotline.number,
        "caller_number": c.caller_number if unmasked else mask_phone(c.caller_number),
        "queue": c.queue,
        "status": c.status,
        "started_at": c.started_at,
        "answered_at": c.answered_at,
        "answered_by": c.answered_by.display_name if c.answered_by_id else None,
        "ended_at": c.ended_at,
        "rings": c.rings,
        "within_rings": c.within_rings,
        "wait_ms": c.wait_ms,
        "talk_ms": c.talk_ms,
        "hangup_by": c.hangup_by,
        "abandon_reason": c.abandon_reason,
        "transfers": c.transfers,
        "has_recording": bool(c.recording_ref),
    }
    if detail:
        out["ticket_ids"] = [t.ticket_id for t in c.tickets.all()]
        out["offers"] = [
            {
                "agent": o.agent,
                "ring_start": o.ring_start,
                "ring_end": o.ring_end,
                "result": o.result,
                "ring_ms": o.ring_ms,
            }
            for o in c.offers.all()
        ]
    return out


@router.get("/calls", response={200: list[CallOut], **ERRORS}, summary="通话列表（按日）")
def calls_list(request: HttpRequest, day: date | None = None, limit: int = 100):
    limit = max(1, min(limit, 500))
    return [call_out(c, request.user) for c in selectors.calls_for(request.user, day=day)[:limit]]


@router.get(
    "/calls/{call_pk}", response={200: CallOut, **ERRORS}, summary="一通电话：振铃、接听、转接、关联工单"
)
def call_detail(request: HttpRequest, call_pk: int):
    return call_out(selectors.call_get(request.user, call_pk), request.user, detail=True)


@router.get("/pop", response={200: PopOut, 204: None, **ERRORS}, summary="弹屏：本人刚接听、尚未弹出的来电")
def pop(request: HttpRequest):
    assert_perm(request.user, Perm.TICKET_CREATE)
    call = services.screen_pop_take(user=request.user)
    if call is None:
        return Status(204, None)
    return {"call": call.pk, "url": services.desk_url(call), "caller_number": call.caller_number}


@router.post(
    "/agent-state", response={200: AgentStateOut, **ERRORS}, summary="坐席本人切换状态（无交换机状态时）"
)
def agent_state(request: HttpRequest, payload: AgentStateIn):
    assert_perm(request.user, Perm.TICKET_CREATE)
    p = services.agent_state_set(by=request.user, state=payload.state, reason=payload.reason)
    return {"pbx_agent": p.pbx_agent, "state": p.state, "reason": p.reason, "since": p.since}


@router.get(
    "/wallboard", response={200: WallboardOut, **ERRORS}, summary="大屏：排队、坐席状态、3 声内接听率、放弃率"
)
def wallboard(request: HttpRequest):
    return selectors.wallboard(user=request.user).__dict__


def _month(request, year: int, month: int):
    assert_perm(request.user, Perm.REPORT_VIEW)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise DomainError(_("年月超出范围。"), field="month")
    return request.user.company


@router.get(
    "/indicators/{year}/{month}",
    response={200: IndicatorsOut, **ERRORS},
    summary="K5、K14、C13/C15/C18 月度输入",
)
def indicators(request: HttpRequest, year: int, month: int):
    company = _month(request, year, month)
    return {
        "k5": selectors.k5_inputs(company=company, year=year, month=month).__dict__,
        "k14": selectors.k14_inputs(company=company, year=year, month=month).__dict__,
        "calls": selectors.call_figures(company=company, year=year, month=month).__dict__,
        "chat": selectors.chat_figures(company=company, year=year, month=month).__dict__,
    }


@router.get(
    "/indicators/{year}/{month}/k14-calls", response={200: list[CallOut], **ERRORS}, summary="K14 背后的通话"
)
def k14_calls(
    request: HttpRequest, year: int, month: int, within: bool | None = None, limit: int = 500, offset: int = 0
):
    company = _month(request, year, month)
    limit, offset = max(1, min(limit, 2000)), max(0, min(offset, 10**7))
    qs = selectors.k14_calls(company=company, year=year, month=month, within=within).select_related(
        "hotline", "answered_by"
    )
    return [call_out(c, request.user) for c in qs[offset : offset + limit]]


@router.get(
    "/indicators/{year}/{month}/k5-periods",
    response={200: list[OutageOut], **ERRORS},
    summary="K5 背后的中断时段",
)
def k5_periods(request: HttpRequest, year: int, month: int):
    company = _month(request, year, month)
    return [_outage_out(o) for o in selectors.k5_periods(company=company, year=year, month=month)]


def _outage_out(o) -> dict:
    return {
        "id": o.pk,
        "hotline": o.hotline.number,
        "cause": o.cause,
        "started_at": o.started_at,
        "ended_at": o.ended_at,
        "note": o.note,
    }


@router.post("/outages", response={201: OutageOut, **ERRORS}, summary="人工登记热线中断（K5）")
def outage_create(request: HttpRequest, payload: OutageIn):
    o = services.outage_record(
        by=request.user,
        hotline_id=payload.hotline_id,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        note=payload.note,
    )
    return Status(201, _outage_out(o))


@router.post("/transcripts", response={201: TranscriptOut, **ERRORS}, summary="存入通话或会话的转写文本")
def transcript_create(request: HttpRequest, payload: TranscriptIn):
    if payload.chat_id is not None and not payload.call_id:
        assert_perm(request.user, Perm.TELEPHONY_FEED)
    t = services.transcript_store(
        by=request.user,
        text=_clean(payload.text),
        source=payload.source,
        call_id=_clean(payload.call_id),
        chat_id=payload.chat_id,
        segments=payload.segments,
    )
    return Status(201, {"id": t.pk, "call_id": t.call_id, "chat_id": t.chat_id})


# -------------------------------------------------------------------- an external chat system (C18)


def _chat(request, chat_id: int) -> ChatSession:
    assert_perm(request.user, Perm.TELEPHONY_FEED)
    s = ChatSession.objects.filter(company_id=request.user.company_id, pk=chat_id).first()
    if s is None:
        raise NotFound(_("未找到该会话。"))
    return s


def _chat_out(s: ChatSession) -> dict:
    return {
        "id": s.pk,
        "status": s.status,
        "arrived_at": s.arrived_at,
        "greeting_ms": s.greeting_ms,
        "answers": s.answers,
        "answers_late": s.answers_late,
        "worst_answer_ms": s.worst_answer_ms,
    }


def _not_future(at: datetime | None) -> datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise DomainError(_("时间必须带时区。"), field="at")
    if at > now + services.FUTURE_SLACK:
        raise DomainError(_("时间不能在未来。"), field="at")
    return at


@router.post("/chats", response={201: ChatOut, **ERRORS}, summary="外部在线客服系统：客户进入会话")
def chat_start(request: HttpRequest, payload: ChatStartIn):
    assert_perm(request.user, Perm.TELEPHONY_FEED)
    s = services.chat_start(
        company=request.user.company,
        contact=_clean(payload.contact),
        bot=payload.bot,
        at=_not_future(payload.at),
        external_id=_clean(payload.external_id),
    )
    return Status(201, _chat_out(s))


@router.post(
    "/chats/{chat_id}/messages", response={201: ChatOut, **ERRORS}, summary="外部在线客服系统：一条消息"
)
def chat_message(request: HttpRequest, chat_id: int, payload: ChatMessageIn):
    s = _chat(request, chat_id)
    services.chat_post(
        session=s,
        sender=payload.sender,
        text=_clean(payload.text),
        by=request.user if payload.sender == "agent" else None,
        at=_not_future(payload.at),
        external_id=_clean(payload.external_id),
    )
    s.refresh_from_db()
    return Status(201, _chat_out(s))


@router.post(
    "/chats/{chat_id}/handoff", response={200: ChatOut, **ERRORS}, summary="机器人转人工（C18 计时开始）"
)
def chat_handoff(request: HttpRequest, chat_id: int, payload: ChatAtIn):
    return _chat_out(services.chat_handoff(session=_chat(request, chat_id), at=_not_future(payload.at)))


@router.post("/chats/{chat_id}/close", response={200: ChatOut, **ERRORS}, summary="结束会话并存入转写")
def chat_close(request: HttpRequest, chat_id: int, payload: ChatAtIn):
    return _chat_out(services.chat_close(session=_chat(request, chat_id), at=_not_future(payload.at)))


# ------------------------------------------------------------------------------ hotline configuration


def _hotline_out(h) -> dict:
    return {f: getattr(h, f) for f in HotlineOut.model_fields}


@router.get("/hotlines", response={200: list[HotlineOut], **ERRORS}, summary="本公司的服务热线配置")
def hotlines_list(request: HttpRequest):
    return [_hotline_out(h) for h in selectors.hotlines_for(request.user)]


@router.post("/hotlines", response={201: HotlineOut, **ERRORS}, summary="新建服务热线（C8、C13）")
def hotline_create(request: HttpRequest, payload: HotlineIn):
    h = services.hotline_save(by=request.user, **{k: _clean(v) for k, v in payload.model_dump().items()})
    return Status(201, _hotline_out(h))


@router.put("/hotlines/{hotline_id}", response={200: HotlineOut, **ERRORS}, summary="修改服务热线配置")
def hotline_update(request: HttpRequest, hotline_id: int, payload: HotlineIn):
    h = services.hotline_save(
        by=request.user, hotline_id=hotline_id, **{k: _clean(v) for k, v in payload.model_dump().items()}
    )
    return _hotline_out(h)
