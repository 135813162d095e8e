"""The transition table (kefu.tickets.states) as a table test: every allowed and every refused move."""

from __future__ import annotations

import itertools

import pytest

from kefu.core.errors import DomainError
from kefu.tickets.models import Ticket, TicketEvent
from kefu.tickets.services import ticket_transition
from kefu.tickets.states import FINAL_STATES, REASON_REQUIRED, TRANSITIONS, TicketState, can_move

ALL = list(TicketState.values)
PAIRS = list(itertools.product(ALL, ALL))


def test_table_covers_every_state():
    assert set(TRANSITIONS) == set(ALL)
    for targets in TRANSITIONS.values():
        assert targets <= set(ALL)
    for final in FINAL_STATES:
        assert TRANSITIONS[final] == frozenset()


def test_main_path_is_allowed():
    path = ["new", "assigned", "in_progress", "resolved", "closed"]
    for a, b in zip(path, path[1:]):
        assert can_move(a, b)


@pytest.mark.django_db
@pytest.mark.parametrize("source,target", PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_move(source, target, agent_x, make_ticket):
    """P1/P3: each pair either moves (with a state_changed event) or is refused with a clear message."""
    t = make_ticket()
    Ticket.objects.filter(pk=t.pk).update(state=source)
    before = TicketEvent.objects.filter(ticket=t).count()
    kwargs = {"reason": "客户要求", "cancel_reason": "withdrawn"}
    if can_move(source, target):
        out = ticket_transition(ticket_id=t.pk, by=agent_x, to=target, version=t.version, **kwargs)
        assert out.state == target
        assert out.version == t.version + 1
        ev = TicketEvent.objects.filter(ticket=t).order_by("-id").first()
        assert ev.kind == "state_changed" and ev.payload["from"] == source and ev.payload["to"] == target
    else:
        with pytest.raises(DomainError) as exc:
            ticket_transition(ticket_id=t.pk, by=agent_x, to=target, version=t.version, **kwargs)
        assert exc.value.code == "illegal_transition"
        assert "不能改为" in exc.value.message
        t.refresh_from_db()
        assert t.state == source
        assert TicketEvent.objects.filter(ticket=t).count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("target", sorted(REASON_REQUIRED))
def test_reason_required(target, agent_x, make_ticket):
    t = make_ticket()
    source = "resolved" if target == "reopened" else "in_progress"
    Ticket.objects.filter(pk=t.pk).update(state=source)
    with pytest.raises(DomainError) as exc:
        ticket_transition(
            ticket_id=t.pk, by=agent_x, to=target, version=t.version, reason=" ", cancel_reason="invalid"
        )
    assert exc.value.field == "reason"


@pytest.mark.django_db
def test_cancel_needs_a_cancel_reason(agent_x, make_ticket):
    t = make_ticket()
    with pytest.raises(DomainError) as exc:
        ticket_transition(ticket_id=t.pk, by=agent_x, to="cancelled", version=t.version, reason="打错了")
    assert exc.value.field == "cancel_reason"
    out = ticket_transition(
        ticket_id=t.pk,
        by=agent_x,
        to="cancelled",
        version=t.version,
        reason="打错了",
        cancel_reason="invalid",
    )
    assert out.cancel_reason == "invalid" and out.closed_at is not None


@pytest.mark.django_db
def test_unknown_state_refused(agent_x, make_ticket):
    t = make_ticket()
    with pytest.raises(DomainError) as exc:
        ticket_transition(ticket_id=t.pk, by=agent_x, to="exploded", version=t.version)
    assert exc.value.field == "to"


@pytest.mark.django_db
@pytest.mark.parametrize("source", ALL)
def test_the_pages_offer_exactly_the_moves_the_service_allows(
    source, agent_x, agent2_x, technician_x, dispatcher_x, make_ticket
):
    """P1: `allowed_actions` (what the work-order pages show) and `ticket_transition` agree for every
    state, target and persona: owner, assignee, dispatcher, a colleague who is none of these."""
    from django.db import transaction

    from kefu.core.errors import Forbidden
    from kefu.tickets.services.workflow import allowed_actions
    from kefu.tickets.states import needs_reason

    t = make_ticket()
    Ticket.objects.filter(pk=t.pk).update(state=source, assigned_to=technician_x)
    t.refresh_from_db()
    for user in (agent_x, technician_x, dispatcher_x, agent2_x):
        offered = {m.target: m for m in allowed_actions(t, user).moves}
        for target in ALL:
            try:
                with transaction.atomic():
                    ticket_transition(
                        ticket_id=t.pk,
                        by=user,
                        to=target,
                        version=t.version,
                        reason="客户要求",
                        cancel_reason="withdrawn",
                    )
                    transaction.set_rollback(True)
                allowed = True
            except (DomainError, Forbidden):
                allowed = False
            assert (target in offered) == allowed, (user.username, source, target)
            if allowed:
                assert (
                    offered[target].needs_reason
                    == needs_reason(source, target)
                    == (target in REASON_REQUIRED)
                )
                assert offered[target].needs_cancel_reason == (target == TicketState.CANCELLED)
