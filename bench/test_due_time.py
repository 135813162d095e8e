"""Smoke test of bench.due_time (no timing assertions)."""

import json

from bench import due_time


def test_due_time_bench_runs(capsys):
    due_time.main(["--n", "500"])
    out = json.loads(capsys.readouterr().out)
    assert out["computations"] == 500 and out["per_second"] > 0
    assert out["mix"]["wall_clock"] + out["mix"]["working_days"] == 500


def test_due_time_bench_with_pauses(capsys):
    due_time.main(["--n", "200", "--pauses"])
    assert json.loads(capsys.readouterr().out)["pauses"] is True
