"""Personas and data for field tests: a dispatcher, two technicians in one crew on duty, a
technician of another crew, a supervisor, a technician of company Y (who must see nothing of X),
the seed 004 commitment set published, a customer with premise coordinates and a meter."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture
def dept(company_x):
    return DepartmentFactory(company=company_x, code="emergency", name="抢险中心")


@pytest.fixture
def team(dept):
    return TeamFactory(department=dept, name="抢险一班")


@pytest.fixture
def dispatcher_x(company_x, dept, team):
    return UserFactory(company=company_x, role="dispatcher", username="disp_x", department=dept, team=team)


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="manager_x")


def _tech(company, username, dept, team, skills):
    from kefu.field.models import Technician

    user = UserFactory(company=company, role="technician", username=username, department=dept, team=team)
    return Technician.objects.create(company=company, user=user, skills=skills)


@pytest.fixture
def tech_a(company_x, dept, team):
    return _tech(company_x, "tech_a", dept, team, ["emergency", "repair", "install", "inspection"])


@pytest.fixture
def tech_b(company_x, dept, team):
    return _tech(company_x, "tech_b", dept, team, ["emergency", "repair"])


@pytest.fixture
def crew_a(tech_a, team, dispatcher_x):
    from kefu.field.services import crew_create

    return crew_create(
        by=dispatcher_x, team_id=team.pk, name="A组", member_ids=[tech_a.pk], leader_id=tech_a.pk
    )


@pytest.fixture
def crew_b(tech_b, team, dispatcher_x):
    from kefu.field.services import crew_create

    return crew_create(
        by=dispatcher_x, team_id=team.pk, name="B组", member_ids=[tech_b.pk], leader_id=tech_b.pk
    )


@pytest.fixture
def tech_y(company_y):
    dept = DepartmentFactory(company=company_y, code="e", name="抢险")
    team = TeamFactory(department=dept, name="Y抢险")
    return _tech(company_y, "tech_y", dept, team, ["emergency"])


@pytest.fixture
def published(company_x, manager_x):
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    s = commitment_set_from_preset(company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager_x)
    return commitment_set_publish(commitment_set=s, by=manager_x, at=L(2026, 1, 1))


@pytest.fixture
def customer_x(company_x):
    from kefu.customers.models import Meter, Premise
    from kefu.customers.tests.factories import CustomerFactory

    clerk = UserFactory(company=company_x, role="clerk", username="clerk_x")
    c = CustomerFactory(
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
    Premise.objects.filter(pk=c.premise_id).update(lat=36.2000, lng=117.1000)
    Meter.objects.create(customer=c, serial="M0001", kind="ic_card")
    c.refresh_from_db()
    return c


@pytest.fixture
def make_ticket(agent_x):
    from kefu.tickets.services import ticket_create

    def make(kind="emergency", sub_kind="leak", customer=None, by=None, **kw):
        params = dict(
            kind=kind,
            content="厨房闻到煤气味",
            caller_surname="张",
            caller_title="mr",
            caller_phone="13800138000",
            address="泰山区幸福小区3号楼2单元501室",
            on_duplicate="create",
        )
        if sub_kind:
            params["sub_kind"] = sub_kind
        if customer is not None:
            params["customer_id"] = customer.pk
        params.update(kw)
        return ticket_create(by=by or agent_x, **params).ticket

    return make
