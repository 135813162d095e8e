"""Cash at the counter (P12; 004 第四条10, 第六条1): charges by the versioned price list with a receipt,
refunds with another person's approval, the daily balance with a discrepancy, the hand-over signed
by both, and the billing adapter."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.counter import selectors, services
from kefu.counter.billing import RecordingBilling
from kefu.counter.models import BalanceStatus, BillingStatus, RefundStatus
from kefu.counter.pdf import amount_in_words, receipt_pdf

pytestmark = pytest.mark.django_db


def _pay(user, hall, *lines, **kw):
    return services.payment_take(by=user, hall_id=hall.pk, lines=list(lines), **kw)


def test_charge_by_the_price_list_with_change_and_a_receipt(clerk_x, hall_x):
    p = _pay(clerk_x, hall_x, ("IC-CARD", 1), ("HOSE", 2), tendered="100", payer="王先生")
    assert p.total == Decimal("50.00") and p.change == Decimal("50.00")
    assert p.receipt_no.endswith("-000001")
    assert [(ln.code, ln.quantity, ln.amount) for ln in p.lines.all()] == [
        ("IC-CARD", 1, Decimal("20.00")),
        ("HOSE", 2, Decimal("30.00")),
    ]
    with pytest.raises(DomainError, match="少于"):
        _pay(clerk_x, hall_x, ("ALARM", 1), tendered="100")
    with pytest.raises(DomainError):
        _pay(clerk_x, hall_x, ("NOT-THERE", 1))
    card = _pay(clerk_x, hall_x, ("ALARM", 1), method="card")
    assert card.receipt_no.endswith("-000002") and card.change == 0  # the refused ones took no number
    pdf = receipt_pdf(p)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_a_new_price_list_version_applies_from_its_date_and_old_receipts_keep_theirs(
    clerk_x, supervisor_x, hall_x
):
    old = _pay(clerk_x, hall_x, ("TRANSFER", 1))
    today = timezone.localdate()
    items = [{"code": "TRANSFER", "name": "过户手续费", "amount": "60.00"}]
    with pytest.raises(Forbidden):
        services.price_list_publish(by=clerk_x, effective_from=today, items=items)
    later = services.price_list_publish(
        by=supervisor_x, effective_from=today + timedelta(days=30), items=items
    )
    assert _pay(clerk_x, hall_x, ("TRANSFER", 1)).total == Decimal("50.00")  # not in force yet
    now = services.price_list_publish(by=supervisor_x, effective_from=today - timedelta(days=1), items=items)
    assert now.version == later.version + 1
    assert selectors.price_list_current(company_id=hall_x.company_id, day=today).pk == now.pk
    new = _pay(clerk_x, hall_x, ("TRANSFER", 1))
    assert new.total == Decimal("60.00") and new.price_list_id == now.pk
    old.refresh_from_db()
    assert old.total == Decimal("50.00") and old.lines.get().unit_amount == Decimal("50.00")
    with pytest.raises(DomainError):  # duplicate codes
        services.price_list_publish(by=supervisor_x, effective_from=today, items=items * 2)


def test_price_items_in_one_query_equal_the_items_of_the_version_in_force(supervisor_x, hall_x):
    """P12: the payment's one-query read of the price list (items with their version joined) gives
    what the version in force and its items give, before, on and after a new version's date."""
    today = timezone.localdate()
    items = [{"code": "TRANSFER", "name": "过户手续费", "amount": "60.00"}]
    services.price_list_publish(by=supervisor_x, effective_from=today + timedelta(days=3), items=items)
    for day in (date(1990, 1, 1), today, today + timedelta(days=3), today + timedelta(days=30)):
        pl = selectors.price_list_current(company_id=hall_x.company_id, day=day)
        joined = selectors.price_items_current(company_id=hall_x.company_id, day=day)
        assert {i.price_list for i in joined} == ({pl} if pl else set())
        assert sorted(i.pk for i in joined) == sorted(pl.items.values_list("pk", flat=True) if pl else [])


def test_receipt_numbers_given_in_a_group_are_those_stored(clerk_x, hall_x):
    """P12: the numbers `receipts_number` returns (the caller reads no row back) are the stored ones,
    consecutive after the series' last number; a second call finds nothing left to number."""
    from kefu.counter.models import Payment
    from kefu.counter.numbering import receipts_number

    first = _pay(clerk_x, hall_x, ("IC-CARD", 1))
    year = first.day.year
    Payment.objects.filter(pk=first.pk).update(receipt_no=None)  # as if its process died unnumbered
    second = _pay(clerk_x, hall_x, ("IC-CARD", 1))  # numbers both, in id order
    pair = Payment.objects.filter(pk__in=[first.pk, second.pk])
    assert second.receipt_no == f"SJ{year}-000003"
    assert dict(pair.values_list("pk", "receipt_no")) == {
        first.pk: f"SJ{year}-000002",
        second.pk: f"SJ{year}-000003",
    }
    pair.update(receipt_no=None)
    given = receipts_number(company_id=hall_x.company_id, year=year)
    assert given == dict(pair.values_list("pk", "receipt_no"))
    assert given == {first.pk: f"SJ{year}-000004", second.pk: f"SJ{year}-000005"}
    assert receipts_number(company_id=hall_x.company_id, year=year) == {}


