"""Smoke test of the inspections benchmark at a tiny size (no timing assertions; HTTP skipped
because the test database is not visible to a separate server process)."""

from __future__ import annotations

import json

import pytest

from bench.inspections import main


@pytest.mark.django_db
def test_bench_inspections_smoke(capsys):
    assert main(["--customers", "300", "--coverage-queries", "3", "--no-http"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["customers"] == 300
    # 270 residents ×1, 15 commercial ×3, 9 coal-to-gas ×2, 6 heating ×3
    assert out["ledger"]["rows"] == 270 + 45 + 18 + 18
    assert out["coverage_by_community"]["groups"] == 300
    assert out["coverage_by_community"]["latency"]["n"] == 3
