"""Personas of the counter: two clerks of company X (two windows), the supervisor (approves refunds),
the manager (finance receives the hand-over), a clerk of company Y who must see nothing of X."""

from __future__ import annotations

import pytest

from kefu.accounts.tests.factories import UserFactory


@pytest.fixture
def clerk_x(company_x):
    return UserFactory(company=company_x, role="clerk", username="clerk_x", full_name="孙丽华")


@pytest.fixture
def clerk2_x(company_x):
    return UserFactory(company=company_x, role="clerk", username="clerk2_x", full_name="钱芳")


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="manager_x", full_name="周国平")


@pytest.fixture
def clerk_y(company_y):
    return UserFactory(company=company_y, role="clerk", username="clerk_y")


@pytest.fixture
def hall_x(company_x, manager_x):
    from kefu.counter import services

    return services.counter_seed(company=company_x, by=manager_x)


@pytest.fixture
def types_x(hall_x):
    from kefu.counter.models import BusinessType

    return {b.prefix: b for b in BusinessType.objects.filter(company=hall_x.company)}


@pytest.fixture
def windows_x(hall_x):
    from kefu.counter.models import Window

    return {w.number: w for w in Window.objects.filter(hall=hall_x)}
