"""Counter screens (P11, P12; seed 003): the hall's greeter, the waiting-hall display (htmx refresh),
the clerk's window (call, serve, "还有其他需要办理的吗", rating), the customer's number on a phone,
cash with receipts, refunds, the daily balance and hand-over, price lists and the report (C15).
Thin: each view asks a selector or calls one service."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.refusals import refused_with_message
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.counter import selectors, services
from kefu.counter.models import (
    BalanceStatus,
    BusinessType,
    DailyBalance,
    Method,
    Outcome,
    Payment,
    PriceList,
    QueueStatus,
    QueueTicket,
    Refund,
    RefundStatus,
)
from kefu.counter.pdf import receipt_pdf
from kefu.counter.rules import local_day


def _need(request, perm: str) -> None:
    if not role_allows(request.user, perm):
        raise PermissionDenied


def _hall(request, hall_id: int):
    hall = selectors.hall_get(request.user, hall_id)
    if hall is None:
        raise Http404
    return hall


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The counter's start: halls, their windows (a clerk takes one), and the cash screens."""
    if not (
        role_allows(request.user, Perm.COUNTER_SERVE)
        or role_allows(request.user, Perm.COUNTER_MANAGE)
        or role_allows(request.user, Perm.COUNTER_FINANCE)
    ):
        raise PermissionDenied
    halls = list(
        selectors.halls_visible_to(request.user).prefetch_related("windows__business_types", "windows__clerk")
    )
    return render(request, "counter/home.html", {"halls": halls})


@login_required
def greeter(request: HttpRequest, hall_id: int) -> HttpResponse:
    """The greeter's screen (迎宾咨询员, 003 6.2.2): give a number by business type, see how long each
    queue is per window, send a waiting customer to a window with fewer customers."""
    _need(request, Perm.COUNTER_SERVE)
    hall = _hall(request, hall_id)
    issued = None
    if request.method == "POST":
        action = request.POST.get("action", "take")
        try:
            if action == "take":
                bt = _int(request.POST.get("business_type"))
                win = _int(request.POST.get("window"))
                if request.POST.get("window") == "auto" and bt:
                    w = selectors.shortest_window(hall, bt)
                    win = w.pk if w else None
                issued = services.queue_take(
                    by=request.user,
                    hall_id=hall.pk,
                    business_type_id=bt or 0,
                    phone=request.POST.get("phone", "")[:20],
                    account_no=request.POST.get("account_no", "")[:30],
                    window_id=win,
                )
                messages.success(request, _("已取号 %(n)s。") % {"n": issued.number})
            elif action == "send":
                t = services.queue_send(
                    by=request.user,
                    ticket_id=_int(request.POST.get("ticket")) or 0,
                    window_id=_int(request.POST.get("window")),
                )
                messages.success(
                    request,
                    _("%(n)s 已引导到 %(w)s。") % {"n": t.number, "w": t.window_hint or _("公共队列")},
                )
            elif action == "cancel":
                t = services.queue_cancel(by=request.user, ticket_id=_int(request.POST.get("ticket")) or 0)
                messages.success(request, _("%(n)s 已取消。") % {"n": t.number})
        except DomainError as exc:
            refused_with_message(request, exc)
        if issued is not None:
            return redirect(f"{request.path}?issued={issued.pk}")
        return redirect(request.path)
    board = selectors.queue_board(hall)
    last = None
    if (pk := _int(request.GET.get("issued"))) is not None:
        last = (
            QueueTicket.objects.filter(pk=pk, hall=hall)
            .select_related("business_type", "window_hint")
            .first()
        )
    return render(
        request,
        "counter/greeter.html",
        {"hall": hall, "board": board, "issued": last, "types": [r["type"] for r in board["types"]]},
    )


@login_required
def display(request: HttpRequest, hall_id: int) -> HttpResponse:
    """The waiting-hall display: the numbers called to which window, refreshed by htmx."""
    _need(request, Perm.COUNTER_SERVE)
    hall = _hall(request, hall_id)
    return render(request, "counter/display.html", {"hall": hall, "d": selectors.display(hall)})


@login_required
def display_board(request: HttpRequest, hall_id: int) -> HttpResponse:
    _need(request, Perm.COUNTER_SERVE)
    hall = _hall(request, hall_id)
    return render(request, "counter/_display_board.html", {"hall": hall, "d": selectors.display(hall)})


