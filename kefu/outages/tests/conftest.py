"""Personas and data for outage tests: a dispatcher who plans, a manager who approves, an agent who
takes the calls, a technician who posts notices, and the agent of company Y who must see nothing.
Customers live in two communities; the pipe network is hand-drawn (tests/networks.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kefu.accounts.tests.factories import UserFactory


@pytest.fixture
def dispatcher_x(company_x):
    return UserFactory(company=company_x, role="dispatcher", username="dispatcher_x", full_name="调度李")


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="manager_x", full_name="经理周")


@pytest.fixture
def technician_x(company_x):
    return UserFactory(company=company_x, role="technician", username="tech_x")


@pytest.fixture
def clerk_x(company_x):
    return UserFactory(company=company_x, role="clerk", username="clerk_x")


@pytest.fixture
def households(clerk_x):
    """Six households: 幸福小区 building 1 (3, one on the care registry and one without a mobile),
    building 2 (2), and 和平小区 building 5 (a hospital, commercial) — zones A and B."""
    from kefu.customers.tests.factories import CustomerFactory

    rows = [
        ("200001", "张一", "resident", "13800000001", "幸福小区", "1", "1", "101", "A"),
        ("200002", "张二", "resident", "13800000002", "幸福小区", "1", "1", "102", "A"),
        ("200003", "张三", "resident", "", "幸福小区", "1", "1", "201", "A"),
        ("200004", "李四", "resident", "13800000004", "幸福小区", "2", "1", "101", "A"),
        ("200005", "李五", "resident", "13800000005", "幸福小区", "2", "1", "102", "A"),
        ("200006", "市第一医院", "commercial", "13800000006", "和平小区", "5", "1", "1", "B"),
    ]
    out = []
    for acc, name, cat, phone, comm, bld, unit, room, zone in rows:
        out.append(
            CustomerFactory(
                user=clerk_x,
                account_no=acc,
                name=name,
                category=cat,
                phones=[{"number": phone, "is_primary": True}] if phone else [],
                community=comm,
                building=bld,
                unit=unit,
                room=room,
                supply_zone=zone,
                address=f"{comm}{bld}号楼{unit}单元{room}室",
                opened_on=date(2025, 1, 1),
            )
        )
    return out


@pytest.fixture
def commitments(company_x, manager_x):
    """The laizhou-crgas-2024 set (C1 48 h notice, C2 24 h restoration), published for 2026."""
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    with __import__("time_machine").travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        s = commitment_set_from_preset(
            company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager_x
        )
        commitment_set_publish(commitment_set=s, by=manager_x)
    return s
