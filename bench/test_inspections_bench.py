"""Smoke test of the inspections benchmark at a tiny size (no timing assertions; HTTP skipped
because the test database is not visible to a separate server process)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bench.inspections import main


@pytest.mark.django_db
def test_bench_inspections_smoke(capsys):
    assert main(["--customers", "300", "--coverage-queries", "3", "--no-http"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["customers"] == 300
    # 270 residents ×1, 15 commercial ×3, 9 coal-to-gas ×2, 6 heating ×3
    assert out["ledger"]["rows"] == 270 + 45 + 18 + 18
    assert out["coverage_by_community"]["groups"] == 300
    assert out["coverage_by_community"]["latency"]["n"] == 3


@pytest.mark.django_db
def test_bench_inspections_plans_every_visit(capsys):
    """Each client's visits come from as many communities as it takes (at 300 customers a
    community holds one household), none shared; too few households left is an error, not a
    shorter run."""
    from bench.inspections import _plan, ensure_company
    from kefu.accounts.models import User
    from kefu.field.models import Technician
    from kefu.inspections.models import Batch

    assert main(["--customers", "300", "--coverage-queries", "1", "--no-http"]) == 0
    capsys.readouterr()
    company, lead = ensure_company()
    today = date(2026, 12, 1)  # the bench's year, whatever today is
    techs = []
    for c in range(2):
        u = User.objects.create(company=company, username=f"bench-insp-t{c}", role="technician")
        techs.append(Technician.objects.create(company=company, user=u, skills=["inspection"]))
    taken: set[str] = set()
    plans = [_plan(lead, t, 7, today=today, taken=taken) for t in techs]
    assert [len(p) for p in plans] == [7, 7] and not set(plans[0]) & set(plans[1])
    assert Batch.objects.filter(inspector=techs[1]).count() >= 7
    with pytest.raises(RuntimeError, match="planned visits"):
        _plan(lead, techs[0], 10_000, today=today, taken=taken)