@login_required
def window(request: HttpRequest, window_id: int) -> HttpResponse:
    """The clerk's window: call next, the customer at the window, the business done (documents
    checked, on the spot or as a work order), "还有其他需要办理的吗", finish and the rating."""
    _need(request, Perm.COUNTER_SERVE)
    w = selectors.window_get(request.user, window_id)
    if w is None:
        raise Http404
    current = selectors.window_current(w)
    board = selectors.queue_board(w.hall)
    mine = next((r for r in board["windows"] if r["window"].pk == w.pk), None)
    return render(
        request,
        "counter/window.html",
        {
            "w": w,
            "current": current,
            "services": list(current.services.select_related("business_type")) if current else [],
            "types": list(BusinessType.objects.filter(company_id=w.hall.company_id, is_active=True)),
            "served_types": list(w.business_types.all()),
            "load": mine["load"] if mine else None,
            "to_rate": selectors.window_last_done(w) if current is None else None,
            "ratings": [
                (5, _("非常满意")),
                (4, _("满意")),
                (3, _("一般")),
                (2, _("不满意")),
                (1, _("非常不满意")),
            ],
            "outcomes": Outcome.choices,
            "mine": w.clerk_id == request.user.pk,
        },
    )


@login_required
@require_POST
def window_action(request: HttpRequest, window_id: int, action: str) -> HttpResponse:
    _need(request, Perm.COUNTER_SERVE)
    w = selectors.window_get(request.user, window_id)
    if w is None:
        raise Http404
    by, post = request.user, request.POST
    ticket = _int(post.get("ticket")) or 0
    try:
        if action == "sign-in":
            services.window_sign_in(by=by, window_id=w.pk)
        elif action == "sign-out":
            services.window_sign_in(by=by, window_id=w.pk, open_=False)
        elif action == "call":
            t = services.queue_call_next(by=by, window_id=w.pk)
            if t is None:
                messages.info(request, _("目前没有等候的客户。"))
            else:
                messages.success(request, _("请 %(n)s 号到 %(w)s 办理。") % {"n": t.number, "w": w})
        elif action == "recall":
            services.queue_recall(by=by, ticket_id=ticket)
        elif action == "no-show":
            services.queue_no_show(by=by, ticket_id=ticket)
        elif action == "start":
            services.queue_start(by=by, ticket_id=ticket, account_no=post.get("account_no", "")[:30])
        elif action == "service":
            s = services.service_record(
                by=by,
                ticket_id=ticket,
                business_type_id=_int(post.get("business_type")) or 0,
                documents_checked=post.getlist("documents"),
                outcome=post.get("outcome", ""),
                note=post.get("note", "")[:2000],
                ticket_kind=post.get("ticket_kind", "")[:40],
                caller_surname=post.get("caller_surname", "")[:4],
                caller_phone=post.get("caller_phone", "")[:20],
                address=post.get("address", "")[:200],
            )
            done = _("已转工单 %(t)s。") % {"t": s.ticket_number} if s.ticket_number else _("已当场办结。")
            messages.success(request, done + " " + _("请询问客户：还有其他需要办理的吗？"))
        elif action == "finish":
            services.queue_finish(
                by=by, ticket_id=ticket, anything_else_asked=post.get("anything_else") == "1"
            )
            messages.success(request, _("业务已办结，请客户评价。"))
        elif action == "rate":
            services.queue_rate(
                by=by, ticket_id=ticket, rating=_int(post.get("rating")) or 0, comment=post.get("comment", "")
            )
            messages.success(request, _("谢谢您的评价！"))
        else:
            raise Http404
    except DomainError as exc:
        refused_with_message(request, exc)
    return redirect("counter:window", window_id=w.pk)


