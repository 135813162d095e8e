"""Demo data of the counter for `kefu demo` (step 70): the company's hall with its business types,
windows and price list; the last two hours of the morning played through the real services (numbers
taken, called, served on the spot or entered as work orders, rated, paid with receipts), a refund
waiting for approval and a few customers still waiting — so every counter screen shows real rows."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.demo import DemoRun, SimulatedClock
from kefu.counter import services
from kefu.counter.models import BusinessType, Outcome, QueueTicket, Window


def build_demo_counter(company, *, seed: int = 7) -> int:
    """Seed the hall and play a morning; returns the numbers taken."""
    if QueueTicket.objects.filter(hall__company=company).exists():
        return 0  # the demo's morning was played already: a second `kefu demo` adds nothing
    rng = random.Random(seed)
    users = {u.username: u for u in User.objects.filter(company=company, is_active=True)}
    clerk, lead = users.get("clerk"), users.get("team_lead")
    manager = users.get("manager") or users.get("supervisor")
    if clerk is None or manager is None:
        return 0
    hall = services.counter_seed(company=company, by=manager)
    windows = list(Window.objects.filter(hall=hall).order_by("number"))
    types = list(BusinessType.objects.filter(company=company).order_by("sort_order"))
    staff = [(windows[0], clerk)] + ([(windows[1], lead)] if lead and len(windows) > 1 else [])
    clock = SimulatedClock(timezone.now() - timedelta(hours=2))
    taken = 0
    with clock.running():
        for w, u in staff:
            services.window_sign_in(by=u, window_id=w.pk)
        for n in range(18):
            clock.at += timedelta(minutes=rng.randint(2, 7))
            bt = rng.choice(types[:2] * 3 + types[2:])
            services.queue_take(by=clerk, hall_id=hall.pk, business_type_id=bt.pk, phone="")
            taken += 1
            if n < 14:
                w, u = staff[n % len(staff)]
                t = services.queue_call_next(by=u, window_id=w.pk)
                if t is None:
                    continue
                clock.at += timedelta(seconds=rng.randint(20, 60))
                if n == 5:
                    services.queue_no_show(by=u, ticket_id=t.pk)
                    continue
                services.queue_start(by=u, ticket_id=t.pk)
                clock.at += timedelta(seconds=rng.randint(60, 320))
                _serve(u, t, hall, rng)
                services.queue_finish(by=u, ticket_id=t.pk, anything_else_asked=True)
                clock.at += timedelta(seconds=10)
                services.queue_rate(ticket_id=t.pk, by=u, rating=rng.choice([5, 5, 5, 4, 4, 3]))
    return taken


def _serve(u, t, hall, rng) -> None:
    bt = t.business_type
    if bt.prefix == "B":  # 缴费: a service fee with a receipt
        services.service_record(
            by=u,
            ticket_id=t.pk,
            business_type_id=bt.pk,
            documents_checked=[],
            outcome=Outcome.ON_SPOT,
            note="补办IC卡",
        )
        p = services.payment_take(
            by=u, hall_id=hall.pk, lines=[("IC-CARD", 1)], method="cash", tendered="50", queue_ticket_id=t.pk
        )
        if rng.random() < 0.2:
            services.refund_request(by=u, payment_id=p.pk, amount="20", reason="客户找到原卡，不再补办")
        return
    if bt.on_spot:
        services.service_record(
            by=u,
            ticket_id=t.pk,
            business_type_id=bt.pk,
            documents_checked=list(bt.documents),
            outcome=Outcome.ON_SPOT,
            note="资料齐全，当场办结",
        )
        return
    services.service_record(
        by=u,
        ticket_id=t.pk,
        business_type_id=bt.pk,
        documents_checked=list(bt.documents),
        outcome=Outcome.WORK_ORDER,
        note="客户到营业厅申请，资料已核对",
        caller_surname="王",
        caller_phone="13800138000",
        address="幸福小区3号楼2单元501室",
    )


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 70 (kefu.core.demo)."""
    made = build_demo_counter(run.company, seed=run.options.get("seed") or 7)
    run.summary.append(f"营业厅排队号 {made} 个")
