"""The kept coverage count (C5) and the triggers that keep it: household ledger rows per programme,
community, district, category and status. PostgreSQL: one statement-level trigger per operation over
the transition tables (a million-row INSERT … SELECT is one grouped upsert, not a million). SQLite:
row-level triggers with the same upsert. Either way every write to the ledger moves the count in
its own transaction; `insp_coverage_key` rows that fall to zero are removed."""

import django.db.models.deletion
from django.db import migrations, models

KEY = "programme_id, community, district, category, status"
COUNT = "inspections_coveragecount"
LEDGER = "inspections_ledgerentry"
HOUSEHOLD = "household"


def _pg_function(op: str) -> str:
    parts = []
    if op in ("INSERT", "UPDATE"):
        parts.append(f"SELECT {KEY}, 1 AS d FROM new_rows WHERE kind = '{HOUSEHOLD}'")
    if op in ("UPDATE", "DELETE"):
        parts.append(f"SELECT {KEY}, -1 AS d FROM old_rows WHERE kind = '{HOUSEHOLD}'")
    delta = " UNION ALL ".join(parts)
    # rows in key order: two transactions moving the same counts lock them in the same order
    body = (
        f"INSERT INTO {COUNT} ({KEY}, n) SELECT {KEY}, SUM(d) FROM ({delta}) x"
        f" GROUP BY {KEY} HAVING SUM(d) <> 0 ORDER BY {KEY}"
        f" ON CONFLICT ({KEY}) DO UPDATE SET n = {COUNT}.n + EXCLUDED.n;"
    )
    if op != "INSERT":
        body += (
            f" DELETE FROM {COUNT} c USING (SELECT DISTINCT {KEY} FROM old_rows) k"
            " WHERE c.n = 0 AND c.programme_id = k.programme_id AND c.community = k.community"
            " AND c.district = k.district AND c.category = k.category AND c.status = k.status;"
        )
    name = f"insp_coverage_{op.lower()}"
    tables = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}
    tables["DELETE"] = "OLD TABLE AS old_rows"
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$;"
        f" CREATE TRIGGER {name} AFTER {op} ON {LEDGER} REFERENCING {tables[op]}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
    )


def _same_key(row: str) -> str:
    return " AND ".join(f"{c} = {row}.{c}" for c in KEY.split(", "))


def _changed() -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in [*KEY.split(", "), "kind"])


def _sqlite_add(row: str) -> str:
    values = ", ".join(f"{row}.{c}" for c in KEY.split(", "))
    return f"INSERT INTO {COUNT} ({KEY}, n) VALUES ({values}, 1) ON CONFLICT ({KEY}) DO UPDATE SET n = n + 1;"


def _sqlite_remove(row: str) -> str:
    return (
        f"UPDATE {COUNT} SET n = n - 1 WHERE {_same_key(row)};"
        f" DELETE FROM {COUNT} WHERE {_same_key(row)} AND n = 0;"
    )


SQLITE = [
    f"CREATE TRIGGER insp_coverage_insert AFTER INSERT ON {LEDGER} WHEN NEW.kind = '{HOUSEHOLD}'"
    f" BEGIN {_sqlite_add('NEW')} END;",
    f"CREATE TRIGGER insp_coverage_delete AFTER DELETE ON {LEDGER} WHEN OLD.kind = '{HOUSEHOLD}'"
    f" BEGIN {_sqlite_remove('OLD')} END;",
    f"CREATE TRIGGER insp_coverage_update_old AFTER UPDATE ON {LEDGER}"
    f" WHEN OLD.kind = '{HOUSEHOLD}' AND ({_changed()}) BEGIN {_sqlite_remove('OLD')} END;",
    f"CREATE TRIGGER insp_coverage_update_new AFTER UPDATE ON {LEDGER}"
    f" WHEN NEW.kind = '{HOUSEHOLD}' AND ({_changed()}) BEGIN {_sqlite_add('NEW')} END;",
]
FILL = (
    f"INSERT INTO {COUNT} ({KEY}, n) SELECT {KEY}, COUNT(*) FROM {LEDGER}"
    f" WHERE kind = '{HOUSEHOLD}' GROUP BY {KEY}"
)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [_pg_function(op) for op in ("INSERT", "UPDATE", "DELETE")] if vendor == "postgresql" else SQLITE
    for sql in [*statements, FILL]:
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for op in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS insp_coverage_{op} ON {LEDGER}", params=None)
            schema_editor.execute(f"DROP FUNCTION IF EXISTS insp_coverage_{op}()", params=None)
    else:
        for name in ("insert", "delete", "update_old", "update_new"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS insp_coverage_{name}", params=None)


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="CoverageCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("community", models.CharField(max_length=60)),
                ("district", models.CharField(max_length=30)),
                ("category", models.CharField(max_length=32)),
                ("status", models.CharField(max_length=12)),
                ("n", models.IntegerField(default=0)),
                (
                    "programme",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="inspections.programme",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("programme", "community", "district", "category", "status"),
                        name="insp_coverage_key",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