def ticket_public(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's number on their phone (no login, no personal data): status, how many ahead,
    the window when called, and the rating once the business is done."""
    t = QueueTicket.objects.filter(token=token[:24]).select_related("hall", "business_type", "window").first()
    if t is None:
        raise Http404
    if request.method == "POST":
        try:
            services.queue_rate(
                token=t.token,
                rating=_int(request.POST.get("rating")) or 0,
                comment=request.POST.get("comment", ""),
            )
            messages.success(request, _("谢谢您的评价！"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("counter:ticket_public", token=t.token)
    return render(
        request,
        "counter/ticket_public.html",
        {"t": t, "ahead": selectors.ticket_position(t), "ratings": [5, 4, 3, 2, 1], "Q": QueueStatus},
    )


@login_required
def cash(request: HttpRequest) -> HttpResponse:
    """Take a payment by the price list in force and print its receipt (P12); the clerk's payments
    of the day."""
    _need(request, Perm.COUNTER_SERVE)
    halls = list(selectors.halls_visible_to(request.user).filter(company_id=request.user.company_id))
    if not halls:
        raise Http404
    hall = next(
        (h for h in halls if h.pk == _int(request.GET.get("hall") or request.POST.get("hall"))), halls[0]
    )
    day = local_day(request.user.company, timezone.now())
    pl = selectors.price_list_current(company_id=request.user.company_id, day=day)
    if request.method == "POST":
        lines = []
        if pl is not None:
            for item in pl.items.all():
                q = _int(request.POST.get(f"qty_{item.code}"))
                if q:
                    lines.append((item.code, q))
        try:
            p = services.payment_take(
                by=request.user,
                hall_id=hall.pk,
                lines=lines,
                method=request.POST.get("method", Method.CASH),
                tendered=request.POST.get("tendered") or None,
                account_no=request.POST.get("account_no", "")[:30],
                payer=request.POST.get("payer", "")[:100],
                queue_ticket_id=_int(request.POST.get("queue_ticket")),
                idempotency_key=request.POST.get("idempotency_key", "")[:100],
            )
            messages.success(
                request, _("已收款，收据号 %(r)s，找零 %(c)s 元。") % {"r": p.receipt_no, "c": p.change}
            )
            return redirect("counter:payment", pk=p.pk)
        except DomainError as exc:
            refused_with_message(request, exc)
    f = selectors.balance_figures(company_id=request.user.company_id, clerk_id=request.user.pk, day=day)
    return render(
        request,
        "counter/cash.html",
        {
            "hall": hall,
            "halls": halls,
            "pl": pl,
            "methods": Method.choices,
            "payments": f["payments"].order_by("-id")[:100],
            "key": uuid.uuid4().hex,
            "queue_ticket": _int(request.GET.get("queue_ticket")),
            "account_no": request.GET.get("account_no", "")[:30],
        },
    )


def _payment(request, pk: int) -> Payment:
    p = (
        Payment.objects.filter(pk=pk, company_id=request.user.company_id)
        .select_related("company", "price_list", "clerk", "hall")
        .first()
    )
    if p is None:
        raise Http404
    return p


@login_required
def payment(request: HttpRequest, pk: int) -> HttpResponse:
    """One payment, its receipt and its refunds; a clerk asks for a refund here."""
    if not (role_allows(request.user, Perm.COUNTER_SERVE) or role_allows(request.user, Perm.COUNTER_MANAGE)):
        raise PermissionDenied
    p = _payment(request, pk)
    if request.method == "POST":
        try:
            services.refund_request(
                by=request.user,
                payment_id=p.pk,
                amount=request.POST.get("amount", ""),
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("退款申请已提交，待审批。"))
        except DomainError as exc:
            refused_with_message(request, exc)
        return redirect("counter:payment", pk=p.pk)
    return render(
        request,
        "counter/payment.html",
        {"p": p, "refunds": p.refunds.select_related("requested_by", "decided_by")},
    )


@login_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt as a PDF (reprints are identical: drawn from the payment row)."""
    if not (role_allows(request.user, Perm.COUNTER_SERVE) or role_allows(request.user, Perm.COUNTER_MANAGE)):
        raise PermissionDenied
    p = _payment(request, pk)
    data = receipt_pdf(p)
    resp = HttpResponse(data, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{p.receipt_no}.pdf"'
    return resp


@login_required
def refunds(request: HttpRequest) -> HttpResponse:
    """Refunds: waiting for approval (approvers), approved and waiting to be paid (clerks)."""
    if not (role_allows(request.user, Perm.COUNTER_SERVE) or role_allows(request.user, Perm.COUNTER_MANAGE)):
        raise PermissionDenied
    rows = (
        Refund.objects.filter(company_id=request.user.company_id)
        .select_related("payment", "requested_by", "decided_by", "paid_by")
        .order_by("-id")[:200]
    )
    return render(
        request,
        "counter/refunds.html",
        {"rows": rows, "approver": role_allows(request.user, Perm.COUNTER_MANAGE), "S": RefundStatus},
    )


@login_required
@require_POST
def refund_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    try:
        if action in ("approve", "reject"):
            services.refund_decide(
                by=request.user, refund_id=pk, approve=action == "approve", note=request.POST.get("note", "")
            )
            messages.success(request, _("已审批。"))
        elif action == "pay":
            r = services.refund_pay(by=request.user, refund_id=pk)
            messages.success(
                request, _("已退款 %(a)s 元，退款单号 %(n)s。") % {"a": r.amount, "n": r.refund_no}
            )
        else:
            raise Http404
    except DomainError as exc:
        refused_with_message(request, exc)
    return redirect("counter:refunds")


@login_required
def balance(request: HttpRequest) -> HttpResponse:
    """The clerk's daily balance (日结): recorded against counted cash, the discrepancy, submit (the
    clerk's signature); finance sees the balances to receive and signs the hand-over."""
    serve = role_allows(request.user, Perm.COUNTER_SERVE)
    finance = role_allows(request.user, Perm.COUNTER_FINANCE)
    if not (serve or finance):
        raise PermissionDenied
    company_id = request.user.company_id
    day = local_day(request.user.company, timezone.now())
    halls = list(selectors.halls_visible_to(request.user).filter(company_id=company_id))
    if request.method == "POST" and serve:
        try:
            services.balance_submit(
                by=request.user,
                hall_id=_int(request.POST.get("hall")) or (halls[0].pk if halls else 0),
                opening_float=request.POST.get("opening_float") or 0,
                counted_cash=request.POST.get("counted_cash", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("已日结，请将现金和收据交财务。"))
        except DomainError as exc:
            refused_with_message(request, exc)
        return redirect("counter:balance")
    mine = (
        DailyBalance.objects.filter(company_id=company_id, clerk=request.user, day=day)
        .select_related("received_by")
        .first()
    )
    figures = (
        selectors.balance_figures(company_id=company_id, clerk_id=request.user.pk, day=day) if serve else None
    )
    history = DailyBalance.objects.filter(company_id=company_id).select_related(
        "clerk", "received_by", "hall"
    )
    if not finance:
        history = history.filter(clerk=request.user)
    return render(
        request,
        "counter/balance.html",
        {
            "day": day,
            "halls": halls,
            "mine": mine,
            "f": figures,
            "serve": serve,
            "finance": finance,
            "to_receive": selectors.balances_to_receive(request.user) if finance else [],
            "history": history.order_by("-day", "clerk_id")[:60],
            "S": BalanceStatus,
            "other": [(Method(m).label, v) for m, v in figures["other_methods"].items()] if figures else [],
        },
    )


@login_required
@require_POST
def balance_receive(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.balance_receive(
            by=request.user, balance_id=pk, received_amount=request.POST.get("received_amount", "")
        )
        messages.success(request, _("已接收并签字。"))
    except DomainError as exc:
        refused_with_message(request, exc)
    return redirect("counter:balance")


@login_required
def prices(request: HttpRequest) -> HttpResponse:
    """The price list's versions; counter.manage publishes a new version (never edits one)."""
    manage = role_allows(request.user, Perm.COUNTER_MANAGE)
    if not (manage or role_allows(request.user, Perm.COUNTER_SERVE)):
        raise PermissionDenied
    company_id = request.user.company_id
    versions = list(
        PriceList.objects.filter(company_id=company_id)
        .prefetch_related("items")
        .select_related("published_by")
    )
    if request.method == "POST" and manage:
        items = []
        for i in range(int(request.POST.get("rows", "0") or 0)):
            code = request.POST.get(f"code_{i}", "").strip()
            if code:
                items.append(
                    {
                        "code": code,
                        "name": request.POST.get(f"name_{i}", ""),
                        "unit": request.POST.get(f"unit_{i}", ""),
                        "amount": request.POST.get(f"amount_{i}", ""),
                        "to_billing": request.POST.get(f"billing_{i}") == "1",
                    }
                )
        try:
            eff = date.fromisoformat(request.POST.get("effective_from", ""))
        except ValueError:
            eff = None
        try:
            if eff is None:
                raise DomainError(_("请填写生效日期。"), field="effective_from")
            pl = services.price_list_publish(
                by=request.user, effective_from=eff, items=items, basis=request.POST.get("basis", "")
            )
            messages.success(request, _("已发布收费标准第 %(v)s 版。") % {"v": pl.version})
        except DomainError as exc:
            refused_with_message(request, exc)
        return redirect("counter:prices")
    day = local_day(request.user.company, timezone.now())
    current = selectors.price_list_current(company_id=company_id, day=day)
    base = list(current.items.all()) if current else []
    return render(
        request,
        "counter/prices.html",
        {
            "versions": versions,
            "current": current,
            "manage": manage,
            "base": base,
            "blank": range(len(base), len(base) + 3),
            "today": day,
        },
    )


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """Waiting and service times per customer, the share within C15's 3 minutes (a target), the
    ratings, by clerk (counter.manage or report.view)."""
    if not (role_allows(request.user, Perm.COUNTER_MANAGE) or role_allows(request.user, Perm.REPORT_VIEW)):
        raise PermissionDenied
    day = local_day(request.user.company, timezone.now())
    try:
        d_from = date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        d_from = day - timedelta(days=6)
    try:
        d_to = date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        d_to = day
    if (d_to - d_from).days > 92:
        d_from = d_to - timedelta(days=92)
    r = selectors.counter_report(
        company_id=request.user.company_id,
        date_from=d_from,
        date_to=d_to,
        hall_id=_int(request.GET.get("hall")),
    )
    return render(
        request, "counter/report.html", {"r": r, "d_from": d_from, "d_to": d_to, "rows": r["rows"][-500:]}
    )
