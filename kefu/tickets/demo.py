"""Demo work orders for `kefu demo`: a hotline's last few days, made through the same
services the agents use, so the desk, the list, the queues, the board and the timeline show real
records — open and finished, on time and breached, handed over, linked under one leak.

Orders received in the past are recorded by the supervisor as backdated entries (reason "演示数据",
audited like any backdated entry, P1/C15) and then given to the agent or clerk who "took the call"
by a supervisor's reassignment; orders received today are taken by the agent directly. The clocks
start from the received time, so some are due soon and some have breached; a sweep at the end
sends the warnings and breach notices (P9).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kefu.accounts.models import Company, Department, User
from kefu.accounts.roles import Role
from kefu.core.demo import DemoRun
from kefu.customers.models import Customer
from kefu.tickets import services
from kefu.tickets.models import Channel, Ticket, TicketLink

DEMO_REASON = "演示数据：补录的历史来电"


@dataclass(frozen=True)
class Scene:
    """One work order: kind, channel, what the caller said, how long ago it came in, and what has
    happened to it since (the steps, in order)."""

    kind: str
    content: str
    hours_ago: float
    steps: tuple[str, ...] = ()
    channel: str = Channel.HOTLINE
    sub_kind: str | None = None
    taker: str = Role.AGENT


SCENES: tuple[Scene, ...] = (
    # Answered on the call (P3, C15): resolved at first contact.
    Scene(
        "consultation",
        "咨询开户需要带什么材料，已告知身份证和房产证明",
        0,
        ("on_call",),
        sub_kind="installation",
    ),
    Scene("consultation", "询问阶梯气价如何计算，已解释", 0, ("on_call",), sub_kind="billing"),
    Scene(
        "consultation",
        "营业厅咨询过户手续，已当场说明",
        0,
        ("on_call",),
        Channel.COUNTER,
        "other",
        Role.CLERK,
    ),
    Scene("meter_card", "IC卡插入后不能读卡，指导重新插卡后正常", 0, ("on_call",), sub_kind="read_card"),
    Scene("praise", "表扬安检员上门服务热情、讲解仔细", 2, ("reply",)),
    # Open repairs: one just in, one due soon, one past its one-working-day on-site commitment.
    Scene("repair", "燃气表不走字，屏幕无显示", 1, ("assign",), sub_kind="meter"),
    Scene("repair", "热水器打不着火，怀疑进气阀问题", 20, ("assign", "start"), sub_kind="appliance"),
    Scene("repair", "厨房灶具点火后火焰发黄", 80, ("assign",), sub_kind="appliance"),
    Scene(
        "repair",
        "户内管道接口处有轻微锈蚀，要求检查",
        30,
        ("assign", "start", "resolve", "close"),
        sub_kind="indoor_facility",
    ),
    # Emergencies (C: on site within 40 minutes): one on the way, one met, one linked mass incident.
    Scene("emergency", "楼道内有明显燃气味，担心漏气", 0.5, ("assign",), sub_kind="leak"),
    Scene(
        "emergency", "小区东门外施工挖断燃气管道", 6, ("assign", "start", "resolve"), sub_kind="pipe_damage"
    ),
    # Complaints and opinions (C6: answered within 2 working days).
    Scene("complaint", "投诉维修人员上门迟到一个多小时", 26, ("reply",)),
    Scene("complaint", "投诉抄表估抄，本月气费明显偏高", 100, ()),
    Scene("suggestion", "建议增加营业厅周末开放时间", 50, ("reply", "resolve")),
    Scene("installation", "新房申请开通燃气", 28, ("assign",), Channel.COUNTER, taker=Role.CLERK),
    Scene("inspection_appointment", "预约周六上午上门安检", 3, ()),
    Scene("consultation", "小区停气什么时候恢复", 0, ("hand_over",), sub_kind="outage"),
)

LEAK_REPORTS = ("3号楼楼道燃气味很重", "3号楼2单元有人闻到燃气味", "3号楼附近有燃气味，请尽快处理")


def build_demo_tickets(company: Company, *, seed: int = 1, now: datetime | None = None) -> int:
    """The demo work orders of `company` (once: nothing is made when it already has work orders).
    Returns how many were made."""
    if Ticket.objects.filter(company=company).exists():
        return 0
    now = now or timezone.now()
    rnd = random.Random(seed)
    people = {u.role: u for u in User.objects.filter(company=company, is_active=True).order_by("pk")}
    supervisor = people.get(Role.SUPERVISOR)
    if supervisor is None or Role.AGENT not in people:
        return 0
    customers = list(
        Customer.objects.filter(company=company, premise__isnull=False, closed_on__isnull=True)
        .select_related("premise")
        .order_by("pk")[:400]
    )
    made = 0
    with transaction.atomic():
        for scene in SCENES:
            customer = rnd.choice(customers) if customers else None
            ticket = _take(scene, customer, people, supervisor, now)
            _play(ticket, scene, people, supervisor)
            made += 1
        made += _mass_incident(people[Role.AGENT], customers[:1])
    return made


def _take(
    scene: Scene, customer: Customer | None, people: dict[str, User], supervisor: User, now: datetime
) -> Ticket:
    taker = people.get(scene.taker) or people[Role.AGENT]
    past = scene.hours_ago >= 0.5
    by = supervisor if past else taker
    fields = {
        "kind": scene.kind,
        "sub_kind": scene.sub_kind,
        "content": scene.content,
        "channel": scene.channel,
        "on_duplicate": "create",
        "resolved_on_call": "on_call" in scene.steps,
        "answer": scene.content
        if "on_call" in scene.steps
        else "",  # the scene says what the caller was told
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
    if past:
        fields.update(received_at=now - timedelta(hours=scene.hours_ago), backdate_reason=DEMO_REASON)
    ticket = services.ticket_create(by=by, **fields).ticket
    if past and taker.pk != by.pk and ticket.state != "closed":
        ticket = services.ticket_reassign(
            ticket_id=ticket.pk,
            by=supervisor,
            to_user_id=taker.pk,
            reason="演示数据：交还受理人",
            version=ticket.version,
        )
    return ticket


def _play(ticket: Ticket, scene: Scene, people: dict[str, User], supervisor: User) -> None:
    """The steps after the call, each through its service, as the people who would do them."""
    technician = people.get(Role.TECHNICIAN)
    dispatcher = people.get(Role.DISPATCHER) or supervisor
    for step in scene.steps:
        ticket.refresh_from_db()
        if step == "assign":
            dept = Department.objects.filter(
                company_id=ticket.company_id, kind__in=["repair", "emergency"]
            ).first()
            services.ticket_assign(
                ticket_id=ticket.pk,
                by=dispatcher,
                version=ticket.version,
                department_id=dept.pk if dept and not technician else None,
                user_id=technician.pk if technician else None,
                note="演示：派发维修班组",
            )
        elif step in ("start", "resolve"):
            worker = ticket.assigned_to or ticket.owner  # the technician sent, else the owner
            to = "in_progress" if step == "start" else "resolved"
            services.ticket_transition(ticket_id=ticket.pk, by=worker, to=to, version=ticket.version)
        elif step == "close":
            services.ticket_transition(
                ticket_id=ticket.pk, by=supervisor, to="closed", version=ticket.version
            )
        elif step == "reply":
            services.ticket_reply(
                ticket_id=ticket.pk, by=supervisor, text="已向客户说明核实情况并致歉，处理结果将电话回复。"
            )
        elif step == "hand_over" and Role.CLERK in people:
            services.ticket_hand_over(
                ticket_id=ticket.pk,
                by=people[Role.AGENT],
                to_user_id=people[Role.CLERK].pk,
                reason="客户明天来营业厅，请营业员接续答复",
                version=ticket.version,
            )


def _mass_incident(agent: User, customers: list[Customer]) -> int:
    """Several calls about one smell of gas, linked under the first (P: mass incidents)."""
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
    """`kefu demo`, step 30 (kefu.core.demo): a few days of the hotline's work orders, then one clock
    sweep so the warnings and breaches of the past days are already on the queues and in the
    notifications."""
    from kefu.sla.sweep import sweep

    made = build_demo_tickets(run.company, seed=run.options["seed"])
    if made:
        sweep()
    run.summary.append(f"工单 {made} 张")
