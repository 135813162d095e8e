"""Smoke test of the lookup benchmark at a tiny size (no timing assertions; HTTP skipped because the
test database is not visible to a separate server process)."""

from __future__ import annotations

import json

import pytest

from bench.lookup import main, percentile


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


@pytest.mark.django_db
def test_bench_lookup_smoke(capsys):
    assert main(["--customers", "200", "--queries", "10", "--no-http", "--explain"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["customers"] >= 200
    assert result["database"] in ("sqlite", "postgresql")
    for kind in ("phone", "account", "address", "address_no_community"):
        stats = result["in_process"][kind]
        assert stats["n"] == 10
        assert stats["p50_ms"] <= stats["p99_ms"]
        assert stats["cpu_p50_ms"] <= stats["cpu_p99_ms"]
    for kind in ("phone", "account", "address"):
        assert result["in_process"][kind]["found_rate"] == 1.0
    assert set(result["plans"]) == {"phone", "account", "address", "address_no_community"}
    assert all(result["plans"][k] for k in result["plans"])
