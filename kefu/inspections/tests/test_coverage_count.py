"""The kept coverage count (C5) equals the coverage counted row by row over the ledger, whatever
writes the ledger: generation, visits, hazards, the sync, bulk updates, deletes."""

from __future__ import annotations

import random
from datetime import date

import pytest

from kefu.inspections import rules
from kefu.inspections.models import CoverageCount, LedgerEntry, Programme
from kefu.inspections.selectors import GROUPS, coverage, coverage_counted
from kefu.inspections.services import (
    HazardInput,
    VisitInput,
    appliance_register,
    ledger_sync,
    programme_generate,
    visit_submit,
)
from kefu.inspections.states import EntryStatus

pytestmark = pytest.mark.django_db

ALL_PASS = {c["code"]: "pass" for c in rules.DEFAULT_CHECKLIST}


def _assert_kept_equals_counted(company_id: int, year: int = 2026) -> None:
    for by in GROUPS:
        kept = coverage(company_id=company_id, year=year, by=by, today=date(2026, 3, 3))
        counted = coverage_counted(company_id=company_id, year=year, by=by, today=date(2026, 3, 3))
        assert kept == counted, by


def test_kept_count_follows_services(batch, inspector, entry_of, planner_x, clerk_x, households):
    """C5: generation, a completed visit, a nobody-home visit, a hazard, an appliance row (not
    counted: household rows only), a customer closed and a category changed, then the sync."""
    from kefu.customers.services import customer_update

    company_id = planner_x.company_id
    _assert_kept_equals_counted(company_id)
    assert coverage(company_id=company_id, year=2026)[0].target > 0
    visit_submit(
        by=inspector.user,
        entry_id=entry_of("A001").pk,
        data=VisitInput(client_id="k1", outcome="done", checklist=ALL_PASS, signed_by="张"),
    )
    visit_submit(
        by=inspector.user,
        entry_id=entry_of("A002").pk,
        data=VisitInput(client_id="k2", outcome="nobody_home", door_notice=True),
    )
    visit_submit(
        by=inspector.user,
        entry_id=entry_of("A003").pk,
        data=VisitInput(
            client_id="k3",
            outcome="done",
            checklist=ALL_PASS,
            signed_by="李",
            hazards=[HazardInput(type_code="hose_aged")],
        ),
    )
    _assert_kept_equals_counted(company_id)
    appliance_register(by=planner_x, customer_id=households[1].pk, kind="热水器")
    c = households[3]
    customer_update(user=clerk_x, customer_id=c.pk, version=c.version, changes={"status": "closed"})
    a = type(c).objects.get(pk=households[4].pk)
    customer_update(user=clerk_x, customer_id=a.pk, version=a.version, changes={"category": "商业"})
    ledger_sync(company_id=company_id, year=2026, today=date(2026, 6, 1))
    _assert_kept_equals_counted(company_id)


def test_kept_count_follows_bulk_writes_and_deletes(programme, planner_x):
    """Bulk updates of any grouped column (seeded), inserts by a rerun, deletes: still equal; a
    deleted programme leaves no counts behind."""
    company_id = planner_x.company_id
    rnd = random.Random(5)
    ids = list(LedgerEntry.objects.filter(programme=programme).values_list("id", flat=True))
    statuses = list(EntryStatus.values)
    for _ in range(40):
        pick = rnd.sample(ids, rnd.randint(1, len(ids)))
        change = rnd.choice(
            [
                {"status": rnd.choice(statuses)},
                {"community": rnd.choice(["幸福小区", "和平小区", "新区", ""])},
                {"district": rnd.choice(["泰山区", "岱岳区"])},
                {"category": rnd.choice(["resident", "commercial"])},
                {"kind": rnd.choice(["household", "appliance"])},
                {"status": rnd.choice(statuses), "community": "新区"},
            ]
        )
        LedgerEntry.objects.filter(pk__in=pick).update(**change)
        _assert_kept_equals_counted(company_id)
    LedgerEntry.objects.filter(pk__in=rnd.sample(ids, 3)).delete()
    _assert_kept_equals_counted(company_id)
    programme_generate(by=planner_x, year=2026)  # puts back the deleted rows
    _assert_kept_equals_counted(company_id)
    assert not CoverageCount.objects.filter(n__lte=0).exists()
    LedgerEntry.objects.filter(programme=programme).delete()
    Programme.objects.filter(pk=programme.pk).delete()
    assert not CoverageCount.objects.exists()
