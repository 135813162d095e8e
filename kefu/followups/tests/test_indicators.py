"""K13, K15, K16, K17 of a hand-computed month (March 2026, company X), with the records behind each;
company Y's data never counts for X (S2)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import time_machine

from kefu.core.errors import DomainError, Forbidden
from kefu.followups import services
from kefu.followups.models import Complaint, ReturnVisit
from kefu.followups.selectors import indicator_inputs, k13_inputs, k15_inputs, k16_inputs, k17_inputs
from kefu.followups.tests.conftest import L
from kefu.tickets.services import ticket_create, ticket_reply, ticket_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def at(django_capture_on_commit_callbacks):
    @contextmanager
    def travel(*a):
        with time_machine.travel(L(*a), tick=False), django_capture_on_commit_callbacks(execute=True):
            yield

    return travel


def _make(by, kind, sub_kind=None, resolve=True, **kw):
    params = dict(
        by=by,
        kind=kind,
        sub_kind=sub_kind,
        content="内容",
        caller_surname="周",
        caller_title="mr",
        caller_phone="13900005555",
        address="幸福小区1-1-101",
        on_duplicate="create",
    )
    params.update(kw)
    t = ticket_create(**params).ticket
    if resolve:
        t = ticket_transition(ticket_id=t.pk, by=by, to="resolved", version=t.version)
    return t


def _visit(by, t, attitude, ability):
    v = ReturnVisit.objects.get(ticket=t)
    services.visit_record_result(
        by=by, visit_id=v.pk, consent=True, satisfied=True, attitude_score=attitude, ability_score=ability
    )


def test_a_hand_computed_month(at, set_laizhou, company_x, agent_x, supervisor_x, agent_y, manager_y):
    with at(2026, 3, 2, 9, 0):
        a = _make(agent_x, "appliance", "install")
        b = _make(agent_x, "appliance", "repair")
        c = _make(agent_x, "repair", "appliance")
        _make(agent_x, "repair", "meter")  # not an appliance job: not in K13
        y = _make(agent_y, "appliance", "install")  # company Y
        x_complaint = _make(agent_x, "complaint", resolve=False)
        y_complaint = _make(agent_x, "complaint", resolve=False, answer="抱歉，马上核实")
        z_suggestion = _make(agent_x, "suggestion", resolve=False)
    with at(2026, 3, 2, 15, 0):
        services.complaint_judge(
            by=supervisor_x,
            complaint_id=Complaint.objects.get(ticket=x_complaint).pk,
            stands=True,
            reason="属实",
        )
    with at(2026, 3, 3, 10, 0):
        _visit(agent_x, a, 9, 8)
        _visit(agent_x, c, 8, 7)
        _visit(agent_y, y, 1, 1)
        ticket_reply(ticket_id=x_complaint.pk, by=agent_x, text="经核实，处理如下……")
    with at(2026, 3, 5, 10, 0):
        ticket_reply(ticket_id=z_suggestion.pk, by=agent_x, text="感谢建议")  # due Wed 3-04 24:00: late
    with at(2026, 3, 9, 9, 0):
        w_suggestion = _make(agent_x, "suggestion", resolve=False)
    with at(2026, 3, 10, 9, 0):
        ticket_reply(ticket_id=w_suggestion.pk, by=agent_x, text="已采纳")
        d = _make(agent_x, "consultation", resolve=False, resolved_on_call=True, answer="已答复")
    with at(2026, 3, 31, 15, 0):
        if ReturnVisit.objects.filter(ticket=d).exists():
            _visit(agent_x, d, 10, 9)
    consult = ReturnVisit.objects.filter(ticket=d).exists()

    k13 = k13_inputs(company_x, 2026, 3)
    assert (k13.numerator, k13.denominator) == (2, 3)
    assert [(r["ticket"], bool(r["visit_id"])) for r in k13.records] == [
        (a.number, True),
        (b.number, False),
        (c.number, True),
    ]
    k15, k16 = k15_inputs(company_x, 2026, 3), k16_inputs(company_x, 2026, 3)
    if consult:
        assert (k15.denominator, k15.value, k16.value) == (3, 9.0, 8.0)
    else:
        assert (k15.denominator, k15.value, k16.value) == (2, 8.5, 7.5)
    k17 = k17_inputs(company_x, 2026, 3)
    assert (k17.numerator, k17.denominator) == (2, 4)
    in_time = {r["ticket"]: r["in_time"] for r in k17.records}
    assert in_time == {
        x_complaint.number: True,
        y_complaint.number: False,
        z_suggestion.number: False,
        w_suggestion.number: True,
    }
    assert [r["due_at"] for r in k17.records][0] == L(2026, 3, 5, 0, 0)
    assert k13_inputs(company_x, 2026, 4).value is None
    # The indicator registry reads the same records (kefu/kpi/inputs.py).
    from decimal import Decimal

    from kefu.kpi import formulas as f
    from kefu.kpi.selectors import month_lines

    kpi = {
        x.indicator.code: x.figure for x in month_lines(company_x.pk, f.Month(2026, 3), now=L(2026, 4, 10))
    }
    assert (kpi["K13"].numerator, kpi["K13"].denominator, kpi["K13"].value) == (2, 3, Decimal("66.67"))
    assert (kpi["K17"].numerator, kpi["K17"].denominator, kpi["K17"].value) == (2, 4, Decimal("50.00"))
    assert kpi["K15"].value == Decimal(str(k15.value)).quantize(Decimal("0.01"))
    assert kpi["K16"].denominator == k16.denominator
    assert [i.k for i in indicator_inputs(user=supervisor_x, year=2026, month=3)] == [
        "K13",
        "K15",
        "K16",
        "K17",
    ]
    with pytest.raises(Forbidden):
        indicator_inputs(user=agent_x, year=2026, month=3)
    with pytest.raises(DomainError):
        indicator_inputs(user=supervisor_x, year=2026, month=13)
