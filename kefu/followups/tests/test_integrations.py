"""Follow-ups wired to the apps around them (docs/followups.md): field completion makes the return
visit (P6, C12, C19), a complaint that stands reaches the person's penalty record (W5), click-to-call
goes out through telephony's CTI adapter and the call links back to the visit."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import time_machine

from kefu.core.events import publish
from kefu.followups.listeners import field_finished_without_decision, followups_catch_up
from kefu.followups.models import ReturnVisit, VisitDecision
from kefu.followups.tests.conftest import L

pytestmark = pytest.mark.django_db


@pytest.fixture
def at(django_capture_on_commit_callbacks):
    @contextmanager
    def travel(*a):
        with time_machine.travel(L(*a), tick=False), django_capture_on_commit_callbacks(execute=True):
            yield

    return travel


@pytest.fixture
def repair(agent_x):
    from kefu.tickets.services import ticket_create

    def make():
        return ticket_create(
            by=agent_x,
            kind="repair",
            content="灶具打不着火",
            caller_surname="王",
            caller_title="mr",
            caller_phone="13900004444",
            address="幸福小区3-2-501",
            on_duplicate="create",
        ).ticket

    return make


def _job(ticket, by, *, finished_at, number):
    from kefu.field.models import FieldJob
    from kefu.field.states import JobState

    return FieldJob.objects.create(
        company_id=ticket.company_id,
        ticket=ticket,
        number=number,
        state=JobState.RESOLVED,
        created_by=by,
        finished_at=finished_at,
    )


# ---- 1. field completion → the return visit ---------------------------------------------------
def test_a_field_repair_makes_its_visit_at_once_and_only_once(at, set_laizhou, repair, agent_x):
    """修复 recorded on site (FieldCompleted resolved=True) decides the work order's visit from the
    repair's time, though the work order is still open; resolving it later makes no second task."""
    from kefu.field.facts import FieldCompleted
    from kefu.tickets.services import ticket_transition

    with at(2026, 3, 2, 9, 0):
        t = repair()
    job = _job(t, agent_x, finished_at=L(2026, 3, 2, 19, 0), number="PG-1")
    with at(2026, 3, 2, 19, 0):
        publish(FieldCompleted(job_id=job.pk, event_id=0, resolved=False))  # 处理完成: waits
    assert not ReturnVisit.objects.filter(ticket=t).exists()
    with at(2026, 3, 2, 19, 1):
        publish(FieldCompleted(job_id=job.pk, event_id=0, resolved=True))
        publish(FieldCompleted(job_id=job.pk, event_id=0, resolved=True))  # a replay: idempotent
    t.refresh_from_db()
    assert t.state != "resolved"
    v = ReturnVisit.objects.get(ticket=t)
    assert v.reason == "repair" and v.finished_at == L(2026, 3, 2, 19, 0)
    assert v.due_at == L(2026, 3, 5, 19, 0)  # C19: 3 calling days after the repair on site
    with at(2026, 3, 3, 10, 0):
        ticket_transition(ticket_id=t.pk, by=agent_x, to="resolved", version=t.version)
    assert ReturnVisit.objects.filter(ticket=t).count() == 1
    assert VisitDecision.objects.filter(ticket=t).count() == 1


def test_a_lost_field_completion_is_caught_up_once(at, set_laizhou, repair, agent_x):
    """The listener died between the commit and its run: the follow-ups sweep finds the repaired
    job's work order without a decision and makes the visit; a second sweep makes nothing."""
    with at(2026, 3, 2, 9, 0):
        t = repair()
    _job(t, agent_x, finished_at=L(2026, 3, 2, 11, 0), number="PG-2")
    now = L(2026, 3, 2, 11, 5)
    assert field_finished_without_decision(now=now, limit=10) == {t.pk: L(2026, 3, 2, 11, 0)}
    with time_machine.travel(now, tick=False):
        assert followups_catch_up(now=now, limit=10) >= 1
        assert followups_catch_up(now=now, limit=10) == 0
    assert ReturnVisit.objects.get(ticket=t).finished_at == L(2026, 3, 2, 11, 0)
    assert field_finished_without_decision(now=now, limit=10) == {}


