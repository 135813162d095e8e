"""Tighten the append-only guard of migration 0002 (S2, 等保 level 3).

- An audit row may be deleted only when an AuditArchive row covers it: id ≤ through_id AND its time
  is before the archive's `before` (0002 allowed any id ≤ through_id, so a row written with an old id
  but a recent time could have gone without being in the archive file).
- AuditArchive rows themselves can be neither updated nor deleted, so nobody widens an archive
  after the fact to delete more.
The test-runner purge flag of 0002 keeps working.
"""
from django.db import migrations

SQLITE = [
    "DROP TRIGGER IF EXISTS audit_no_delete;",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON accounts_auditevent
       WHEN kefu_audit_purge() = 0
        AND NOT EXISTS (SELECT 1 FROM accounts_auditarchive a WHERE OLD.id <= a.through_id AND OLD."at" < a."before")
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
    """CREATE TRIGGER audit_archive_no_update BEFORE UPDATE ON accounts_auditarchive
       BEGIN SELECT RAISE(ABORT, 'audit archive records are append-only'); END;""",
    """CREATE TRIGGER audit_archive_no_delete BEFORE DELETE ON accounts_auditarchive
       WHEN kefu_audit_purge() = 0
       BEGIN SELECT RAISE(ABORT, 'audit archive records are append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_archive_no_update;",
    "DROP TRIGGER IF EXISTS audit_archive_no_delete;",
    "DROP TRIGGER IF EXISTS audit_no_delete;",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON accounts_auditevent
       WHEN kefu_audit_purge() = 0
        AND OLD.id > COALESCE((SELECT MAX(through_id) FROM accounts_auditarchive), 0)
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION kefu_audit_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit log is append-only';
      END IF;
      IF current_setting('kefu.audit_purge', true) = 'on' THEN
        RETURN OLD;
      END IF;
      IF NOT EXISTS (SELECT 1 FROM accounts_auditarchive a WHERE OLD.id <= a.through_id AND OLD."at" < a."before") THEN
        RAISE EXCEPTION 'audit log is append-only';
      END IF;
      RETURN OLD;
    END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE FUNCTION kefu_audit_archive_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP <> 'UPDATE' AND current_setting('kefu.audit_purge', true) = 'on' THEN
        IF TG_LEVEL = 'STATEMENT' THEN RETURN NULL; END IF;
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit archive records are append-only';
    END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER audit_archive_guard BEFORE UPDATE OR DELETE ON accounts_auditarchive
       FOR EACH ROW EXECUTE FUNCTION kefu_audit_archive_guard();""",
    """CREATE TRIGGER audit_archive_no_truncate BEFORE TRUNCATE ON accounts_auditarchive
       FOR EACH STATEMENT EXECUTE FUNCTION kefu_audit_archive_guard();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_archive_guard ON accounts_auditarchive;",
    "DROP TRIGGER IF EXISTS audit_archive_no_truncate ON accounts_auditarchive;",
    "DROP FUNCTION IF EXISTS kefu_audit_archive_guard();",
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
    dependencies = [("accounts", "0002_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
