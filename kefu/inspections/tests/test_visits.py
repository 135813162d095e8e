"""The visit on the inspector's phone (P14): outcomes, checklist, offline replay counted once;
the no-access ladder step by step; a hazard from finding to re-check and to escalation; a major
hazard opens an emergency work order; permissions (S2)."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.inspections import rules
from kefu.inspections.models import Hazard, LadderStep, LedgerEntry, Visit
from kefu.inspections.services import (
    HazardInput,
    VisitInput,
    hazard_notice_sign,
    hazard_recheck,
    hazard_rectify,
    hazards_escalate,
    ladder_record,
    restriction_approve,
    visit_submit,
)
from kefu.inspections.tests.conftest import L

pytestmark = pytest.mark.django_db

ALL_PASS = {c["code"]: "pass" for c in rules.DEFAULT_CHECKLIST}


def done(cid, **kw):
    return VisitInput(
        client_id=cid, outcome="done", checklist=dict(ALL_PASS), signed_by="张三丰", advice_given=True, **kw
    )


def test_completed_visit_marks_the_entry(batch, inspector, entry_of):
    e = entry_of("A001")
    v, created = visit_submit(by=inspector.user, entry_id=e.pk, data=done("c-1", meter_reading="1234.5"))
    assert created and v.outcome == "done" and v.band == "day"
    e.refresh_from_db()
    assert e.status == "inspected" and e.done_at == L(2026, 3, 3, 9, 0)


def test_offline_visit_submitted_twice_counts_once(batch, inspector, entry_of, time_machine):
    e = entry_of("A001")
    data = done("offline-1", device_at=L(2026, 3, 3, 8, 30), offline=True)
    v1, c1 = visit_submit(by=inspector.user, entry_id=e.pk, data=data)
    time_machine.move_to(L(2026, 3, 3, 9, 5), tick=False)
    v2, c2 = visit_submit(by=inspector.user, entry_id=e.pk, data=data)
    assert (c1, c2) == (True, False) and v1.pk == v2.pk
    assert v1.at == L(2026, 3, 3, 8, 30)
    assert Visit.objects.count() == 1
    with pytest.raises(Conflict):  # the id reused for another household
        visit_submit(by=inspector.user, entry_id=entry_of("A002").pk, data=data)


def test_visit_validation(batch, inspector, entry_of):
    e = entry_of("A001")
    with pytest.raises(DomainError, match="检查项目"):
        visit_submit(
            by=inspector.user, entry_id=e.pk, data=VisitInput(client_id="x1", outcome="done", signed_by="张")
        )
    with pytest.raises(DomainError, match="拒绝原因"):
        visit_submit(by=inspector.user, entry_id=e.pk, data=VisitInput(client_id="x2", outcome="refused"))
    with pytest.raises(DomainError, match="门贴"):
        visit_submit(by=inspector.user, entry_id=e.pk, data=VisitInput(client_id="x3", outcome="nobody_home"))
    v, _c = visit_submit(
        by=inspector.user,
        entry_id=e.pk,
        data=VisitInput(client_id="x4", outcome="refused", reason="老人独居不开门"),
    )
    e.refresh_from_db()
    assert e.status == "refused"


def test_only_the_batch_inspector_records(batch, inspector_b, inspector_y, entry_of, planner_x):
    e = entry_of("A001")
    with pytest.raises(NotFound):
        visit_submit(by=inspector_b.user, entry_id=e.pk, data=done("b-1"))
    with pytest.raises(NotFound):
        visit_submit(by=inspector_y.user, entry_id=e.pk, data=done("y-1"))
    with pytest.raises(Forbidden):
        visit_submit(by=planner_x, entry_id=e.pk, data=done("p-1"))


def test_no_access_ladder_step_by_step(batch, inspector, entry_of, planner_x, manager_x, time_machine):
    """visit 1 → door notice + SMS → visit 2 in another band (a second daytime visit does not count)
    → visit 3 → door-gap leak check → letter → restriction proposal → approval (P14)."""
    e = entry_of("A003")

    def nobody(cid, at):
        time_machine.move_to(at, tick=False)
        visit_submit(
            by=inspector.user,
            entry_id=e.pk,
            data=VisitInput(client_id=cid, outcome="nobody_home", door_notice=True),
        )
        e.refresh_from_db()
        return e.ladder_step

    assert nobody("n1", L(2026, 3, 3, 10)) == "visit2"  # visit 1 and the notice done
    assert e.status == "nobody_home" and e.no_access_visits == 1
    assert nobody("n2", L(2026, 3, 4, 11)) == "visit2"  # daytime again: not the evening visit
    assert nobody("n3", L(2026, 3, 4, 19)) == "visit3"  # evening
    assert nobody("n4", L(2026, 3, 7, 10)) == "door_gap"  # Saturday
    with pytest.raises(Conflict, match="门缝检漏"):
        ladder_record(by=planner_x, entry_id=e.pk, kind="letter")
    with pytest.raises(DomainError):
        ladder_record(by=inspector.user, entry_id=e.pk, kind="measure", measurement="abc")
    ladder_record(by=inspector.user, entry_id=e.pk, kind="measure", measurement="0")
    ladder_record(by=planner_x, entry_id=e.pk, kind="letter", note="致幸福小区物业")
    ladder_record(by=planner_x, entry_id=e.pk, kind="proposal", note="四次不遇")
    with pytest.raises(Forbidden):
        restriction_approve(by=planner_x, entry_id=e.pk, note="同意")
    restriction_approve(by=manager_x, entry_id=e.pk, note="同意限气")
    e.refresh_from_db()
    assert e.ladder_step == "" and e.no_access_visits == 4
    assert list(LadderStep.objects.filter(entry=e).values_list("kind", flat=True)) == [
        "visit",
        "notice",
        "visit",
        "notice",
        "visit",
        "notice",
        "visit",
        "notice",
        "measure",
        "letter",
        "proposal",
        "approval",
    ]
    from kefu.inspections.selectors import no_access_ledger

    assert [x.pk for x in no_access_ledger(company_id=e.company_id, year=2026)] == [e.pk]


def test_hazard_found_to_recheck(batch, inspector, entry_of, planner_x):
    e = entry_of("A001")
    v, _c = visit_submit(
        by=inspector.user,
        entry_id=e.pk,
        data=done("h-1", hazards=[HazardInput(type_code="hose_aged", description="胶管龟裂")]),
    )
    e.refresh_from_db()
    assert e.status == "hazard"
    h = Hazard.objects.get(visit=v)
    assert (h.severity, h.deadline, h.state, h.responsible_id) == (
        "general",
        date(2026, 4, 2),
        "open",
        inspector.user_id,
    )
    hazard_notice_sign(by=inspector.user, hazard_id=h.pk, signed_by="张三丰")
    h = hazard_rectify(by=inspector.user, hazard_id=h.pk, how="customer", note="已换金属波纹管")
    assert (h.state, h.recheck_due) == ("recheck", date(2026, 3, 6))
    h = hazard_recheck(by=inspector.user, hazard_id=h.pk, passed=False, note="仍未更换")
    assert h.state == "open" and h.deadline == date(2026, 4, 2)
    hazard_rectify(by=inspector.user, hazard_id=h.pk, how="third_party")
    h = hazard_recheck(by=inspector.user, hazard_id=h.pk, passed=True)
    assert h.state == "rectified"
    with pytest.raises(Conflict):
        hazard_recheck(by=inspector.user, hazard_id=h.pk, passed=True)
    assert [x.kind for x in h.events.all()] == [
        "found",
        "notice_signed",
        "rectified",
        "recheck_failed",
        "rectified",
        "recheck_passed",
    ]


def test_hazard_escalated_when_overdue(batch, inspector, entry_of, supervisor_x, manager_x, time_machine):
    from kefu.notify.models import Notification

    e = entry_of("A002")
    v, _c = visit_submit(
        by=inspector.user, entry_id=e.pk, data=done("h-2", hazards=[HazardInput(type_code="no_flue")])
    )
    h = Hazard.objects.get(visit=v)
    assert h.deadline == date(2026, 3, 10)  # 较大: 7 days
    assert hazards_escalate(now=L(2026, 3, 10, 20)) == 0
    assert hazards_escalate(now=L(2026, 3, 11, 8)) == 1
    h.refresh_from_db()
    assert (h.escalation_level, h.escalated_to_id) == (1, supervisor_x.pk)
    assert hazards_escalate(now=L(2026, 3, 12, 8)) == 0  # once per level
    assert hazards_escalate(now=L(2026, 3, 18, 8)) == 1  # 7 days later: the manager
    h.refresh_from_db()
    assert (h.escalation_level, h.escalated_to_id) == (2, manager_x.pk)
    assert Notification.objects.filter(kind="inspection.hazard_overdue").count() == 2


def test_major_hazard_opens_an_emergency_work_order(
    batch, inspector, entry_of, django_capture_on_commit_callbacks
):
    e = entry_of("A001")
    with django_capture_on_commit_callbacks(execute=True):
        v, _c = visit_submit(
            by=inspector.user,
            entry_id=e.pk,
            data=done(
                "h-3", hazards=[HazardInput(type_code="leak", description="表前阀接口漏气", shut_off=True)]
            ),
        )
    h = Hazard.objects.get(visit=v)
    assert h.emergency_ticket is not None and h.emergency_ticket.kind.code == "emergency"
    assert h.supply_shut_off_at == v.at and h.deadline == date(2026, 3, 4)


def test_utility_rectification_opens_a_paid_field_job(batch, inspector, entry_of, planner_x):
    e = entry_of("A001")
    v, _c = visit_submit(
        by=inspector.user, entry_id=e.pk, data=done("h-4", hazards=[HazardInput(type_code="hose_wall")])
    )
    h = Hazard.objects.get(visit=v)
    h = hazard_rectify(by=planner_x, hazard_id=h.pk, how="utility", note="更换胶管")
    assert h.field_job is not None and h.field_job.ticket.kind.code == "repair"


def test_appliance_row_closed_by_the_visit(batch, inspector, entry_of, planner_x, households):
    from kefu.inspections.services import appliance_register

    appliance_register(by=planner_x, customer_id=households[0].pk, kind="热水器")
    visit_submit(by=inspector.user, entry_id=entry_of("A001").pk, data=done("a-1", appliances_checked=True))
    a = LedgerEntry.objects.get(customer=households[0], kind="appliance")
    assert a.status == "inspected" and a.done_at == L(2026, 3, 3, 9)


def test_inspector_sees_unmasked_only_today_logged(batch, inspector, inspector_b, entry_of, time_machine):
    from kefu.accounts.models import AuditEvent
    from kefu.inspections.selectors import entry_contact, inspector_day

    e = LedgerEntry.objects.select_related("batch", "customer__premise").get(pk=entry_of("A001").pk)
    assert [x.customer.account_no for x in inspector_day(user=inspector.user)] == ["A001", "A002", "A003"]
    masked = entry_contact(user=inspector.user, entry=e, unmasked=False)
    assert "501" not in masked["address"] and "*" in masked["name"]
    full = entry_contact(user=inspector.user, entry=e, unmasked=True)
    assert full["name"] == "张三丰" and full["address"].endswith("101室")
    assert AuditEvent.objects.filter(action="privacy.unmasked_view", actor=inspector.user).count() == 1
    with pytest.raises(Forbidden):
        entry_contact(user=inspector_b.user, entry=e, unmasked=True)
    time_machine.move_to(L(2026, 3, 5, 9), tick=False)  # the batch's days are over
    assert inspector_day(user=inspector.user) == []
    with pytest.raises(Forbidden):
        entry_contact(user=inspector.user, entry=e, unmasked=True)
    assert AuditEvent.objects.filter(action="auth.permission_denied", actor=inspector.user).count() == 1
