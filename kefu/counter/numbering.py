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


def _lock_series(cur, company_id: int, series: str, period: str) -> int:
    """Lock the series' row until the transaction ends and return its last number (the row is
    created at 0 the first time). `SET last = last` takes PostgreSQL's row lock in one statement on
    both databases (SQLite holds its write lock from BEGIN IMMEDIATE anyway)."""
    table = connection.ops.quote_name(NumberCounter._meta.db_table)
    sql = (
        f"UPDATE {table} SET last = last WHERE company_id = %s AND series = %s AND period = %s RETURNING last"
    )
    cur.execute(sql, [company_id, series, period])
    row = cur.fetchone()
    if row is None:
        try:
            with transaction.atomic():
                NumberCounter.objects.create(company_id=company_id, series=series, period=period, last=0)
        except IntegrityError:
            pass
        cur.execute(sql, [company_id, series, period])
        row = cur.fetchone()
    return row[0]


RECEIPT_BATCH = 1000


def receipts_number(*, company_id: int, year: int) -> dict[int, str]:
    """Give receipt numbers SJ<year>-<seq> to the company's committed payments of `year` that have
    none, in id order, in one transaction (P12); returns the numbers given, by payment id, so a
    caller whose payment is among them need not read it back. Plain SQL: this runs after every
    payment, and the ORM's query building was a fifth of a receipt's CPU."""
    payments = connection.ops.quote_name(Payment._meta.db_table)
    counters = connection.ops.quote_name(NumberCounter._meta.db_table)
    with transaction.atomic(), connection.cursor() as cur:
        last = _lock_series(cur, company_id, "receipt", str(year))
        cur.execute(
            f"SELECT id FROM {payments} WHERE company_id = %s AND receipt_no IS NULL "
            "AND day >= %s AND day <= %s ORDER BY id LIMIT %s",
            [company_id, f"{year:04d}-01-01", f"{year:04d}-12-31", RECEIPT_BATCH],
        )
        ids = [r[0] for r in cur.fetchall()]
        if not ids:
            return {}
        given = {pk: f"SJ{year}-{last + 1 + i:06d}" for i, pk in enumerate(ids)}
        cases = " ".join("WHEN %s THEN %s" for _ in ids)
        cur.execute(
            f"UPDATE {payments} SET receipt_no = CASE id {cases} END "
            f"WHERE id IN ({', '.join('%s' for _ in ids)})",
            [v for pair in given.items() for v in pair] + ids,
        )
        cur.execute(
            f"UPDATE {counters} SET last = %s WHERE company_id = %s AND series = %s AND period = %s",
            [last + len(ids), company_id, "receipt", str(year)],
        )
    return given


def receipts_number_pending() -> int:
    """The sweep: number every payment left without a receipt number (any company, any year)."""
    done = 0
    pending = Payment.objects.filter(receipt_no__isnull=True).values_list("company_id", "day").distinct()
    for company_id, year in sorted({(c, d.year) for c, d in pending}):
        while n := len(receipts_number(company_id=company_id, year=year)):
            done += n
    return done
