"""The customer portal's API, /api/v1/portal/ (for a mobile app or the official account's web pages).

Authentication is the customer's own token (`Authorization: Bearer kp_…`, from `POST link/verify`),
never a staff token or session. Requests are rate-limited per address and logged (S2); another
customer's work order is 404.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import HttpBearer

from kefu.accounts.context import client_ip
from kefu.accounts.models import Company
from kefu.core.errors import NotFound
from kefu.portal import rules, selectors, services
from kefu.portal.views import _per_minute, limited


class PortalTokenAuth(HttpBearer):
    """`Authorization: Bearer kp_…`: the customer's portal session (services.session_for_token)."""

    def authenticate(self, request, token: str):
        if limited(f"portal:req:{client_ip(request)}", _per_minute(), 60):
            from ninja.errors import HttpError

            raise HttpError(429, _("请求过于频繁，请稍后再试。"))
        session = services.session_for_token(token)
        if session is None:
            return None
        request.portal_account = session.account
        request.portal_session = session
        return session


router = Router(tags=["portal 网上营业厅"], auth=PortalTokenAuth())


def _log(request, action: str, ref: str = "", status: int = 200) -> None:
    services.access_log(
        action=action,
        account=request.portal_account,
        source_ip=client_ip(request),
        channel="api",
        path=request.path,
        object_ref=ref,
        status=status,
    )


def _no_auth_limit(request) -> None:
    if limited(f"portal:req:{client_ip(request)}", _per_minute(), 60):
        from ninja.errors import HttpError

        raise HttpError(429, _("请求过于频繁，请稍后再试。"))


# ---- linking ---------------------------------------------------------------------------------------
class LinkStartIn(Schema):
    company: str
    account_no: str
    phone: str


class LinkStartOut(Schema):
    challenge_id: int
    phone: str
    expires_at: datetime


@router.post("/link/start", auth=None, response=LinkStartOut, summary="发送短信验证码（户号 + 预留手机号）")
def link_start(request, payload: LinkStartIn):
    _no_auth_limit(request)
    company = Company.objects.filter(code=payload.company, is_active=True).first()
    if company is None:
        raise NotFound(_("未找到。"), code="not_found")
    ch = services.link_start(
        company=company,
        account_no=payload.account_no,
        phone=payload.phone,
        source_ip=client_ip(request),
        channel="api",
    )
    return {"challenge_id": ch.pk, "phone": rules.mask_phone(ch.phone), "expires_at": ch.expires_at}


class LinkVerifyIn(Schema):
    challenge_id: int
    code: str


class TokenOut(Schema):
    token: str
    expires_at: datetime
    account_no: str


@router.post("/link/verify", auth=None, response=TokenOut, summary="验证短信验证码，取得客户令牌")
def link_verify(request, payload: LinkVerifyIn):
    _no_auth_limit(request)
    done = services.link_verify(
        challenge_id=payload.challenge_id, code=payload.code, source_ip=client_ip(request), channel="api"
    )
    return {
        "token": done.token,
        "expires_at": done.session.expires_at,
        "account_no": done.session.account.customer.account_no,
    }


@router.post("/logout", response={204: None}, summary="结束会话")
def logout(request):
    services.session_end(session=request.portal_session, source_ip=client_ip(request))
    return 204, None


# ---- the customer's records -----------------------------------------------------------------------
class MeOut(Schema):
    account_no: str
    name: str
    address: str
    phone: str
    company: str
    hotline: str


@router.get("/me", response=MeOut, summary="本人账户")
def me(request):
    a = request.portal_account
    c = a.customer
    _log(request, "account.view")
    return {
        "account_no": c.account_no,
        "name": c.name,
        "address": c.premise.address if c.premise_id else "",
        "phone": rules.mask_phone(a.phone),
        "company": a.company.name,
        "hotline": a.company.hotline,
    }


class TicketOut(Schema):
    id: int
    number: str
    kind: str
    state: str
    state_label: str
    received_at: datetime


def _ticket(t) -> dict:
    return {
        "id": t.pk,
        "number": t.number,
        "kind": str(t.kind.name),
        "state": t.state,
        "state_label": str(t.get_state_display()),
        "received_at": t.received_at,
    }


@router.get("/tickets", response=list[TicketOut], summary="本人的工单")
def tickets(request):
    _log(request, "orders.list")
    return [_ticket(t) for t in selectors.my_tickets(account=request.portal_account)]


class StepOut(Schema):
    at: datetime
    text: str


class TicketDetailOut(TicketOut):
    content: str
    steps: list[StepOut]
    can_rate: bool


@router.get("/tickets/{ticket_id}", response=TicketDetailOut, summary="工单进度")
def ticket(request, ticket_id: int):
    try:
        t = selectors.my_ticket(account=request.portal_account, ticket_id=ticket_id)
    except NotFound:
        _log(request, "orders.view", str(ticket_id), 404)
        raise
    _log(request, "orders.view", t.number)
    return {
        **_ticket(t),
        "content": t.content,
        "steps": [{"at": s.at, "text": s.text} for s in selectors.ticket_timeline(t)],
        "can_rate": selectors.can_rate(t),
    }


class FaultIn(Schema):
    fault: str  # "repair:indoor_facility", "repair:meter", "repair:appliance", "meter_card:read_card", …
    content: str
    idempotency_key: str = ""


@router.post("/faults", response={201: TicketOut}, summary="报修")
def fault(request, payload: FaultIn):
    t = services.fault_report(
        account=request.portal_account,
        fault=payload.fault,
        content=payload.content,
        idempotency_key=payload.idempotency_key,
        channel="portal",
    )
    return 201, _ticket(t)


