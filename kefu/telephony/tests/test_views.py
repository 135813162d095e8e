"""The telephony pages: customer chat without login (rate-limited), the agents' chat console with
C18 timing, the agent console toggle, recordings (role-gated, every play audited), the indicator
page with a manual outage, and another company that sees nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from kefu.accounts.models import AuditEvent
from kefu.telephony.models import AgentProfile, Call, ChatSession, HotlineOutage
from kefu.telephony.services import call_events_ingest
from kefu.telephony.tests.conftest import answered_trace

pytestmark = pytest.mark.django_db


def session(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_customer_chat_without_login_and_agent_answers(company_x, agent_x):
    anon = Client()
    assert anon.get(f"/telephony/chat/{company_x.code}/").status_code == 200
    r = anon.post(f"/telephony/chat/{company_x.code}/", {"contact": "13800138000"})
    assert r.status_code == 302
    s = ChatSession.objects.get()
    assert anon.post(r["Location"], {"text": "家里燃气灶打不着"}).status_code == 302
    agent = session(agent_x)
    assert "家里燃气灶打不着" in agent.get(f"/telephony/chats/{s.pk}/").content.decode()
    agent.post(f"/telephony/chats/{s.pk}/", {"text": "您好，请问您贵姓？"})
    s.refresh_from_db()
    assert s.status == "active" and s.greeting_ms is not None and s.agent == agent_x
    assert "您好，请问您贵姓" in anon.get(r["Location"]).content.decode()
    agent.post(f"/telephony/chats/{s.pk}/", {"close": "1"})
    s.refresh_from_db()
    assert s.status == "closed" and s.transcripts.count() == 1


def test_customer_chat_rate_limited(company_x):
    anon = Client()
    codes = [anon.post(f"/telephony/chat/{company_x.code}/", {}).status_code for _ in range(12)]
    assert codes[:10] == [302] * 10 and codes[-1] == 429


def test_chat_of_another_company_not_found(company_x, agent_y):
    from kefu.telephony.services import chat_start

    s = chat_start(company=company_x)
    assert session(agent_y).get(f"/telephony/chats/{s.pk}/").status_code == 404
    assert Client().get("/telephony/chat/no-such-company/").status_code == 404


def test_console_toggle(agent_x):
    c = session(agent_x)
    c.post("/telephony/", {"state": "not_ready", "reason": "meal"})
    p = AgentProfile.objects.get(user=agent_x)
    assert (p.state, p.reason) == ("not_ready", "meal")
    assert "未就绪" in c.get("/telephony/").content.decode()


def test_recording_role_gated_and_every_play_audited(feed_x, hotline_x, seats, t0, agent_x, company_x):
    from kefu.accounts.tests.factories import UserFactory

    trace = answered_trace(t0) + [
        {
            "event_id": "r",
            "type": "call.recording",
            "at": t0 + timedelta(seconds=9),
            "call_id": "c1",
            "ref": "2026/03/c1.wav",
        }
    ]
    call_events_ingest(by=feed_x, events=trace)
    call = Call.objects.get()
    assert session(agent_x).get(f"/telephony/calls/{call.pk}/recording/").status_code == 403
    quality = UserFactory(company=company_x, role="quality")
    r = session(quality).get(f"/telephony/calls/{call.pk}/recording/")
    assert r.status_code == 200 and "2026/03/c1.wav" in r.content.decode()
    assert AuditEvent.objects.filter(action="telephony.recording_played", actor=quality).count() == 1


def test_call_pages_masked_and_isolated(feed_x, hotline_x, seats, t0, agent_x, agent_y):
    call_events_ingest(by=feed_x, events=answered_trace(t0))
    call = Call.objects.get()
    page = session(agent_x).get(f"/telephony/calls/{call.pk}/").content.decode()
    assert "13800138000" not in page and "1001" in page
    assert session(agent_y).get(f"/telephony/calls/{call.pk}/").status_code == 404
    assert "13800138000" not in session(agent_y).get("/telephony/calls/").content.decode()


def test_indicator_page_and_manual_outage(company_x, hotline_x):
    from kefu.accounts.tests.factories import UserFactory

    manager = UserFactory(company=company_x, role="manager")
    c = session(manager)
    assert c.get("/telephony/indicators/?month=2026-03").status_code == 200
    r = c.post(
        "/telephony/indicators/?month=2026-03",
        {
            "hotline": hotline_x.pk,
            "started_at": "2026-03-05T10:00",
            "ended_at": "2026-03-05T10:20",
            "note": "中继故障",
        },
    )
    assert r.status_code == 302
    o = HotlineOutage.objects.get()
    assert (o.ended_at - o.started_at) == timedelta(minutes=20) and o.recorded_by == manager
    assert "20.0" in c.get("/telephony/indicators/?month=2026-03").content.decode()
    r = c.post(
        "/telephony/indicators/?month=2026-03", {"hotline": hotline_x.pk, "started_at": "bad", "note": "x"}
    )
    assert r.status_code == 400
    agent = UserFactory(company=company_x, role="agent")
    assert session(agent).get("/telephony/indicators/").status_code == 403


def test_wallboard_page_in_english(agent_x, hotline_x):
    c = session(agent_x)
    c.cookies["django_language"] = "en"
    body = c.get("/telephony/wallboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Waiting" in body and "排队等待" not in body


def test_recording_plays_from_the_work_order(feed_x, hotline_x, seats, agent_x, company_x):
    from django.utils import timezone

    from kefu.accounts.tests.factories import UserFactory
    from kefu.telephony.services import call_link_ticket
    from kefu.tickets.services import ticket_create

    t0 = timezone.now() - timedelta(minutes=5)
    trace = answered_trace(t0) + [
        {"event_id": "r", "type": "call.recording", "at": t0, "call_id": "c1", "ref": "a.wav"}
    ]
    call_events_ingest(by=feed_x, events=trace)
    call = Call.objects.get()
    t = ticket_create(
        by=agent_x,
        kind="consultation",
        content="咨询",
        caller_surname="张",
        caller_title="mr",
        caller_phone="13800138000",
        on_duplicate="create",
    ).ticket
    assert call_link_ticket(user=agent_x, call_id=call.pk, ticket_id=t.pk)
    quality = UserFactory(company=company_x, role="quality")
    page = session(quality).get(f"/tickets/{t.pk}/").content.decode()
    assert f"/telephony/calls/{call.pk}/recording/" in page
    assert (
        f"/telephony/calls/{call.pk}/recording/"
        not in session(agent_x).get(f"/tickets/{t.pk}/").content.decode()
    )
