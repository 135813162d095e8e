"""Personas and a test kind of export (S3): the requester (a team lead, who sees personal data in
full, so the work-order list is 绝密 for them), two approvers, a quality reviewer (masked: 机密),
someone of company Y who must see nothing of X."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.tests.factories import UserFactory
from kefu.exports.registry import ExportData, ExportKind, Sheet, _kinds, register_export

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SH)


@pytest.fixture
def clock(time_machine):
    """A controllable clock (no sleeps): starts at T0, moves only when the test says so."""
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def lead_x(company_x):
    return UserFactory(company=company_x, role="team_lead", username="lead_x", full_name="李强")


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="manager_x", full_name="周国平")


@pytest.fixture
def quality_x(company_x):
    return UserFactory(company=company_x, role="quality", username="quality_x", full_name="陈静")


@pytest.fixture
def auditor_x(company_x):
    return UserFactory(company=company_x, role="auditor", username="auditor_x", full_name="吴芳")


@pytest.fixture
def supervisor_y(company_y):
    return UserFactory(company=company_y, role="supervisor", username="supervisor_y")


@pytest.fixture
def lead_y(company_y):
    return UserFactory(company=company_y, role="team_lead", username="lead_y")


def web(user) -> Client:
    """A browser session of `user` (second factor passed, for the roles that need one)."""
    from kefu.accounts.tests.conftest import verified_client

    return verified_client(Client(), user)


def _build_rows(user, params) -> ExportData:
    n = int(params.get("n", ["3"])[0])
    return ExportData(
        sheets=[
            Sheet(
                title="客户",
                header=["序号", "姓名", "备注"],
                rows=((i, f"客户{i}", '=HYPERLINK("x")') for i in range(1, n + 1)),
                count=n,
            )
        ],
        description=f"前 {n} 个",
        detail={"n": n},
    )


@pytest.fixture
def rows_kind():
    """A kind of export for the rules alone: `n` rows of customer data (绝密) or, with
    model=tickets.ticket, of call records (机密); for anyone who may read reports."""

    def make(code: str, fmt: str):
        return ExportKind(
            code=code,
            label="测试导出",
            fmt=fmt,
            filename="test",
            allowed=lambda user: role_allows(user, Perm.REPORT_VIEW),
            refusal="您的角色无权导出测试数据。",
            models=lambda user, params: (params.get("model", ["customers.customer"])[0],),
            build=_build_rows,
            max_rows=None,
        )

    register_export(make("test.rows", "csv"))
    register_export(make("test.rows_xlsx", "xlsx"))
    yield "test.rows"
    _kinds.pop("test.rows", None)
    _kinds.pop("test.rows_xlsx", None)


@pytest.fixture
def make_ticket_x(agent_x):
    """A work order of company X through the real service (kefu/tickets/tests/factories.py)."""
    from kefu.tickets.tests.factories import TicketFactory

    def make(**kw):
        return TicketFactory(by=agent_x, **kw)

    return make


@pytest.fixture
def customer_x(company_x):
    from kefu.customers.tests.factories import CustomerFactory

    clerk = UserFactory(company=company_x, role="clerk", username="clerk_x")
    return CustomerFactory(user=clerk, account_no="100001", name="张三丰", category="resident")