def test_the_receipt_keeps_the_names_it_was_issued_with(clerk_x, hall_x):
    """P12: the receipt is drawn from the payment row on each download; a later rename of the
    company or the clerk does not change what it shows."""
    from kefu.counter.models import Payment

    p = _pay(clerk_x, hall_x, ("IC-CARD", 1))
    issued = (hall_x.company.name, clerk_x.full_name or clerk_x.username)
    assert (p.company_name, p.clerk_name) == issued
    type(hall_x.company).objects.filter(pk=hall_x.company_id).update(name="改名后的燃气公司")
    type(clerk_x).objects.filter(pk=clerk_x.pk).update(full_name="改名后的营业员")
    again = Payment.objects.select_related("company", "price_list").get(pk=p.pk)
    assert (again.company_name, again.clerk_name) == issued
    assert receipt_pdf(again).startswith(b"%PDF")


def test_idempotent_payment(clerk_x, hall_x):
    a = _pay(clerk_x, hall_x, ("IC-CARD", 1), idempotency_key="k-1")
    b = _pay(clerk_x, hall_x, ("IC-CARD", 1), idempotency_key="k-1")
    assert a.pk == b.pk


def test_refund_needs_another_persons_approval_and_counts_in_the_day(clerk_x, clerk2_x, supervisor_x, hall_x):
    p = _pay(clerk_x, hall_x, ("ALARM", 1), tendered="300")
    with pytest.raises(DomainError):
        services.refund_request(by=clerk_x, payment_id=p.pk, amount="281", reason="多收")
    with pytest.raises(DomainError):
        services.refund_request(by=clerk_x, payment_id=p.pk, amount="10", reason="")
    r = services.refund_request(by=clerk_x, payment_id=p.pk, amount="280", reason="报警器有质量问题，退货")
    with pytest.raises(Conflict):
        services.refund_pay(by=clerk_x, refund_id=r.pk)  # not approved yet
    with pytest.raises(Forbidden):
        services.refund_decide(by=clerk_x, refund_id=r.pk, approve=True)  # a clerk cannot approve
    with pytest.raises(DomainError):
        services.refund_request(by=clerk2_x, payment_id=p.pk, amount="1", reason="再退")  # nothing left
    services.refund_decide(by=supervisor_x, refund_id=r.pk, approve=True, note="同意")
    r = services.refund_pay(by=clerk2_x, refund_id=r.pk)
    assert r.status == RefundStatus.PAID and r.refund_no.endswith("-000001")
    p.refresh_from_db()
    assert p.refunded == Decimal("280.00")
    day = selectors.today(hall_x)
    f2 = selectors.balance_figures(company_id=hall_x.company_id, clerk_id=clerk2_x.pk, day=day)
    assert f2["cash_out"] == Decimal("280.00") and f2["cash_in"] == 0


def test_the_approver_cannot_approve_their_own_request(supervisor_x, hall_x):
    p = _pay(supervisor_x, hall_x, ("IC-CARD", 1))
    r = services.refund_request(by=supervisor_x, payment_id=p.pk, amount="20", reason="重复收费")
    with pytest.raises(Forbidden):
        services.refund_decide(by=supervisor_x, refund_id=r.pk, approve=True)
    other = _other_manager(hall_x)
    with pytest.raises(DomainError):  # a rejection needs a note
        services.refund_decide(by=other, refund_id=r.pk, approve=False)
    r = services.refund_decide(by=other, refund_id=r.pk, approve=False, note="已核实未重复收费")
    assert r.status == RefundStatus.REJECTED


def _other_manager(hall):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=hall.company, role="manager", username="manager_other")


