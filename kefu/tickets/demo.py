"""Demo work orders for `kefu demo`: a hotline's last few days, played through the same services
the agents use, at the times they happened (kefu.core.demo.SimulatedClock), so the desk, the
list, the queues, the board and the timeline show records that tell the truth:

- each work order is taken by the agent (or the counter clerk) at its received time, so its number
  carries its own day (GD<day>-<seq>) and nothing is a backdated entry;
- each kind is dispatched to the department and team that does the work (repairs and appliances to
  维修 / 维修一班 and its technician, alarms to 抢险 / 抢险一班, installations to 工程, inspection
  appointments to 安检 / 安检一组);
- the work is started, resolved, closed and answered minutes or hours later, so every clock stops at
  a realistic time; the clock sweep runs at the moments the worker would have run it (warnings,
  breaches and escalations at their times);
- one repair is on hold because the customer asked for another time: its clocks are paused (C4).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from kefu.accounts.models import Company, Department, Team, User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRun, SimulatedClock
from kefu.customers.models import Customer
from kefu.tickets import services
from kefu.tickets.models import Channel, Ticket, TicketLink

#: kind → (department code, team name) that does the work (P5: repairs and alarms go there at once).
DISPATCH: dict[str, tuple[str, str]] = {
    "repair": ("repair", "维修一班"),
    "appliance": ("repair", "维修一班"),
    "emergency": ("emergency", "抢险一班"),
    "installation": ("engineering", ""),
    "inspection_appointment": ("inspection", "安检一组"),
}


@dataclass(frozen=True)
class Scene:
    """One work order: kind, channel, what the caller said, how long ago it came in, and what has
    happened to it since — (step, minutes after it came in), in order. A step whose time has not
    come yet is not played."""

    kind: str
    content: str
    hours_ago: float
    steps: tuple[tuple[str, int], ...] = ()
    channel: str = Channel.HOTLINE
    sub_kind: str | None = None
    taker: str = Role.AGENT


SCENES: tuple[Scene, ...] = (
    # Answered on the call (P3, C15): resolved at first contact.
    Scene(
        "consultation",
        "咨询开户需要带什么材料，已告知身份证和房产证明",
        0.4,
        (("on_call", 0),),
        sub_kind="installation",
    ),
    Scene("consultation", "询问阶梯气价如何计算，已解释", 1.2, (("on_call", 0),), sub_kind="billing"),
    Scene(
        "consultation",
        "营业厅咨询过户手续，已当场说明",
        2.5,
        (("on_call", 0),),
        Channel.COUNTER,
        "other",
        Role.CLERK,
    ),
    Scene(
        "meter_card", "IC卡插入后不能读卡，指导重新插卡后正常", 26, (("on_call", 0),), sub_kind="read_card"
    ),
    Scene("praise", "表扬安检员上门服务热情、讲解仔细", 3, (("reply", 25),)),
    # Repairs (C4: handled within 6 h, repaired within 24 h): just in; started but late; done in time.
    Scene("repair", "燃气表不走字，屏幕无显示", 1, (("assign", 6),), sub_kind="meter"),
    Scene(
        "repair", "热水器打不着火，怀疑进气阀问题", 20, (("assign", 12), ("start", 95)), sub_kind="appliance"
    ),
    Scene(
        "repair",
        "厨房灶具点火后火焰发黄",
        80,
        (("assign", 15), ("start", 110), ("resolve", 230), ("close", 1560)),
        sub_kind="appliance",
    ),
    Scene(
        "repair",
        "户内管道接口处有轻微锈蚀，要求检查",
        30,
        (("assign", 10), ("start", 85), ("resolve", 170), ("close", 1200)),
        sub_kind="indoor_facility",
    ),
    # C4 "除和客户另有约定外": the customer asked for tomorrow afternoon — the clocks are paused.
    Scene(
        "repair",
        "壁挂炉报故障，客户白天上班，要求明天下午上门",
        5,
        (("assign", 8), ("hold_agreed", 40)),
        sub_kind="appliance",
    ),
    # Alarms (C3: a pipeline fault repaired within 4 h): one on the way, one repaired in time.
    Scene("emergency", "楼道内有明显燃气味，担心漏气", 0.5, (("assign", 2),), sub_kind="leak"),
    Scene(
        "emergency",
        "小区东门外施工挖断燃气管道",
        9,
        (("assign", 3), ("start", 28), ("resolve", 175)),
        sub_kind="pipe_damage",
    ),
    # Complaints and opinions (C6: answered within 72 h).
    Scene("complaint", "投诉维修人员上门迟到一个多小时", 26, (("reply", 1150),)),
    Scene("complaint", "投诉抄表估抄，本月气费明显偏高", 100, ()),
    Scene("suggestion", "建议增加营业厅周末开放时间", 50, (("reply", 300), ("resolve", 310))),
    Scene("installation", "新房申请开通燃气", 28, (("assign", 35),), Channel.COUNTER, taker=Role.CLERK),
    Scene("inspection_appointment", "预约周六上午上门安检", 3, (("assign", 20),)),
    # A consultation that needs an answer from another department (C14: 2 working days).
    Scene("consultation", "咨询小区什么时候恢复供气", 0.2, (("hand_over", 5),), sub_kind="outage"),
)

LEAK_REPORTS = ("3号楼楼道燃气味很重", "3号楼2单元有人闻到燃气味", "3号楼附近有燃气味，请尽快处理")


@dataclass
class _Cast:
    people: dict[str, User]
    supervisor: User
    departments: dict[str, Department]
    teams: dict[str, Team]


def build_demo_tickets(company: Company, *, seed: int = 1, now: datetime | None = None) -> int:
    """The demo work orders of `company` (once: nothing is made when it already has work orders),
    played in the order they happened with the sweep between. Returns how many were made."""
    if Ticket.objects.filter(company=company).exists():
        return 0
    now = now or timezone.now()
    rnd = random.Random(seed)
    people = {u.role: u for u in User.objects.filter(company=company, is_active=True).order_by("pk")}
    supervisor = people.get(Role.SUPERVISOR)
    if supervisor is None or Role.AGENT not in people:
        return 0
    cast = _Cast(
        people=people,
        supervisor=supervisor,
        departments={d.code: d for d in Department.objects.filter(company=company, is_active=True)},
        teams={t.name: t for t in Team.objects.filter(company=company, is_active=True)},
    )
    customers = list(
        Customer.objects.filter(company=company, premise__isnull=False, closed_on__isnull=True)
        .select_related("premise")
        .order_by("pk")[:400]
    )
    # Every action of every scene, in the order it happened.
    actions: list[tuple[datetime, int, int, str]] = []
    for i, scene in enumerate(SCENES):
        received = now - timedelta(hours=scene.hours_ago)
        actions.append((received, i, -1, "create"))
        for j, (step, minutes) in enumerate(scene.steps):
            if step == "on_call":
                continue
            at = received + timedelta(minutes=minutes)
            if at <= now:
                actions.append((at, i, j, step))
    actions.append((now - timedelta(minutes=12), len(SCENES), -1, "mass_incident"))
    actions.sort()
    tickets: dict[int, Ticket] = {}
    clock = SimulatedClock(actions[0][0])
    made = 0
    with clock.running():
        for at, i, _j, step in actions:
            _sweep_until(clock, at)
            clock.at = at
            if step == "mass_incident":
                made += _mass_incident(cast.people[Role.AGENT], customers[:1])
            elif step == "create":
                customer = rnd.choice(customers) if customers else None
                tickets[i] = _take(SCENES[i], customer, cast)
                made += 1
            else:
                _act(tickets[i], step, cast, now=at)
        _sweep_until(clock, now)
        clock.at = now
    return made


def _sweep_until(clock: SimulatedClock, until: datetime) -> None:
    """Run the clock sweep at each moment before `until` at which the worker (every minute) would
    have found something to do: a warning, a breach or an escalation falling due."""
    from django.db.models import Min, Q

    from kefu.sla.models import Clock
    from kefu.sla.states import ClockState
    from kefu.sla.sweep import sweep

    while True:
        due = Clock.objects.filter(
            Q(state=ClockState.RUNNING, warned_at__isnull=True, warn_at__gte=clock.at)
            | Q(state=ClockState.RUNNING, due_at__gte=clock.at)
            | Q(state=ClockState.BREACHED, escalation_level=1, escalate_at__gte=clock.at)
        ).aggregate(w=Min("warn_at", filter=Q(warned_at__isnull=True)), d=Min("due_at"), e=Min("escalate_at"))
        moments = [m for m in (due["w"], due["d"], due["e"]) if m is not None and m >= clock.at]
        if not moments:
            return
        at = min(moments) + timedelta(minutes=1)  # the next run of the every-minute worker
        if at >= until:
            return
        clock.at = at
        sweep(now=at, attach=False)


def _take(scene: Scene, customer: Customer | None, cast: _Cast) -> Ticket:
    """The call (or visit) is taken by the agent or clerk at its time: the number is that day's."""
    taker = cast.people.get(scene.taker) or cast.people[Role.AGENT]
    on_call = any(step == "on_call" for step, _m in scene.steps)
    fields = {
        "kind": scene.kind,
        "sub_kind": scene.sub_kind,
        "content": scene.content,
        "channel": scene.channel,
        "on_duplicate": "create",
        "resolved_on_call": on_call,
        "answer": scene.content if on_call else "",  # the scene says what the caller was told
    }
    if customer is not None:
        fields["customer_id"] = customer.pk
    else:
        fields.update(
            caller_surname="王",
            caller_title="mr",
            caller_phone="13805381234",
            address="泰山花园1号楼1单元101室",
        )
    return services.ticket_create(by=taker, **fields).ticket


