"""Make the audit log append-only in the database itself (S2, 等保 level 3): UPDATE is always
refused, DELETE only for rows the archive command has written to a file first (id ≤ a recorded
AuditArchive.through_id). The ORM refuses too (AuditEvent.save/delete); this holds against raw SQL.

One deliberate exception: the test suite must empty the database between transactional tests.
It does so inside `kefu.accounts.audit.audit_purge_for_tests()`, which sets a flag the triggers
read (a connection-local SQL function on SQLite, a session setting on PostgreSQL). No application
interface sets it."""
from django.db import migrations

SQLITE = [
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON accounts_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON accounts_auditevent
       WHEN kefu_audit_purge() = 0
        AND OLD.id > COALESCE((SELECT MAX(through_id) FROM accounts_auditarchive), 0)
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS audit_no_update;", "DROP TRIGGER IF EXISTS audit_no_delete;"]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION kefu_audit_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit log is append-only';
      END IF;
      IF current_setting('kefu.audit_purge', true) = 'on' THEN
        RETURN OLD;
      END IF;
      IF OLD.id > COALESCE((SELECT MAX(through_id) FROM accounts_auditarchive), 0) THEN
        RAISE EXCEPTION 'audit log is append-only';
      END IF;
      RETURN OLD;
    END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER audit_guard BEFORE UPDATE OR DELETE ON accounts_auditevent
       FOR EACH ROW EXECUTE FUNCTION kefu_audit_guard();""",
    # TRUNCATE bypasses row triggers: refuse it with a statement trigger.
    """CREATE OR REPLACE FUNCTION kefu_audit_no_truncate() RETURNS trigger AS $$
    BEGIN
      IF current_setting('kefu.audit_purge', true) = 'on' THEN
        RETURN NULL;
      END IF;
      RAISE EXCEPTION 'audit log is append-only';
    END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON accounts_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION kefu_audit_no_truncate();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_guard ON accounts_auditevent;",
    "DROP TRIGGER IF EXISTS audit_no_truncate ON accounts_auditevent;",
    "DROP FUNCTION IF EXISTS kefu_audit_guard();",
    "DROP FUNCTION IF EXISTS kefu_audit_no_truncate();",
]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
