"""Personas of the workforce tests: a hotline team of company X with its head (班长), the centre
head (manager), agents with profiles and 早/中/夜 shifts; company Y's agent must see nothing."""

from __future__ import annotations

from datetime import time

import pytest


@pytest.fixture
def team_x(company_x):
    from kefu.accounts.models import Department, Team

    dept = Department.objects.create(company=company_x, code="kf", name="客服部")
    return Team.objects.create(company=company_x, department=dept, name="热线一班")


@pytest.fixture
def team2_x(company_x, team_x):
    from kefu.accounts.models import Team

    return Team.objects.create(company=company_x, department=team_x.department, name="热线二班")


@pytest.fixture
def head_x(team_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=team_x.company, role="team_lead", team=team_x, username="head_x")


@pytest.fixture
def manager_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="manager", username="manager_x")


@pytest.fixture
def patterns(team_x):
    from kefu.workforce.services import pattern_create

    return {
        "Z": pattern_create(team=team_x, code="Z", name="早班", start=time(8), needs={"hotline": 2}, order=1),
        "M": pattern_create(
            team=team_x, code="M", name="中班", start=time(16), needs={"hotline": 2}, order=2
        ),
        "Y": pattern_create(
            team=team_x, code="Y", name="夜班", start=time(0), is_night=True, needs={"hotline": 1}, order=3
        ),
    }


@pytest.fixture
def staff(team_x, agent_x):
    """Nine hotline agents of team X (agent_x first), all level 1."""
    from kefu.accounts.tests.factories import UserFactory
    from kefu.workforce.services import profile_set

    agent_x.team = team_x
    agent_x.save(update_fields=["team"])
    people = [agent_x] + [
        UserFactory(company=team_x.company, role="agent", team=team_x, username=f"a{i}") for i in range(8)
    ]
    for u in people:
        profile_set(user=u, team=team_x, job="hotline", level=1)
    return people
