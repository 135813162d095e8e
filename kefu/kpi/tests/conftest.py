"""Personas of the indicator tests: a team lead of company X (Perm.REPORT_VIEW, no second factor in
the browser), the seed 004 commitments published for 2026."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture
def lead_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="team_lead", username="lead_x")


@pytest.fixture
def lead_y(company_y):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_y, role="team_lead", username="lead_y")


@pytest.fixture
def published(company_x):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    manager = UserFactory(company=company_x, role="manager", username="manager_x")
    row = commitment_set_from_preset(company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager)
    return commitment_set_publish(commitment_set=row, by=manager, at=L(2026, 1, 1))
