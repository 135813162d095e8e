"""Cash at the counter (P12; 004 第三条5, 第四条10, 第六条1): charge by the company's price list with a
receipt numbered without gaps, refunds with another person's approval, the clerk's daily balance
(counted cash against recorded), and the hand-over to finance signed by both."""

from __future__ import annotations

import logging
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.counter import billing
from kefu.counter.models import (
    BalanceStatus,
    BillingStatus,
    DailyBalance,
    Hall,
    Method,
    Payment,
    PaymentLine,
    PriceItem,
    PriceList,
    QueueTicket,
    Refund,
    RefundStatus,
)
from kefu.counter.numbering import next_number, receipts_number
from kefu.counter.selectors import balance_figures, price_items_current
from kefu.counter.services.common import audit, local_day, require
from kefu.customers.models import Customer

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
MAX_LINES = 50
MAX_AMOUNT = Decimal("1000000")


def _money(value, *, field: str, label: str, allow_zero: bool = False) -> Decimal:
    try:
        d = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise DomainError(_("%(l)s不是有效金额。") % {"l": label}, field=field) from None
    if not d.is_finite() or d < 0 or (d == 0 and not allow_zero) or d > MAX_AMOUNT:
        raise DomainError(_("%(l)s不是有效金额。") % {"l": label}, field=field)
    return d


def price_list_publish(*, by, effective_from: date, items: list[dict], basis: str = "") -> PriceList:
    """Publish a new version of the company's price list (004 第四条10: charge only by the price
    standard). A version is never edited: a change is a new version, and every payment keeps the
    version and the unit prices it was charged by."""
    company_id = require(by, Perm.COUNTER_MANAGE)
    if not items:
        raise DomainError(_("收费标准至少要有一个项目。"), field="items")
    seen: set[str] = set()
    clean = []
    for i, it in enumerate(items):
        code = str(it.get("code", "")).strip()[:30]
        name = str(it.get("name", "")).strip()[:100]
        if not code or not name or code in seen:
            raise DomainError(_("第 %(n)s 项：编码和名称必填且编码不能重复。") % {"n": i + 1}, field="items")
        seen.add(code)
        amount = _money(it.get("amount"), field="items", label=name, allow_zero=True)
        unit = str(it.get("unit") or "次")[:20]
        clean.append((code, name, unit, amount, bool(it.get("to_billing", False))))
    with transaction.atomic():
        version = next_number(company_id=company_id, series="pricelist", period="all")
        pl = PriceList.objects.create(
            company_id=company_id,
            version=version,
            effective_from=effective_from,
            basis=(basis or "")[:200],
            published_by=by,
        )
        PriceItem.objects.bulk_create(
            PriceItem(price_list=pl, code=c, name=n, unit=u, amount=a, to_billing=b)
            for c, n, u, a, b in clean
        )
        audit("counter.price_list_published", by=by, obj=pl, version=version, rows=len(clean))
    return pl


