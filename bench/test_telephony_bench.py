"""Smoke tests of the telephony benchmarks at tiny sizes (no timing assertions)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.django_db
def test_bench_telephony_events_smoke(capsys):
    from bench.telephony_events import main

    assert main(["--calls", "30", "--batch", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["accepted"] == out["events"] and out["calls_stored"] == 31  # 30 + the warm-up call
    assert out["events_per_cpu_second"] > 0


@pytest.mark.django_db
def test_bench_telephony_reports_smoke(capsys):
    from bench.telephony_reports import main

    assert main(["--calls", "300", "--month-calls", "200", "--refreshes", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["calls_stored"] == 305 and out["k14_month_calls"] == 200 and out["wallboard_waiting"] == 5
