"""The queue (P11, seed 003): numbers by business type, the greeter's short queues, fair call-next,
the transaction at the window with "还有其他需要办理的吗", times per customer (C15) and the rating."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.counter import selectors, services
from kefu.counter.models import Outcome, QueueStatus, QueueTicket

pytestmark = pytest.mark.django_db


def _take(user, hall, bt, **kw):
    return services.queue_take(by=user, hall_id=hall.pk, business_type_id=bt.pk, **kw)


def test_numbers_are_gapless_per_hall_day_and_type(clerk_x, hall_x, types_x):
    a, b = types_x["A"], types_x["B"]
    got = [_take(clerk_x, hall_x, bt).number for bt in (a, a, b, a, b)]
    assert got == ["A001", "A002", "B001", "A003", "B002"]


def test_numbers_restart_on_the_next_local_day(clerk_x, hall_x, types_x):
    # 23:59 and 00:01 Asia/Shanghai are two days though both are the same UTC date (15:59, 16:01)
    with time_machine.travel("2026-12-03T15:59:00Z", tick=False):
        assert _take(clerk_x, hall_x, types_x["A"]).number == "A001"
    with time_machine.travel("2026-12-03T16:01:00Z", tick=False):
        t = _take(clerk_x, hall_x, types_x["A"])
    assert t.number == "A001" and str(t.day) == "2026-12-04"


def test_call_next_is_first_taken_first_called_across_the_types_a_window_serves(
    clerk_x, hall_x, types_x, windows_x
):
    w1 = windows_x[1]  # serves every type
    services.window_sign_in(by=clerk_x, window_id=w1.pk)
    order = [_take(clerk_x, hall_x, types_x[p]) for p in "BABC"]
    called = []
    for _ in order:
        t = services.queue_call_next(by=clerk_x, window_id=w1.pk)
        called.append(t.number)
        services.queue_no_show(by=clerk_x, ticket_id=t.pk)
    assert called == [t.number for t in order]
    assert services.queue_call_next(by=clerk_x, window_id=w1.pk) is None


def test_a_window_calls_only_its_types_and_numbers_sent_to_it(clerk_x, clerk2_x, hall_x, types_x, windows_x):
    w1, w2 = windows_x[1], windows_x[2]  # window 2 serves A, B, E
    services.window_sign_in(by=clerk_x, window_id=w1.pk)
    services.window_sign_in(by=clerk2_x, window_id=w2.pk)
    c1 = _take(clerk_x, hall_x, types_x["C"])  # only window 1 does 过户
    a1 = _take(clerk_x, hall_x, types_x["A"], window_id=w1.pk)  # the greeter sent it to window 1
    a2 = _take(clerk_x, hall_x, types_x["A"])
    assert services.queue_call_next(by=clerk2_x, window_id=w2.pk).pk == a2.pk  # skips C and the hinted A
    first = services.queue_call_next(by=clerk_x, window_id=w1.pk)
    assert first.pk == c1.pk
    services.queue_no_show(by=clerk_x, ticket_id=first.pk)
    assert services.queue_call_next(by=clerk_x, window_id=w1.pk).pk == a1.pk


def test_greeter_sends_to_the_shortest_queue_and_back(clerk_x, clerk2_x, hall_x, types_x, windows_x):
    w1, w2 = windows_x[1], windows_x[2]
    services.window_sign_in(by=clerk_x, window_id=w1.pk)
    services.window_sign_in(by=clerk2_x, window_id=w2.pk)
    for _ in range(3):
        _take(clerk_x, hall_x, types_x["A"], window_id=w1.pk)
    assert selectors.shortest_window(hall_x, types_x["A"].pk) == w2
    t = _take(clerk_x, hall_x, types_x["A"])
    services.queue_send(by=clerk_x, ticket_id=t.pk, window_id=w2.pk)
    t.refresh_from_db()
    assert t.window_hint == w2
    with pytest.raises(DomainError):  # window 2 does not do 过户 (C)
        services.queue_send(by=clerk_x, ticket_id=_take(clerk_x, hall_x, types_x["C"]).pk, window_id=w2.pk)
    services.queue_send(by=clerk_x, ticket_id=t.pk, window_id=None)
    t.refresh_from_db()
    assert t.window_hint is None


def test_a_window_with_a_customer_calls_nobody_and_a_closed_window_neither(
    clerk_x, hall_x, types_x, windows_x
):
    w1 = windows_x[1]
    _take(clerk_x, hall_x, types_x["A"])
    _take(clerk_x, hall_x, types_x["A"])
    w4 = windows_x[4]
    services.window_sign_in(by=clerk_x, window_id=w4.pk)
    services.window_sign_in(by=clerk_x, window_id=w4.pk, open_=False)
    with pytest.raises(Conflict):
        services.queue_call_next(by=clerk_x, window_id=w4.pk)
    services.window_sign_in(by=clerk_x, window_id=w1.pk)
    services.queue_call_next(by=clerk_x, window_id=w1.pk)
    with pytest.raises(Conflict):
        services.queue_call_next(by=clerk_x, window_id=w1.pk)


def test_the_whole_visit_with_times_anything_else_and_the_rating(clerk_x, hall_x, types_x, windows_x):
    """003 6.2.1: 询问来意 → 核对证件 → 办理 → 再次询问 → 道别; service time ≤ 3 min counts for C15."""
    w1 = windows_x[1]
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as tm:
        services.window_sign_in(by=clerk_x, window_id=w1.pk)
        t = _take(clerk_x, hall_x, types_x["C"], phone="138 0013 8000")
        tm.shift(timedelta(minutes=4))
        services.queue_call_next(by=clerk_x, window_id=w1.pk)
        tm.shift(timedelta(seconds=30))
        services.queue_start(by=clerk_x, ticket_id=t.pk)
        with pytest.raises(DomainError, match="原户主证明"):
            services.service_record(
                by=clerk_x,
                ticket_id=t.pk,
                business_type_id=types_x["C"].pk,
                documents_checked=["身份证", "房产证"],
                outcome=Outcome.ON_SPOT,
            )
        services.service_record(
            by=clerk_x,
            ticket_id=t.pk,
            business_type_id=types_x["C"].pk,
            documents_checked=["身份证", "房产证", "原户主证明"],
            outcome=Outcome.ON_SPOT,
            note="过户到新户主名下",
        )
        with pytest.raises(DomainError, match="还有其他需要办理的吗"):
            services.queue_finish(by=clerk_x, ticket_id=t.pk, anything_else_asked=False)
        # "还有其他需要办理的吗" — yes: a second business at the same window
        services.service_record(
            by=clerk_x,
            ticket_id=t.pk,
            business_type_id=types_x["E"].pk,
            documents_checked=[],
            outcome=Outcome.ON_SPOT,
            note="咨询安全用气",
        )
        tm.shift(timedelta(minutes=2))
        services.queue_finish(by=clerk_x, ticket_id=t.pk, anything_else_asked=True)
        with pytest.raises(DomainError):
            services.queue_rate(token=t.token, rating=6)
        services.queue_rate(token=t.token, rating=5, comment="很快")
        with pytest.raises(Conflict):
            services.queue_rate(token=t.token, rating=1)
    t.refresh_from_db()
    assert t.status == QueueStatus.DONE and t.anything_else_asked and t.rating == 5
    assert t.phone == "13800138000"
    assert t.wait_seconds == 240 and t.service_seconds == 120
    assert t.services.count() == 2
    r = selectors.counter_report(company_id=hall_x.company_id, date_from=t.day, date_to=t.day)
    assert (r["done"], r["within_target"], r["target_seconds"], r["avg_rating"]) == (1, 1, 180, 5.0)


def test_business_not_done_on_the_spot_becomes_a_counter_work_order_owned_by_the_clerk(
    clerk_x, hall_x, types_x, windows_x
):
    from kefu.tickets.models import Ticket

    w1 = windows_x[1]
    services.window_sign_in(by=clerk_x, window_id=w1.pk)
    t = _take(clerk_x, hall_x, types_x["A"])
    services.queue_call_next(by=clerk_x, window_id=w1.pk)
    services.queue_start(by=clerk_x, ticket_id=t.pk)
    docs = ["身份证", "房产证或购房合同"]
    with pytest.raises(DomainError):  # 开户报装 is never finished on the spot
        services.service_record(
            by=clerk_x,
            ticket_id=t.pk,
            business_type_id=types_x["A"].pk,
            documents_checked=docs,
            outcome="on_spot",
        )
    s = services.service_record(
        by=clerk_x,
        ticket_id=t.pk,
        business_type_id=types_x["A"].pk,
        documents_checked=docs,
        outcome=Outcome.WORK_ORDER,
        note="新房开户报装",
        caller_surname="王",
        caller_phone="13800138000",
        address="幸福小区3号楼2单元501室",
    )
    wo = Ticket.objects.get(pk=s.ticket_id)
    assert wo.channel == "counter" and wo.owner_id == clerk_x.pk and wo.kind.code == "installation"
    assert s.ticket_number == wo.number and t.number in wo.content


def test_over_three_minutes_is_counted_not_escalated(clerk_x, hall_x, types_x, windows_x):
    """C15 is "where possible": a long transaction is finished normally and shown as over target."""
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False) as tm:
        services.window_sign_in(by=clerk_x, window_id=windows_x[1].pk)
        t = _take(clerk_x, hall_x, types_x["E"])
        services.queue_call_next(by=clerk_x, window_id=windows_x[1].pk)
        services.queue_start(by=clerk_x, ticket_id=t.pk)
        services.service_record(
            by=clerk_x,
            ticket_id=t.pk,
            business_type_id=types_x["E"].pk,
            documents_checked=[],
            outcome="on_spot",
        )
        tm.shift(timedelta(minutes=7))
        services.queue_finish(by=clerk_x, ticket_id=t.pk, anything_else_asked=True)
    r = selectors.counter_report(company_id=hall_x.company_id, date_from=t.day, date_to=t.day)
    assert (r["done"], r["within_target"], r["within_pct"]) == (1, 0, 0.0)


def test_other_company_sees_nothing_and_roles_are_checked(
    clerk_y, agent_x, clerk_x, hall_x, types_x, windows_x
):
    t = _take(clerk_x, hall_x, types_x["A"])
    with pytest.raises(NotFound):
        services.queue_take(by=clerk_y, hall_id=hall_x.pk, business_type_id=types_x["A"].pk)
    with pytest.raises(NotFound):
        services.queue_call_next(by=clerk_y, window_id=windows_x[1].pk)
    with pytest.raises(NotFound):
        services.queue_send(by=clerk_y, ticket_id=t.pk, window_id=None)
    with pytest.raises(Forbidden):
        services.queue_take(by=agent_x, hall_id=hall_x.pk, business_type_id=types_x["A"].pk)
    assert selectors.hall_get(clerk_y, hall_x.pk) is None
    assert QueueTicket.objects.count() == 1
