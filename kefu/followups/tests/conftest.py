"""Personas and data of the follow-up tests: an agent (who takes the calls and makes return visits),
a second agent, a dispatcher, a supervisor, a manager of the responsible department, the staff member
complained about, and an agent of company Y who must see nothing (S2). Published commitment sets of
each preset (C6 stages, C14)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture
def service_dept(company_x):
    return DepartmentFactory(company=company_x, code="service", name="客服中心")


@pytest.fixture
def repair_dept(company_x):
    return DepartmentFactory(company=company_x, code="repair", name="维修部")


@pytest.fixture
def repair_team(repair_dept):
    return TeamFactory(department=repair_dept, name="维修一班")


@pytest.fixture
def technician_x(company_x, repair_dept, repair_team):
    return UserFactory(
        company=company_x,
        role="technician",
        username="tech_x",
        full_name="赵师傅",
        department=repair_dept,
        team=repair_team,
    )


@pytest.fixture
def manager_x(company_x, repair_dept):
    return UserFactory(
        company=company_x, role="manager", username="manager_x", full_name="钱经理", department=repair_dept
    )


@pytest.fixture
def manager2_x(company_x, service_dept):
    """A manager of another department: may not approve the repair department's plan."""
    return UserFactory(company=company_x, role="manager", username="manager2_x", department=service_dept)


@pytest.fixture
def dispatcher_x(company_x):
    return UserFactory(company=company_x, role="dispatcher", username="dispatcher_x")


@pytest.fixture
def agent2_x(company_x):
    return UserFactory(company=company_x, role="agent", username="agent2_x", full_name="王芳")


@pytest.fixture
def manager_y(company_y):
    return UserFactory(company=company_y, role="manager", username="manager_y")


def _published(company, manager, preset):
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    s = commitment_set_from_preset(company=company, year=2026, preset=preset, by=manager)
    return commitment_set_publish(commitment_set=s, by=manager, at=L(2026, 1, 1))


@pytest.fixture
def set_002(company_x, manager_x):
    return _published(company_x, manager_x, "service-etiquette-002")


@pytest.fixture
def set_taian(company_x, manager_x):
    return _published(company_x, manager_x, "taian-antai")


@pytest.fixture
def set_laizhou(company_x, manager_x):
    return _published(company_x, manager_x, "laizhou-crgas-2024")


@pytest.fixture
def complaint_ticket(agent_x):
    from kefu.tickets.services import ticket_create

    def make(content="投诉维修工上门态度差，还多收了材料费", **kw):
        params = dict(
            by=agent_x,
            kind="complaint",
            content=content,
            caller_surname="李",
            caller_title="ms",
            caller_phone="13900003333",
            on_duplicate="create",
        )
        params.update(kw)
        return ticket_create(**params).ticket

    return make
