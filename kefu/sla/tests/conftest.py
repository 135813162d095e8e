"""Fixtures of the sla tests: an administrator and a manager of company X (Perm.MASTER_DATA)."""
from __future__ import annotations

import pytest


@pytest.fixture
def admin_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="admin", username="admin_x")


@pytest.fixture
def admin_y(company_y):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_y, role="admin", username="admin_y")


@pytest.fixture
def laizhou_set(company_x, admin_x):
    from kefu.sla.services import commitment_set_from_preset

    return commitment_set_from_preset(company=company_x, year=2026, preset="laizhou-crgas-2024", by=admin_x)
