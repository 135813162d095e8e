"""Smoke tests of the workforce benchmarks at a tiny size (no timing assertions)."""

from __future__ import annotations

import json

import pytest


def test_roster_bench_smoke(capsys):
    from bench.workforce_roster import main

    assert main(["--people", "12", "--time-limit", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["feasible"] and out["people_breaking_law"] == 0 and out["understaffed_shifts"] == 0


@pytest.mark.django_db
def test_on_duty_bench_smoke(capsys):
    from bench.workforce_on_duty import main

    assert main(["--companies", "1", "--people", "6", "--months", "1", "--queries", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["on_duty"]["n"] == 20 and out["answered_with_people"] > 0
