"""PostgreSQL: a finer sample of content and address for the planner (statistics target 1000).

The planner estimates `LIKE '%term%'` by trying the term on the column's histogram. With the
default 100 entries any term rarer than ~1 % looks "rare" (estimated at 0.01 %), so a term that
matches 1 % of 10 million work orders was read through the trigram index and sorted (100,000
rows, 1–6 s) instead of found by walking the newest work orders (20 × 100 rows). 1000 entries
tell 0.1 % apart; planning a LIKE stays well under a millisecond. SQLite: nothing to do (its FTS
path is chosen by kefu.tickets.selectors.text_contains).
"""
from django.db import migrations

COLUMNS = ("content", "address")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE tickets_ticket ALTER COLUMN {column} SET STATISTICS 1000")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER TABLE tickets_ticket ALTER COLUMN {column} SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_owner_open_index")]
    operations = [migrations.RunPython(forwards, backwards)]
