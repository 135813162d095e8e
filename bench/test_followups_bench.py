"""Smoke tests of the follow-up benchmarks at a tiny size (no timing assertions)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.django_db
def test_bench_followups_visits_smoke(capsys):
    from bench.followups_visits import main

    assert main(["--n", "50", "--chunk", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["work_orders"] == out["decisions"] == 50
    assert out["visits"] >= 30  # 100 % of the 30 field jobs, plus the sampled consultations
    assert out["clocks"] == out["visits"] - 30  # the C14 clock only on the sampled consultations


@pytest.mark.django_db
def test_bench_followups_kb_smoke(capsys):
    from bench.followups_kb import main

    assert main(["--n", "50", "--queries", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["articles"] == 50 and out["queries"] == 20
