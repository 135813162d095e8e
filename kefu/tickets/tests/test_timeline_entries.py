"""The timeline is written only through the named writers of kefu/tickets/events.py and read through
TimelineEntry: every kind has its reader, and entries read as the work-order page shows them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kefu.tickets import events as timeline
from kefu.tickets import services
from kefu.tickets.events import TimelineEntry
from kefu.tickets.models import TicketEvent


def test_every_kind_has_a_reader():
    assert set(timeline._DESCRIBE) == set(TicketEvent.Kind.values)


def test_only_the_writers_create_timeline_entries():
    root = Path(__file__).resolve().parents[1]
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts or path.name == "events.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"TicketEvent\.objects\.(bulk_)?create|(?<!class )TicketEvent\(", text), path


@pytest.mark.django_db
def test_entries_read_as_one_line(agent_x, make_ticket, dispatcher_x):
    t = make_ticket()
    services.ticket_comment(ticket_id=t.pk, by=agent_x, text="客户下午在家")
    services.ticket_record_contact_attempt(ticket_id=t.pk, by=agent_x, outcome="no_answer", note="第二次")
    services.ticket_transition(ticket_id=t.pk, by=agent_x, to="on_hold", version=1, reason="等客户回电")
    entries = [TimelineEntry(e) for e in t.events.order_by("at", "id")]
    assert [(e.event.kind, e.text) for e in entries] == [
        ("created", ""),
        ("comment", "客户下午在家"),
        ("contact_attempt", "无人接听 · 第二次"),
        ("state_changed", "新建 → 挂起 · 等客户回电 · 其他原因（计时不暂停）"),
    ]
    assert entries[0].label == "创建" and entries[0].attachment_id is None
