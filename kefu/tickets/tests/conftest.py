"""Personas and data for work-order tests (P1, S2): agents, a dispatcher, a technician, a supervisor of
company X, an agent of company Y, and a registered customer with premise and phone."""

from __future__ import annotations

import pytest

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory


@pytest.fixture
def repair_dept(company_x):
    from kefu.accounts.models import Department

    return DepartmentFactory(company=company_x, code="repair", name="维修部", kind=Department.Kind.REPAIR)


@pytest.fixture
def repair_team(repair_dept):
    return TeamFactory(department=repair_dept, name="维修一班")


@pytest.fixture
def agent2_x(company_x):
    return UserFactory(company=company_x, role="agent", username="agent2_x", full_name="王芳")


@pytest.fixture
def dispatcher_x(company_x):
    return UserFactory(company=company_x, role="dispatcher", username="dispatcher_x")


@pytest.fixture
def technician_x(company_x, repair_dept, repair_team):
    return UserFactory(
        company=company_x, role="technician", username="tech_x", department=repair_dept, team=repair_team
    )


@pytest.fixture
def technician2_x(company_x, repair_dept):
    return UserFactory(company=company_x, role="technician", username="tech2_x", department=repair_dept)


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="manager_x")


@pytest.fixture
def team_lead_x(company_x):
    return UserFactory(company=company_x, role="team_lead", username="lead_x")


@pytest.fixture
def customer_x(company_x):
    """A registered resident of company X with premise and mobile, made by a clerk through
    customer_create (kefu/customers/tests/factories.py)."""
    from kefu.customers.tests.factories import CustomerFactory

    clerk = UserFactory(company=company_x, role="clerk", username="clerk_x")
    return CustomerFactory(
        user=clerk,
        account_no="100001",
        name="张三丰",
        category="resident",
        phones=[{"number": "13800138000", "is_primary": True}],
        community="幸福小区",
        building="3",
        unit="2",
        room="501",
        address="泰山区幸福小区3号楼2单元501室",
    )


@pytest.fixture
def make_ticket(agent_x):
    """Create a work order through the real service (kefu/tickets/tests/factories.py)."""
    from kefu.tickets.tests.factories import TicketFactory

    def make(by=None, **kw):
        return TicketFactory(by=by or agent_x, **kw)

    return make


@pytest.fixture
def laizhou_set(company_x, manager_x):
    """The seed 004 commitment set of company X for 2026, not yet published (the clock tests)."""
    from kefu.sla.services import commitment_set_from_preset

    return commitment_set_from_preset(company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager_x)
