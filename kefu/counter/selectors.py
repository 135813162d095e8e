"""Reads of the counter app (P11, P12): the queue as the greeter, the windows and the hall display
see it; price lists; a clerk's day in figures; the counter report with C15's target."""

from __future__ import annotations

from collections import Counter as Tally
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Subquery, Sum
from django.utils import timezone

from kefu.accounts.scoping import readable_company_ids
from kefu.counter.models import (
    BalanceStatus,
    BusinessType,
    DailyBalance,
    Hall,
    Method,
    Payment,
    PriceItem,
    PriceList,
    QueueStatus,
    QueueTicket,
    Refund,
    RefundStatus,
    Window,
)
from kefu.counter.rules import local_day, within_target


def halls_visible_to(user):
    return Hall.objects.filter(company_id__in=readable_company_ids(user), is_active=True).order_by("code")


def hall_get(user, hall_id: int) -> Hall | None:
    return halls_visible_to(user).select_related("company").filter(pk=hall_id).first()


def window_get(user, window_id: int) -> Window | None:
    return (
        Window.objects.filter(hall__company_id__in=readable_company_ids(user), pk=window_id)
        .select_related("hall__company", "clerk")
        .first()
    )


def today(hall: Hall) -> date:
    return local_day(hall.company, timezone.now())


