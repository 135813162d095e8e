"""A reply to the customer publishes TicketReplied after the commit (issue 3 §4; C6, C14: the
"reply within N working days" clocks stop on it). Tested with a listener of the test's own, not
with the clocks."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from django.db import transaction

from kefu.core import events
from kefu.core.errors import DomainError
from kefu.tickets import services
from kefu.tickets.facts import TicketReplied
from kefu.tickets.models import TicketEvent


class Recorder:
    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, event):
        self.calls.append(asdict(event))


@pytest.fixture
def replied():
    rec = Recorder()
    events.subscribe(TicketReplied, rec, catch_up="none: a test listener")
    yield rec
    events.unsubscribe(TicketReplied, rec)


@pytest.mark.django_db
def test_reply_fires_on_commit_only(replied, agent_x, make_ticket, django_capture_on_commit_callbacks):
    t = make_ticket(kind="complaint", content="抄表员态度不好")
    with django_capture_on_commit_callbacks(execute=True):
        event = services.ticket_reply(ticket_id=t.pk, by=agent_x, text="已核实并致歉", via="sms")
        assert replied.calls == []  # not before the commit
    assert replied.calls == [{"ticket_id": t.pk, "at": event.at, "event_id": event.pk, "via": "sms"}]
    assert TicketEvent.objects.get(pk=event.pk).kind == "reply"
    assert event.at.tzinfo is not None


@pytest.mark.django_db
def test_no_hook_when_the_reply_is_refused_or_rolled_back(
    replied, agent_x, technician_x, make_ticket, django_capture_on_commit_callbacks
):
    t = make_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(DomainError):
            services.ticket_reply(ticket_id=t.pk, by=agent_x, text="   ")
        with pytest.raises(DomainError):  # not the owner, not assigned: not visible to a technician
            services.ticket_reply(ticket_id=t.pk, by=technician_x, text="答复")
        with pytest.raises(RuntimeError), transaction.atomic():
            services.ticket_reply(ticket_id=t.pk, by=agent_x, text="答复")
            raise RuntimeError("the caller's transaction fails after the reply")
    assert replied.calls == []
    assert not t.events.filter(kind="reply").exists()


@pytest.mark.django_db
def test_answer_on_the_call_is_not_a_second_reply(
    replied, agent_x, make_ticket, django_capture_on_commit_callbacks
):
    """A consultation created resolved on the call records its answer as a reply event, but the
    state `resolved` already stands for the reply (kefu.tickets.clocks emits ticket.replied from it):
    publishing TicketReplied as well would stop the same clocks twice."""
    with django_capture_on_commit_callbacks(execute=True):
        t = make_ticket(resolved_on_call=True, answer="带身份证和房产证到营业厅办理")
    assert t.state == "resolved" and t.events.filter(kind="reply").exists()
    assert replied.calls == []


@pytest.mark.django_db
def test_a_failing_listener_does_not_break_the_reply(
    replied, agent_x, make_ticket, django_capture_on_commit_callbacks
):
    def broken(event):
        raise ValueError("listener bug")

    events.subscribe(TicketReplied, broken, catch_up="none: a test listener")
    try:
        t = make_ticket()
        with django_capture_on_commit_callbacks(execute=True):
            event = services.ticket_reply(ticket_id=t.pk, by=agent_x, text="已答复")
    finally:
        events.unsubscribe(TicketReplied, broken)
    assert TicketEvent.objects.filter(pk=event.pk).exists()
    assert [c["event_id"] for c in replied.calls] == [event.pk]


@pytest.mark.django_db(transaction=True)
def test_listener_sees_the_committed_reply(agent_x, make_ticket):
    """With a real commit: the listener runs after it and can read the reply from the database."""
    seen = []

    def listener(event):
        seen.append(
            TicketEvent.objects.filter(
                pk=event.event_id, ticket_id=event.ticket_id, kind="reply", at=event.at
            ).exists()
        )

    events.subscribe(TicketReplied, listener, catch_up="none: a test listener")
    try:
        t = make_ticket()
        services.ticket_reply(ticket_id=t.pk, by=agent_x, text="已安排明天上门")
    finally:
        events.unsubscribe(TicketReplied, listener)
    assert seen == [True]