def payment_take(
    *,
    by,
    hall_id: int,
    lines: list[tuple[str, int]],
    method: str = Method.CASH,
    tendered=None,
    customer_id: int | None = None,
    account_no: str = "",
    payer: str = "",
    queue_ticket_id: int | None = None,
    idempotency_key: str = "",
) -> Payment:
    """Charge by today's price list and issue the receipt (P12; 003 6.2.1 "收您XX元，找您XX元").

    The receipt number (SJ<year>-<seq>) is given right after the payment commits, under the year's
    row-locked series, so it is gapless and never shared under any number of concurrent clerks
    (kefu.counter.numbering). A repeated request
    with the same `idempotency_key` returns the first payment. Cash needs `tendered` ≥ the total and
    records the change. A payment whose items go to billing is passed on after the commit."""
    company_id = require(by, Perm.COUNTER_SERVE)
    key = (idempotency_key or "").strip()[:100]
    if key:
        repeat = Payment.objects.filter(company_id=company_id, idempotency_key=key).first()
        if repeat is not None:
            return repeat
    if method not in Method.values:
        raise DomainError(_("未知的付款方式。"), field="method")
    if not lines or len(lines) > MAX_LINES:
        raise DomainError(_("请选择收费项目。"), field="lines")
    try:
        hall = Hall.objects.select_related("company").get(pk=hall_id, company_id=company_id)
    except Hall.DoesNotExist:
        raise NotFound(_("没有这个营业厅。")) from None
    now = timezone.now()
    day = local_day(hall.company, now)
    in_force = price_items_current(company_id=company_id, day=day)
    if not in_force:
        raise DomainError(_("还没有生效的收费标准，不能收费。"), field="lines")
    pl = in_force[0].price_list
    if _closed(company_id, by, day):
        raise Conflict(_("今天已经日结，不能再收费。"))
    items = {i.code: i for i in in_force}
    priced = []
    for code, qty in lines:
        item = items.get(str(code))
        if item is None:
            raise DomainError(_("收费标准中没有“%(c)s”。") % {"c": code}, field="lines")
        if not isinstance(qty, int) or not 1 <= qty <= 1000:
            raise DomainError(_("数量须为 1 到 1000。"), field="lines")
        priced.append((item, qty, (item.amount * qty).quantize(CENT)))
    total = sum((a for _i, _q, a in priced), Decimal("0.00"))
    change = Decimal("0.00")
    paid = None
    if method == Method.CASH:
        paid = (
            total
            if tendered in (None, "")
            else _money(tendered, field="tendered", label=_("实收"), allow_zero=True)
        )
        if paid < total:
            raise DomainError(_("实收金额少于应收金额。"), field="tendered")
        change = paid - total
    if account_no and customer_id is None:
        customer_id = (
            Customer.objects.filter(company_id=company_id, account_no=account_no.strip())
            .values_list("pk", flat=True)
            .first()
        )
    elif customer_id is not None:
        c = (
            Customer.objects.filter(company_id=company_id, pk=customer_id)
            .values_list("account_no", flat=True)
            .first()
        )
        if c is None:
            raise DomainError(_("没有这个客户。"), field="customer_id")
        account_no = account_no or c
    if (
        queue_ticket_id is not None
        and not QueueTicket.objects.filter(pk=queue_ticket_id, hall__company_id=company_id).exists()
    ):
        raise NotFound(_("没有这个排队号。"))
    adapter = billing.billing_adapter()
    to_billing = adapter.enabled and any(i.to_billing for i, _q, _a in priced)
    try:
        with transaction.atomic():
            p = Payment.objects.create(
                company=hall.company,
                hall=hall,
                receipt_no=None,
                price_list=pl,
                queue_ticket_id=queue_ticket_id,
                customer_id=customer_id,
                account_no=(account_no or "")[:30],
                payer=(payer or "")[:100],
                total=total,
                method=method,
                tendered=paid,
                change=change,
                clerk=by,
                company_name=hall.company.name,
                clerk_name=by.full_name or by.username,
                at=now,
                day=day,
                billing_status=BillingStatus.PENDING if to_billing else BillingStatus.NONE,
                idempotency_key=key,
            )
            PaymentLine.objects.bulk_create(
                PaymentLine(
                    payment=p, item=i, code=i.code, name=i.name, unit_amount=i.amount, quantity=q, amount=a
                )
                for i, q, a in priced
            )
            audit("counter.payment_taken", by=by, obj=p, summary=f"¥{total}")
    except IntegrityError:
        if key:  # a concurrent retry with the same key won: return its payment
            return Payment.objects.get(company_id=company_id, idempotency_key=key)
        raise
    # The receipt number, once the payment is committed (kefu.counter.numbering): gapless, and one
    # numbering commit serves every clerk who paid meanwhile.
    given = receipts_number(company_id=company_id, year=day.year)
    p.receipt_no = (
        given.get(p.pk) or Payment.objects.filter(pk=p.pk).values_list("receipt_no", flat=True).get()
    )
    if to_billing:
        transaction.on_commit(lambda: billing_push(payment_id=p.pk))
    return p


def billing_push(*, payment_id: int) -> str:
    """Pass one pending payment to the billing system (after its commit); claimed by a conditional
    UPDATE so two pushes never send it twice. Returns the payment's billing status."""
    claimed = Payment.objects.filter(
        pk=payment_id, billing_status__in=[BillingStatus.PENDING, BillingStatus.FAILED]
    ).update(billing_status="sending")
    if not claimed:
        return Payment.objects.filter(pk=payment_id).values_list("billing_status", flat=True).first() or ""
    p = Payment.objects.select_related("company").get(pk=payment_id)
    if not p.receipt_no:  # not numbered yet: leave it to the sweep
        Payment.objects.filter(pk=p.pk).update(billing_status=BillingStatus.PENDING)
        return BillingStatus.PENDING
    msg = billing.BillingPayment(
        company_code=p.company.code,
        receipt_no=p.receipt_no,
        account_no=p.account_no,
        total=p.total,
        method=p.method,
        at=p.at.isoformat(),
        lines=tuple((ln.code, ln.quantity, ln.amount) for ln in p.lines.all()),
    )
    try:
        ref = billing.billing_adapter().post_payment(msg)
    except Exception:  # noqa: BLE001 - the sweep retries; the payment itself stands
        log.warning("billing: payment %s not passed on", p.receipt_no, exc_info=True)
        Payment.objects.filter(pk=p.pk).update(billing_status=BillingStatus.FAILED)
        return BillingStatus.FAILED
    Payment.objects.filter(pk=p.pk).update(billing_status=BillingStatus.SENT, billing_ref=ref[:60])
    return BillingStatus.SENT


