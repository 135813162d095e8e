"""The ledger's single-column foreign-key indexes go (company, programme, customer): the composite
indexes `insp_entry_done`/`insp_entry_due`, `insp_entry_once`/`insp_entry_coverage` and
`insp_entry_customer` start with those columns. Dropped by name rather than by AlterField, which on
SQLite rebuilds the table and would drop the coverage-count triggers of migration 0002."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "company": "inspections_ledgerentry_company_id_5b23d71c",
    "programme": "inspections_ledgerentry_programme_id_4104ed03",
    "customer": "inspections_ledgerentry_customer_id_68ca36a5",
}


def _field(name: str):
    to = {"company": "accounts.company", "programme": "inspections.programme", "customer": "customers.customer"}
    on_delete = django.db.models.deletion.CASCADE if name == "programme" else django.db.models.deletion.PROTECT
    related = "entries" if name == "programme" else "+"
    return models.ForeignKey(db_index=False, on_delete=on_delete, related_name=related, to=to[name])


class Migration(migrations.Migration):
    dependencies = [("inspections", "0002_coveragecount")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {index}",
                    f"CREATE INDEX {index} ON inspections_ledgerentry ({name}_id)",
                )
                for name, index in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(model_name="ledgerentry", name=name, field=_field(name)) for name in INDEXES
            ],
        )
    ]
