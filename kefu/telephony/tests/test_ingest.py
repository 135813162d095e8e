"""Call events through the service (item 1): answered on first offer, ring-no-answer then a second
agent, abandoned in queue, transferred, duplicated and out-of-order events, bad events refused (C13,
K14, L5)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from kefu.accounts.models import AuditEvent
from kefu.core.errors import Forbidden
from kefu.telephony.models import Call, CallOffer, RejectedEvent
from kefu.telephony.services import call_events_ingest
from kefu.telephony.tests.conftest import answered_trace, ev

pytestmark = pytest.mark.django_db(transaction=False)


def test_answered_on_first_offer(feed_x, hotline_x, seats, t0, agent_x):
    r = call_events_ingest(by=feed_x, events=answered_trace(t0))
    assert (r.accepted, r.duplicates, r.rejected) == (5, 0, [])
    c = Call.objects.get(call_id="c1")
    assert c.status == "ended" and c.answered_by == agent_x
    assert c.rings == 2 and c.within_rings is True  # 9 s with a 5 s cycle
    assert c.talk_ms == 111_000 and c.hangup_by == "customer"


def test_ring_no_answer_counts_against_the_agent_not_the_call(feed_x, hotline_x, seats, t0, agent2_x):
    s = lambda n: t0 + timedelta(seconds=n)  # noqa: E731
    call_events_ingest(
        by=feed_x,
        events=[
            ev("a1", "call.started", s(0), hotline="96777", caller="13800138000"),
            ev("a2", "call.queued", s(0), queue="service"),
            ev("a3", "call.offered", s(0), agent="1001"),
            ev("a4", "call.offer_ended", s(15), agent="1001", result="no_answer"),
            ev("a5", "call.offered", s(16), agent="1002"),
            ev("a6", "call.answered", s(18), agent="1002"),
        ],
    )
    c = Call.objects.get(call_id="c1")
    assert c.answered_by == agent2_x and c.rings == 4 and c.within_rings is False
    offers = {o.agent: (o.result, o.ring_ms) for o in CallOffer.objects.filter(call=c)}
    assert offers == {"1001": ("no_answer", 15000), "1002": ("answered", 2000)}


def test_abandoned_in_queue(feed_x, hotline_x, t0):
    call_events_ingest(
        by=feed_x,
        events=[
            ev("b1", "call.started", t0, hotline="96777"),
            ev("b2", "call.queued", t0 + timedelta(seconds=2)),
            ev("b3", "call.abandoned", t0 + timedelta(seconds=40), reason="in_queue"),
        ],
    )
    c = Call.objects.get()
    assert (c.status, c.abandon_reason, c.wait_ms, c.answered_at) == ("abandoned", "in_queue", 38000, None)


def test_transferred(feed_x, hotline_x, seats, t0, agent_x):
    trace = answered_trace(t0)[:4] + [
        ev("t1", "call.transferred", t0 + timedelta(seconds=30), agent="1001", to="1002"),
        ev("t2", "call.answered", t0 + timedelta(seconds=35), agent="1002"),
        ev("t3", "call.ended", t0 + timedelta(seconds=90), hangup_by="agent"),
    ]
    call_events_ingest(by=feed_x, events=trace)
    c = Call.objects.get()
    assert c.transfers == 1 and c.answered_by == agent_x and c.answered_agent == "1001"
    assert CallOffer.objects.get(agent="1002").result == "answered"
    assert c.rings == 2 and c.hangup_by == "agent"  # L5: the agent hung up first


def test_duplicated_and_out_of_order_events_give_the_same_call(feed_x, hotline_x, seats, t0):
    trace = answered_trace(t0)
    shuffled = trace + trace[:2]
    random.Random(7).shuffle(shuffled)
    r1 = call_events_ingest(by=feed_x, events=shuffled[:4])
    r2 = call_events_ingest(by=feed_x, events=shuffled[4:])
    r3 = call_events_ingest(by=feed_x, events=trace)  # the whole trace again: all duplicates
    assert r1.accepted + r2.accepted == 5 and r3.duplicates == 5 and r3.accepted == 0
    c = Call.objects.get()
    assert (c.status, c.rings, c.talk_ms, c.queued_at) == ("ended", 2, 111_000, t0)
    assert CallOffer.objects.filter(call=c).count() == 1


def test_bad_events_refused_with_a_message_and_logged(feed_x, hotline_x, hotline_y, t0):
    call_events_ingest(by=feed_x, events=answered_trace(t0)[:4])
    r = call_events_ingest(
        by=feed_x,
        events=[
            ev("x1", "call.answered", t0, "nope", agent="1001"),  # unknown call
            ev("x2", "call.started", t0, "c9", hotline="96888"),  # company Y's number
            ev("x3", "call.ended", t0 - timedelta(minutes=5)),  # before the answer: negative talk time
            ev("x4", "call.ended", t0 + timedelta(minutes=1), duration_ms=-5),
        ],
    )
    msgs = dict(r.rejected)
    assert set(msgs) == {"x1", "x2", "x3", "x4"} and r.accepted == 0
    assert "未知通话" in msgs["x1"] and "不属于本公司" in msgs["x2"] and "负" in msgs["x3"]
    assert RejectedEvent.objects.count() == 4
    assert AuditEvent.objects.filter(action="telephony.event_rejected").count() == 4


def test_only_feed_accounts_send_events(agent_x, hotline_x, t0):
    with pytest.raises(Forbidden):
        call_events_ingest(by=agent_x, events=answered_trace(t0))


def test_a_call_longer_than_a_day_is_refused(feed_x, hotline_x, t0):
    from datetime import timedelta

    r = call_events_ingest(
        by=feed_x,
        events=[
            ev("l1", "call.started", t0 - timedelta(days=400), hotline="96777"),
            ev("l2", "call.answered", t0, agent="1"),
        ],
    )
    assert [eid for eid, _m in r.rejected] == ["l2"]
