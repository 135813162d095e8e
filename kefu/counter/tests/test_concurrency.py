"""Two (and eight) clerks at once, on both databases: call-next gives every waiting number to exactly
one window, a window serves one customer at a time, and receipt numbers have no gap and no
duplicate (P11, P12). Threads start together at a barrier; each uses its own connection.

On SQLite the threads work on a file copy of the test database (WAL, busy timeout, BEGIN IMMEDIATE
as in production): the in-memory test database is shared-cache, where a second writer fails at once
with "database table is locked" instead of waiting — a property of the test database, not of
kefu's SQLite setup."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from django.db import connection, connections

from kefu.accounts.tests.factories import UserFactory
from kefu.core.errors import Conflict
from kefu.counter import services
from kefu.counter.models import Payment, QueueStatus, QueueTicket, Window

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def file_db(tmp_path):
    """Run the test's threads against a file copy of the database on SQLite (see above)."""
    swaps: list = []

    @contextmanager
    def use():
        if connection.vendor != "sqlite":
            yield
            return
        path = tmp_path / "parallel.sqlite3"
        connection.ensure_connection()
        dst = sqlite3.connect(path)
        connection.connection.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")  # as the product's database is, before any thread opens it
        dst.close()
        settings_dict = connections.settings["default"]
        swaps.append(settings_dict["NAME"])
        settings_dict["NAME"] = str(path)
        try:
            yield
        finally:
            settings_dict["NAME"] = swaps.pop()

    return use


def _query(fn):
    """Run a read in a thread of its own (it sees the database the threads wrote)."""
    return _parallel(1, lambda _i: fn())[0]


def _parallel(n: int, fn) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            connection.ensure_connection()  # open (and set up) each thread's connection before the race
            barrier.wait(timeout=60)
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - asserted by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _clerks(company, n: int) -> list:
    return [UserFactory(company=company, role="clerk", username=f"par_clerk{i}") for i in range(n)]


def test_two_clerks_at_two_windows_never_call_the_same_number(
    file_db, company_x, clerk_x, hall_x, types_x, windows_x
):
    """The issue's test: call-next under two clerks at once."""
    clerks = _clerks(company_x, 2)
    ws = [windows_x[1], windows_x[2]]  # both serve A
    for c, w in zip(clerks, ws, strict=True):
        services.window_sign_in(by=c, window_id=w.pk)
    taken = [
        services.queue_take(by=clerk_x, hall_id=hall_x.pk, business_type_id=types_x["A"].pk)
        for _ in range(12)
    ]

    def serve_all(i: int) -> list[str]:
        got = []
        while (t := services.queue_call_next(by=clerks[i], window_id=ws[i].pk)) is not None:
            got.append(t.number)
            services.queue_no_show(by=clerks[i], ticket_id=t.pk)
        return got

    with file_db():
        results = _parallel(2, serve_all)
        waiting = _query(lambda: QueueTicket.objects.filter(status=QueueStatus.WAITING).count())
    assert not [r for r in results if isinstance(r, Exception)], results
    called = results[0] + results[1]
    assert sorted(called) == sorted(t.number for t in taken)  # each exactly once
    for r in results:  # each window called in queue order (FIFO)
        assert r == sorted(r)
    assert waiting == 0


def test_eight_windows_call_at_once_and_each_gets_a_different_number(
    file_db, company_x, clerk_x, hall_x, types_x
):
    clerks = _clerks(company_x, 8)
    windows = []
    for n in range(10, 18):
        w = Window.objects.create(hall=hall_x, number=n)
        w.business_types.set([types_x["B"]])
        windows.append(w)
    for c, w in zip(clerks, windows, strict=True):
        services.window_sign_in(by=c, window_id=w.pk)
    taken = [
        services.queue_take(by=clerk_x, hall_id=hall_x.pk, business_type_id=types_x["B"].pk) for _ in range(5)
    ]
    with file_db():
        results = _parallel(8, lambda i: services.queue_call_next(by=clerks[i], window_id=windows[i].pk))
    assert not [r for r in results if isinstance(r, Exception)], results
    called = [r.number for r in results if r is not None]
    assert sorted(called) == [t.number for t in taken]  # the 5 oldest, once each; 3 windows got nobody
    assert sum(r is None for r in results) == 3


def test_one_window_called_twice_at_once_calls_one_customer(
    file_db, company_x, clerk_x, hall_x, types_x, windows_x
):
    """A double click, or the clerk's second tab: two calls of one window at the same moment."""
    clerks = _clerks(company_x, 1) * 2
    w = windows_x[1]
    services.window_sign_in(by=clerks[0], window_id=w.pk)
    for _ in range(3):
        services.queue_take(by=clerk_x, hall_id=hall_x.pk, business_type_id=types_x["A"].pk)
    with file_db():
        results = _parallel(2, lambda i: services.queue_call_next(by=clerks[i], window_id=w.pk))
        called = _query(lambda: QueueTicket.objects.filter(window=w, status=QueueStatus.CALLED).count())
    assert sum(isinstance(r, QueueTicket) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert called == 1


def test_numbers_taken_at_once_are_gapless(file_db, company_x, hall_x, types_x):
    clerks = _clerks(company_x, 8)
    with file_db():
        results = _parallel(
            8,
            lambda i: [
                services.queue_take(by=clerks[i], hall_id=hall_x.pk, business_type_id=types_x["A"].pk).number
                for _ in range(5)
            ],
        )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(n for r in results for n in r) == [f"A{i:03d}" for i in range(1, 41)]


def test_receipts_under_eight_clerks_have_no_gap_and_no_duplicate(file_db, company_x, hall_x):
    """The issue's test: receipt numbers gapless under concurrency, a refused payment in between
    (tendered too little) takes no number."""
    clerks = _clerks(company_x, 8)

    def pay(i: int) -> list[str]:
        out = []
        for k in range(6):
            if k == 3:
                try:
                    services.payment_take(by=clerks[i], hall_id=hall_x.pk, lines=[("ALARM", 1)], tendered="1")
                except Exception:  # noqa: BLE001 - refused on purpose
                    pass
            p = services.payment_take(by=clerks[i], hall_id=hall_x.pk, lines=[("IC-CARD", 1)], tendered="20")
            out.append(p.receipt_no)
        return out

    with file_db():
        results = _parallel(8, pay)
        stored = _query(lambda: sorted(Payment.objects.values_list("receipt_no", flat=True)))
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(n for r in results for n in r)
    year = numbers[0][2:6]
    assert numbers == stored == [f"SJ{year}-{i:06d}" for i in range(1, 49)]
