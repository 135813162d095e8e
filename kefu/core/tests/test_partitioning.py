"""scripts/partition-events.sql against a copy of the test database, where pg_partman is installed
(docs/operator-guide.md §7a). Skipped elsewhere, with the reason."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections


@pytest.mark.django_db(transaction=True)
def test_partition_script_makes_monthly_partitions_and_keeps_the_rows(company_x):
    if connection.vendor != "postgresql":
        pytest.skip("partitioning is a PostgreSQL feature; SQLite has none")
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_partman'")
        if cur.fetchone() is None:
            pytest.skip("pg_partman is not installed on this PostgreSQL (Debian: postgresql-15-partman)")
    if not shutil.which("psql"):
        pytest.skip("psql is not installed")
    from kefu.accounts.audit import Action, audit_record

    audit_record(action=Action.IMPORTED, company=company_x, object_type="x", object_repr="x", detail={})
    sd = connection.settings_dict
    name = f"{sd['NAME']}_partman"[:63]
    connections.close_all()
    base = ["psql", "-h", sd["HOST"] or "127.0.0.1", "-p", str(sd["PORT"] or 5432), "-U", sd["USER"]]
    run = lambda *a, db="postgres": subprocess.run(  # noqa: E731
        [*base, "-d", db, "-v", "ON_ERROR_STOP=1", *a], capture_output=True, text=True, check=False
    )
    run("-c", f'DROP DATABASE IF EXISTS "{name}"')
    run("-c", f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{sd['NAME']}'")
    assert run("-c", f'CREATE DATABASE "{name}" TEMPLATE "{sd["NAME"]}"').returncode == 0
    try:
        out = run("-f", str(Path(settings.BASE_DIR) / "scripts" / "partition-events.sql"), db=name)
        assert out.returncode == 0, out.stderr
        out = run("-Atc", "SELECT count(*) FROM partman.part_config", db=name)
        assert out.stdout.strip() == "4"
        out = run("-Atc", "SELECT count(*) FROM accounts_auditevent", db=name)
        assert int(out.stdout.strip()) >= 1
    finally:
        run("-c", f'DROP DATABASE IF EXISTS "{name}"')
