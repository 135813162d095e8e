"""Smoke test of the field benchmarks at a tiny size (no timing assertions; the HTTP events
benchmark is not run here because the test database is not visible to a separate gunicorn)."""

from __future__ import annotations

import json

import pytest

from bench.field_board import main as board_main


@pytest.mark.django_db
def test_field_board_bench_smoke(capsys):
    assert board_main(["--jobs", "60", "--crews", "12", "--refreshes", "4", "--rankings", "10"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["open_jobs"] == 60 and out["crews"] == 12
    assert out["board_refresh"]["n"] == 4 and out["ranking"]["n"] == 10
    assert "分钟" in out["ranking_example"] or "位置" in out["ranking_example"]