def billing_retry_pending(*, limit: int = 200) -> int:
    """The sweep: pass on every payment still pending or failed (and any left `sending` by a dead
    process). Returns how many were sent."""
    Payment.objects.filter(
        billing_status="sending", at__lt=timezone.now() - timezone.timedelta(minutes=5)
    ).update(billing_status=BillingStatus.FAILED)
    ids = list(
        Payment.objects.filter(billing_status__in=[BillingStatus.PENDING, BillingStatus.FAILED])
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if billing_push(payment_id=pk) == BillingStatus.SENT)


def refund_request(*, by, payment_id: int, amount, reason: str) -> Refund:
    """A clerk asks to refund (part of) a payment, with a reason; nothing is paid until another
    person with counter.manage approves (P12)."""
    company_id = require(by, Perm.COUNTER_SERVE)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写退款原因。"), field="reason")
    amt = _money(amount, field="amount", label=_("退款金额"))
    with transaction.atomic():
        try:
            p = Payment.objects.select_for_update().get(pk=payment_id, company_id=company_id)
        except Payment.DoesNotExist:
            raise NotFound(_("没有这笔收费。")) from None
        open_ = Refund.objects.filter(payment=p, status__in=[RefundStatus.REQUESTED, RefundStatus.APPROVED])
        pending = open_.aggregate(s=Sum("amount"))["s"] or Decimal("0")
        if amt > p.total - p.refunded - pending:
            raise DomainError(_("退款金额超过可退金额。"), field="amount")
        r = Refund.objects.create(
            company_id=company_id,
            payment=p,
            amount=amt,
            reason=reason[:300],
            requested_by=by,
            method=p.method,
        )
        audit("counter.refund_requested", by=by, obj=p, summary=f"{p.receipt_no} ¥{amt}", reason=reason[:300])
    return r


def refund_decide(*, by, refund_id: int, approve: bool, note: str = "") -> Refund:
    """Approve or reject a refund (counter.manage); the person who asked cannot approve it."""
    company_id = require(by, Perm.COUNTER_MANAGE)
    with transaction.atomic():
        try:
            r = (
                Refund.objects.select_for_update()
                .select_related("payment")
                .get(pk=refund_id, company_id=company_id)
            )
        except Refund.DoesNotExist:
            raise NotFound(_("没有这个退款申请。")) from None
        if r.status != RefundStatus.REQUESTED:
            raise Conflict(_("此退款申请已处理。"))
        if r.requested_by_id == by.pk:
            raise Forbidden(_("不能审批本人提出的退款。"), code="same_person")
        if not approve and not (note or "").strip():
            raise DomainError(_("驳回须填写意见。"), field="note")
        r.status = RefundStatus.APPROVED if approve else RefundStatus.REJECTED
        r.decided_by, r.decided_at, r.decision_note = by, timezone.now(), (note or "")[:300]
        r.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit(
            "counter.refund_" + ("approved" if approve else "rejected"),
            by=by,
            obj=r.payment,
            note=r.decision_note,
        )
    return r


def refund_pay(*, by, refund_id: int) -> Refund:
    """Pay out an approved refund (its own gapless number TK<year>-<seq>); cash paid out counts in
    this clerk's balance of the day."""
    company_id = require(by, Perm.COUNTER_SERVE)
    with transaction.atomic():
        try:
            r = (
                Refund.objects.select_for_update()
                .select_related("payment__company")
                .get(pk=refund_id, company_id=company_id)
            )
        except Refund.DoesNotExist:
            raise NotFound(_("没有这个退款申请。")) from None
        if r.status != RefundStatus.APPROVED:
            raise Conflict(_("退款尚未批准或已退。"))
        p = Payment.objects.select_for_update().get(pk=r.payment_id)
        if _closed(company_id, by, local_day(p.company, timezone.now())):
            raise Conflict(_("今天已日结，不能再退款。"))
        now = timezone.now()
        day = local_day(p.company, now)
        seq = next_number(company_id=company_id, series="refund", period=str(day.year))
        r.status, r.paid_by, r.paid_at, r.paid_day = RefundStatus.PAID, by, now, day
        r.refund_no = f"TK{day.year}-{seq:06d}"
        r.save(update_fields=["status", "paid_by", "paid_at", "paid_day", "refund_no"])
        p.refunded += r.amount
        p.save(update_fields=["refunded"])
        audit("counter.refund_paid", by=by, obj=p, summary=f"{r.refund_no} ¥{r.amount}")
        if p.billing_status == BillingStatus.SENT:
            adapter, rno, amount, receipt = billing.billing_adapter(), r.refund_no, r.amount, p.receipt_no
            transaction.on_commit(lambda: _refund_to_billing(adapter, receipt, rno, amount))
    return r


