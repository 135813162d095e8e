"""Substring search on content and address (`LIKE '%…%'`) served by trigram GIN indexes on PostgreSQL.

pg_trgm splits Chinese text into trigrams as well (databases in a UTF-8 locale). On SQLite the same
query runs as a scan of the company's rows; the result is the same on both databases.
"""
from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cur.execute("CREATE INDEX IF NOT EXISTS ticket_content_trgm ON tickets_ticket USING gin (content gin_trgm_ops)")
        cur.execute("CREATE INDEX IF NOT EXISTS ticket_address_trgm ON tickets_ticket USING gin (address gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cur:
        cur.execute("DROP INDEX IF EXISTS ticket_content_trgm")
        cur.execute("DROP INDEX IF EXISTS ticket_address_trgm")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
