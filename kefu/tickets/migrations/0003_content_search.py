"""Substring search on content and address on SQLite: an FTS5 index with the trigram tokenizer.

PostgreSQL already serves `LIKE '%…%'` from the pg_trgm GIN indexes of 0002. On SQLite the same
search was a scan of the company's rows (seconds at a million work orders). This migration adds
`tickets_ticket_fts`, an *external-content* FTS5 table over tickets_ticket(content, address): it
stores only the index (the text stays in tickets_ticket) and is kept in step by three triggers
(insert, delete, update of content/address — a change of state does not touch it).

`case_sensitive 1`: PostgreSQL's LIKE is case-sensitive, so the index must be too (the trigram
tokenizer folds ASCII case by default). `columnsize=0`: no ranking, so no per-row sizes to store.
A quoted FTS5 phrase of three or more characters then matches exactly the rows whose column
contains the term as a substring — the same rows as PostgreSQL's LIKE (kefu.tickets.selectors,
`_text_match`, tested against LIKE in tests/test_search_fts.py).

Later migrations: Django's SQLite schema editor rebuilds a table for most AlterField/RemoveField
operations, which drops its triggers. A migration that rebuilds tickets_ticket must call
`install_sqlite(schema_editor)` from here again (it re-creates the triggers and rebuilds the
index); tests/test_search_fts.py fails if the triggers are missing.
"""
from django.db import migrations

TABLE = "tickets_ticket"
FTS = "tickets_ticket_fts"

SQLITE = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(
        content, address,
        content='{TABLE}', content_rowid='id',
        tokenize='trigram case_sensitive 1', columnsize=0
    )""",
    f"""CREATE TRIGGER {FTS}_ai AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO {FTS}(rowid, content, address) VALUES (new.id, new.content, new.address);
    END""",
    f"""CREATE TRIGGER {FTS}_ad AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, content, address) VALUES ('delete', old.id, old.content, old.address);
    END""",
    f"""CREATE TRIGGER {FTS}_au AFTER UPDATE OF content, address ON {TABLE} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, content, address) VALUES ('delete', old.id, old.content, old.address);
        INSERT INTO {FTS}(rowid, content, address) VALUES (new.id, new.content, new.address);
    END""",
    # Index what is already stored.
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_TRIGGERS_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS}_ai",
    f"DROP TRIGGER IF EXISTS {FTS}_ad",
    f"DROP TRIGGER IF EXISTS {FTS}_au",
]
SQLITE_REVERSE = [*SQLITE_TRIGGERS_DROP, f"DROP TABLE IF EXISTS {FTS}"]


def install_sqlite(schema_editor) -> None:
    """(Re-)create the FTS table and its triggers and rebuild the index from tickets_ticket."""
    for sql in SQLITE_TRIGGERS_DROP + SQLITE:
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        install_sqlite(schema_editor)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_REVERSE:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_trigram_search")]
    operations = [migrations.RunPython(forwards, backwards)]
