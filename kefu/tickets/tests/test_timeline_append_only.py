"""The work-order timeline is append-only in the database itself (issue 3 §4; migration 0004): UPDATE
and DELETE of a TicketEvent row are refused on SQLite and PostgreSQL — through the ORM's bulk
methods, a cascade from the work order, and raw SQL — and TRUNCATE on PostgreSQL. Only the test
runner's flush (conftest.py, `audit_purge_for_tests`) may empty the table."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from kefu.accounts.audit import audit_purge_for_tests
from kefu.tickets import services
from kefu.tickets.models import Ticket, TicketEvent


def _table() -> str:
    return connection.ops.quote_name(TicketEvent._meta.db_table)


def _refused(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, list(params))


@pytest.mark.django_db
def test_raw_sql_cannot_change_or_delete(agent_x, make_ticket):
    t = make_ticket()
    services.ticket_comment(ticket_id=t.pk, by=agent_x, text="已电话联系客户")
    ev = t.events.get(kind="comment")
    for sql, params in [
        (f"UPDATE {_table()} SET payload = %s WHERE id = %s", ['{"text": "改过的"}', ev.pk]),
        (f"UPDATE {_table()} SET kind = %s", ["comment"]),
        (f"UPDATE {_table()} SET at = at WHERE id = %s", [ev.pk]),  # even a no-op update
        (f"DELETE FROM {_table()} WHERE id = %s", [ev.pk]),
        (f"DELETE FROM {_table()}", []),
    ]:
        _refused(sql, params)
    ev.refresh_from_db()
    assert ev.payload == {"text": "已电话联系客户"}
    assert t.events.count() == 2


@pytest.mark.django_db
def test_orm_bulk_update_delete_and_cascade_are_refused(agent_x, make_ticket):
    t = make_ticket()
    with pytest.raises(DatabaseError), transaction.atomic():
        TicketEvent.objects.filter(ticket=t).update(payload={})
    with pytest.raises(DatabaseError), transaction.atomic():
        TicketEvent.objects.filter(ticket=t).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Ticket.objects.filter(pk=t.pk).delete()  # the cascade to the timeline is refused
    assert Ticket.objects.filter(pk=t.pk).exists() and t.events.filter(kind="created").exists()
    with pytest.raises(PermissionError):  # the ORM's own guard (models.TicketEvent) still speaks first
        t.events.first().delete()


@pytest.mark.django_db
def test_appending_still_works(agent_x, make_ticket):
    t = make_ticket()
    services.ticket_comment(ticket_id=t.pk, by=agent_x, text="一")
    services.ticket_reply(ticket_id=t.pk, by=agent_x, text="二")
    assert list(t.events.values_list("kind", flat=True)) == ["created", "comment", "reply"]


@pytest.mark.django_db
def test_truncate_is_refused_on_postgres(make_ticket, is_postgres):
    if not is_postgres:
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    make_ticket()
    _refused(f"TRUNCATE {_table()} CASCADE")
    assert TicketEvent.objects.exists()


@pytest.mark.django_db
def test_the_test_runner_purge_allows_delete_but_never_update(make_ticket):
    """The one switch of conftest.py (shared with the audit log) lets DELETE through, not UPDATE."""
    t = make_ticket()
    with audit_purge_for_tests():
        _refused(f"UPDATE {_table()} SET payload = %s", ["{}"])
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"DELETE FROM {_table()} WHERE ticket_id = %s", [t.pk])
    assert not TicketEvent.objects.filter(ticket=t).exists()
    # outside the switch the guard is back
    services.ticket_comment(ticket_id=t.pk, by=t.owner, text="三")
    _refused(f"DELETE FROM {_table()}")


@pytest.mark.django_db(transaction=True)
def test_flush_needs_the_purge_switch(agent_x, make_ticket):
    """Django's flush (what TransactionTestCase runs after each test) fails on the timeline unless it
    runs inside `audit_purge_for_tests()` — which conftest.py does; this test's own teardown is the
    second half of the proof."""
    t = make_ticket()
    services.ticket_comment(ticket_id=t.pk, by=agent_x, text="备注")
    with pytest.raises((CommandError, DatabaseError)):
        call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    assert TicketEvent.objects.filter(ticket_id=t.pk).count() == 2
    with audit_purge_for_tests():
        call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    assert not TicketEvent.objects.exists() and not Ticket.objects.exists()
