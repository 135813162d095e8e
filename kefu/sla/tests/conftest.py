"""Fixtures of the sla tests: managers of companies X and Y (a manager holds Perm.MASTER_DATA;
the admin role needs MFA in the browser)."""

from __future__ import annotations

import pytest


@pytest.fixture
def manager_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="manager", username="manager_x")


@pytest.fixture
def manager_y(company_y):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_y, role="manager", username="manager_y")


@pytest.fixture
def laizhou_set(company_x, manager_x):
    from kefu.sla.tests.factories import CommitmentSetFactory

    return CommitmentSetFactory(company=company_x, by=manager_x, year=2026, preset="laizhou-crgas-2024")