def _act(ticket: Ticket, step: str, cast: _Cast, *, now: datetime) -> None:
    """One step after the call, through its service, as the person who would do it."""
    ticket.refresh_from_db()
    people = cast.people
    dispatcher = people.get(Role.DISPATCHER) or cast.supervisor
    if step == "assign":
        dept_code, team_name = DISPATCH.get(ticket.kind.code, ("repair", ""))
        dept = cast.departments.get(dept_code)
        team = cast.teams.get(team_name) if team_name else None
        technician = people.get(Role.TECHNICIAN)
        person = (
            technician if technician is not None and technician.team_id == getattr(team, "pk", -1) else None
        )
        services.ticket_assign(
            ticket_id=ticket.pk,
            by=dispatcher,
            version=ticket.version,
            department_id=dept.pk if dept else None,
            team_id=team.pk if team else None,
            user_id=person.pk if person else None,
            note=f"派{dept.name if dept else ''}{team.name if team else ''}处理",
        )
    elif step in ("start", "resolve"):
        worker = ticket.assigned_to or ticket.owner  # the technician sent, else the owner
        to = "in_progress" if step == "start" else "resolved"
        services.ticket_transition(ticket_id=ticket.pk, by=worker, to=to, version=ticket.version)
    elif step == "close":  # the owner confirms with the customer (P1)
        services.ticket_transition(ticket_id=ticket.pk, by=ticket.owner, to="closed", version=ticket.version)
    elif step == "reply":
        services.ticket_reply(
            ticket_id=ticket.pk, by=ticket.owner, text="已向客户说明核实情况并致歉，处理结果将电话回复。"
        )
    elif step == "hold_agreed":
        tomorrow = timezone.localtime(now) + timedelta(days=1)
        services.ticket_transition(
            ticket_id=ticket.pk,
            by=dispatcher,
            to="on_hold",
            version=ticket.version,
            reason="客户另约明天下午上门",
            hold_reason="customer_requested_time",
            agreed_at=tomorrow.replace(hour=14, minute=0, second=0, microsecond=0),
        )
    elif step == "hand_over" and Role.CLERK in people:
        services.ticket_hand_over(
            ticket_id=ticket.pk,
            by=ticket.owner,
            to_user_id=people[Role.CLERK].pk,
            reason="客户明天来营业厅，请营业员接续答复",
            version=ticket.version,
        )


def _mass_incident(agent: User, customers: list[Customer]) -> int:
    """Several calls about one smell of gas within minutes, linked under the first (mass incident)."""
    parent = None
    for i, text in enumerate(LEAK_REPORTS):
        ticket = services.ticket_create(
            by=agent,
            kind="emergency",
            sub_kind="leak",
            content=text,
            on_duplicate="create",
            caller_surname="李张赵"[i],
            caller_title="ms",
            caller_phone=f"1390538{i:04d}",
            address=customers[0].premise.address if customers else "幸福小区3号楼",
        ).ticket
        if parent is None:
            parent = ticket
        else:
            services.ticket_link(
                ticket_id=ticket.pk, by=agent, target_id=parent.pk, kind=TicketLink.Kind.CHILD_OF
            )
    return len(LEAK_REPORTS)


def demo_step(run: DemoRun) -> None:
    """`kefu demo`, step 30 (kefu.core.demo): a few days of the hotline's work orders, each at its
    time, with the clock sweep run as the worker would have run it."""
    made = build_demo_tickets(run.company, seed=run.options["seed"])
    run.summary.append(f"工单 {made} 张")
