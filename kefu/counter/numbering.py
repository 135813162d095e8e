"""Gapless numbers (P11 queue numbers, P12 receipt and refund numbers).

Receipts are numbered in groups (`receipts_number`): a payment commits without a number, then one
short transaction locks the year's series, numbers every committed payment still without one in id
order and advances the series by that many. Concurrent clerks thus share one numbering commit
instead of queuing one commit each on the series' row; numbers go only to committed payments, so
there is no gap, and the series' row lock means no duplicate. A payment left without a number (a
process died in between) is numbered by the next payment or by `receipts_number_pending`.

`next_number` bumps the series' row with one conditional `UPDATE … RETURNING` inside the caller's
transaction: on PostgreSQL the row lock is held until that transaction commits, so concurrent
callers queue on it and never share a number; on SQLite writers are serialised anyway
(BEGIN IMMEDIATE). A rolled-back payment rolls its number back too, so the numbers have no gap.
The first number of a period inserts the row in a savepoint and falls back to the UPDATE if a
concurrent caller inserted it first (the same pattern as the work-order number, tickets.services).
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Value, When

from kefu.counter.models import NumberCounter, Payment


def next_number(*, company_id: int, series: str, period: str) -> int:
    """The next number of (company, series, period), starting at 1. Call inside a transaction."""
    seq = _bump(company_id, series, period)
    if seq is None:
        try:
            with transaction.atomic():
                NumberCounter.objects.create(company_id=company_id, series=series, period=period, last=1)
            seq = 1
        except IntegrityError:
            seq = _bump(company_id, series, period)
    assert seq is not None
    return seq


def _bump(company_id: int, series: str, period: str) -> int | None:
    table = connection.ops.quote_name(NumberCounter._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET last = last + 1 WHERE company_id = %s AND series = %s AND period = %s "
            "RETURNING last",
            [company_id, series, period],
        )
        row = cur.fetchone()
    return row[0] if row else None


def _lock_series(company_id: int, series: str, period: str) -> NumberCounter:
    """The series' row, locked until the transaction ends (created at 0 the first time)."""
    qs = NumberCounter.objects.select_for_update()
    row = qs.filter(company_id=company_id, series=series, period=period).first()
    if row is None:
        try:
            with transaction.atomic():
                NumberCounter.objects.create(company_id=company_id, series=series, period=period, last=0)
        except IntegrityError:
            pass
        row = qs.get(company_id=company_id, series=series, period=period)
    return row


RECEIPT_BATCH = 1000


def receipts_number(*, company_id: int, year: int) -> int:
    """Give receipt numbers SJ<year>-<seq> to the company's committed payments of `year` that have
    none, in id order, in one transaction; returns how many were numbered (P12)."""
    with transaction.atomic():
        counter = _lock_series(company_id, "receipt", str(year))
        ids = list(
            Payment.objects.filter(company_id=company_id, receipt_no__isnull=True, day__year=year)
            .order_by("id")
            .values_list("pk", flat=True)[:RECEIPT_BATCH]
        )
        if not ids:
            return 0
        first = counter.last + 1
        Payment.objects.filter(pk__in=ids).update(
            receipt_no=Case(
                *(When(pk=pk, then=Value(f"SJ{year}-{first + i:06d}")) for i, pk in enumerate(ids))
            )
        )
        NumberCounter.objects.filter(pk=counter.pk).update(last=counter.last + len(ids))
    return len(ids)


def receipts_number_pending() -> int:
    """The sweep: number every payment left without a receipt number (any company, any year)."""
    done = 0
    pending = Payment.objects.filter(receipt_no__isnull=True).values_list("company_id", "day").distinct()
    for company_id, year in sorted({(c, d.year) for c, d in pending}):
        while n := receipts_number(company_id=company_id, year=year):
            done += n
    return done
