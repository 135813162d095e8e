"""counter endpoints (/api/v1/counter/, P11, P12): halls and the queue (take a number, send it to a
window, call next, serve, finish, rate), price lists, payments with their receipt PDF, refunds, the
clerk's daily balance and the hand-over, and the report with C15's target. Everything is scoped to
the user's company; errors are 4xx JSON with a message in the user's language."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError, NotFound
from kefu.counter import selectors, services
from kefu.counter.models import DailyBalance, Payment, PriceList, QueueTicket, Refund
from kefu.counter.pdf import receipt_pdf
from kefu.counter.rules import local_day
from kefu.counter.schemas import (
    BalanceIn,
    BalanceOut,
    DecisionIn,
    ErrorOut,
    FinishIn,
    HallOut,
    PaymentIn,
    PaymentOut,
    PriceListIn,
    PriceListOut,
    RateIn,
    ReceiveIn,
    RefundIn,
    RefundOut,
    ReportOut,
    SendIn,
    ServiceIn,
    ServiceOut,
    StartIn,
    TakeIn,
)

router = Router(tags=["counter"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _name(u) -> str | None:
    return (u.full_name or u.username) if u is not None else None


def queue_out(t: QueueTicket) -> dict:
    return {
        "id": t.pk,
        "number": t.number,
        "business_type": t.business_type.name,
        "status": t.status,
        "window": str(t.window) if t.window_id else None,
        "window_hint": str(t.window_hint) if t.window_hint_id else None,
        "token": t.token,
        "taken_at": t.taken_at,
        "called_at": t.called_at,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
        "wait_seconds": t.wait_seconds,
        "service_seconds": t.service_seconds,
        "rating": t.rating,
    }


def _queue(request, pk: int) -> dict:
    t = get_object_or_404(
        QueueTicket.objects.select_related("business_type", "window", "window_hint"),
        pk=pk,
        hall__company_id=request.user.company_id,
    )
    return queue_out(t)


@router.get("/halls", response={200: list[HallOut], **ERRORS}, summary="营业厅与窗口")
def halls(request):
    assert_perm(request.user, Perm.COUNTER_SERVE)
    out = []
    for h in selectors.halls_visible_to(request.user).prefetch_related(
        "windows__business_types", "windows__clerk"
    ):
        out.append(
            {
                "id": h.pk,
                "code": h.code,
                "name": h.name,
                "target_seconds": h.target_seconds,
                "windows": [
                    {
                        "id": w.pk,
                        "number": w.number,
                        "is_open": w.is_open,
                        "clerk": _name(w.clerk),
                        "business_types": [str(b) for b in w.business_types.all()],
                    }
                    for w in h.windows.all()
                ],
            }
        )
    return out


@router.get(
    "/halls/{int:hall_id}/queue", response={200: list, **ERRORS}, summary="等候中的排队号（先到先叫）"
)
def hall_queue(request, hall_id: int):
    assert_perm(request.user, Perm.COUNTER_SERVE)
    hall = selectors.hall_get(request.user, hall_id)
    if hall is None:
        raise NotFound(_("没有这个营业厅。"))
    return [queue_out(t) for t in selectors.queue_board(hall)["waiting"]]


@router.post("/queue", response={201: dict, **ERRORS}, summary="取号（按业务类型，每厅每天每类连续编号）")
def take(request, payload: TakeIn):
    t = services.queue_take(by=request.user, **payload.dict())
    return 201, queue_out(t)


@router.get("/queue/{int:ticket_id}", response={200: dict, **ERRORS}, summary="一个排队号")
def queue_get(request, ticket_id: int):
    assert_perm(request.user, Perm.COUNTER_SERVE)
    return _queue(request, ticket_id)


@router.post("/queue/{int:ticket_id}/send", response={200: dict, **ERRORS}, summary="迎宾引导到人少的窗口")
def send(request, ticket_id: int, payload: SendIn):
    services.queue_send(by=request.user, ticket_id=ticket_id, window_id=payload.window_id)
    return _queue(request, ticket_id)


@router.post("/windows/{int:window_id}/sign-in", response={200: dict, **ERRORS}, summary="登录窗口")
def sign_in(request, window_id: int):
    w = services.window_sign_in(by=request.user, window_id=window_id)
    return {"id": w.pk, "is_open": w.is_open, "clerk": _name(w.clerk)}


@router.post("/windows/{int:window_id}/sign-out", response={200: dict, **ERRORS}, summary="退出窗口")
def sign_out(request, window_id: int):
    w = services.window_sign_in(by=request.user, window_id=window_id, open_=False)
    return {"id": w.pk, "is_open": w.is_open, "clerk": None}


@router.post(
    "/windows/{int:window_id}/call-next",
    response={200: dict, 204: None, **ERRORS},
    summary="叫下一位（本窗口所办业务中最早取号者；无人等候时 204）",
)
def call_next(request, window_id: int):
    t = services.queue_call_next(by=request.user, window_id=window_id)
    if t is None:
        return 204, None
    return queue_out(t)


def _step(name: str, fn, summary: str):
    @router.post(
        f"/queue/{{int:ticket_id}}/{name}",
        response={200: dict, **ERRORS},
        summary=summary,
        operation_id=f"counter_queue_{name.replace('-', '_')}",
    )
    def endpoint(request, ticket_id: int):
        fn(by=request.user, ticket_id=ticket_id)
        return _queue(request, ticket_id)

    return endpoint


_step("recall", services.queue_recall, "重呼")
_step("no-show", services.queue_no_show, "过号")
_step("cancel", services.queue_cancel, "取消（客户离开）")


@router.post("/queue/{int:ticket_id}/start", response={200: dict, **ERRORS}, summary="客户到窗口，开始办理")
def start(request, ticket_id: int, payload: StartIn):
    services.queue_start(by=request.user, ticket_id=ticket_id, account_no=payload.account_no)
    return _queue(request, ticket_id)


@router.post(
    "/queue/{int:ticket_id}/services",
    response={201: ServiceOut, **ERRORS},
    summary="登记办理的业务（核对证件；当场办结或转工单）",
)
def service(request, ticket_id: int, payload: ServiceIn):
    s = services.service_record(by=request.user, ticket_id=ticket_id, **payload.dict())
    return 201, {
        "id": s.pk,
        "business_type": s.business_type.name,
        "outcome": s.outcome,
        "ticket_id": s.ticket_id,
        "ticket_number": s.ticket_number,
        "documents_checked": s.documents_checked,
        "note": s.note,
    }


@router.post(
    "/queue/{int:ticket_id}/finish",
    response={200: dict, **ERRORS},
    summary="办结（须已询问“还有其他需要办理的吗”）",
)
def finish(request, ticket_id: int, payload: FinishIn):
    services.queue_finish(
        by=request.user, ticket_id=ticket_id, anything_else_asked=payload.anything_else_asked
    )
    return _queue(request, ticket_id)


@router.post("/queue/{int:ticket_id}/rating", response={200: dict, **ERRORS}, summary="客户评价（1–5）")
def rate(request, ticket_id: int, payload: RateIn):
    assert_perm(request.user, Perm.COUNTER_SERVE)
    services.queue_rate(by=request.user, ticket_id=ticket_id, rating=payload.rating, comment=payload.comment)
    return _queue(request, ticket_id)


def price_list_out(pl: PriceList) -> dict:
    return {
        "id": pl.pk,
        "version": pl.version,
        "effective_from": pl.effective_from,
        "basis": pl.basis,
        "items": [
            {"code": i.code, "name": i.name, "unit": i.unit, "amount": i.amount, "to_billing": i.to_billing}
            for i in pl.items.all()
        ],
    }


@router.get("/price-lists", response={200: list[PriceListOut], **ERRORS}, summary="收费标准的各个版本")
def price_lists(request):
    if not _manage(request):
        assert_perm(request.user, Perm.COUNTER_SERVE)
    return [
        price_list_out(p)
        for p in PriceList.objects.filter(company_id=request.user.company_id).prefetch_related("items")
    ]


def _manage(request) -> bool:
    return role_allows(request.user, Perm.COUNTER_MANAGE)


@router.post(
    "/price-lists", response={201: PriceListOut, **ERRORS}, summary="发布收费标准新版本（不修改旧版本）"
)
def publish(request, payload: PriceListIn):
    pl = services.price_list_publish(
        by=request.user,
        effective_from=payload.effective_from,
        basis=payload.basis,
        items=[i.dict() for i in payload.items],
    )
    return 201, price_list_out(pl)


def payment_out(p: Payment) -> dict:
    return {
        "id": p.pk,
        "receipt_no": p.receipt_no,
        "at": p.at,
        "total": p.total,
        "method": p.method,
        "tendered": p.tendered,
        "change": p.change,
        "refunded": p.refunded,
        "account_no": p.account_no,
        "price_list_version": p.price_list.version,
        "billing_status": p.billing_status,
        "lines": [
            {
                "code": ln.code,
                "name": ln.name,
                "unit_amount": ln.unit_amount,
                "quantity": ln.quantity,
                "amount": ln.amount,
            }
            for ln in p.lines.all()
        ],
        "receipt_url": reverse("counter:receipt", args=[p.pk]),
    }


def _payment(request, pk: int) -> Payment:
    if not _manage(request):
        assert_perm(request.user, Perm.COUNTER_SERVE)
    return get_object_or_404(
        Payment.objects.select_related("price_list", "company", "clerk"),
        pk=pk,
        company_id=request.user.company_id,
    )


@router.post(
    "/payments", response={201: PaymentOut, **ERRORS}, summary="按收费标准收费并开收据（收据号连续不重复）"
)
def pay(request, payload: PaymentIn):
    p = services.payment_take(
        by=request.user,
        hall_id=payload.hall_id,
        lines=[(ln.code, ln.quantity) for ln in payload.lines],
        method=payload.method,
        tendered=payload.tendered,
        account_no=payload.account_no,
        payer=payload.payer,
        queue_ticket_id=payload.queue_ticket_id,
        idempotency_key=payload.idempotency_key,
    )
    return 201, payment_out(Payment.objects.select_related("price_list").get(pk=p.pk))


@router.get("/payments/{int:payment_id}", response={200: PaymentOut, **ERRORS}, summary="一笔收费")
def payment_get(request, payment_id: int):
    return payment_out(_payment(request, payment_id))


@router.get("/payments/{int:payment_id}/receipt.pdf", response={200: None, **ERRORS}, summary="收据（PDF）")
def payment_receipt(request, payment_id: int):
    p = _payment(request, payment_id)
    data = receipt_pdf(p)
    resp = HttpResponse(data, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{p.receipt_no}.pdf"'
    return resp


def refund_out(r: Refund) -> dict:
    return {
        "id": r.pk,
        "payment_id": r.payment_id,
        "amount": r.amount,
        "reason": r.reason,
        "status": r.status,
        "refund_no": r.refund_no,
    }


@router.post(
    "/payments/{int:payment_id}/refunds",
    response={201: RefundOut, **ERRORS},
    summary="申请退款（须他人审批）",
)
def refund(request, payment_id: int, payload: RefundIn):
    r = services.refund_request(
        by=request.user, payment_id=payment_id, amount=payload.amount, reason=payload.reason
    )
    return 201, refund_out(r)


@router.post("/refunds/{int:refund_id}/decision", response={200: RefundOut, **ERRORS}, summary="审批退款")
def refund_decision(request, refund_id: int, payload: DecisionIn):
    return refund_out(
        services.refund_decide(
            by=request.user, refund_id=refund_id, approve=payload.approve, note=payload.note
        )
    )


@router.post(
    "/refunds/{int:refund_id}/pay", response={200: RefundOut, **ERRORS}, summary="退款给客户（已批准的）"
)
def refund_pay(request, refund_id: int):
    return refund_out(services.refund_pay(by=request.user, refund_id=refund_id))


def balance_out(b: DailyBalance) -> dict:
    return {
        "id": b.pk,
        "day": b.day,
        "clerk": _name(b.clerk),
        "opening_float": b.opening_float,
        "cash_in": b.cash_in,
        "cash_out": b.cash_out,
        "expected_cash": b.expected_cash,
        "counted_cash": b.counted_cash,
        "discrepancy": b.discrepancy,
        "note": b.note,
        "status": b.status,
        "receipts": b.receipts,
        "received_by": _name(b.received_by),
        "received_at": b.received_at,
    }


@router.get("/balance/today", response={200: dict, **ERRORS}, summary="本人今日收费的系统记录（日结前核对）")
def balance_today(request):
    assert_perm(request.user, Perm.COUNTER_SERVE)
    day = local_day(request.user.company, timezone.now())
    f = selectors.balance_figures(company_id=request.user.company_id, clerk_id=request.user.pk, day=day)
    return {
        "day": day.isoformat(),
        "cash_in": str(f["cash_in"]),
        "cash_out": str(f["cash_out"]),
        "other_methods": {k: str(v) for k, v in f["other_methods"].items()},
        "receipts": f["receipts"],
    }


@router.post(
    "/balances", response={201: BalanceOut, **ERRORS}, summary="日结（营业员签字）：清点现金与系统记录比对"
)
def balance_submit(request, payload: BalanceIn):
    b = services.balance_submit(by=request.user, **payload.dict())
    return 201, balance_out(b)


@router.post(
    "/balances/{int:balance_id}/receive",
    response={200: BalanceOut, **ERRORS},
    summary="财务接收并签字（交接）",
)
def balance_receive(request, balance_id: int, payload: ReceiveIn):
    return balance_out(
        services.balance_receive(
            by=request.user, balance_id=balance_id, received_amount=payload.received_amount
        )
    )


@router.get(
    "/report",
    response={200: ReportOut, **ERRORS},
    summary="营业厅报表：等候、办理时长，C15 三分钟目标，满意度",
)
def report(request, date_from: date | None = None, date_to: date | None = None):
    if not role_allows(request.user, Perm.REPORT_VIEW):
        assert_perm(request.user, Perm.COUNTER_MANAGE)
    today = local_day(request.user.company, timezone.now())
    d_to = date_to or today
    d_from = date_from or d_to - timedelta(days=6)
    if d_from > d_to or (d_to - d_from).days > 92:
        raise DomainError(_("日期范围须在 92 天以内且起始不晚于结束。"), field="date_from")
    r = selectors.counter_report(company_id=request.user.company_id, date_from=d_from, date_to=d_to)
    return {
        "date_from": d_from,
        "date_to": d_to,
        **{k: v for k, v in r.items() if k in ReportOut.model_fields},
    }
