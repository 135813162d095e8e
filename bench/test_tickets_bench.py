"""Smoke tests of the work-order benchmarks at a tiny size (no timing assertions; the HTTP create
benchmark is not run here because the test database is not visible to a separate gunicorn)."""

from __future__ import annotations

import json

import pytest

from bench.tickets_data import ensure_company, fill, percentile, stored
from bench.tickets_search import main as search_main


@pytest.mark.django_db
def test_fill_makes_unique_numbers():
    from kefu.tickets.models import Ticket

    company, agents, _ = ensure_company()
    fill(company, agents, 3000, batch=1000)
    assert stored(company) == 3000
    numbers = Ticket.objects.filter(company=company).values_list("number", flat=True)
    assert len(set(numbers)) == 3000
    fill(company, agents, 3500, batch=1000)  # resumes
    assert stored(company) == 3500


def test_percentile():
    assert percentile([float(v) for v in range(1, 101)], 99) == 99.0


@pytest.mark.django_db
def test_search_bench_smoke(capsys):
    assert search_main(["--stored", "2000", "--queries", "24", "--no-migrate", "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stored"] == 2000
    for kind in ("phone", "number", "content", "content_rare", "address", "owner_open"):
        assert out["by_kind"][kind]["n"] == 4
    assert out["by_kind"]["number"]["found_rate"] == 1.0
    assert out["by_kind"]["phone"]["found_rate"] == 1.0
    assert out["by_kind"]["content_rare"]["found_rate"] == 1.0


def test_create_bench_help(capsys):
    from bench.tickets_create import main

    with pytest.raises(SystemExit):
        main(["--help"])
    assert "requests" in capsys.readouterr().out
