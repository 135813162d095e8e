"""The audit log an auditor reads (S3): every action in words with the person's name, searchable by
person, object and action, and a work order's whole life in it — written by the timeline writers in
the same transaction as the timeline entry."""

from __future__ import annotations

import csv
import io

import pytest

from kefu.accounts.audit import ACTION_LABELS, Action, action_label, describe_detail
from kefu.accounts.models import AuditEvent
from kefu.accounts.tests.conftest import verified_client
from kefu.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_every_action_has_a_description():
    """One table next to the actions: no action of the class Action without its words."""
    codes = [v for k, v in vars(Action).items() if k.isupper() and isinstance(v, str)]
    missing = [c for c in codes if c not in ACTION_LABELS]
    assert not missing
    assert action_label("ticket.closed") == "关闭工单" and action_label("no.such") == "no.such"


def test_detail_reads_as_words_not_a_dict():
    line = describe_detail(
        {
            "reason": "客户另约明天下午",
            "rows": 3,
            "unmasked": False,
            "changes": {"role": ["agent", "supervisor"]},
        }
    )
    assert line == "原因：客户另约明天下午；行数：3；完整信息：否；变更：role：agent → supervisor"
    assert "{" not in line


@pytest.fixture
def leak_life(company_x, agent_x):
    """A leak received by 李娜, dispatched, handed over, worked, answered and closed."""
    from kefu.tickets import services
    from kefu.tickets.models import Ticket
    from kefu.tickets.tests.factories import TicketFactory

    agent_x.full_name = "李娜"
    agent_x.save(update_fields=["full_name"])
    dispatcher = UserFactory(company=company_x, role="dispatcher", username="disp_audit", full_name="赵调度")
    colleague = UserFactory(company=company_x, role="agent", username="agent_audit2", full_name="王芳")
    t = TicketFactory(
        by=agent_x,
        kind="emergency",
        sub_kind="leak",
        content="楼道有煤气味",
        address="幸福小区1号楼1单元101室",
    )

    def v():
        return Ticket.objects.get(pk=t.pk).version

    services.ticket_assign(
        ticket_id=t.pk, by=dispatcher, version=v(), department_id=None, user_id=dispatcher.pk, note="马上去"
    )
    ho = services.ticket_hand_over(
        ticket_id=t.pk, by=agent_x, to_user_id=colleague.pk, reason="下班交接", version=v()
    )
    services.ticket_accept_hand_over(hand_over_id=ho.pk, by=colleague)
    services.ticket_transition(
        ticket_id=t.pk, by=dispatcher, to="in_progress", version=v(), reason="", cancel_reason=""
    )
    services.ticket_reply(ticket_id=t.pk, by=colleague, text="已关阀，正在检修", via="hotline")
    services.ticket_transition(
        ticket_id=t.pk, by=dispatcher, to="resolved", version=v(), reason="更换了接头", cancel_reason=""
    )
    services.ticket_transition(
        ticket_id=t.pk, by=colleague, to="closed", version=v(), reason="客户确认", cancel_reason=""
    )
    return Ticket.objects.get(pk=t.pk)


def test_a_work_orders_life_is_in_the_audit_log(leak_life):
    rows = list(
        AuditEvent.objects.filter(object_type="tickets.ticket", object_id=str(leak_life.pk)).order_by("id")
    )
    actions = [r.action for r in rows]
    assert actions == [
        "ticket.created",
        "ticket.assigned",
        "ticket.state_changed",
        "ticket.handed_over",
        "ticket.hand_over_accepted",
        "ticket.started",
        "ticket.replied",
        "ticket.resolved",
        "ticket.closed",
    ]
    timeline = list(leak_life.events.order_by("id"))
    assert len(timeline) == len(rows)
    for row, entry in zip(
        rows, timeline, strict=True
    ):  # one audit row per timeline entry, same person, same object
        assert row.actor_id == entry.actor_id and row.object_repr == leak_life.number
        assert row.company_id == leak_life.company_id
    closed = rows[-1]
    assert closed.actor.full_name == "王芳" and "客户确认" in describe_detail(closed.detail)


def test_audit_row_shares_the_timeline_entrys_transaction(agent_x):
    """A write that fails after its timeline entry leaves neither the entry nor the audit row."""
    from django.db import transaction

    from kefu.tickets import events as timeline
    from kefu.tickets.tests.factories import TicketFactory

    t = TicketFactory(by=agent_x)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        timeline.comment(t, agent_x, text="写了一半")
        raise RuntimeError("the service fails after writing")
    assert AuditEvent.objects.count() == before and not t.events.filter(kind="comment").exists()


def test_auditor_answers_who_closed_this_leak(client, auditor_x, leak_life):
    verified_client(client, auditor_x)
    r = client.get("/accounts/audit/", {"obj": leak_life.number, "action": "ticket.closed"})
    assert r.status_code == 200
    rows = list(r.context["page"])
    assert len(rows) == 1
    html = r.content.decode()
    assert "王芳（agent_audit2）" in html and "关闭工单" in html and "客户确认" in html
    assert "{&#x27;" not in html and "{'" not in html  # no Python dict on the page
    # by person (the name, not only the login) and every work-order action of the object
    r = client.get("/accounts/audit/", {"actor": "赵调度", "action": "ticket."})
    assert {e.action for e in r.context["page"]} == {
        "ticket.assigned",
        "ticket.state_changed",
        "ticket.started",
        "ticket.resolved",
    }
    r = client.get("/accounts/audit/", {"obj": leak_life.number})
    assert r.context["page"].paginator.count == 9
    # the CSV names the person and the action in words as well
    r = client.get("/accounts/audit/export.csv", {"obj": leak_life.number, "action": "ticket.closed"})
    text = b"".join(r.streaming_content).decode("utf-8").lstrip("\ufeff")
    # the rows after the watermark lines (kefu.exports)
    lines = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("# ")]
    assert lines[1][2] == "王芳（agent_audit2）" and lines[1][10] == "关闭工单" and "客户确认" in lines[1][11]
