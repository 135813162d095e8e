"""Smoke test of the indicator benchmark at a tiny size (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from bench.kpi_month import main


@pytest.mark.django_db
def test_bench_kpi_month_smoke(capsys):
    assert main(["--customers", "300", "--clocks", "200"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["same_counts_as_hand_sql"] and out["active_customers"] == 300
    assert out["report_pdf_bytes"] > 1000
