"""Personas of the quality tests: an agent and a second agent of company X, an inspector (role
quality), the supervisor (QA lead: quality.manage), and company Y's agent who must see nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.accounts.tests.factories import UserFactory


@pytest.fixture
def inspector_x(company_x):
    return UserFactory(company=company_x, role="quality", username="inspector_x", full_name="陈静")


@pytest.fixture
def agent2_x(company_x):
    return UserFactory(company=company_x, role="agent", username="agent2_x", full_name="王芳")


@pytest.fixture
def client_for():
    from kefu.accounts.tests.conftest import verified_client

    def make(user) -> Client:
        return verified_client(Client(), user)  # leads must have passed TOTP (S1)

    return make


GOOD_CALL = [
    {"speaker": "agent", "text": "您好，X燃气公司，请问有什么可以帮您？", "start_ms": 0, "end_ms": 3000},
    {"speaker": "customer", "text": "我家没气了，我姓王", "start_ms": 3200, "end_ms": 5000},
    {"speaker": "agent", "text": "王先生，请您稍等。", "start_ms": 5200, "end_ms": 6500},
    {"speaker": "agent", "text": "您还有其他问题吗？", "start_ms": 9000, "end_ms": 10000},
    {"speaker": "agent", "text": "感谢您的来电，再见！", "start_ms": 11000, "end_ms": 12000},
]

BAD_CALL = [
    {"speaker": "agent", "text": "喂？", "start_ms": 0, "end_ms": 800},
    {"speaker": "customer", "text": "我姓王，报修一周了没人来", "start_ms": 1000, "end_ms": 4000},
    {
        "speaker": "agent",
        "text": "這個我不知道，你找我沒用，要解決就去找領導。",
        "start_ms": 4200,
        "end_ms": 8000,
    },
]


@pytest.fixture
def make_ticket(agent_x):
    """A work order made through the real service (kefu/tickets/tests/factories.py)."""
    from kefu.tickets.tests.factories import TicketFactory

    def make(by=None, **kw):
        return TicketFactory(by=by or agent_x, **kw)

    return make
