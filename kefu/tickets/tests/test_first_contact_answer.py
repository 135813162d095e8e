"""C15: a work order is saved as resolved at first contact only with the answer given — one rule in
`ticket_create`, asked by the desk form and the API alike; quick consultation opens on the question."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.core.errors import DomainError
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_service_refuses_resolved_without_answer(agent_x):
    from kefu.tickets.services import ticket_create

    for answer in ("", "   "):
        with pytest.raises(DomainError) as exc:
            ticket_create(
                by=agent_x, kind="consultation", content="咨询开户", resolved_on_call=True, answer=answer
            )
        assert exc.value.field == "answer"
    assert not Ticket.objects.exists()
    t = ticket_create(
        by=agent_x, kind="consultation", content="咨询开户"
    ).ticket  # not resolved: no answer needed
    assert t.state == "new"


def test_desk_form_refuses_resolved_without_answer(agent_x):
    r = login(agent_x).post(
        "/tickets/desk/new/",
        {
            "kind": "consultation",
            "channel": "hotline",
            "content": "咨询开户",
            "resolved_on_call": "on",
            "quick": "1",
        },
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "当场办结须填写给客户的答复内容" in html and not Ticket.objects.exists()
    assert 'name="quick"' in html  # still in quick mode


def test_api_refuses_resolved_without_answer(agent_x):
    r = login(agent_x).post(
        "/api/v1/tickets/",
        {"kind": "consultation", "content": "咨询开户", "resolved_on_call": True},
        content_type="application/json",
    )
    assert r.status_code in (400, 422)
    assert r.json()["field"] == "answer" and "答复" in r.json()["detail"] and not Ticket.objects.exists()


def test_quick_mode_focuses_the_question_and_tabs_to_the_answer(agent_x):
    html = login(agent_x).get("/tickets/desk/?quick=1").content.decode()
    content = html[html.index('name="content"') - 200 : html.index('name="content"') + 200]
    assert "autofocus" in content
    oncall = html[html.index('name="resolved_on_call"') - 120 : html.index('name="resolved_on_call"') + 120]
    assert 'tabindex="-1"' in oncall and "checked" in oncall
    lookup = html[html.index('id="q"') : html.index('id="q"') + 200]
    assert "autofocus" not in lookup
    plain = login(agent_x).get("/tickets/desk/").content.decode()
    assert "autofocus" in plain[plain.index('id="q"') : plain.index('id="q"') + 200]
