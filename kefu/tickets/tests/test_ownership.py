"""P1 first-contact responsibility and S2 permissions, with personas."""

from __future__ import annotations

import pytest

from kefu.accounts.models import AuditEvent
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.tickets import services
from kefu.tickets.models import HandOver
from kefu.tickets.selectors import ticket_get, tickets_visible_to

pytestmark = pytest.mark.django_db


def test_hand_over_needs_acceptance(agent_x, agent2_x, make_ticket):
    t = make_ticket()
    ho = services.ticket_hand_over(
        ticket_id=t.pk, by=agent_x, to_user_id=agent2_x.pk, reason="下班交接", version=t.version
    )
    t.refresh_from_db()
    assert t.owner == agent_x  # still the owner until accepted
    with pytest.raises(Forbidden):
        services.ticket_accept_hand_over(hand_over_id=ho.pk, by=agent_x)
    out = services.ticket_accept_hand_over(hand_over_id=ho.pk, by=agent2_x)
    assert out.owner == agent2_x and out.version == t.version + 1
    assert list(out.events.values_list("kind", flat=True)) == ["created", "handed_over", "accepted"]
    assert AuditEvent.objects.filter(object_id=str(t.pk), object_type="tickets.ticket").exists()
    with pytest.raises(Conflict):
        services.ticket_accept_hand_over(hand_over_id=ho.pk, by=agent2_x)


def test_only_owner_hands_over_and_one_pending(agent_x, agent2_x, supervisor_x, technician_x, make_ticket):
    t = make_ticket()
    with pytest.raises(Forbidden):
        services.ticket_hand_over(ticket_id=t.pk, by=agent2_x, to_user_id=supervisor_x.pk, reason="x")
    with pytest.raises(DomainError):
        services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=agent_x.pk, reason="x")
    with pytest.raises(DomainError):  # technicians cannot own work orders
        services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=technician_x.pk, reason="x")
    with pytest.raises(DomainError):
        services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=agent2_x.pk, reason="  ")
    services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=agent2_x.pk, reason="交接")
    with pytest.raises(Conflict):
        services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=supervisor_x.pk, reason="交接")


def test_decline_and_withdraw(agent_x, agent2_x, make_ticket):
    t = make_ticket()
    ho = services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=agent2_x.pk, reason="交接")
    with pytest.raises(DomainError):
        services.ticket_decline_hand_over(hand_over_id=ho.pk, by=agent2_x, note="")
    services.ticket_decline_hand_over(hand_over_id=ho.pk, by=agent2_x, note="不是我的业务")
    t.refresh_from_db()
    assert t.owner == agent_x
    ho2 = services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=agent2_x.pk, reason="再交接")
    services.ticket_withdraw_hand_over(hand_over_id=ho2.pk, by=agent_x)
    assert HandOver.objects.get(pk=ho2.pk).status == "withdrawn"


def test_reassign_by_supervisor_only(agent_x, agent2_x, supervisor_x, make_ticket):
    t = make_ticket()
    ho = services.ticket_hand_over(ticket_id=t.pk, by=agent_x, to_user_id=agent2_x.pk, reason="交接")
    with pytest.raises(Forbidden):
        services.ticket_reassign(
            ticket_id=t.pk, by=agent_x, to_user_id=agent2_x.pk, reason="x", version=t.version
        )
    with pytest.raises(DomainError):
        services.ticket_reassign(
            ticket_id=t.pk, by=supervisor_x, to_user_id=agent2_x.pk, reason="", version=t.version
        )
    out = services.ticket_reassign(
        ticket_id=t.pk, by=supervisor_x, to_user_id=supervisor_x.pk, reason="原责任人休假", version=t.version
    )
    assert out.owner == supervisor_x
    assert HandOver.objects.get(pk=ho.pk).status == "withdrawn"  # the pending hand-over lapses
    row = AuditEvent.objects.filter(object_id=str(t.pk), actor=supervisor_x, action="ticket.reassigned").get()
    assert "原责任人休假" in row.detail["summary"]  # written by the timeline writer (kefu.tickets.events)


def test_company_isolation(agent_x, agent_y, make_ticket):
    t = make_ticket()
    assert not tickets_visible_to(agent_y).filter(pk=t.pk).exists()
    with pytest.raises(NotFound):
        ticket_get(user=agent_y, ticket_id=t.pk)
    with pytest.raises(NotFound):
        services.ticket_hand_over(ticket_id=t.pk, by=agent_y, to_user_id=agent_y.pk, reason="x")


def test_technician_sees_only_assigned(agent_x, technician_x, technician2_x, make_ticket):
    mine = make_ticket(kind="repair", address="幸福小区1-1-101")
    other = make_ticket(kind="repair", address="幸福小区1-1-102")
    services.ticket_assign(ticket_id=mine.pk, by=agent_x, version=mine.version, user_id=technician_x.pk)
    services.ticket_assign(ticket_id=other.pk, by=agent_x, version=other.version, user_id=technician2_x.pk)
    assert list(tickets_visible_to(technician_x)) == [mine]
    with pytest.raises(NotFound):
        services.ticket_transition(ticket_id=other.pk, by=technician_x, to="in_progress", version=2)
    mine.refresh_from_db()
    out = services.ticket_transition(
        ticket_id=mine.pk, by=technician_x, to="in_progress", version=mine.version
    )
    out = services.ticket_transition(ticket_id=mine.pk, by=technician_x, to="resolved", version=out.version)
    with pytest.raises(Forbidden):  # closing is the owner's confirmation (P1)
        services.ticket_transition(ticket_id=mine.pk, by=technician_x, to="closed", version=out.version)
    with pytest.raises(Forbidden):  # technicians cannot open work orders
        make_ticket(by=technician_x)


def test_agent_who_is_not_owner_cannot_move(agent_x, agent2_x, dispatcher_x, make_ticket):
    t = make_ticket()
    with pytest.raises(Forbidden):
        services.ticket_transition(ticket_id=t.pk, by=agent2_x, to="in_progress", version=t.version)
    out = services.ticket_transition(ticket_id=t.pk, by=dispatcher_x, to="in_progress", version=t.version)
    assert out.state == "in_progress"


def test_owner_keeps_seeing_until_closed(company_x, dispatcher_x, technician_x, repair_dept, make_ticket):
    """P1: a technician who owns a work order (e.g. a field report) sees it until it is closed, even
    when it is assigned to somebody else."""
    from kefu.tickets.models import Ticket

    t = make_ticket(kind="repair", address="幸福小区1-1-101")
    Ticket.objects.filter(pk=t.pk).update(owner=technician_x)  # setup: a technician-owned work order
    services.ticket_assign(ticket_id=t.pk, by=dispatcher_x, version=t.version, department_id=repair_dept.pk)
    assert tickets_visible_to(technician_x).filter(pk=t.pk).exists()
    Ticket.objects.filter(pk=t.pk).update(state="closed")
    assert not tickets_visible_to(technician_x).filter(pk=t.pk).exists()


def test_roles_without_ticket_perms_see_nothing(company_x, make_ticket):
    from kefu.accounts.tests.factories import UserFactory

    make_ticket()
    auditor = UserFactory(company=company_x, role="auditor")
    admin = UserFactory(company=company_x, role="admin")
    assert not tickets_visible_to(auditor).exists()
    assert not tickets_visible_to(admin).exists()