def queue_board(hall: Hall) -> dict:
    """The greeter's view (003 6.2.2): per business type how many wait and the oldest wait; per
    window its clerk, its current number and how many wait for it (its share of the types it serves
    plus the numbers sent to it) — so the greeter can send customers to short queues."""
    day = today(hall)
    now = timezone.now()
    waiting = QueueTicket.objects.filter(hall=hall, day=day, status=QueueStatus.WAITING)
    types = list(BusinessType.objects.filter(company_id=hall.company_id, is_active=True))
    per_type = {
        r["business_type"]: r
        for r in waiting.values("business_type").annotate(n=Count("id"), hinted=Count("window_hint"))
    }
    oldest = {}
    for t in waiting.order_by("taken_at").values("business_type", "taken_at"):
        oldest.setdefault(t["business_type"], t["taken_at"])
    windows = list(
        Window.objects.filter(hall=hall).prefetch_related("business_types").select_related("clerk")
    )
    current = {
        t.window_id: t
        for t in QueueTicket.objects.filter(
            hall=hall, status__in=[QueueStatus.CALLED, QueueStatus.SERVING]
        ).select_related("business_type")
    }
    hinted = dict(waiting.exclude(window_hint=None).values_list("window_hint").annotate(n=Count("id")))
    open_serving = Tally()
    for w in windows:
        if w.is_open and w.clerk_id:
            for bt in w.business_types.all():
                open_serving[bt.pk] += 1
    type_rows = []
    for bt in types:
        r = per_type.get(bt.pk, {"n": 0, "hinted": 0})
        common = r["n"] - r["hinted"]
        type_rows.append(
            {
                "type": bt,
                "waiting": r["n"],
                "windows": open_serving[bt.pk],
                "oldest_minutes": int((now - oldest[bt.pk]).total_seconds() // 60)
                if bt.pk in oldest
                else None,
                "per_window": round(common / open_serving[bt.pk], 1) if open_serving[bt.pk] else None,
            }
        )
    window_rows = []
    for w in windows:
        served = [bt.pk for bt in w.business_types.all()]
        share = sum(
            (per_type.get(pk, {"n": 0, "hinted": 0})["n"] - per_type.get(pk, {"n": 0, "hinted": 0})["hinted"])
            / max(open_serving[pk], 1)
            for pk in served
        )
        window_rows.append(
            {
                "window": w,
                "types": list(w.business_types.all()),
                "current": current.get(w.pk),
                "load": round(share + hinted.get(w.pk, 0), 1) if w.is_open and w.clerk_id else None,
                "sent": hinted.get(w.pk, 0),
            }
        )
    return {
        "types": type_rows,
        "windows": window_rows,
        "waiting": list(
            waiting.select_related("business_type", "window_hint").order_by("taken_at", "id")[:200]
        ),
    }


def shortest_window(hall: Hall, business_type_id: int) -> Window | None:
    """The open window with the lowest load among those serving the type (the greeter's suggestion)."""
    rows = [
        r
        for r in queue_board(hall)["windows"]
        if r["load"] is not None and any(t.pk == business_type_id for t in r["types"])
    ]
    return min(rows, key=lambda r: (r["load"], r["window"].number))["window"] if rows else None


def display(hall: Hall) -> dict:
    """The waiting-hall display: the numbers being called or served (latest first) and who waits."""
    day = today(hall)
    called = (
        QueueTicket.objects.filter(hall=hall, day=day, status__in=[QueueStatus.CALLED, QueueStatus.SERVING])
        .select_related("window")
        .order_by("-called_at")[:12]
    )
    waiting = (
        QueueTicket.objects.filter(hall=hall, day=day, status=QueueStatus.WAITING)
        .values("business_type__prefix", "business_type__name")
        .annotate(n=Count("id"))
        .order_by("business_type__prefix")
    )
    return {"called": list(called), "waiting": list(waiting)}


def ticket_position(t: QueueTicket) -> int:
    """How many numbers are ahead of this one among those the same windows could call."""
    if t.status != QueueStatus.WAITING:
        return 0
    return (
        QueueTicket.objects.filter(
            hall_id=t.hall_id, day=t.day, status=QueueStatus.WAITING, business_type_id=t.business_type_id
        )
        .filter(Q(taken_at__lt=t.taken_at) | Q(taken_at=t.taken_at, id__lt=t.pk))
        .count()
    )


def window_current(window: Window) -> QueueTicket | None:
    return (
        QueueTicket.objects.filter(window=window, status__in=[QueueStatus.CALLED, QueueStatus.SERVING])
        .select_related("business_type")
        .first()
    )


def window_last_done(window: Window) -> QueueTicket | None:
    """The last visit finished at this window today, while it is still unrated (the rating pad)."""
    t = QueueTicket.objects.filter(window=window, status=QueueStatus.DONE).order_by("-finished_at").first()
    return t if t is not None and t.rating is None and t.day == today(window.hall) else None


def price_list_current(*, company_id: int, day: date) -> PriceList | None:
    """The version in force on `day`: the highest version whose effective date has come."""
    return (
        PriceList.objects.filter(company_id=company_id, effective_from__lte=day)
        .order_by("-version")
        .prefetch_related("items")
        .first()
    )


def price_items_current(*, company_id: int, day: date) -> list[PriceItem]:
    """The items of the version in force on `day` (`price_list_current`), each with its version
    joined, in one query (P12: what a payment is charged by); empty when no version is in force."""
    current = (
        PriceList.objects.filter(company_id=company_id, effective_from__lte=day)
        .order_by("-version")
        .values("pk")[:1]
    )
    return list(PriceItem.objects.filter(price_list_id=Subquery(current)).select_related("price_list"))


def balance_figures(*, company_id: int, clerk_id: int, day: date) -> dict:
    """A clerk's day as recorded (P12): cash taken, cash refunded, other methods, receipts issued."""
    pays = Payment.objects.filter(company_id=company_id, clerk_id=clerk_id, day=day)
    by_method = {r["method"]: r["s"] for r in pays.values("method").annotate(s=Sum("total"))}
    refunds = Refund.objects.filter(
        company_id=company_id, paid_by_id=clerk_id, paid_day=day, status=RefundStatus.PAID
    )
    out_by_method = {r["method"]: r["s"] for r in refunds.values("method").annotate(s=Sum("amount"))}
    numbers = list(pays.exclude(receipt_no=None).order_by("receipt_no").values_list("receipt_no", flat=True))

    def cents(v) -> Decimal:  # SQLite sums come back without the scale
        return Decimal(v or 0).quantize(Decimal("0.01"))

    return {
        "cash_in": cents(by_method.get(Method.CASH)),
        "cash_out": cents(out_by_method.get(Method.CASH)),
        "other_methods": {
            m: cents(by_method.get(m)) - cents(out_by_method.get(m))
            for m in Method.values
            if m != Method.CASH
        },
        "receipts": {
            "count": len(numbers),
            "first": numbers[0] if numbers else "",
            "last": numbers[-1] if numbers else "",
            "refunds": list(refunds.values_list("refund_no", flat=True)),
        },
        "payments": pays,
    }


def balances_to_receive(user):
    return (
        DailyBalance.objects.filter(company_id__in=readable_company_ids(user), status=BalanceStatus.SUBMITTED)
        .select_related("clerk", "hall")
        .order_by("day", "clerk_id")
    )


def counter_report(*, company_id: int, date_from: date, date_to: date, hall_id: int | None = None) -> dict:
    """Waiting and service times per customer, the share served within the hall's target (C15:
    3 minutes where possible — a target on the report, not a clock), ratings, by clerk and type."""
    qs = QueueTicket.objects.filter(hall__company_id=company_id, day__gte=date_from, day__lte=date_to)
    if hall_id:
        qs = qs.filter(hall_id=hall_id)
    rows = list(qs.select_related("hall", "business_type", "clerk", "window").order_by("day", "taken_at"))
    done = [t for t in rows if t.status == QueueStatus.DONE]
    targets = {t.pk: t.hall.target_seconds for t in rows}
    within = [t for t in done if within_target(t.service_seconds, targets[t.pk])]
    waits = [t.wait_seconds for t in rows if t.wait_seconds is not None]
    services = [t.service_seconds for t in done if t.service_seconds is not None]
    ratings = [t.rating for t in done if t.rating is not None]
    by_clerk: dict = {}
    for t in done:
        c = by_clerk.setdefault(
            t.clerk_id, {"clerk": t.clerk, "served": 0, "within": 0, "service": 0, "ratings": []}
        )
        c["served"] += 1
        c["service"] += t.service_seconds or 0
        c["within"] += 1 if t in within else 0
        if t.rating is not None:
            c["ratings"].append(t.rating)
    for c in by_clerk.values():
        c["avg_service"] = round(c["service"] / c["served"]) if c["served"] else None
        c["avg_rating"] = round(sum(c["ratings"]) / len(c["ratings"]), 2) if c["ratings"] else None
    return {
        "rows": rows,
        "taken": len(rows),
        "done": len(done),
        "no_show": sum(1 for t in rows if t.status == QueueStatus.NO_SHOW),
        "within_target": len(within),
        "within_pct": round(100 * len(within) / len(done), 1) if done else None,
        "target_seconds": rows[0].hall.target_seconds if rows else None,
        "avg_wait": round(sum(waits) / len(waits)) if waits else None,
        "max_wait": max(waits) if waits else None,
        "avg_service": round(sum(services) / len(services)) if services else None,
        "ratings": {n: ratings.count(n) for n in range(5, 0, -1)},
        "rated": len(ratings),
        "avg_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "satisfied_pct": round(100 * sum(1 for r in ratings if r >= 4) / len(ratings), 1)
        if ratings
        else None,
        "by_clerk": sorted(by_clerk.values(), key=lambda c: -c["served"]),
    }
