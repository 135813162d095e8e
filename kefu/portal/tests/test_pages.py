"""The customer's pages: the leak path shows safety and the emergency number first and starts the C8
clock by itself; faults, appointments in the field app's slots, progress, rating into the return visit,
interruptions of the address, the year's commitments; another customer's work order is 404."""

from __future__ import annotations

import pytest
import time_machine

from kefu.portal.models import PortalAccess, PortalRating
from kefu.portal.tests.conftest import L, sign_in
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_pages_need_the_portal_session(client, customer_x):
    for url in ("/portal/", "/portal/orders/", "/portal/leak/", "/portal/commitments/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].endswith("/portal/start/")


def test_log_in_through_the_pages(client, customer_x):
    r = client.get("/portal/start/")
    assert r.status_code == 302 and r["Location"].endswith("/portal/c/x/")
    r = client.post("/portal/c/x/", {"account_no": "100001", "phone": "13800138000"})
    assert r.status_code == 302 and "/portal/verify/" in r["Location"]
    page = client.get(r["Location"])
    assert "138****8000" in page.content.decode()
    wrong = client.post(r["Location"], {"code": "000000"})
    assert wrong.status_code == 400 and "验证码错误" in wrong.content.decode()
    ok = client.post(r["Location"], {"code": "246810"})
    assert ok.status_code == 302 and ok["Location"] == "/portal/"
    home = client.get("/portal/")
    assert "100001" in home.content.decode()
    assert PortalAccess.objects.filter(action="home", status=200).exists()


def test_leak_shows_safety_first_then_creates_an_emergency_with_its_c8_clock(
    portal_client, customer_x, published, django_capture_on_commit_callbacks
):
    from kefu.sla.models import Clock

    page = portal_client.get("/portal/leak/").content.decode()
    assert page.index("立即关闭燃气表前阀门") < page.index('<form method="post">')
    assert page.index("0538-96777") < page.index("report-leak")
    with (
        time_machine.travel(L(2026, 3, 2, 21, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        r = portal_client.post("/portal/leak/", {"content": "厨房有煤气味", "key": "k1"})
    t = Ticket.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/portal/orders/{t.pk}/"
    assert (t.kind.code, t.sub_kind.code, t.channel, t.customer_id) == (
        "emergency",
        "leak",
        "portal",
        customer_x.pk,
    )
    assert t.caller_phone == "13800138000" and t.address.endswith("501室")
    c8 = Clock.objects.get(subject_type="tickets.workorder", subject_id=str(t.pk), commitment__spec_id="C8")
    assert c8.due_at == L(2026, 3, 2, 21, 40)
    # the same form sent twice, or a second report while the first is open: one work order
    portal_client.post("/portal/leak/", {"key": "k1"})
    portal_client.post("/portal/leak/", {"key": "k2"})
    assert Ticket.objects.count() == 1
    detail = portal_client.get(r["Location"]).content.decode()
    assert t.number in detail and "抢险人员正在赶来" in detail


def test_another_customers_work_order_is_404(client, portal_client, customer_x, neighbour_x):
    from kefu.portal import services

    other = sign_in(neighbour_x, "13900139000")
    theirs = services.fault_report(account=other.session.account, fault="repair:meter", content="表不走字")
    r = portal_client.get(f"/portal/orders/{theirs.pk}/")
    assert r.status_code == 404 and theirs.number not in r.content.decode()
    assert theirs.number not in portal_client.get("/portal/orders/").content.decode()
    assert PortalAccess.objects.filter(action="orders.view", status=404, object_ref=str(theirs.pk)).exists()
    r = portal_client.post(f"/portal/orders/{theirs.pk}/", {"attitude_score": 10, "ability_score": 10})
    assert r.status_code == 404 and not PortalRating.objects.exists()


def test_fault_report_and_progress(portal_client, customer_x):
    r = portal_client.post(
        "/portal/report/", {"fault": "repair:appliance", "content": "热水器打不着火", "key": "a"}
    )
    t = Ticket.objects.get()
    assert r["Location"] == f"/portal/orders/{t.pk}/"
    assert (t.kind.code, t.sub_kind.code, t.channel) == ("repair", "appliance", "portal")
    page = portal_client.get(r["Location"]).content.decode()
    assert "已受理" in page and t.number in page
    bad = portal_client.post("/portal/report/", {"fault": "emergency:leak", "content": "x"})
    assert bad.status_code == 400


def test_booking_an_inspection_in_the_field_apps_slots(portal_client, customer_x, company_x):
    from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
    from kefu.field.services import slot_create

    dept = DepartmentFactory(company=company_x, code="insp", name="安检所", kind="inspection")
    team = TeamFactory(department=dept, name="安检一班")
    dispatcher = UserFactory(company=company_x, role="dispatcher", username="d1", department=dept, team=team)
    with time_machine.travel(L(2026, 3, 2, 9, 0), tick=False):
        slot = slot_create(
            by=dispatcher, team_id=team.pk, starts_at=L(2026, 3, 3, 9), ends_at=L(2026, 3, 3, 11), capacity=1
        )
        page = portal_client.get("/portal/book/?purpose=inspection").content.decode()
        assert "明天 09:00–11:00" in page
        r = portal_client.post("/portal/book/", {"purpose": "inspection", "slot_id": slot.pk, "key": "b1"})
        t = Ticket.objects.get()
        assert r["Location"] == f"/portal/orders/{t.pk}/"
        assert t.kind.code == "inspection_appointment" and t.appointments.get().slot_id == slot.pk
        # the slot is full now: it is no longer offered, and booking it books nothing
        assert "09:00–11:00" not in portal_client.get("/portal/book/?purpose=inspection").content.decode()
        full = portal_client.post("/portal/book/", {"purpose": "inspection", "slot_id": slot.pk, "key": "b2"})
        assert full.status_code == 400 and Ticket.objects.count() == 1


def _finish(ticket, company):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.tickets.services import ticket_transition

    sup = UserFactory(company=company, role="supervisor", username="sup_fin")
    ticket_transition(ticket_id=ticket.pk, by=sup, to="resolved", version=ticket.version, reason="已修好")
    ticket.refresh_from_db()


def test_satisfied_rating_makes_the_return_visit(
    portal_client, signed_in, customer_x, published, django_capture_on_commit_callbacks
):
    from kefu.followups.models import ReturnVisit
    from kefu.portal import services

    with django_capture_on_commit_callbacks(execute=True):
        t = services.fault_report(
            account=signed_in.session.account, fault="repair:indoor_facility", content="灶具漏火"
        )
        _finish(t, customer_x.company)
    visit = ReturnVisit.objects.get(ticket=t)
    assert visit.status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        r = portal_client.post(
            f"/portal/orders/{t.pk}/",
            {"attitude_score": "9", "ability_score": "8", "satisfied": "yes", "comment": "师傅很专业"},
        )
    assert r.status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.attitude_score, visit.ability_score, visit.outcome) == (
        "done",
        9,
        8,
        "satisfied",
    )
    assert PortalRating.objects.get().return_visit_id == visit.pk
    page = portal_client.get(f"/portal/orders/{t.pk}/").content.decode()
    assert "服务态度 9 分" in page
    again = portal_client.post(f"/portal/orders/{t.pk}/", {"attitude_score": "1", "ability_score": "1"})
    assert again.status_code == 400


def test_dissatisfied_rating_leaves_the_visit_for_a_person_and_tells_the_owner(
    signed_in, customer_x, published
):
    from kefu.followups.models import ReturnVisit
    from kefu.notify.models import Notification
    from kefu.portal import services
    from kefu.tickets.models import TicketEvent

    t = services.fault_report(account=signed_in.session.account, fault="repair:meter", content="表不走字")
    _finish(t, customer_x.company)
    services.rating_submit(
        account=signed_in.session.account,
        ticket_id=t.pk,
        attitude_score=3,
        ability_score=2,
        satisfied=False,
        comment="修了两次",
    )
    assert not ReturnVisit.objects.filter(ticket=t, status="done").exists()
    assert Notification.objects.filter(kind="portal.dissatisfied").exists()
    notes = [e.payload.get("text", "") for e in TicketEvent.objects.filter(ticket=t, kind="comment")]
    assert any("不满意" in n and "修了两次" in n for n in notes)


def test_rating_an_open_work_order_is_refused(signed_in, customer_x):
    from kefu.core.errors import DomainError
    from kefu.portal import services

    t = services.fault_report(account=signed_in.session.account, fault="repair:meter", content="表不走字")
    with pytest.raises(DomainError):
        services.rating_submit(
            account=signed_in.session.account,
            ticket_id=t.pk,
            attitude_score=10,
            ability_score=10,
            satisfied=True,
        )


def test_interruptions_of_the_address(portal_client, customer_x, company_x, manager_x, published):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.outages import services as outages

    dispatcher = UserFactory(company=company_x, role="dispatcher", username="disp_o")
    with time_machine.travel(L(2026, 3, 2, 9, 0), tick=False):
        assert "目前没有停气计划" in portal_client.get("/portal/outages/").content.decode()
        o = outages.outage_create(
            by=dispatcher,
            kind="planned",
            reason="更换调压箱",
            planned_start=L(2026, 3, 5, 9),
            planned_end=L(2026, 3, 5, 15),
        )
        outages.outage_set_affected(
            by=dispatcher, outage_id=o.pk, method="address", selection={"buildings": ["幸福小区/3"]}
        )
        outages.outage_approve(by=manager_x, outage_id=o.pk)
        page = portal_client.get("/portal/outages/").content.decode()
        assert "更换调压箱" in page and "03-05 09:00" in page
        assert "更换调压箱" in portal_client.get("/portal/").content.decode()  # the banner on the home page


def test_commitments_without_results_say_when_they_come(portal_client, published):
    with time_machine.travel(L(2026, 6, 1, 9, 0), tick=False):
        page = portal_client.get("/portal/commitments/").content.decode()
    assert "2026 年度服务承诺" in page and "40" in page
    assert "上年度结果在年度报告完成后公布" in page


def test_rate_limit_per_address(portal_client, settings):
    settings.KEFU_PORTAL_REQUESTS_PER_MINUTE = 3
    codes = [portal_client.get("/portal/").status_code for _n in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_chat_starts_with_the_account_number(portal_client, customer_x):
    from kefu.telephony.models import ChatSession

    r = portal_client.post("/portal/chat/")
    s = ChatSession.objects.get()
    assert s.contact == "100001" and r["Location"] == f"/telephony/chat/s/{s.token}/"


def test_auditors_read_the_portal_access_log(client, signed_in, company_x, company_y, agent_x):
    from kefu.accounts.tests.conftest import verified_client
    from kefu.accounts.tests.factories import UserFactory

    auditor = UserFactory(company=company_x, role="auditor", username="aud_x")
    auditor_y = UserFactory(company=company_y, role="auditor", username="aud_y")
    verified_client(client, auditor)
    page = client.get("/portal/staff/access/?account=100001")
    assert page.status_code == 200 and "link.code_sent" in page.content.decode()
    verified_client(client, auditor_y)
    assert "link.code_sent" not in client.get("/portal/staff/access/").content.decode()
    client.force_login(agent_x)
    assert client.get("/portal/staff/access/").status_code == 403
