"""Smoke test of the import benchmark at a tiny size (no timing assertions)."""

from __future__ import annotations

import pytest

from bench.import_customers import main


@pytest.mark.django_db
def test_bench_import_smoke(capsys):
    result = main(["--rows", "300"])
    assert result["ok"] and result["rows"] == 300 and result["created"] == 300
    assert result["database"] in ("sqlite", "postgresql")
    assert '"rows_per_second"' in capsys.readouterr().out