# ---- 2. a complaint that stands → the person's penalty record (W5) ------------------------------
def _to_execution(at, c, *, agent, supervisor, manager, person, dept, stands=True):
    from kefu.followups import services

    with at(2026, 3, 2, 11, 0):
        services.complaint_intake(
            by=agent,
            complaint_id=c.pk,
            category="attitude",
            demand="道歉",
            target_department_id=dept.pk,
            target_user_id=person.pk,
        )
        services.complaint_judge(by=supervisor, complaint_id=c.pk, stands=stands, reason="核实")
    if stands:
        with at(2026, 3, 2, 14, 0):
            services.complaint_assign_responsibility(
                by=supervisor, complaint_id=c.pk, department_id=dept.pk, user_id=person.pk
            )
            services.complaint_analyse(by=supervisor, complaint_id=c.pk, cause="服务用语不规范")
            services.complaint_plan(by=supervisor, complaint_id=c.pk, plan="书面检查并培训")
            services.complaint_approve(by=manager, complaint_id=c.pk, approve=True)
    with at(2026, 3, 3, 10, 0):
        return services.complaint_execute(by=agent, complaint_id=c.pk, informed="已处理，当事人已书面检查。")


def test_a_complaint_that_stands_proposes_the_persons_workforce_penalty(
    at, set_002, agent_x, supervisor_x, manager_x, technician_x, repair_dept, complaint_ticket
):
    from kefu.followups.models import Complaint, ComplaintStepRecord
    from kefu.workforce.models import Penalty
    from kefu.workforce.services import penalty_from_complaint, penalty_rules_install

    penalty_rules_install(agent_x.company)  # 篇4: 30 元, doubled on the second, dismissal on the third
    with at(2026, 3, 2, 10, 0):
        t = complaint_ticket()
    c = Complaint.objects.get(ticket=t)
    _to_execution(
        at,
        c,
        agent=agent_x,
        supervisor=supervisor_x,
        manager=manager_x,
        person=technician_x,
        dept=repair_dept,
    )
    p = Penalty.objects.get(user=technician_x)
    assert p.source_ref == t.number and p.occurrence == 1 and p.amount == 30 and p.status == "proposed"
    step = ComplaintStepRecord.objects.filter(complaint=c, step="executed").get()
    assert step.data["workforce_penalty"] == p.pk
    again = penalty_from_complaint(company_id=c.company_id, user_id=technician_x.pk, complaint_ref=t.number)
    assert again.pk == p.pk and Penalty.objects.count() == 1  # idempotent per rule, complaint, person


def test_a_complaint_that_does_not_stand_proposes_no_penalty(
    at, set_002, agent_x, supervisor_x, manager_x, technician_x, repair_dept, complaint_ticket
):
    from kefu.followups.models import Complaint
    from kefu.workforce.models import Penalty
    from kefu.workforce.services import penalty_rules_install

    penalty_rules_install(agent_x.company)
    with at(2026, 3, 2, 10, 0):
        t = complaint_ticket()
    c = Complaint.objects.get(ticket=t)
    _to_execution(
        at,
        c,
        agent=agent_x,
        supervisor=supervisor_x,
        manager=manager_x,
        person=technician_x,
        dept=repair_dept,
        stands=False,
    )
    assert not Penalty.objects.exists()


# ---- 3. click-to-call through telephony's CTI adapter ------------------------------------------
@pytest.fixture
def cti(settings):
    from kefu.telephony.adapters import cti as adapter

    settings.KEFU_CTI_URL = "fake://"
    adapter._fake.requests.clear()
    return adapter._fake


@pytest.fixture
def seat(agent_x):
    from kefu.telephony.models import AgentProfile, Hotline

    Hotline.objects.create(company=agent_x.company, number="96777", name="服务热线", queue="service")
    return AgentProfile.objects.create(company=agent_x.company, user=agent_x, pbx_agent="PJSIP/8001")


def _resolved_visit(at, agent_x):
    from kefu.tickets.services import ticket_create, ticket_transition

    with at(2026, 3, 2, 9, 0):
        t = ticket_create(
            by=agent_x,
            kind="repair",
            content="灶具打不着火",
            caller_surname="王",
            caller_title="mr",
            caller_phone="13900004444",
            address="幸福小区3-2-501",
            on_duplicate="create",
        ).ticket
        ticket_transition(ticket_id=t.pk, by=agent_x, to="resolved", version=t.version)
    return ReturnVisit.objects.get(ticket=t)