class SafetyOut(Schema):
    steps: list[str]
    hotline: str
    fire: str


@router.get("/leak/safety", response=SafetyOut, summary="漏气安全须知和抢险电话（先于报告显示）")
def leak_safety(request):
    _log(request, "leak.page")
    return {
        "steps": [str(s) for s in rules.LEAK_STEPS],
        "hotline": request.portal_account.company.hotline,
        "fire": rules.FIRE_NUMBER,
    }


class LeakIn(Schema):
    content: str = ""
    idempotency_key: str = ""


class LeakOut(TicketOut):
    safety: SafetyOut


@router.post("/leaks", response={201: LeakOut}, summary="报告漏气（建抢险工单，C8 计时）")
def leak(request, payload: LeakIn):
    t = services.leak_report(
        account=request.portal_account, content=payload.content, idempotency_key=payload.idempotency_key
    )
    safety = {
        "steps": [str(s) for s in rules.LEAK_STEPS],
        "hotline": request.portal_account.company.hotline,
        "fire": rules.FIRE_NUMBER,
    }
    return 201, {**_ticket(t), "safety": safety}


class SlotOut(Schema):
    id: int
    starts_at: datetime
    ends_at: datetime
    phrase: str
    left: int


@router.get("/slots", response=list[SlotOut], summary="可预约时段（inspection 安检 / repair 维修）")
def slots(request, purpose: str = "inspection"):
    _log(request, "appointment.page")
    return [
        {
            "id": r["id"],
            "starts_at": r["starts_at"],
            "ends_at": r["ends_at"],
            "phrase": r["phrase"],
            "left": r["left"],
        }
        for r in selectors.open_slots(account=request.portal_account, purpose=purpose)
    ]


class BookIn(Schema):
    purpose: str
    slot_id: int
    content: str = ""
    idempotency_key: str = ""


class BookOut(Schema):
    ticket: TicketOut
    window_start: datetime
    window_end: datetime


@router.post("/appointments", response={201: BookOut}, summary="预约上门安检或维修")
def book(request, payload: BookIn):
    appt = services.appointment_request(
        account=request.portal_account,
        purpose=payload.purpose,
        slot_id=payload.slot_id,
        content=payload.content,
        idempotency_key=payload.idempotency_key,
    )
    return 201, {
        "ticket": _ticket(appt.ticket),
        "window_start": appt.window_start,
        "window_end": appt.window_end,
    }


class RatingIn(Schema):
    attitude_score: int
    ability_score: int
    satisfied: bool
    comment: str = ""


class RatingOut(Schema):
    ticket_id: int
    attitude_score: int
    ability_score: int
    satisfied: bool
    return_visit_id: int | None


@router.post("/tickets/{ticket_id}/rating", response={201: RatingOut}, summary="评价服务（1–10 分）")
def rate(request, ticket_id: int, payload: RatingIn):
    r = services.rating_submit(
        account=request.portal_account,
        ticket_id=ticket_id,
        attitude_score=payload.attitude_score,
        ability_score=payload.ability_score,
        satisfied=payload.satisfied,
        comment=payload.comment,
    )
    return 201, {
        "ticket_id": r.ticket_id,
        "attitude_score": r.attitude_score,
        "ability_score": r.ability_score,
        "satisfied": r.satisfied,
        "return_visit_id": r.return_visit_id,
    }


class OutageOut(Schema):
    number: str
    state: str
    since: datetime
    until: datetime
    reason: str


@router.get("/outages", response=list[OutageOut], summary="本地址当前和计划的停气")
def outages(request):
    _log(request, "outages.view")
    return [
        {"number": o.number, "state": o.state, "since": o.since, "until": o.until, "reason": o.reason}
        for o in selectors.interruptions(account=request.portal_account)
    ]


class CommitmentOut(Schema):
    spec_id: str
    name: str
    limit_value: int
    limit_unit: str
    source: str


class ResultOut(Schema):
    code: str
    name: str
    value: str
    unit: str
    months: int


class CommitmentsOut(Schema):
    year: int
    published_at: datetime | None
    commitments: list[CommitmentOut]
    results_year: int
    results: list[ResultOut]
    results_note: str


@router.get("/commitments", response=CommitmentsOut, summary="本年度服务承诺和上年度结果（C17）")
def commitments(request):
    company = request.portal_account.company
    now = timezone.now()
    year = timezone.localtime(now).year
    the_set, items = selectors.commitments(company=company, now=now)
    res = selectors.results(company=company, year=year - 1)
    _log(request, "commitments.view")
    return {
        "year": year,
        "published_at": the_set.published_at if the_set else None,
        "commitments": [
            {
                "spec_id": c.spec_id,
                "name": c.name,
                "limit_value": c.limit_value,
                "limit_unit": str(c.get_limit_unit_display()),
                "source": c.source,
            }
            for c in items
        ],
        "results_year": year - 1,
        "results": [
            {"code": r.code, "name": r.name, "value": str(r.value), "unit": r.unit, "months": r.months}
            for r in res
        ],
        "results_note": "" if res else _("上年度结果在年度报告完成后公布。"),
    }


class ChatOut(Schema):
    url: str


@router.post("/chat", response={201: ChatOut}, summary="发起在线客服")
def chat(request):
    token = services.chat_begin(account=request.portal_account)
    return 201, {"url": f"/telephony/chat/s/{token}/"}
