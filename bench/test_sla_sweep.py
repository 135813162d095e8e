"""Smoke test of the clock-sweep benchmark at a tiny size (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from bench.sla_sweep import main


@pytest.mark.django_db
def test_bench_sla_sweep_smoke(capsys):
    argv = ["--sizes", "400,800", "--due-fraction", "0.05", "--batch-size", "7"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["database"] in ("sqlite", "postgresql")
    assert [r["clocks"] for r in out["runs"]] == [400, 800]
    for run in out["runs"]:
        assert run["breached"] == run["due"] // 2 and run["warned"] == run["due"] - run["due"] // 2
        # a breach tells the supervisor; a warning the owner and the lead of the owner's team
        assert run["notifications"] == run["breached"] + 2 * run["warned"]
        assert run["traced_run_same_counts"]
        assert run["peak_mib"] > 0