def test_click_to_call_dials_through_the_cti_adapter_and_the_call_links_back(
    at, set_laizhou, agent_x, cti, seat, client
):
    from kefu.followups import selectors, services
    from kefu.telephony.models import Call, Hotline

    v = _resolved_visit(at, agent_x)
    with at(2026, 3, 2, 10, 0):
        vc = services.visit_dial(by=agent_x, visit_id=v.pk)
    assert cti.requests == [
        {"call_id": vc.call_ref, "extension": "8001", "number": "13900004444", "caller_id": "96777"}
    ]
    v.refresh_from_db()
    assert v.assigned_to == agent_x and vc.call is None
    # the PBX reports the call's events: the Call of that id links back to the visit
    call = Call.objects.create(
        company=agent_x.company,
        hotline=Hotline.objects.get(company=agent_x.company),
        call_id=vc.call_ref,
        direction="out",
        started_at=L(2026, 3, 2, 10, 0),
    )
    assert [c.call for c in selectors.visit_calls(visit=v)] == [call]
    assert list(call.return_visits.values_list("visit_id", flat=True)) == [v.pk]
    client.force_login(agent_x)
    with time_machine.travel(L(2026, 3, 2, 10, 5), tick=False):
        page = client.get(f"/followups/visits/{v.pk}/").content.decode()
        assert "点击外呼" in page or "Click to call" in page
        r = client.post(f"/followups/visits/{v.pk}/do/dial/")
    assert r.status_code == 302 and len(cti.requests) == 2


def test_click_to_call_is_refused_at_night_without_a_pbx_or_a_seat(
    at, set_laizhou, agent_x, cti, seat, settings
):
    from kefu.core.errors import DomainError
    from kefu.followups import services

    v = _resolved_visit(at, agent_x)
    with at(2026, 3, 2, 22, 30), pytest.raises(DomainError) as e:
        services.visit_dial(by=agent_x, visit_id=v.pk)  # C19: never in rest time
    assert e.value.code == "outside_calling_hours"
    cti.fail = "Extension does not exist"
    with at(2026, 3, 2, 10, 0), pytest.raises(DomainError) as e:
        services.visit_dial(by=agent_x, visit_id=v.pk)
    assert e.value.code == "cti_failed"
    seat.delete()
    with at(2026, 3, 2, 10, 0), pytest.raises(DomainError) as e:
        services.visit_dial(by=agent_x, visit_id=v.pk)
    assert e.value.code == "no_seat"
    settings.KEFU_CTI_URL = ""
    with at(2026, 3, 2, 10, 0), pytest.raises(DomainError) as e:
        services.visit_dial(by=agent_x, visit_id=v.pk)
    assert e.value.code == "cti_not_connected"
    assert not v.calls.exists() and cti.requests == []


def test_ami_originate_speaks_the_manager_protocol():
    """The AMI adapter against a loopback stand-in of Asterisk: Login, Originate with the call id
    as ChannelId, Logoff (no sleeps: the server thread hands what it read over a queue)."""
    import queue
    import socket
    import threading

    from kefu.telephony.adapters.cti import AmiOriginator, CtiError

    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    got: queue.Queue = queue.Queue()

    def serve(replies):
        conn, _ = srv.accept()
        with conn:
            f = conn.makefile("rb")
            conn.sendall(b"Asterisk Call Manager/5.0.1\r\n")
            for reply in replies:
                frame = {}
                while (line := f.readline().decode().strip()) != "":
                    k, v = line.split(": ", 1)
                    frame[k] = v
                got.put(frame)
                if reply:
                    conn.sendall(reply)

    ok = [b"Response: Success\r\nActionID: 1\r\n\r\n", b"Response: Success\r\nActionID: 2\r\n\r\n", b""]
    t = threading.Thread(target=serve, args=(ok,), daemon=True)
    t.start()
    ami = AmiOriginator(host="127.0.0.1", port=port, username="kefu", secret="s3", context="outbound")
    ami.originate(call_id="kefu-abc", extension="8001", number="13900004444", caller_id="96777")
    t.join(timeout=5)
    login, orig, logoff = got.get_nowait(), got.get_nowait(), got.get_nowait()
    assert login == {"Action": "Login", "Username": "kefu", "Secret": "s3", "ActionID": "1"}
    assert (
        orig["Channel"] == "PJSIP/8001" and orig["Exten"] == "13900004444" and orig["Context"] == "outbound"
    )
    assert orig["ChannelId"] == "kefu-abc" and orig["Async"] == "true" and logoff["Action"] == "Logoff"
    bad = [b"Response: Error\r\nActionID: 1\r\nMessage: Authentication failed\r\n\r\n"]
    t = threading.Thread(target=serve, args=(bad,), daemon=True)
    t.start()
    with pytest.raises(CtiError, match="Authentication failed"):
        ami.originate(call_id="kefu-abd", extension="8001", number="13900004444")
    t.join(timeout=5)
    srv.close()
