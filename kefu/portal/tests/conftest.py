"""Personas and data for the portal: a household of company X with a mobile on file, its neighbour (whose
work orders the first must never see), a household of company Y, the seed 004 commitments published,
and a known SMS code (rules.new_code patched) with the console gateway's outbox in a temporary folder."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kefu.accounts.tests.factories import UserFactory

SH = ZoneInfo("Asia/Shanghai")
CODE = "246810"


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture(autouse=True)
def _known_code(monkeypatch, settings, tmp_path):
    from kefu.portal import rules

    monkeypatch.setattr(rules, "new_code", lambda: CODE)
    settings.KEFU_SMS_GATEWAY = "console"
    settings.VAR_DIR = tmp_path


@pytest.fixture
def clerk_x(company_x):
    return UserFactory(company=company_x, role="clerk", username="clerk_x")


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="manager_x")


def household(clerk, account_no: str, phone: str, room: str):
    from kefu.customers.tests.factories import CustomerFactory

    return CustomerFactory(
        user=clerk,
        account_no=account_no,
        name="张三丰",
        category="resident",
        phones=[{"number": phone, "is_primary": True}],
        community="幸福小区",
        building="3",
        unit="2",
        room=room,
        address=f"泰山区幸福小区3号楼2单元{room}室",
    )


@pytest.fixture
def hotline_x(company_x):
    company_x.hotline = "0538-96777"
    company_x.save(update_fields=["hotline"])
    return company_x


@pytest.fixture
def customer_x(hotline_x, clerk_x):
    return household(clerk_x, "100001", "13800138000", "501")


@pytest.fixture
def neighbour_x(hotline_x, clerk_x):
    return household(clerk_x, "100002", "13900139000", "502")


@pytest.fixture
def customer_y(company_y):
    clerk = UserFactory(company=company_y, role="clerk", username="clerk_y")
    return household(clerk, "100001", "13700137000", "601")


@pytest.fixture
def published(company_x, manager_x):
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    s = commitment_set_from_preset(company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager_x)
    return commitment_set_publish(commitment_set=s, by=manager_x, at=L(2026, 1, 1))


def sign_in(customer, phone: str):
    """Link through the real services with the known code; returns services.LoggedIn."""
    from kefu.portal import services

    ch = services.link_start(company=customer.company, account_no=customer.account_no, phone=phone)
    return services.link_verify(challenge_id=ch.pk, code=CODE)


@pytest.fixture
def signed_in(customer_x):
    return sign_in(customer_x, "13800138000")


@pytest.fixture
def portal_client(client, signed_in):
    from kefu.portal import rules

    client.cookies[rules.COOKIE] = signed_in.token
    return client
