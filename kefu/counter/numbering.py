"""Gapless numbers (P11 queue numbers, P12 receipt and refund numbers).

`next_number` bumps the series' row with one conditional `UPDATE … RETURNING` inside the caller's
transaction: on PostgreSQL the row lock is held until that transaction commits, so concurrent
callers queue on it and never share a number; on SQLite writers are serialised anyway
(BEGIN IMMEDIATE). A rolled-back payment rolls its number back too, so the numbers have no gap.
The first number of a period inserts the row in a savepoint and falls back to the UPDATE if a
concurrent caller inserted it first (the same pattern as the work-order number, tickets.services).
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

from kefu.counter.models import NumberCounter


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
