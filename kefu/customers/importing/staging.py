"""The staging area of one customer import: validated records outside the business tables (C-import).

The import streams: it never holds the whole file. Validation writes each good record (packed
with pickle, plus its line and account number) to a staging table in batches; duplicate account
numbers are found there with one set-based query; the write pass reads the staging table back
batch by batch in line order. Memory therefore depends on the batch size, not on the file.

- PostgreSQL: a TEMPORARY table of the import's own session (not WAL-logged, invisible to
  others, dropped at the end or with the session), filled through `COPY … FROM STDIN`.
- SQLite: a scratch SQLite file of its own (journal off, no fsync) with its own connection, so
  validation neither takes the main database's write lock nor grows its file.

Nothing here is business data: a dry run may stage freely and still "write nothing".
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from datetime import date

from django.db import DatabaseError, connection

from kefu.customers.importing.bulk import CareData, CustomerData, MeterData, PremiseData

_PICKLE = pickle.HIGHEST_PROTOCOL


def _day(d: date | None) -> int | None:
    return None if d is None else d.toordinal()


def _date(n: int | None) -> date | None:
    return None if n is None else date.fromordinal(n)


def _pack(rec: CustomerData) -> bytes:
    """A record as plain tuples of str/int (dates as ordinals): no class names in every row, and
    pickled in C (a slots dataclass would go through copyreg, several times slower and larger)."""
    p, c = rec.premise, rec.care
    return pickle.dumps(
        (
            rec.account_no,
            rec.name,
            rec.category_id,
            rec.status,
            _day(rec.opened_on),
            rec.notes,
            None
            if p is None
            else (
                p.district,
                p.street,
                p.community,
                p.building,
                p.unit,
                p.room,
                p.address,
                p.supply_zone,
                p.lat,
                p.lng,
            ),
            rec.phones,
            [(m.serial, m.kind, _day(m.installed_on), _day(m.battery_on)) for m in rec.meters],
            rec.line,
            _day(rec.suspended_on),
            _day(rec.closed_on),
            None if c is None else (c.needs, c.note, _day(c.consent_on), c.consent_by),
        ),
        protocol=_PICKLE,
    )


def _unpack(payload: bytes) -> CustomerData:
    t = pickle.loads(payload)  # noqa: S301 (our own bytes, written by this import moments ago)
    p, c = t[6], t[12]
    return CustomerData(
        account_no=t[0],
        name=t[1],
        category_id=t[2],
        status=t[3],
        opened_on=_date(t[4]),
        notes=t[5],
        premise=None if p is None else PremiseData(*p),
        phones=t[7],
        meters=[MeterData(m[0], m[1], _date(m[2]), _date(m[3])) for m in t[8]],
        line=t[9],
        suspended_on=_date(t[10]),
        closed_on=_date(t[11]),
        care=None if c is None else CareData(c[0], c[1], _date(c[2]), c[3]),
    )


_DUPLICATES = """
    SELECT account_no, first, line FROM (
        SELECT account_no, line, has_record,
               MIN(line) OVER (PARTITION BY account_no) AS first,
               COUNT(*) OVER (PARTITION BY account_no) AS n
        FROM {table}
    ) AS s
    WHERE n > 1 AND line <> first AND has_record
    ORDER BY line
"""


class Staging:
    """Staged lines of one import. `add()` during validation, then `duplicates()`, then `batches()`."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.records = 0  # staged lines that carry a record (the ones to write)
        self._pending: list[tuple[int, str, bytes | None]] = []
        self._finished = False
        if self.vendor == "postgresql":
            self.table = f"kefu_import_stage_{uuid.uuid4().hex[:12]}"
            connection.ensure_connection()
            with connection.cursor() as cur:
                cur.execute(
                    f"CREATE TEMPORARY TABLE {self.table} "
                    "(line integer NOT NULL, account_no text NOT NULL, "
                    "has_record boolean NOT NULL, payload bytea)"
                )
        else:
            self.table = "stage"
            fd, self._path = tempfile.mkstemp(prefix="kefu-import-", suffix=".sqlite3")
            os.close(fd)
            self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute(
                "CREATE TABLE stage (line INTEGER PRIMARY KEY, account_no TEXT NOT NULL, "
                "has_record INTEGER NOT NULL, payload BLOB)"
            )

    # --- filling -----------------------------------------------------------------------------
    def add(
        self, line: int, account_no: str, record: CustomerData | None, *, flush_every: int = 5000
    ) -> None:
        """Stage one line: a good record, or (record None) a bad line's account number, which a later
        line with the same number must still be told it repeats."""
        self._pending.append((line, account_no, None if record is None else _pack(record)))
        if record is not None:
            self.records += 1
        if len(self._pending) >= flush_every:
            self.flush()

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        if self.vendor == "postgresql":
            with connection.cursor() as cur:
                with cur.cursor.copy(
                    f"COPY {self.table} (line, account_no, has_record, payload) FROM STDIN"
                ) as cp:
                    for line, account, payload in rows:
                        cp.write_row((line, account, payload is not None, payload))
        else:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO stage VALUES (?, ?, ?, ?)",
                [(line, account, payload is not None, payload) for line, account, payload in rows],
            )
            self._db.execute("COMMIT")

    def finish(self) -> None:
        """End of the file: flush, and index the table for reading back in line order."""
        self.flush()
        if self.vendor == "postgresql" and not self._finished:
            with connection.cursor() as cur:
                cur.execute(f"CREATE INDEX ON {self.table} (line) WHERE has_record")
                cur.execute(f"ANALYZE {self.table}")
        self._finished = True

    # --- reading -----------------------------------------------------------------------------
    def duplicates(self, limit: int) -> tuple[int, list[tuple[str, int, int]]]:
        """(how many good lines repeat an earlier line's account number, the first `limit` of them
        as (account number, first line, this line)), set-based in the staging table."""
        sql = _DUPLICATES.format(table=self.table)
        count_sql = f"SELECT COUNT(*) FROM ({sql}) AS d"
        if self.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(count_sql)
                n = cur.fetchone()[0]
                cur.execute(f"{sql} LIMIT %s", [limit])
                return n, [tuple(r) for r in cur.fetchall()]
        n = self._db.execute(count_sql).fetchone()[0]
        return n, [tuple(r) for r in self._db.execute(f"{sql} LIMIT ?", [limit]).fetchall()]

    def batches(self, size: int) -> Iterator[list[CustomerData]]:
        """The staged records in line order, `size` at a time (keyset pages: nothing is held open)."""
        after = 0
        while True:
            if self.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute(
                        f"SELECT line, payload FROM {self.table} WHERE has_record AND line > %s "
                        "ORDER BY line LIMIT %s",
                        [after, size],
                    )
                    rows = cur.fetchall()
            else:
                rows = self._db.execute(
                    "SELECT line, payload FROM stage WHERE line > ? AND has_record ORDER BY line LIMIT ?",
                    [after, size],
                ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield [_unpack(bytes(payload)) for _line, payload in rows]

    def close(self) -> None:
        self._pending = []
        if self.vendor == "postgresql":
            try:
                with connection.cursor() as cur:
                    cur.execute(f"DROP TABLE IF EXISTS {self.table}")
            except DatabaseError:  # a broken connection drops its temporary tables itself
                pass
            return
        try:
            self._db.close()
        finally:
            try:
                os.unlink(self._path)
            except OSError:
                pass
