"""Personas and data for inspection tests: a planner (team lead), a manager, an inspector (a
technician with the inspection skill) and a second inspector, a clerk to make customers, an
inspector of company Y (who must see nothing of X), customers of several categories in two
communities, and time frozen on a working Tuesday of 2026."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture
def dept(company_x):
    return DepartmentFactory(company=company_x, code="inspection", name="安检")


@pytest.fixture
def team(dept):
    return TeamFactory(department=dept, name="安检一班")


@pytest.fixture
def planner_x(company_x, dept, team):
    return UserFactory(company=company_x, role="team_lead", username="lead_x", department=dept, team=team)


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="manager_x")


@pytest.fixture
def clerk_x(company_x):
    return UserFactory(company=company_x, role="clerk", username="clerk_x")


def _tech(company, username, dept, team, skills):
    from kefu.field.models import Technician

    user = UserFactory(company=company, role="technician", username=username, department=dept, team=team)
    return Technician.objects.create(company=company, user=user, skills=skills)


@pytest.fixture
def inspector(company_x, dept, team):
    return _tech(company_x, "insp_a", dept, team, ["inspection"])


@pytest.fixture
def inspector_b(company_x, dept, team):
    return _tech(company_x, "insp_b", dept, team, ["inspection"])


@pytest.fixture
def inspector_y(company_y):
    dept = DepartmentFactory(company=company_y, code="i", name="安检")
    team = TeamFactory(department=dept, name="Y安检")
    return _tech(company_y, "insp_y", dept, team, ["inspection"])


@pytest.fixture
def make_customer(clerk_x, time_machine):
    from kefu.customers.tests.factories import CustomerFactory

    time_machine.move_to(L(2026, 1, 2, 9, 0), tick=False)  # customers open before the year's visits

    def make(
        account_no,
        *,
        category="resident",
        community="幸福小区",
        building="3",
        room="501",
        opened_on=None,
        **kw,
    ):
        return CustomerFactory(
            user=clerk_x,
            account_no=account_no,
            name=kw.pop("name", "张三丰"),
            category=category,
            community=community,
            building=building,
            unit="2",
            room=room,
            district=kw.pop("district", "泰山区"),
            address=f"泰山区{community}{building}号楼2单元{room}室",
            opened_on=opened_on,
            **kw,
        )

    return make


@pytest.fixture
def households(make_customer):
    """Five customers: three residents in 幸福小区 3号楼, a commercial one in 幸福小区 5号楼, a
    coal-to-gas one in 和平小区."""
    return [
        make_customer("A001", room="101"),
        make_customer("A002", room="102"),
        make_customer("A003", room="201"),
        make_customer("B001", category="commercial", building="5", room="1"),
        make_customer("C001", category="coal_to_gas", community="和平小区", building="1", room="101"),
    ]


@pytest.fixture
def programme(planner_x, households, time_machine):
    from kefu.inspections.services import hazard_types_seed, programme_generate

    time_machine.move_to(L(2026, 3, 3, 9, 0), tick=False)
    hazard_types_seed(planner_x.company)
    return programme_generate(by=planner_x, year=2026)


@pytest.fixture
def batch(programme, planner_x, inspector):
    from kefu.inspections.services import batch_create

    return batch_create(
        by=planner_x,
        year=2026,
        community="幸福小区",
        buildings=["3"],
        inspector_id=inspector.pk,
        first_day=date(2026, 3, 3),
        last_day=date(2026, 3, 4),
    )


@pytest.fixture
def entry_of():
    from kefu.inspections.models import LedgerEntry

    def get(account_no, kind="household", period=1):
        return LedgerEntry.objects.get(
            customer__account_no=account_no,
            kind=kind,
            period=period,
            status__in=["due", "inspected", "hazard", "nobody_home", "refused", "vacant", "not_in_use"],
        )

    return get
