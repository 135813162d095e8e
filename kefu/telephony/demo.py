"""Demo calls and chats for `kefu demo` (step 40): the company's service and emergency hotlines, the
agents' seats, three days of calls sent through the same ingest as a PBX (some answered within 3
rings, some beyond, some abandoned, one transferred, one waiting now), a chat with a bot hand-off,
a manual out-of-service period, and a call transcript — so the console, wallboard, calls and
indicators pages show real records."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRun
from kefu.telephony import services
from kefu.telephony.models import AgentProfile, Call, Hotline
from kefu.telephony.states import ChatSender, TranscriptSource

CALLERS = ("13805381234", "13905382345", "15205383456", "05386201234", "18605384567", "13605385678")


def build_demo_calls(company, *, seed: int = 1, days: int = 3, per_day: int = 40) -> int:
    """Make the demo's hotlines, seats and calls; returns the number of calls made (0 if they exist)."""
    if Call.objects.filter(company=company).exists():
        return 0
    rnd = random.Random(seed)
    number = (company.hotline or "96777").replace("-", "")
    service, _c = Hotline.objects.get_or_create(
        number=number,
        defaults={"company": company, "name": "服务热线", "queue": "service", "is_emergency": True},
    )
    feed = User.objects.filter(
        company=company, role__in=[Role.SUPERVISOR, Role.MANAGER], is_active=True
    ).first()
    agents = list(
        User.objects.filter(
            company=company, role__in=[Role.AGENT, Role.TEAM_LEAD, Role.DISPATCHER], is_active=True
        )
    )
    if feed is None or not agents:
        return 0
    for i, a in enumerate(agents, 1):
        AgentProfile.objects.get_or_create(
            user=a, defaults={"company": company, "pbx_agent": f"80{i:02d}", "queues": "service"}
        )
    ids = {a.pk: f"80{i:02d}" for i, a in enumerate(agents, 1)}
    now = timezone.now()
    events: list[dict] = []
    made = 0
    for d in range(days, -1, -1):
        n = per_day if d else max(5, per_day // 2)
        for k in range(n):
            start = now - timedelta(days=d, minutes=rnd.randint(5, 8 * 60))
            if start >= now - timedelta(minutes=4):
                continue
            events += _call(rnd, f"demo-{d}-{k}", start, number, [ids[a.pk] for a in agents])
            made += 1
    # one caller waiting right now
    events += [
        _e(
            "demo-wait-1",
            "call.started",
            now - timedelta(seconds=25),
            "demo-wait",
            hotline=number,
            caller=CALLERS[0],
        ),
        _e("demo-wait-2", "call.queued", now - timedelta(seconds=20), "demo-wait", queue="service"),
    ]
    for i in range(0, len(events), 1000):
        services.call_events_ingest(by=feed, events=events[i : i + 1000], source="demo")
    for a in agents:
        services.agent_state_set(by=a, state=rnd.choice(["ready", "ready", "not_ready"]), reason="break")
    first = Call.objects.filter(company=company, answered_at__isnull=False).order_by("-started_at").first()
    if first is not None:
        services.transcript_store(
            by=feed,
            call_id=first.call_id,
            source=TranscriptSource.ASR,
            text="坐席：您好，X燃气公司，请问有什么可以帮您？\n客户：我家燃气表不走字了。\n坐席：好的，请问您贵姓？",
        )
    start = now - timedelta(days=1, hours=3)
    services.outage_record(
        by=feed,
        hotline_id=service.pk,
        started_at=start,
        ended_at=start + timedelta(minutes=12),
        note="演示：中继线路故障，电信抢修",
    )
    chat = services.chat_start(company=company, contact=CALLERS[1], bot=True, at=now - timedelta(minutes=30))
    services.chat_post(
        session=chat,
        sender=ChatSender.CUSTOMER,
        text="你好，我想问一下开户流程",
        at=now - timedelta(minutes=30),
    )
    services.chat_post(
        session=chat,
        sender=ChatSender.BOT,
        text="您好，我是智能客服，正在为您转接人工。",
        at=now - timedelta(minutes=30, seconds=-2),
    )
    services.chat_handoff(session=chat, at=now - timedelta(minutes=29, seconds=50))
    services.chat_post(
        session=chat,
        sender=ChatSender.AGENT,
        by=agents[0],
        text="您好，X燃气在线客服，很高兴为您服务。",
        at=now - timedelta(minutes=29, seconds=42),
    )
    services.chat_post(
        session=chat, sender=ChatSender.CUSTOMER, text="开户要带什么？", at=now - timedelta(minutes=29)
    )
    services.chat_post(
        session=chat,
        sender=ChatSender.AGENT,
        by=agents[0],
        text="请带身份证和房产证明到营业厅办理。",
        at=now - timedelta(minutes=28, seconds=45),
    )
    services.chat_close(session=chat, at=now - timedelta(minutes=27))
    waiting = services.chat_start(company=company, contact="", at=now - timedelta(seconds=8))
    services.chat_post(
        session=waiting,
        sender=ChatSender.CUSTOMER,
        text="家里有燃气味怎么办？",
        at=now - timedelta(seconds=6),
    )
    return made


def _e(eid, kind, at, call, **data) -> dict:
    return {"event_id": eid, "type": kind, "at": at, "call_id": call, **data}


def _call(rnd: random.Random, cid: str, start, number: str, agents: list[str]) -> list[dict]:
    s = lambda sec: start + timedelta(seconds=sec)  # noqa: E731
    ev = [
        _e(f"{cid}-s", "call.started", start, cid, hotline=number, caller=rnd.choice(CALLERS)),
        _e(f"{cid}-i", "call.ivr", s(1), cid, node="main/1"),
        _e(f"{cid}-q", "call.queued", s(5), cid, queue="service"),
    ]
    fate = rnd.random()
    a, b = rnd.sample(agents, 2) if len(agents) > 1 else (agents[0], agents[0])
    if fate < 0.08:  # abandoned in the queue, some of them short
        return ev + [_e(f"{cid}-x", "call.abandoned", s(5 + rnd.choice([2, 20, 45])), cid, reason="in_queue")]
    t = 5 + rnd.randint(0, 2)
    if fate < 0.2:  # ring-no-answer, then the next agent
        ev += [
            _e(f"{cid}-o1", "call.offered", s(t), cid, agent=a),
            _e(f"{cid}-n1", "call.offer_ended", s(t + 15), cid, agent=a, result="no_answer"),
        ]
        t += 16
        a = b
    ring = rnd.choice([2, 4, 6, 8, 9, 12, 14, 18])
    talk = rnd.randint(40, 320)
    ev += [
        _e(f"{cid}-o", "call.offered", s(t), cid, agent=a),
        _e(f"{cid}-a", "call.answered", s(t + ring), cid, agent=a),
        _e(f"{cid}-r", "call.recording", s(t + ring), cid, ref=f"demo/{cid}.wav"),
    ]
    if fate > 0.95:
        ev.append(_e(f"{cid}-t", "call.transferred", s(t + ring + 30), cid, agent=a, to="emergency"))
    ev.append(
        _e(f"{cid}-e", "call.ended", s(t + ring + talk), cid, hangup_by="agent" if fate > 0.9 else "customer")
    )
    return ev


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 40: calls, seats and chats of the demo company."""
    if run.company is None:
        return
    made = build_demo_calls(run.company, seed=run.options.get("seed") or 1)
    run.summary.append(f"通话 {made} 通")
