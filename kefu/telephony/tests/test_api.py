"""The telephony API: events by token (idempotent, refusals 4xx with a message), isolation between
companies, the screen pop, the agent toggle, wallboard, indicators K5/K14 with records behind them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from kefu.accounts.services import token_create
from kefu.telephony.models import Call, Hotline, HotlineOutage
from kefu.telephony.services import call_events_ingest
from kefu.telephony.tests.conftest import answered_trace, ev

pytestmark = pytest.mark.django_db
BASE = "/api/v1/telephony/"


def _iso(events):
    return [{**e, "at": e["at"].isoformat()} for e in events]


def token_client(user) -> Client:
    _row, raw = token_create(user=user, name="pbx", scopes=["read", "write"])
    return Client(headers={"Authorization": f"Bearer {raw}"})


def session(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_events_by_token_idempotent(feed_x, hotline_x, seats, t0):
    c = token_client(feed_x)
    body = {"events": _iso(answered_trace(t0))}
    r = c.post(f"{BASE}events", body, content_type="application/json")
    assert r.status_code == 200 and r.json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    r = c.post(f"{BASE}events", body, content_type="application/json")
    assert r.json()["duplicates"] == 5
    assert Call.objects.get().rings == 2


def test_bad_events_answered_4xx_with_a_message(feed_x, hotline_x, hotline_y, t0):
    c = token_client(feed_x)
    r = c.post(
        f"{BASE}events",
        {"events": _iso([ev("e1", "call.started", t0, hotline="96888")])},
        content_type="application/json",
    )
    assert r.status_code == 400 and "不属于本公司" in r.json()["detail"]
    r = c.post(
        f"{BASE}events",
        {"events": _iso([ev("e2", "call.answered", t0, "zz", agent="1")])},
        content_type="application/json",
    )
    assert r.status_code == 400 and "未知通话" in r.json()["detail"]
    r = c.post(
        f"{BASE}events",
        {"events": [{"event_id": "e3", "type": "call.started", "at": "yesterday"}]},
        content_type="application/json",
    )
    assert r.status_code == 422 and r.json()["detail"]
    r = c.post(
        f"{BASE}events",
        {
            "events": _iso([ev("e4", "call.started", t0, hotline="96777")])
            + _iso([ev("e5", "call.exploded", t0)])
        },
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["rejected"][0]["event_id"] == "e5"


def test_agent_token_cannot_feed_events(agent_x, hotline_x, t0):
    r = token_client(agent_x).post(
        f"{BASE}events", {"events": _iso(answered_trace(t0))}, content_type="application/json"
    )
    assert r.status_code == 403


def test_other_company_sees_nothing(feed_x, hotline_x, seats, t0, agent_y):
    call_events_ingest(by=feed_x, events=answered_trace(t0))
    c = session(agent_y)
    assert c.get(f"{BASE}calls").json() == []
    assert c.get(f"{BASE}calls/{Call.objects.get().pk}").status_code == 404
    assert c.get(f"{BASE}pop").status_code == 204


def test_screen_pop_once_for_the_answering_agent(feed_x, hotline_x, seats, agent_x, agent2_x):
    from django.utils import timezone

    t = timezone.now() - timedelta(seconds=30)
    call_events_ingest(by=feed_x, events=answered_trace(t)[:4])
    assert session(agent2_x).get(f"{BASE}pop").status_code == 204
    c = session(agent_x)
    r = c.get(f"{BASE}pop")
    assert r.status_code == 200 and r.json()["url"].startswith("/tickets/desk/?phone=13800138000")
    assert c.get(f"{BASE}pop").status_code == 204  # shown once


def test_caller_number_masked_for_agents(feed_x, hotline_x, seats, t0, agent_x, supervisor_x):
    call_events_ingest(by=feed_x, events=answered_trace(t0))
    assert session(agent_x).get(f"{BASE}calls").json()[0]["caller_number"] != "13800138000"


def test_agent_toggle_and_no_agent_outage(agent_x, hotline_x):
    c = session(agent_x)
    assert (
        c.post(f"{BASE}agent-state", {"state": "ready"}, content_type="application/json").status_code == 200
    )
    assert not HotlineOutage.objects.filter(cause="no_agent", ended_at__isnull=True).exists()
    r = c.post(f"{BASE}agent-state", {"state": "not_ready"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["detail"]
    c.post(f"{BASE}agent-state", {"state": "logged_out"}, content_type="application/json")
    assert HotlineOutage.objects.filter(
        cause="no_agent", ended_at__isnull=True
    ).exists()  # C8: nobody staffs it


def test_wallboard(feed_x, hotline_x, seats, agent_x, supervisor_x):
    from django.utils import timezone

    now = timezone.now()
    call_events_ingest(by=feed_x, events=answered_trace(now - timedelta(minutes=5)))
    call_events_ingest(
        by=feed_x,
        events=[
            ev("w1", "call.started", now - timedelta(seconds=20), "w", hotline="96777"),
            ev("w2", "call.queued", now - timedelta(seconds=18), "w"),
        ],
    )
    body = session(agent_x).get(f"{BASE}wallboard").json()
    assert body["waiting"] == 1 and 17 <= body["longest_wait_s"] <= 30
    assert body["answered_today"] == 1 and body["share_within_rings"] == 1.0


@time_machine.travel("2026-04-02 08:00 +08:00", tick=False)
def test_indicators_k5_k14_with_records(feed_x, hotline_x, seats, t0, supervisor_x, company_x):
    from kefu.accounts.tests.factories import UserFactory

    call_events_ingest(by=feed_x, events=answered_trace(t0, "c1"))  # 2 rings
    slow = answered_trace(t0 + timedelta(hours=1), "c2")
    slow[3]["at"] = t0 + timedelta(hours=1, seconds=20)  # 20 s: 4 rings
    call_events_ingest(by=feed_x, events=slow)
    HotlineOutage.objects.create(
        company=company_x,
        hotline=hotline_x,
        cause="trunk_down",
        started_at=t0,
        ended_at=t0 + timedelta(minutes=30),
    )
    lead = UserFactory(company=company_x, role="team_lead")
    body = session(lead).get(f"{BASE}indicators/2026/3").json()
    assert body["k14"] | {} == {
        "year": 2026,
        "month": 3,
        "answered": 2,
        "within": 1,
        "without_rings": 0,
        "value": 0.5,
        "method": "calls",
    }
    assert body["k5"]["minutes_out"] == 30 and body["k5"]["value"] == pytest.approx(1 - 30 / 44640)
    behind = session(lead).get(f"{BASE}indicators/2026/3/k14-calls?within=false").json()
    assert [c["call_id"] for c in behind] == ["c2"]
    assert len(session(lead).get(f"{BASE}indicators/2026/3/k5-periods").json()) == 1
    assert session(lead).get(f"{BASE}indicators/2026/13").status_code == 400


def test_k14_fallback_when_rings_not_recorded(feed_x, hotline_x, t0, company_x):
    trace = answered_trace(t0)
    trace[0]["no_rings"] = True
    call_events_ingest(by=feed_x, events=trace)
    from kefu.telephony.selectors import k14_inputs

    k = k14_inputs(company=company_x, year=2026, month=3)
    assert k.method == "fallback" and k.value is None


def test_transcript_published_for_quality(feed_x, hotline_x, seats, t0):
    from kefu.core.events import subscribe, unsubscribe
    from kefu.telephony.facts import TranscriptAvailable

    got = []
    subscribe(TranscriptAvailable, got.append, catch_up="tests")
    try:
        call_events_ingest(by=feed_x, events=answered_trace(t0))
        c = token_client(feed_x)
        with __import__("django").test.TestCase.captureOnCommitCallbacks(execute=True):
            r = c.post(
                f"{BASE}transcripts",
                {"call_id": "c1", "text": "坐席：您好", "source": "asr"},
                content_type="application/json",
            )
        assert r.status_code == 201
        assert got and got[0].call_id == Call.objects.get().pk
        r = c.post(f"{BASE}transcripts", {"call_id": "nope", "text": "x"}, content_type="application/json")
        assert r.status_code == 404
    finally:
        unsubscribe(TranscriptAvailable, got.append)


def test_external_chat_feed_with_bot_hand_off(feed_x, company_x):
    from django.utils import timezone

    c = token_client(feed_x)
    now = timezone.now()
    at = lambda n: (now - timedelta(seconds=100 - n)).isoformat()  # noqa: E731
    chat = c.post(
        f"{BASE}chats", {"external_id": "wx-1", "bot": True, "at": at(0)}, content_type="application/json"
    ).json()
    cid = chat["id"]
    c.post(
        f"{BASE}chats/{cid}/messages",
        {"sender": "customer", "text": "你好", "at": at(1)},
        content_type="application/json",
    )
    c.post(
        f"{BASE}chats/{cid}/messages",
        {"sender": "bot", "text": "机器人", "at": at(2)},
        content_type="application/json",
    )
    c.post(f"{BASE}chats/{cid}/handoff", {"at": at(30)}, content_type="application/json")
    r = c.post(
        f"{BASE}chats/{cid}/messages",
        {"sender": "agent", "text": "您好", "at": at(40)},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["greeting_ms"] == 10_000
    again = c.post(f"{BASE}chats", {"external_id": "wx-1"}, content_type="application/json").json()
    assert again["id"] == cid
    assert c.post(f"{BASE}chats/99999/handoff", {}, content_type="application/json").status_code == 404


def test_manual_outage(feed_x, hotline_x, hotline_y, t0):
    c = token_client(feed_x)
    r = c.post(
        f"{BASE}outages",
        {
            "hotline_id": hotline_x.pk,
            "started_at": t0.isoformat(),
            "ended_at": (t0 + timedelta(minutes=9)).isoformat(),
            "note": "中继故障",
        },
        content_type="application/json",
    )
    assert r.status_code == 201
    r = c.post(
        f"{BASE}outages",
        {"hotline_id": hotline_y.pk, "started_at": t0.isoformat(), "note": "x"},
        content_type="application/json",
    )
    assert r.status_code == 404
    r = c.post(
        f"{BASE}outages",
        {
            "hotline_id": hotline_x.pk,
            "started_at": t0.isoformat(),
            "ended_at": (t0 - timedelta(minutes=1)).isoformat(),
            "note": "x",
        },
        content_type="application/json",
    )
    assert r.status_code == 400
    assert Hotline.objects.count() == 2
