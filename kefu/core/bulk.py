"""Inserting many rows fast (a kernel helper: it knows no other kefu app).

Django's bulk_create builds an instance per row and, on PostgreSQL, adapts every value in Python;
for the hot paths that insert tens of thousands of rows (the daily return-visit tasks, the quality
worker's findings, their benchmarks) that was most of the time. `bulk_insert` takes plain dicts and
uses COPY on PostgreSQL, bulk_create elsewhere.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.db.models import JSONField


def bulk_insert(model, rows: list[dict[str, Any]], *, with_ids: bool = False) -> list[int]:
    """Insert many rows of `model` given as {attname: value} dicts (missing columns take the field's
    default, computed once) — the daily creation of 20,000 return visits (bench/followups_visits.py).
    On PostgreSQL: the ids drawn from the table's sequence in one query, then one COPY; the ORM's
    bulk_create spent most of its time building an instance and adapting each value. Elsewhere
    (SQLite): bulk_create. Returns the new ids in the order of `rows` when `with_ids`. A unique
    conflict raises IntegrityError, as bulk_create does."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create([model(**r) for r in rows], batch_size=2000)
        if not with_ids:
            return []
        if objs and objs[0].pk is None:  # an old SQLite without RETURNING
            raise RuntimeError("bulk_insert needs INSERT … RETURNING")
        return [o.pk for o in objs]
    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    json_cols = {f.attname for f in fields if isinstance(f, JSONField)}
    qn = connection.ops.quote_name
    names = [f.attname for f in fields]
    columns = [f.column for f in fields]
    ids: list[int] = []
    with connection.cursor() as cursor:
        if with_ids:
            pk = model._meta.pk.column
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, len(rows)],
            )
            ids = [r[0] for r in cursor.fetchall()]
        cols = ", ".join(qn(c) for c in ([pk] if with_ids else []) + columns)
        raw = cursor.cursor  # psycopg's own cursor: COPY
        with raw.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
            for i, r in enumerate(rows):
                values = [ids[i]] if with_ids else []
                for n in names:
                    v = r[n] if n in r else defaults[n]
                    if n in json_cols and v is not None:
                        v = json.dumps(v, ensure_ascii=False)
                    values.append(v)
                copy.write_row(values)
    return ids