def _refund_to_billing(adapter, receipt_no: str, refund_no: str, amount: Decimal) -> None:
    try:
        adapter.post_refund(receipt_no=receipt_no, refund_no=refund_no, amount=amount)
    except Exception:  # noqa: BLE001 - recorded in kefu; billing staff reconcile from the refund list
        log.warning("billing: refund %s not passed on", refund_no, exc_info=True)


def _closed(company_id: int, clerk, day: date) -> bool:
    return DailyBalance.objects.filter(company_id=company_id, clerk=clerk, day=day).exists()


def balance_submit(
    *, by, hall_id: int, counted_cash, opening_float=0, note: str = "", day: date | None = None
) -> DailyBalance:
    """The clerk's daily balance (日结, 004 第六条1 "完成结帐后，再存缴相关费用"): the recorded figures
    (float + cash taken − cash refunded = expected cash; card and mobile payments by method; the
    receipts issued, first to last) against the counted cash; the discrepancy is shown and must be
    explained when it is not zero. Submitting is the clerk's signature; afterwards the clerk takes
    no more payments that day."""
    company_id = require(by, Perm.COUNTER_SERVE)
    try:
        hall = Hall.objects.select_related("company").get(pk=hall_id, company_id=company_id)
    except Hall.DoesNotExist:
        raise NotFound(_("没有这个营业厅。")) from None
    day = day or local_day(hall.company, timezone.now())
    counted = _money(counted_cash, field="counted_cash", label=_("清点现金"), allow_zero=True)
    float_ = _money(opening_float or 0, field="opening_float", label=_("备用金"), allow_zero=True)
    note = (note or "").strip()
    receipts_number(company_id=company_id, year=day.year)  # every receipt of the day has its number
    with transaction.atomic():
        if _closed(company_id, by, day):
            raise Conflict(_("今天已经日结过了。"))
        f = balance_figures(company_id=company_id, clerk_id=by.pk, day=day)
        expected = float_ + f["cash_in"] - f["cash_out"]
        discrepancy = counted - expected
        if discrepancy != 0 and not note:
            raise DomainError(
                _("清点现金与应有现金相差 %(d)s 元，请说明原因。") % {"d": discrepancy}, field="note"
            )
        b = DailyBalance.objects.create(
            company_id=company_id,
            hall=hall,
            clerk=by,
            day=day,
            opening_float=float_,
            cash_in=f["cash_in"],
            cash_out=f["cash_out"],
            expected_cash=expected,
            counted_cash=counted,
            discrepancy=discrepancy,
            other_methods={k: str(v) for k, v in f["other_methods"].items()},
            receipts=f["receipts"],
            note=note[:300],
        )
        audit(
            "counter.balance_submitted",
            by=by,
            obj=b,
            summary=f"{day} {expected} / {counted}",
            note=note[:300],
        )
    return b


def balance_receive(*, by, balance_id: int, received_amount) -> DailyBalance:
    """Finance receives the clerk's cash and accounts and signs (both signatures: the clerk's at
    submission, finance's here). The receiver cannot be the clerk; the amount received is recorded
    (it should equal the counted cash; a difference is refused)."""
    company_id = require(by, Perm.COUNTER_FINANCE)
    amount = _money(received_amount, field="received_amount", label=_("实收"), allow_zero=True)
    with transaction.atomic():
        try:
            b = DailyBalance.objects.select_for_update().get(pk=balance_id, company_id=company_id)
        except DailyBalance.DoesNotExist:
            raise NotFound(_("没有这份日结。")) from None
        if b.status != BalanceStatus.SUBMITTED:
            raise Conflict(_("此日结已交接。"))
        if b.clerk_id == by.pk:
            raise Forbidden(_("交接双方不能是同一人。"), code="same_person")
        if amount != b.counted_cash:
            raise DomainError(
                _("实收 %(a)s 元与营业员清点的 %(c)s 元不符，请当面复点。")
                % {"a": amount, "c": b.counted_cash},
                field="received_amount",
            )
        b.status, b.received_by, b.received_at, b.received_amount = (
            BalanceStatus.HANDED_OVER,
            by,
            timezone.now(),
            amount,
        )
        b.save(update_fields=["status", "received_by", "received_at", "received_amount"])
        audit("counter.balance_received", by=by, obj=b, summary=f"{b.day} {amount}")
    return b
