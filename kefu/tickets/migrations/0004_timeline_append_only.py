"""Make the work-order timeline (`TicketEvent`, issue 3 §4) append-only in the database itself, as
the audit log is (kefu/accounts/migrations/0002, 0003): UPDATE and DELETE of a timeline row are
refused on SQLite and PostgreSQL, and TRUNCATE on PostgreSQL. `TicketEvent.save/delete` already
refuse in the ORM; this holds against `QuerySet.update()/delete()`, cascades and raw SQL.

Consequences (docs/tickets.md, "Timeline and attachments"):
- A work order that has events — every work order made by the services — cannot be deleted (the
  cascade to its events is refused), nor therefore its company (already PROTECTed by the work
  orders). Wrong work orders are cancelled (`invalid`), never deleted.
- The one exception is the test runner, which empties every table between transactional tests. It
  uses the SAME flag as the audit log — `kefu.accounts.audit.audit_purge_for_tests()`, around
  Django's flush in conftest.py — so there is one switch for all append-only tables: the
  connection-local SQL function `kefu_audit_purge()` on SQLite (registered by kefu.accounts on
  every connection), the session setting `kefu.audit_purge` on PostgreSQL. UPDATE is refused even
  then. No application interface sets the flag.
- On SQLite, a later migration that rebuilds `tickets_ticketevent` (most AlterField/RemoveField
  operations copy the table) drops these triggers with the old table: such a migration must run
  `install_sqlite` again. kefu/tickets/tests/test_timeline_append_only.py fails if they are missing.
"""
from django.db import migrations

TABLE = "tickets_ticketevent"

SQLITE = [
    f"""CREATE TRIGGER ticketevent_no_update BEFORE UPDATE ON {TABLE}
       BEGIN SELECT RAISE(ABORT, 'work-order timeline is append-only'); END;""",
    f"""CREATE TRIGGER ticketevent_no_delete BEFORE DELETE ON {TABLE}
       WHEN kefu_audit_purge() = 0
       BEGIN SELECT RAISE(ABORT, 'work-order timeline is append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS ticketevent_no_update;",
    "DROP TRIGGER IF EXISTS ticketevent_no_delete;",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION kefu_ticketevent_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP <> 'UPDATE' AND current_setting('kefu.audit_purge', true) = 'on' THEN
        IF TG_LEVEL = 'STATEMENT' THEN RETURN NULL; END IF;
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'work-order timeline is append-only';
    END; $$ LANGUAGE plpgsql;""",
    f"""CREATE TRIGGER ticketevent_guard BEFORE UPDATE OR DELETE ON {TABLE}
       FOR EACH ROW EXECUTE FUNCTION kefu_ticketevent_guard();""",
    # TRUNCATE bypasses row triggers: refuse it with a statement trigger.
    f"""CREATE TRIGGER ticketevent_no_truncate BEFORE TRUNCATE ON {TABLE}
       FOR EACH STATEMENT EXECUTE FUNCTION kefu_ticketevent_guard();""",
]
POSTGRES_REVERSE = [
    f"DROP TRIGGER IF EXISTS ticketevent_guard ON {TABLE};",
    f"DROP TRIGGER IF EXISTS ticketevent_no_truncate ON {TABLE};",
    "DROP FUNCTION IF EXISTS kefu_ticketevent_guard();",
]


def install_sqlite(schema_editor) -> None:
    """(Re-)create the SQLite triggers; for any later migration that rebuilds the table."""
    for sql in SQLITE_REVERSE + SQLITE:
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES:
            schema_editor.execute(sql)
    else:
        install_sqlite(schema_editor)


def backwards(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_content_search")]
    operations = [migrations.RunPython(forwards, backwards)]
