"""Bulk writing of customers with their premises, phones, meters, status history and care rows.

Shared by the import (billing exports) and the demo city, so a million rows go in the same fast
way: per-batch lookups (account number → id, premise key → id, through indexes: memory depends on
the batch, not the company), ids reserved in blocks, and plain multi-row inserts —
`executemany` on SQLite, `COPY … FROM STDIN` (psycopg 3) on PostgreSQL. Django model instances
are never built per row; that alone would cost more than the target of 20,000 rows/s allows.

Upsert by account number within the company (C-import): a record whose account number exists is
compared with the stored customer and written only if something differs, so re-running a file
changes nothing. Empty values in a record never erase stored ones; phones and meters are added or
updated by number/serial, never removed (an agent may have added a number the billing system
does not know).

The caller owns the transaction: run `write()` inside one `transaction.atomic()` so a failure
writes nothing. On SQLite that transaction holds the write lock (BEGIN IMMEDIATE, see settings),
which is what makes reserving ids as MAX(id)+1 safe.

Foreign keys on PostgreSQL: the constraints are deferred, so every inserted row queues a check
that runs one by one at commit (about 7 per customer, a quarter of the import's time). When the
database role may set `session_replication_role` (a superuser, or GRANT SET ON PARAMETER), each
batch instead runs with it set to `replica` for its own statements only (SET LOCAL, switched
back at the end of the batch, and undone by any rollback), which skips those per-row checks, and
the writer checks the same references set-based, with the same locks the checks would take:
the company, the categories, the existing premises and the existing customers it points at are
locked FOR KEY SHARE (held until commit, so nobody can delete them meanwhile) and must all be
there, otherwise the batch fails with an IntegrityError and the caller's transaction rolls back.
Rows created by the writer itself are invisible to others until commit, so they cannot vanish.
Without that privilege (or on SQLite) the database checks every row as usual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from kefu.accounts.models import Company
from kefu.customers.models import (
    CareRegistration,
    Customer,
    CustomerCategory,
    CustomerStatusChange,
    Meter,
    Phone,
    Premise,
)
from kefu.customers.normalize import phone_kind

ACTIVE, SUSPENDED, CLOSED = (
    Customer.Status.ACTIVE.value,
    Customer.Status.SUSPENDED.value,
    Customer.Status.CLOSED.value,
)


@dataclass(slots=True)
class PremiseData:
    district: str
    street: str
    community: str
    building: str
    unit: str
    room: str
    address: str
    supply_zone: str
    lat: float | None = None  # WGS-84 degrees, both or neither (kefu.field judges arrivals by them, C8)
    lng: float | None = None

    def key(self) -> tuple[str, str, str, str, str]:
        """Premises are shared by the customers at the same place: (小区, 楼, 单元, 室, 地址)."""
        return (self.community, self.building, self.unit, self.room, self.address)


_NO_EXTRA = ("", "", "", None, None)


def _premise_extra(p: PremiseData, stored: tuple | None) -> tuple:
    """The premise's (district, street, supply_zone, lat, lng) after the file's line: a blank cell
    keeps what is stored (coordinates go together)."""
    extra = stored or _NO_EXTRA
    lat, lng = (p.lat, p.lng) if p.lat is not None else (extra[3], extra[4])
    return (p.district or extra[0], p.street or extra[1], p.supply_zone or extra[2], lat, lng)


@dataclass(slots=True)
class MeterData:
    serial: str
    kind: str
    installed_on: date | None = None
    battery_on: date | None = None


@dataclass(slots=True)
class CareData:
    needs: list[str]
    note: str
    consent_on: date
    consent_by: str


@dataclass(slots=True)
class CustomerData:
    """One customer as a file line or the demo describes it, already validated and normalised."""

    account_no: str
    name: str
    category_id: int
    status: str
    opened_on: date | None
    notes: str
    premise: PremiseData | None
    phones: list[str]  # normalised, the first is the primary
    meters: list[MeterData]
    line: int = 0
    suspended_on: date | None = None
    closed_on: date | None = None
    care: CareData | None = None


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: WriteCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass(slots=True)
class _Stored:
    """What the database holds for an existing customer, as far as a record can change it."""

    id: int
    name: str
    category_id: int
    status: str
    opened_on: date | None
    suspended_on: date | None
    closed_on: date | None
    notes: str
    premise_id: int | None
    premise_key: tuple | None = None
    premise_extra: tuple | None = None  # (district, street, supply_zone, lat, lng)
    phones: dict[str, tuple[int, bool]] = field(default_factory=dict)  # number → (id, is_primary)
    meters: dict[str, tuple[int, str, date | None, date | None]] = field(default_factory=dict)


@dataclass
class _Plan:
    new: list[CustomerData] = field(default_factory=list)
    changed: list[tuple[CustomerData, _Stored]] = field(default_factory=list)
    unchanged: int = 0


def _chunks(seq: Sequence, size: int) -> Iterable[Sequence]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


class CustomerBulkWriter:
    """Upserts batches of `CustomerData` for one company. One instance per import run."""

    LOOKUP_CHUNK = 900  # below SQLite's historic 999-parameter limit

    def __init__(self, company_id: int, *, now: datetime | None = None, reason: str = "批量导入"):
        self.company_id = company_id
        self.reason = reason  # written on the status-history rows
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.vendor = connection.vendor
        self._next_id: dict[str, int] = {}
        self._tuned = False
        self._set_based_fk: bool | None = None  # PostgreSQL: may this role use replica mode?
        self._role_before = "origin"
        self._own_premises: set[int] = set()  # created by this batch: in our transaction, cannot vanish

    # --- reads -------------------------------------------------------------------------------
    # Lookups are per batch, through the unique (company, account_no) and the (company, address)
    # indexes, never a map of the whole company: the writer's memory depends on the batch size,
    # not on how many customers the company (or the file) has.
    def _account_ids(self, accounts: Iterable[str]) -> dict[str, int]:
        """Account number → customer id for the given account numbers of the company."""
        out: dict[str, int] = {}
        for chunk in _chunks(sorted(set(accounts)), self.LOOKUP_CHUNK):
            out.update(
                Customer.objects.filter(company_id=self.company_id, account_no__in=chunk).values_list(
                    "account_no", "id"
                )
            )
        return out

    def _premise_ids(self, keys: Iterable[tuple]) -> dict[tuple, int]:
        """Premise key → id for the given keys (see `PremiseData.key`) of the company."""
        keys = set(keys)
        out: dict[tuple, int] = {}
        for chunk in _chunks(sorted({k[4] for k in keys}), self.LOOKUP_CHUNK):
            for row in Premise.objects.filter(company_id=self.company_id, address__in=chunk).values_list(
                "community", "building", "unit", "room", "address", "id"
            ):
                if row[:5] in keys:
                    out.setdefault(row[:5], row[5])
        return out

    def plan(self, batch: Sequence[CustomerData]) -> _Plan:
        """Sort a batch into new, changed and unchanged customers (reads only: the dry run uses it)."""
        accounts = self._account_ids(rec.account_no for rec in batch)
        plan = _Plan()
        existing: list[tuple[CustomerData, int]] = []
        for rec in batch:
            cid = accounts.get(rec.account_no)
            if cid is None:
                plan.new.append(rec)
            else:
                existing.append((rec, cid))
        if existing:
            stored = self._load_stored([cid for _rec, cid in existing])
            for rec, cid in existing:
                if self._differs(rec, stored[cid]):
                    plan.changed.append((rec, stored[cid]))
                else:
                    plan.unchanged += 1
        return plan

    def _load_stored(self, ids: list[int]) -> dict[int, _Stored]:
        out: dict[int, _Stored] = {}
        for chunk in _chunks(ids, self.LOOKUP_CHUNK):
            for row in Customer.objects.filter(id__in=chunk).values_list(
                "id",
                "name",
                "category_id",
                "status",
                "opened_on",
                "suspended_on",
                "closed_on",
                "notes",
                "premise_id",
            ):
                out[row[0]] = _Stored(*row)
            premise_ids = {s.premise_id for s in out.values() if s.premise_id and s.premise_key is None}
            premises = {
                p[0]: p[1:]
                for p in Premise.objects.filter(id__in=list(premise_ids)).values_list(
                    "id",
                    "community",
                    "building",
                    "unit",
                    "room",
                    "address",
                    "district",
                    "street",
                    "supply_zone",
                    "lat",
                    "lng",
                )
            }
            for s in out.values():
                if s.premise_id in premises:
                    s.premise_key, s.premise_extra = premises[s.premise_id][:5], premises[s.premise_id][5:]
            for cid, pid, number, primary in Phone.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "id", "number", "is_primary"
            ):
                out[cid].phones[number] = (pid, primary)
            for cid, mid, serial, kind, inst, batt in Meter.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "id", "serial", "kind", "installed_on", "battery_replaced_on"
            ):
                out[cid].meters[serial] = (mid, kind, inst, batt)
        return out

    @staticmethod
    def _premise_changes(rec: CustomerData, st: _Stored) -> tuple[bool, bool]:
        """(moved to another premise, same premise but district/street/zone to update)."""
        p = rec.premise
        if p is None:
            return False, False
        if st.premise_key != p.key():
            return True, False
        return False, _premise_extra(p, st.premise_extra) != tuple(st.premise_extra or _NO_EXTRA)

    def _differs(self, rec: CustomerData, st: _Stored) -> bool:
        if (rec.name, rec.category_id, rec.status) != (st.name, st.category_id, st.status):
            return True
        if rec.opened_on and rec.opened_on != st.opened_on:
            return True
        if rec.notes and rec.notes != st.notes:
            return True
        if any(self._premise_changes(rec, st)):
            return True
        if rec.phones:
            if any(n not in st.phones for n in rec.phones) or not st.phones[rec.phones[0]][1]:
                return True
        for m in rec.meters:
            old = st.meters.get(m.serial)
            if old is None or m.kind != old[1]:
                return True
            if (m.installed_on and m.installed_on != old[2]) or (m.battery_on and m.battery_on != old[3]):
                return True
        return False

    # --- writes ------------------------------------------------------------------------------
    def write(self, batch: Sequence[CustomerData]) -> WriteCounts:
        """Upsert one batch. Call inside the caller's transaction."""
        plan = self.plan(batch)
        if self._replica_mode(True):
            self._apply(plan)
            self._replica_mode(False)  # on an exception the rollback undoes the SET LOCAL
        else:
            self._apply(plan)
        return WriteCounts(created=len(plan.new), updated=len(plan.changed), unchanged=plan.unchanged)

    def _replica_mode(self, on: bool) -> bool:
        """PostgreSQL: switch per-row foreign-key triggers off (True) or back on (False) for the
        rest of the current transaction, if the role may; returns whether replica mode is on."""
        if self.vendor != "postgresql" or self._set_based_fk is False:
            return False
        if not on:
            with connection.cursor() as cur:
                cur.execute("SELECT set_config('session_replication_role', %s, true)", [self._role_before])
            return False
        try:
            with transaction.atomic(), connection.cursor() as cur:  # a savepoint: a refusal aborts nothing
                cur.execute("SELECT current_setting('session_replication_role')")
                self._role_before = cur.fetchone()[0]
                cur.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            self._set_based_fk = False
            return False
        self._set_based_fk = True
        return True

    def _lock_referenced(self, table: str, ids: Iterable[int], what: str) -> None:
        """Lock rows an insert or update is about to reference, as PostgreSQL's own foreign-key
        check does (FOR KEY SHARE, until commit), and fail if any of them is gone."""
        wanted = sorted({i for i in ids if i is not None and i > 0})
        for chunk in _chunks(wanted, 50_000):
            with connection.cursor() as cur:
                cur.execute(
                    f'SELECT count(*) FROM (SELECT 1 FROM "{table}" WHERE id = ANY(%s) FOR KEY SHARE) AS locked',  # noqa: E501 (one message or data row, kept whole)
                    [list(chunk)],
                )
                found = cur.fetchone()[0]
            if found != len(chunk):
                raise IntegrityError(
                    f'{what}: {len(chunk) - found} referenced row(s) of "{table}" no longer exist (deleted during the import)'  # noqa: E501 (one message or data row, kept whole)
                )

    def _date(self, value: date | None):
        if value is None or self.vendor != "sqlite":
            return value
        return value.isoformat()

    def _reserve(self, model: type[Model], n: int) -> list[int]:
        """n fresh primary keys for `model`'s table."""
        if n == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                cur.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
                )
                return [r[0] for r in cur.fetchall()]
            if table not in self._next_id:
                cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
                top = cur.fetchone()[0]
                if self.vendor == "sqlite":
                    cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                    seq = cur.fetchone()
                    top = max(top, seq[0] if seq else 0)
                self._next_id[table] = top + 1
        start = self._next_id[table]
        self._next_id[table] = start + n
        return list(range(start, start + n))

    def _defaults(self, model: type[Model], given: Sequence[str]) -> tuple[tuple[str, ...], tuple]:
        """Columns the caller did not give, with the model's defaults ("" for blank text), so a
        field added to the model later does not break the raw insert."""
        cols, values = [], []
        for f in model._meta.concrete_fields:
            if f.primary_key or f.column in given:
                continue
            if f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.blank and f.empty_strings_allowed:
                value = ""
            else:
                continue  # leave it to the database (and let it complain)
            cols.append(f.column)
            values.append(f.get_db_prep_save(value, connection))
        return tuple(cols), tuple(values)

    def _insert(self, model: type[Model], columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table = model._meta.db_table
        extra_cols, extra_values = self._defaults(model, columns)
        if extra_cols:
            columns = (*columns, *extra_cols)
            rows = [row + extra_values for row in rows]
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.vendor == "postgresql":
            connection.ensure_connection()
            with connection.cursor() as cur:
                with cur.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cur:
            cur.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)

    def _execute_many(self, sql: str, rows: list[tuple]) -> None:
        if rows:
            with connection.cursor() as cur:
                cur.executemany(sql, rows)

    @staticmethod
    def _premise_for(p: PremiseData | None, pending: list[tuple], premises: dict[tuple, int]) -> int | None:
        if p is None:
            return None
        key = p.key()
        pid = premises.get(key)
        if pid is None:
            pid = -len(pending) - 1  # placeholder until ids are reserved
            premises[key] = pid
            pending.append((pid, p))
        return pid

    def _tune_connection(self) -> None:
        """SQLite: a bigger page cache, since index inserts at random places (phone numbers,
        names) thrash the default 2 MB cache once the tables hold a few hundred thousand rows.
        64 MB: the cache fills up and stays there, so it is part of the import's bounded memory
        (256 MB made a 200,000-line import's peak grow with the file until the cache was full)."""
        if self.vendor == "sqlite" and not self._tuned:
            with connection.cursor() as cur:
                cur.execute("PRAGMA cache_size = -65536")
        self._tuned = True

    def _apply(self, plan: _Plan) -> None:
        self._tune_connection()
        now = connection.ops.adapt_datetimefield_value(self.now) if self.vendor == "sqlite" else self.now
        d = self._date
        pending: list[tuple[int, PremiseData]] = []
        premises = self._premise_ids(
            [rec.premise.key() for rec in plan.new if rec.premise is not None]
            + [rec.premise.key() for rec, st in plan.changed if self._premise_changes(rec, st)[0]]
        )
        self._own_premises = set()
        new_premise = [self._premise_for(rec.premise, pending, premises) for rec in plan.new]
        moved_premise = [
            self._premise_for(rec.premise, pending, premises)
            if self._premise_changes(rec, st)[0]
            else st.premise_id
            for rec, st in plan.changed
        ]
        # Premises: swap placeholders for reserved ids, then insert.
        if pending:
            ids = self._reserve(Premise, len(pending))
            real = {tmp: pid for (tmp, _p), pid in zip(pending, ids, strict=True)}
            self._own_premises.update(ids)
            new_premise = [real.get(x, x) if x is not None else None for x in new_premise]
            moved_premise = [real.get(x, x) if x is not None else None for x in moved_premise]
            self._insert(
                Premise,
                (
                    "id",
                    "company_id",
                    "district",
                    "street",
                    "community",
                    "building",
                    "unit",
                    "room",
                    "address",
                    "supply_zone",
                    "lat",
                    "lng",
                ),
                [
                    (
                        pid,
                        self.company_id,
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
                    )
                    for (_tmp, p), pid in zip(pending, ids, strict=True)
                ],
            )

        if self._set_based_fk:
            # The references the per-row checks would have verified (see the module docstring);
            # premises reserved above are this transaction's own and pass trivially.
            self._lock_referenced(Company._meta.db_table, [self.company_id], "company")
            self._lock_referenced(
                CustomerCategory._meta.db_table,
                [rec.category_id for rec in plan.new] + [rec.category_id for rec, _st in plan.changed],
                "category",
            )
            own = self._own_premises
            self._lock_referenced(
                Premise._meta.db_table,
                [pid for pid in new_premise if pid not in own]
                + [
                    pid
                    for pid, (_rec, st) in zip(moved_premise, plan.changed, strict=True)
                    if pid != st.premise_id and pid not in own
                ],
                "premise",
            )
            self._lock_referenced(Customer._meta.db_table, [st.id for _rec, st in plan.changed], "customer")

        customers, statuses, phones, meters, care = [], [], [], [], []
        customer_ids = self._reserve(Customer, len(plan.new))
        for rec, cid, pid in zip(plan.new, customer_ids, new_premise, strict=True):
            suspended = rec.suspended_on or (self.today if rec.status == SUSPENDED else None)
            closed = rec.closed_on or (self.today if rec.status == CLOSED else None)
            customers.append(
                (
                    cid,
                    self.company_id,
                    rec.account_no,
                    rec.name,
                    rec.category_id,
                    rec.status,
                    d(rec.opened_on),
                    d(suspended),
                    d(closed),
                    pid,
                    rec.notes,
                    now,
                    now,
                    1,
                )
            )
            statuses.append((cid, ACTIVE, d(rec.opened_on or self.today), now, self.reason))
            if suspended and rec.status in (SUSPENDED, CLOSED):
                statuses.append((cid, SUSPENDED, d(suspended), now, self.reason))
            if closed and rec.status == CLOSED:
                statuses.append((cid, CLOSED, d(closed), now, self.reason))
            for i, number in enumerate(rec.phones):
                phones.append((cid, number, phone_kind(number), i == 0, ""))
            for m in rec.meters:
                meters.append((cid, m.serial, m.kind, d(m.installed_on), d(m.battery_on), True))
            if rec.care is not None:
                c = rec.care
                care.append((cid, json.dumps(c.needs), c.note, d(c.consent_on), c.consent_by, now))
        self._insert(
            Customer,
            (
                "id",
                "company_id",
                "account_no",
                "name",
                "category_id",
                "status",
                "opened_on",
                "suspended_on",
                "closed_on",
                "premise_id",
                "notes",
                "created_at",
                "updated_at",
                "version",
            ),
            customers,
        )

        updates, premise_updates, clear_primary, set_primary, meter_updates = [], [], [], [], []
        # A new customer at a premise already stored (shared): the file's coordinates go on it.
        coords = [
            (rec.premise.lat, rec.premise.lng, pid)
            for rec, pid in zip(plan.new, new_premise, strict=True)
            if pid is not None and pid not in self._own_premises and rec.premise.lat is not None
        ]
        for (rec, st), pid in zip(plan.changed, moved_premise, strict=True):
            status = rec.status
            suspended, closed = st.suspended_on, st.closed_on
            if status != st.status:
                if status == SUSPENDED:
                    suspended = rec.suspended_on or self.today
                elif status == CLOSED:
                    closed = rec.closed_on or self.today
                effective = self.today if status == ACTIVE else (suspended if status == SUSPENDED else closed)
                statuses.append((st.id, status, d(effective), now, self.reason))
            updates.append(
                (
                    rec.name,
                    rec.category_id,
                    status,
                    d(rec.opened_on or st.opened_on),
                    d(suspended),
                    d(closed),
                    rec.notes or st.notes,
                    pid,
                    now,
                    st.id,
                )
            )
            if rec.premise is not None and pid == st.premise_id and self._premise_changes(rec, st)[1]:
                premise_updates.append((*_premise_extra(rec.premise, st.premise_extra), pid))
            if rec.phones:
                primary = rec.phones[0]
                current = st.phones.get(primary)
                if current is None or not current[1]:
                    clear_primary.append((st.id,))
                    if current is not None:
                        set_primary.append((current[0],))
                for number in rec.phones:
                    if number not in st.phones:
                        phones.append((st.id, number, phone_kind(number), number == primary, ""))
            for m in rec.meters:
                old = st.meters.get(m.serial)
                if old is None:
                    meters.append((st.id, m.serial, m.kind, d(m.installed_on), d(m.battery_on), True))
                else:
                    meter_updates.append(
                        (m.kind, d(m.installed_on or old[2]), d(m.battery_on or old[3]), old[0])
                    )

        ct, pt, ph, mt = (m._meta.db_table for m in (Customer, Premise, Phone, Meter))
        self._execute_many(
            f'UPDATE "{ct}" SET name = %s, category_id = %s, status = %s, opened_on = %s, suspended_on = %s, '
            f"closed_on = %s, notes = %s, premise_id = %s, updated_at = %s, version = version + 1 WHERE id = %s",  # noqa: E501 (one message or data row, kept whole)
            updates,
        )
        self._execute_many(
            f'UPDATE "{pt}" SET district = %s, street = %s, supply_zone = %s, lat = %s, lng = %s WHERE id = %s',  # noqa: E501
            premise_updates,
        )
        self._execute_many(f'UPDATE "{pt}" SET lat = %s, lng = %s WHERE id = %s', coords)
        self._execute_many(
            f'UPDATE "{ph}" SET is_primary = %s WHERE customer_id = %s AND is_primary',
            [(False, c) for (c,) in clear_primary],
        )
        self._execute_many(
            f'UPDATE "{ph}" SET is_primary = %s WHERE id = %s', [(True, p) for (p,) in set_primary]
        )
        self._execute_many(
            f'UPDATE "{mt}" SET kind = %s, installed_on = %s, battery_replaced_on = %s WHERE id = %s',
            meter_updates,
        )
        self._insert(
            CustomerStatusChange, ("customer_id", "status", "effective_on", "recorded_at", "reason"), statuses
        )
        self._insert(Phone, ("customer_id", "number", "kind", "is_primary", "label"), phones)
        self._insert(
            Meter,
            ("customer_id", "serial", "kind", "installed_on", "battery_replaced_on", "is_active"),
            meters,
        )
        self._insert(
            CareRegistration,
            ("customer_id", "needs", "note", "consent_on", "consent_by", "registered_at"),
            care,
        )