def test_daily_balance_with_a_discrepancy_and_the_hand_over_signed_by_both(clerk_x, manager_x, hall_x):
    """004 第六条1: 领取备用金 … 完成结帐后，再存缴相关费用. Recorded 80 cash + 200 float = 280
    expected; 270 counted: −10 shown, explained, and handed to finance, who signs."""
    _pay(clerk_x, hall_x, ("IC-CARD", 1), tendered="50")  # 20 cash
    _pay(clerk_x, hall_x, ("HOSE", 4), tendered="60")  # 60 cash
    _pay(clerk_x, hall_x, ("ALARM", 1), method="wechat")  # 280 by WeChat
    with pytest.raises(DomainError, match="-10.00"):
        services.balance_submit(by=clerk_x, hall_id=hall_x.pk, opening_float="200", counted_cash="270")
    b = services.balance_submit(
        by=clerk_x, hall_id=hall_x.pk, opening_float="200", counted_cash="270", note="找零时多找了 10 元"
    )
    assert (b.cash_in, b.expected_cash, b.counted_cash, b.discrepancy) == (
        Decimal("80.00"),
        Decimal("280.00"),
        Decimal("270.00"),
        Decimal("-10.00"),
    )
    assert b.other_methods["wechat"] == "280.00" and b.receipts["count"] == 3
    assert b.receipts["first"].endswith("-000001") and b.receipts["last"].endswith("-000003")
    with pytest.raises(Conflict):  # the day is closed for this clerk
        _pay(clerk_x, hall_x, ("IC-CARD", 1))
    with pytest.raises(Conflict):
        services.balance_submit(by=clerk_x, hall_id=hall_x.pk, counted_cash="0")
    with pytest.raises(Forbidden):  # a clerk cannot sign as finance
        services.balance_receive(by=clerk_x, balance_id=b.pk, received_amount="270")
    with pytest.raises(DomainError):
        services.balance_receive(by=manager_x, balance_id=b.pk, received_amount="280")
    b = services.balance_receive(by=manager_x, balance_id=b.pk, received_amount="270")
    assert b.status == BalanceStatus.HANDED_OVER and b.received_by == manager_x and b.received_at
    with pytest.raises(Conflict):
        services.balance_receive(by=manager_x, balance_id=b.pk, received_amount="270")


def test_a_balanced_day_needs_no_note(clerk_x, hall_x):
    _pay(clerk_x, hall_x, ("IC-CARD", 2), tendered="40")
    b = services.balance_submit(by=clerk_x, hall_id=hall_x.pk, opening_float="100", counted_cash="140")
    assert b.discrepancy == 0 and b.note == ""


def test_other_company_sees_no_payment(clerk_x, clerk_y, hall_x):
    p = _pay(clerk_x, hall_x, ("IC-CARD", 1))
    with pytest.raises(NotFound):
        services.refund_request(by=clerk_y, payment_id=p.pk, amount="1", reason="x")
    with pytest.raises(NotFound):
        services.payment_take(by=clerk_y, hall_id=hall_x.pk, lines=[("IC-CARD", 1)])


def test_payments_pass_to_billing_through_the_adapter_and_failures_are_retried(
    clerk_x, supervisor_x, hall_x, settings
):
    settings.KEFU_COUNTER_BILLING = "record"
    RecordingBilling.sent.clear()
    RecordingBilling.fail = False
    fee = _pay(clerk_x, hall_x, ("HOSE", 1))  # a service fee kefu keeps
    assert fee.billing_status == BillingStatus.NONE
    RecordingBilling.fail = True
    p = _pay(clerk_x, hall_x, ("IC-CARD", 1))  # IC cards go to billing; billing is down
    p.refresh_from_db()
    assert p.billing_status in (BillingStatus.FAILED, BillingStatus.PENDING)
    RecordingBilling.fail = False
    assert services.billing_retry_pending() >= 1
    p.refresh_from_db()
    assert p.billing_status == BillingStatus.SENT and p.billing_ref == f"BILL-{p.receipt_no}"
    assert RecordingBilling.sent[p.receipt_no].lines == (("IC-CARD", 1, Decimal("20.00")),)


@pytest.mark.parametrize(
    "amount, words",
    [
        ("0.00", "零元整"),
        ("20.00", "贰拾元整"),
        ("128.50", "壹佰贰拾捌元伍角整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("10000.00", "壹万元整"),
        ("100010.30", "壹拾万零壹拾元叁角整"),
        ("280.05", "贰佰捌拾元零伍分"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_balance_day_is_the_local_day():
    from kefu.counter.rules import local_day

    class C:
        time_zone = "Asia/Shanghai"

    from datetime import datetime
    from datetime import timezone as tz

    assert local_day(C(), datetime(2026, 12, 3, 16, 30, tzinfo=tz.utc)) == date(2026, 12, 4)


def test_the_worker_finishes_what_a_crash_left(clerk_x, hall_x, settings):
    """P12: a payment whose process died before numbering, and one billing never received, are done
    by the worker's minute job."""
    from kefu.counter.models import Payment
    from kefu.counter.tasks import counter_sweeps_periodic

    settings.KEFU_COUNTER_BILLING = "record"
    RecordingBilling.sent.clear()
    RecordingBilling.fail = True
    p = _pay(clerk_x, hall_x, ("IC-CARD", 1))
    Payment.objects.filter(pk=p.pk).update(receipt_no=None)  # as if its process died unnumbered
    RecordingBilling.fail = False
    assert counter_sweeps_periodic.call_local() == {"numbered": 1, "sent_to_billing": 1}
    p.refresh_from_db()
    assert p.receipt_no and p.billing_status == BillingStatus.SENT
    assert counter_sweeps_periodic.call_local() == {"numbered": 0, "sent_to_billing": 0}
