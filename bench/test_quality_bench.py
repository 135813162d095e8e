"""Smoke tests of the quality benchmarks at tiny sizes (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from bench import quality_matching, quality_worker


def test_matching_bench_smoke(capsys):
    assert quality_matching.main(["--transcripts", "30"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["transcripts"] == 30 and out["per_second"] > 0


@pytest.mark.django_db
def test_worker_bench_smoke(capsys):
    assert quality_worker.main(["--transcripts", "40", "--batch", "7"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["checked"] == 40 and out["not_checked"] == 0 and out["findings"] > 0
