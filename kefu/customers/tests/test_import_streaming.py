"""The streaming import at size (operator guide §7a): all-or-nothing over 50,000 lines, idempotent over
several batches, and memory bounded whatever the file's length."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from bench.import_customers import generate_csv
from kefu.customers.defaults import company_seed_defaults
from kefu.customers.importing import import_customers
from kefu.customers.models import Customer, CustomerStatusChange, Meter, Phone, Premise


def _counts(company) -> tuple[int, ...]:
    return (
        Customer.objects.filter(company=company).count(),
        Premise.objects.filter(company=company).count(),
        Phone.objects.filter(customer__company=company).count(),
        Meter.objects.filter(customer__company=company).count(),
        CustomerStatusChange.objects.filter(customer__company=company).count(),
    )


def test_a_50000_line_file_whose_last_line_is_bad_writes_nothing(company_x, tmp_path):
    path = tmp_path / "c.csv"
    generate_csv(path, 50_000)
    with path.open("a", encoding="utf-8") as fh:  # the 50,001st data line: no name, unknown category
        fh.write("3899999999,,民营,,,,,,,,,某地址,,,,,,,\r\n")
    report = import_customers(company=company_x, path=path)
    assert not report.ok and report.rows == 50_001
    assert {(e.line, e.column) for e in report.errors} == {(50_002, "户名"), (50_002, "客户类别")}
    assert _counts(company_x) == (0, 0, 0, 0, 0)
    dry = import_customers(company=company_x, path=path, dry_run=True)  # the dry run reports it too
    assert [e.line for e in dry.errors] == [50_002, 50_002]


def test_every_repeated_account_number_is_reported_with_the_first_line(company_x, tmp_path):
    path = tmp_path / "c.csv"
    generate_csv(path, 12_000)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.append(lines[1].replace(lines[1].split(",")[14], "X1"))  # line 12002 repeats line 2
    lines.append(lines[5999].replace(lines[5999].split(",")[14], "X2"))  # line 12003 repeats 6000
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    report = import_customers(company=company_x, path=path, dry_run=True)
    assert report.error_count == 2
    assert [(e.line, e.reason) for e in report.errors] == [
        (12_002, f"户号“{lines[1].split(',')[0]}”重复：第 2 行和第 12002 行。"),
        (12_003, f"户号“{lines[5999].split(',')[0]}”重复：第 6000 行和第 12003 行。"),
    ]


def test_the_same_import_twice_changes_nothing_the_second_time(company_x, tmp_path):
    path = tmp_path / "c.csv"
    generate_csv(path, 5_000)
    first = import_customers(company=company_x, path=path, batch_size=1_500)
    assert first.ok and first.created == 5_000
    before = _counts(company_x)
    rows = list(
        Customer.objects.filter(company=company_x)
        .order_by("account_no")
        .values_list("account_no", "name", "status", "premise_id", "version", "updated_at")
    )
    second = import_customers(company=company_x, path=path, batch_size=1_500)
    assert second.ok and (second.created, second.updated, second.unchanged) == (0, 0, 5_000)
    assert _counts(company_x) == before
    assert (
        list(
            Customer.objects.filter(company=company_x)
            .order_by("account_no")
            .values_list("account_no", "name", "status", "premise_id", "version", "updated_at")
        )
        == rows
    )


_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import django
    django.setup()
    from kefu.accounts.models import Company
    from kefu.customers.importing import import_customers
    company = Company.objects.get(code=sys.argv[2])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = import_customers(company=company, path=sys.argv[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"ok": report.ok, "created": report.created, "problem": report.problem,
                      "base_mb": base / 1024, "peak_mb": peak / 1024}))
    """
)

#: How much the importing process's peak RSS may grow over its size before the import (Django and
#: the apps loaded) for 200,000 lines. The import that kept the file in memory grew by ~2 GB per
#: million lines (~400 MB here); streaming holds one batch plus SQLite's 64 MB page cache.
MEMORY_BOUND_MB = 150


@pytest.mark.timeout(900)  # 200,000 lines on a busy machine; no timing is asserted
@pytest.mark.django_db(transaction=True)
def test_memory_of_a_200000_line_import_stays_within_a_low_bound(company_x, tmp_path):
    company_seed_defaults(company_x)
    path = tmp_path / "c.csv"
    generate_csv(path, 200_000)
    env = {k: v for k, v in os.environ.items() if k != "KEFU_DATABASE_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "kefu.settings"
    if connection.vendor == "postgresql":
        sd = connection.settings_dict
        env["KEFU_DATABASE_URL"] = (
            f"postgres://{sd['USER']}@{sd['HOST'] or '127.0.0.1'}:{sd['PORT'] or 5432}/{sd['NAME']}"
        )
    else:
        db = tmp_path / "import.sqlite3"
        connection.ensure_connection()
        dst = sqlite3.connect(db)
        connection.connection.backup(dst)  # the in-memory test database, copied for the child
        dst.close()
        env["KEFU_DATABASE_URL"] = f"sqlite:///{db}"
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), company_x.code],
        env=env,
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["created"] == 200_000, result
    assert result["peak_mb"] - result["base_mb"] < MEMORY_BOUND_MB, result
