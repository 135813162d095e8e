"""Adapters replayed from traces (item 1): Asterisk AMI over a live TCP link with a PBX restart
in the middle (lost link, reconnect), Asterisk queue_log, FreeSWITCH ESL, CDR CSV. Each trace is
the same story; the call must come out the same (rings, offers, who hung up)."""

from __future__ import annotations

import threading

import pytest

from kefu.telephony.adapters.asterisk import translate_ami, translate_queue_log
from kefu.telephony.adapters.cdr import translate_cdr
from kefu.telephony.adapters.common import Lines, agent_of
from kefu.telephony.adapters.freeswitch import translate_esl
from kefu.telephony.adapters.link import AmiProtocol, EslProtocol, LinkConfig, PbxLink
from kefu.telephony.models import Call, CallOffer, HotlineOutage
from kefu.telephony.services import call_events_ingest
from kefu.telephony.tests import traces

pytestmark = pytest.mark.django_db


def _check_story(call: Call, agent2_x, *, recording=True):
    assert call.answered_by == agent2_x and call.status == "ended"
    # queued at +6 s, answered at +24 s: 18 s with a 5 s cycle = 4 rings, beyond the target (C13)
    assert call.rings == 4 and call.within_rings is False
    assert call.hangup_by == "customer" and call.talk_ms == 126_000
    offers = dict(CallOffer.objects.filter(call=call).values_list("agent", "result"))
    assert offers == {"1001": "no_answer", "1002": "answered"}
    assert bool(call.recording_ref) is recording


@pytest.mark.parametrize(
    ("interface", "agent"),
    [
        ("Agent/1001", "1001"),
        ("PJSIP/1001-0000002a", "1001"),
        ("1001@default", "1001"),
        ("Local/1001@agents/n", "1001"),
    ],
)
def test_agent_ids(interface, agent):
    assert agent_of(interface) == agent


def test_ami_live_link_with_a_pbx_restart(feed_x, hotline_x, seats, agent2_x):
    first = "".join(traces.ami_call()).encode()
    second = "".join(traces.ami_call_end()).encode()
    server = traces.ScriptedServer("ami", [first, second])
    link = PbxLink(
        AmiProtocol(Lines.for_company(hotline_x.company)),
        LinkConfig("127.0.0.1", server.port, "kefu", "s3cret", retry_seconds=0),
        lambda evs: call_events_ingest(by=feed_x, events=evs, source="ami"),
        name="ami",
    )
    link.run(threading.Event(), max_connects=2)
    assert link.connects == 2 and b"Username: kefu" in server.logins[0]
    call = Call.objects.get(call_id="1773108000.101")
    _check_story(call, agent2_x)
    assert call.ivr_path == "ivr-main/s"
    # the restart: one period out of service closed at the reconnect, one still open at the end
    periods = list(HotlineOutage.objects.filter(hotline=hotline_x, cause="pbx_link").order_by("started_at"))
    assert len(periods) == 2 and periods[0].ended_at is not None and periods[1].ended_at is None


def test_ami_trace_replayed_twice_is_the_same_call(feed_x, hotline_x, seats, agent2_x):
    text = "".join(traces.ami_call() + traces.ami_call_end())
    lines = Lines.for_company(hotline_x.company)
    r1 = call_events_ingest(by=feed_x, events=translate_ami(text, lines))
    r2 = call_events_ingest(by=feed_x, events=translate_ami(text, lines))
    assert r1.rejected == [] and r2.accepted == 0 and r2.duplicates == r1.accepted
    _check_story(Call.objects.get(), agent2_x)


def test_queue_log(feed_x, hotline_x, seats, agent2_x):
    events = translate_queue_log(traces.QUEUE_LOG.splitlines(), Lines.for_company(hotline_x.company))
    r = call_events_ingest(by=feed_x, events=events)
    assert r.rejected == []
    _check_story(Call.objects.get(call_id="1773108000.101"), agent2_x, recording=False)
    abandoned = Call.objects.get(call_id="1773108200.5")
    assert (abandoned.status, abandoned.abandon_reason, abandoned.wait_ms) == (
        "abandoned",
        "in_queue",
        40_000,
    )


def test_freeswitch_esl_live_link(feed_x, hotline_x, seats, agent2_x):
    server = traces.ScriptedServer("esl", [b"".join(traces.esl_call()), b"".join(traces.esl_call_end())])
    link = PbxLink(
        EslProtocol(Lines.for_company(hotline_x.company)),
        LinkConfig("127.0.0.1", server.port, secret="ClueCon", retry_seconds=0),
        lambda evs: call_events_ingest(by=feed_x, events=evs, source="esl"),
        name="esl",
    )
    link.run(threading.Event(), max_connects=2)
    assert server.logins[0].startswith(b"auth ClueCon")
    call = Call.objects.get(call_id="7f4de4bc-0b6f-4b8e-9c4b-2b1c2f8a0001")
    assert call.queued_at is not None
    # ESL's trace starts at the queue (+6 s): same 18 s to the answer
    _check_story(call, agent2_x)


def test_freeswitch_trace_file(feed_x, hotline_x, seats, agent2_x):
    data = b"".join(traces.esl_call() + traces.esl_call_end())
    r = call_events_ingest(by=feed_x, events=translate_esl(data, Lines.for_company(hotline_x.company)))
    assert r.rejected == []
    _check_story(Call.objects.get(), agent2_x)


def test_cdr_import_without_rings_and_a_negative_duration(feed_x, hotline_x, seats):
    events, problems = translate_cdr(traces.CDR_ROWS, Lines.for_company(hotline_x.company))
    r = call_events_ingest(by=feed_x, events=events)
    assert problems == []
    assert [eid for eid, _m in r.rejected] == ["cdr:c-3:end"]
    c1 = Call.objects.get(call_id="c-1")
    assert c1.answered_at is not None and c1.rings is None and c1.within_rings is None  # K14 falls back
    assert Call.objects.get(call_id="c-2").status == "abandoned"
