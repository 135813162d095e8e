"""Clocks of a work order in the API and on the pages: visibility as the work
order's, pause with an accepted reason only (Perm.SLA_PAUSE, who/when/why recorded), resume,
countdown tag, queues, board, and the commitment-set editor (Perm.MASTER_DATA, drafts only)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template import Context, Template

from kefu.accounts.models import AuditEvent
from kefu.accounts.tests.factories import TEST_PASSWORD, UserFactory
from kefu.sla.models import Clock, ClockPause
from kefu.sla.services import commitment_set_publish
from kefu.sla.states import clock_display

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


def login(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def published(laizhou_set, manager_x):
    return commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=L(2026, 1, 1))


@pytest.fixture
def lead_x(company_x):
    return UserFactory(company=company_x, role="team_lead", username="lead_x")


@pytest.fixture
def repair(published, agent_x, django_capture_on_commit_callbacks):
    from kefu.tickets.services import ticket_create

    with (
        time_machine.travel(L(2026, 3, 2, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return ticket_create(
            by=agent_x,
            kind="repair",
            content="燃气灶打不着火",
            caller_surname="张",
            caller_phone="13900001111",
            address="幸福小区3号楼",
            on_duplicate="create",
        ).ticket


def test_display_states():
    due, warn = L(2026, 3, 4), L(2026, 3, 3, 18)
    assert clock_display(state="running", due_at=due, warn_at=warn, now=L(2026, 3, 3, 12)) == "running"
    assert clock_display(state="running", due_at=due, warn_at=warn, now=L(2026, 3, 3, 18)) == "due_soon"
    assert clock_display(state="running", due_at=due, warn_at=warn, now=L(2026, 3, 4, 0, 1)) == "breached"
    assert clock_display(state="paused", due_at=None, warn_at=None, now=L(2026, 3, 4)) == "paused"
    assert clock_display(state="met", due_at=due, warn_at=warn, now=L(2026, 3, 9)) == "met"


class TestApi:
    def test_clocks_of_a_ticket(self, client, repair, agent_x):
        with time_machine.travel(L(2026, 3, 3, 19, 0), tick=False):
            r = login(client, agent_x).get(f"/api/v1/sla/tickets/{repair.pk}/clocks")
        assert r.status_code == 200
        (c,) = r.json()
        assert c["spec_id"] == "C10" and c["display"] == "due_soon" and c["state"] == "running"
        assert c["accepted_pause_reasons"] and c["pauses"] == []

    def test_other_company_sees_nothing(self, client, repair, agent_y):
        r = login(client, agent_y).get(f"/api/v1/sla/tickets/{repair.pk}/clocks")
        assert r.status_code == 404 and "工单" in r.json()["detail"]
        clock = Clock.objects.get(subject_id=str(repair.pk))
        r = post(
            login(client, agent_y), f"/api/v1/sla/clocks/{clock.pk}/pause", {"reason": "customer_unreachable"}
        )
        assert r.status_code == 404

    def test_pause_needs_permission(self, client, repair, agent_x):
        clock = Clock.objects.get(subject_id=str(repair.pk))
        r = post(
            login(client, agent_x), f"/api/v1/sla/clocks/{clock.pk}/pause", {"reason": "customer_unreachable"}
        )
        assert r.status_code == 403 and "无权" in r.json()["detail"]

    def test_pause_reason_must_be_accepted(self, client, repair, lead_x):
        clock = Clock.objects.get(subject_id=str(repair.pk))
        with time_machine.travel(L(2026, 3, 2, 11, 0), tick=False):
            r = post(login(client, lead_x), f"/api/v1/sla/clocks/{clock.pk}/pause", {"reason": "lunch"})
        assert r.status_code == 400 and "暂停原因" in r.json()["detail"]

    def test_pause_and_resume_record_who_when_why(self, client, repair, lead_x):
        clock = Clock.objects.get(subject_id=str(repair.pk))
        with time_machine.travel(L(2026, 3, 3, 10, 0), tick=False):
            c = login(client, lead_x)  # sessions expire when idle: log in at each moment
            r = post(
                c,
                f"/api/v1/sla/clocks/{clock.pk}/pause",
                {"reason": "customer_requested_time", "note": "客户下午在家"},
            )
        assert r.status_code == 200, r.content
        assert r.json()["state"] == "paused" and r.json()["due_at"] is None
        p = ClockPause.objects.get(clock=clock)
        assert p.by == lead_x and p.started_at == L(2026, 3, 3, 10) and p.note == "客户下午在家"
        with time_machine.travel(L(2026, 3, 3, 12, 0), tick=False):
            c = login(client, lead_x)
            r2 = post(c, f"/api/v1/sla/clocks/{clock.pk}/pause", {"reason": "customer_requested_time"})
            assert r2.status_code == 409
            r = post(c, f"/api/v1/sla/clocks/{clock.pk}/resume")
        assert r.status_code == 200
        body = r.json()
        assert body["state"] == "running"
        assert datetime.fromisoformat(body["due_at"]) == L(2026, 3, 4, 2, 0)  # two working hours later
        assert body["pauses"][0]["ended_by"] and body["pauses"][0]["reason_label"] == "客户要求另约时间"
        assert AuditEvent.objects.filter(action__in=["sla.clock_paused", "sla.clock_resumed"]).count() == 2
        r = post(login(client, lead_x), f"/api/v1/sla/clocks/{clock.pk}/resume")
        assert r.status_code == 409 and r.json()["detail"]

    def test_unknown_clock(self, client, lead_x):
        r = post(login(client, lead_x), "/api/v1/sla/clocks/999999/resume")
        assert r.status_code == 404 and "计时" in r.json()["detail"]


class TestPages:
    def test_tag_renders_countdown(self, repair):
        with time_machine.travel(L(2026, 3, 3, 19, 0), tick=False):
            html = Template("{% load sla_tags %}{% subject_clocks ticket %}").render(
                Context({"ticket": repair})
            )
            compact = Template("{% load sla_tags %}{% subject_clocks ticket compact=True %}").render(
                Context({"ticket": repair})
            )
        assert "clock-due_soon" in html and "即将到期" in html and "剩余 5小时0分" in html
        assert "C10" in compact and "clock-due_soon" in compact
        with time_machine.travel(L(2026, 3, 4, 1, 30), tick=False):
            html = Template("{% load sla_tags %}{% subject_clocks ticket %}").render(
                Context({"ticket": repair})
            )
        assert "clock-breached" in html and "已超时 1小时30分" in html

    def test_queues_and_board(self, client, repair, lead_x, agent_y):
        # (a team lead: supervisors need a second factor in the browser)
        with time_machine.travel(L(2026, 3, 3, 19, 0), tick=False):
            c = login(client, lead_x)
            r = c.get("/sla/queues/due-soon/?team=all")
            assert r.status_code == 200 and repair.number in r.content.decode()
            assert repair.number not in c.get("/sla/queues/breached/?team=all").content.decode()
        with time_machine.travel(L(2026, 3, 4, 9, 0), tick=False):
            c = login(client, lead_x)
            assert repair.number in c.get("/sla/queues/breached/?team=all").content.decode()
            r = c.get("/sla/board/")
        assert r.status_code == 200
        text = r.content.decode()
        assert "C10" in text and "时限看板" in text
        # S2: company Y's agent does not see company X's work order on any queue.
        other = login(client, agent_y).get("/sla/queues/breached/?team=all").content.decode()
        assert repair.number not in other
        assert client.get("/sla/queues/nope/").status_code == 404

    def test_team_queue_holds_what_its_people_own(self, repair, agent_x, lead_x):
        """P1: a work order its agent took stays on the agent's team queue while another department
        works on it; a team with neither the owner nor the assignment does not see it."""
        from kefu.accounts.tests.factories import TeamFactory
        from kefu.sla.selectors import queue_breached

        hotline, repairs = TeamFactory(company=agent_x.company), TeamFactory(company=agent_x.company)
        agent_x.team = hotline
        agent_x.save()
        type(repair).objects.filter(pk=repair.pk).update(assigned_team=repairs)
        now = L(2026, 3, 4, 9, 0)
        for team, expected in (
            (hotline, True),
            (repairs, True),
            (TeamFactory(company=agent_x.company), False),
        ):
            found = (
                queue_breached(lead_x, team_id=team.pk, now=now).filter(subject_id=str(repair.pk)).exists()
            )
            assert found is expected, team

    def test_board_needs_report_view(self, client, agent_x):
        assert login(client, agent_x).get("/sla/board/").status_code == 403


class TestEditor:
    def test_edit_draft(self, client, laizhou_set, manager_x):
        cm = laizhou_set.commitments.get(code="repair_on_site")
        c = login(client, manager_x)
        url = f"/sla/sets/{laizhou_set.pk}/commitments/{cm.pk}/edit/"
        assert c.get(url).status_code == 200
        data = {
            "name": cm.name,
            "ticket_kind": "repair",
            "ticket_sub_kind": "",
            "customer_category": "",
            "severity": "",
            "channel": "",
            "limit_value": "2",
            "limit_unit": "working_days",
            "pause_reasons": ["customer_unreachable"],
            "warn_at_percent": "80",
            "escalate_after": "60",
            "note": "",
        }
        r = c.post(url, data)
        assert r.status_code == 302
        cm.refresh_from_db()
        assert (cm.limit_value, cm.warn_at_percent, cm.escalate_after) == (2, 80, 60)
        assert cm.pause_reasons == ["customer_unreachable"]
        assert AuditEvent.objects.filter(action="sla.commitment_updated").exists()
        # close of business only for working days
        r = c.post(url, dict(data, limit_unit="hours", ends_at_close_of_business="on"))
        assert r.status_code == 200 and "营业时间" in r.content.decode()

    def test_published_is_read_only_and_clone_makes_a_draft(self, client, published, manager_x):
        from kefu.core.errors import Conflict
        from kefu.sla.services import commitment_update

        cm = published.commitments.get(code="repair_on_site")
        c = login(client, manager_x)
        r = c.get(f"/sla/sets/{published.pk}/commitments/{cm.pk}/edit/")
        assert r.status_code == 302
        with pytest.raises(Conflict):
            commitment_update(by=manager_x, commitment=cm, changes={"limit_value": 3})
        r = c.post(f"/sla/sets/{published.pk}/clone/", {"year": "2027"})
        assert r.status_code == 302
        new = published.company.commitment_sets.get(year=2027)
        assert not new.is_published and new.commitments.count() == published.commitments.count()

    def test_editor_needs_master_data(self, client, laizhou_set, lead_x):
        cm = laizhou_set.commitments.first()
        r = login(client, lead_x).get(f"/sla/sets/{laizhou_set.pk}/commitments/{cm.pk}/edit/")
        assert r.status_code == 403
