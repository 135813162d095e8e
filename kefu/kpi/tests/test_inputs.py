"""The clock-counted indicators (K2, K3, K6–K11) count their outcomes in the database
(`inputs.outcome_in_database`); the rule itself is `inputs.deadline_from` + `formulas.deadline_outcome`.
Here both are applied to the same clocks — every state, due times before, at and after the moment
the figure is taken — and must give the same figure and the same records in the same order."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from kefu.kpi import formulas as f
from kefu.kpi.inputs import deadline_of, outcome_in_database, source_figure
from kefu.kpi.tests.conftest import MARCH, L
from kefu.sla.models import Clock
from kefu.sla.states import ClockState

pytestmark = pytest.mark.django_db

AS_OF = L(2026, 3, 20, 12)


@pytest.fixture
def clocks(published, company_x):
    """Every clock state × a due time an hour before, exactly at, and an hour after AS_OF (and none)."""
    c8 = published.commitments.get(spec_id="C8", clock_kind="on_site")
    dues = [AS_OF - timedelta(hours=1), AS_OF, AS_OF + timedelta(hours=1), None]
    made = []
    for i, (state, due) in enumerate(itertools.product(ClockState.values, dues)):
        started = L(2026, 3, 1) + timedelta(hours=i)
        made.append(
            Clock(
                company=company_x,
                subject_type="tickets.ticket",
                subject_id=str(90_000 + i),
                commitment=c8,
                commitment_version=published.version,
                clock_kind=c8.clock_kind,
                limit_value=c8.limit_value,
                limit_unit=c8.limit_unit,
                started_at=started,
                due_at=due,
                state=state,
                met_at=started + timedelta(minutes=30) if state in ("met", "met_after_breach") else None,
            )
        )
    return Clock.objects.bulk_create(made)


def test_counted_in_the_database_equals_the_rule_applied_row_by_row(clocks, company_x):
    in_python = f.within_limit(
        "K6", [deadline_of(c) for c in sorted(clocks, key=lambda c: (c.started_at, c.pk))], as_of=AS_OF
    )
    in_database = source_figure(company_x.pk, "K6", MARCH, as_of=AS_OF)
    assert f.record_counts(in_database) == f.record_counts(in_python)  # before any reference is read
    assert (in_database.numerator, in_database.denominator, in_database.value) == (
        in_python.numerator,
        in_python.denominator,
        in_python.value,
    )
    assert dict(in_database.records) == dict(in_python.records)
    assert all(f.record_counts(in_python).values())  # the data reaches every outcome


def test_each_state_classified_as_the_rule_says(clocks):
    """The SQL expression alone, clock by clock."""
    by_pk = dict(Clock.objects.annotate(o=outcome_in_database(AS_OF)).values_list("pk", "o"))
    for clock in clocks:
        assert by_pk[clock.pk] == f.deadline_outcome(deadline_of(clock), as_of=AS_OF), clock.state
