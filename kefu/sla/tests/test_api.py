"""sla API with personas (S2 scoping, Perm.MASTER_DATA; 4xx JSON with Chinese messages)."""

from __future__ import annotations

import json

import pytest

from kefu.accounts.models import AuditEvent
from kefu.accounts.tests.factories import TEST_PASSWORD
from kefu.sla.models import CalendarOverride, CommitmentSet


def login(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def post(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_anonymous_is_refused(client):
    r = client.get("/api/v1/sla/calendar/day?date=2026-10-01")
    assert r.status_code == 401 and "detail" in r.json()


class TestCalendarApi:
    def test_day_official(self, client, agent_x):
        r = login(client, agent_x).get("/api/v1/sla/calendar/day?date=2026-10-10")
        assert r.status_code == 200
        assert r.json() == {
            "date": "2026-10-10",
            "is_workday": True,
            "name": "国庆节调休上班",
            "source": "official",
            "fallback": False,
            "warning": None,
        }

    def test_day_fallback_warns(self, client, agent_x):
        body = login(client, agent_x).get("/api/v1/sla/calendar/day?date=2027-01-01").json()
        assert body["source"] == "fallback" and body["fallback"] and "2027" in body["warning"]

    @pytest.mark.parametrize("q", ["date=2026-13-01", "date=abc", "date=1999-01-01"])
    def test_day_bad_input_is_4xx_in_chinese(self, client, agent_x, q):
        r = login(client, agent_x).get(f"/api/v1/sla/calendar/day?{q}")
        assert r.status_code == 400 and "日期" in r.json()["detail"]

    def test_add_working_days(self, client, agent_x):
        body = (
            login(client, agent_x).get("/api/v1/sla/calendar/add-working-days?start=2026-09-30&days=3").json()
        )
        assert body["last_working_day"] == "2026-10-10"
        assert body["due_at"] == "2026-10-10T16:00:00Z" and not body["fallback"]

    def test_add_working_days_datetime_and_fallback(self, client, agent_x):
        r = login(client, agent_x).get(
            "/api/v1/sla/calendar/add-working-days?start=2026-12-31T10:00:00%2B08:00&days=1"
        )
        body = r.json()
        assert r.status_code == 200 and body["last_working_day"] == "2027-01-01" and body["fallback"]

    @pytest.mark.parametrize("q", ["start=2026-09-30&days=0", "start=2026-09-30&days=9999", "start=x&days=1"])
    def test_add_working_days_bad_input(self, client, agent_x, q):
        r = login(client, agent_x).get(f"/api/v1/sla/calendar/add-working-days?{q}")
        assert r.status_code == 400 and r.json()["detail"]


class TestOverridesApi:
    def test_admin_creates_lists_deletes_audited(self, client, manager_x, agent_x):
        c = login(client, manager_x)
        r = post(c, "/api/v1/sla/overrides", {"date": "2027-01-01", "is_workday": False, "name": "元旦"})
        assert r.status_code == 201, r.content
        oid = r.json()["id"]
        assert c.get("/api/v1/sla/calendar/day?date=2027-01-01").json()["source"] == "override"
        assert (
            post(c, "/api/v1/sla/overrides", {"date": "2027-01-01", "is_workday": False}).status_code == 409
        )
        assert [o["id"] for o in c.get("/api/v1/sla/overrides?year=2027").json()] == [oid]
        assert c.delete(f"/api/v1/sla/overrides/{oid}").status_code == 204
        assert AuditEvent.objects.filter(action__startswith="sla.calendar_override").count() == 2

    def test_agent_cannot_write(self, client, agent_x):
        c = login(client, agent_x)
        r = post(c, "/api/v1/sla/overrides", {"date": "2027-01-01", "is_workday": False})
        assert r.status_code == 403 and "无权" in r.json()["detail"]
        assert c.get("/api/v1/sla/overrides").status_code == 403
        assert not CalendarOverride.objects.exists()

    def test_other_company_sees_and_deletes_nothing(self, client, manager_x, manager_y, agent_y):
        c = login(client, manager_x)
        oid = post(c, "/api/v1/sla/overrides", {"date": "2027-01-01", "is_workday": False}).json()["id"]
        c.logout()
        c = login(client, manager_y)
        assert c.get("/api/v1/sla/overrides").json() == []
        assert c.get("/api/v1/sla/calendar/day?date=2027-01-01").json()["source"] == "fallback"
        assert c.delete(f"/api/v1/sla/overrides/{oid}").status_code == 404

    def test_all_companies_needs_superuser(self, client, manager_x):
        r = post(
            login(client, manager_x),
            "/api/v1/sla/overrides",
            {"date": "2027-01-01", "is_workday": False, "all_companies": True},
        )
        assert r.status_code == 400 and "超级管理员" in r.json()["detail"]


class TestCommitmentSetsApi:
    def test_read_for_company_users_only(self, client, laizhou_set, agent_x, agent_y):
        c = login(client, agent_x)
        assert [s["id"] for s in c.get("/api/v1/sla/sets").json()] == [laizhou_set.pk]
        detail = c.get(f"/api/v1/sla/sets/{laizhou_set.pk}").json()
        assert {x["spec_id"] for x in detail["commitments"]} >= {
            "C1",
            "C2",
            "C8",
            "C9",
            "C10",
            "C11",
            "C12",
            "C6",
        }
        c.logout()
        c = login(client, agent_y)
        assert c.get("/api/v1/sla/sets").json() == []
        r = c.get(f"/api/v1/sla/sets/{laizhou_set.pk}")
        assert r.status_code == 404 and r.json()["detail"]

    def test_clone_and_publish_need_master_data(self, client, laizhou_set, agent_x, manager_x):
        c = login(client, agent_x)
        assert post(c, f"/api/v1/sla/sets/{laizhou_set.pk}/clone", {"year": 2027}).status_code == 403
        assert post(c, f"/api/v1/sla/sets/{laizhou_set.pk}/publish", {}).status_code == 403
        c.logout()
        c = login(client, manager_x)
        r = post(c, f"/api/v1/sla/sets/{laizhou_set.pk}/clone", {"year": 2027})
        assert r.status_code == 201 and r.json()["year"] == 2027 and not r.json()["is_published"]
        r = post(c, f"/api/v1/sla/sets/{laizhou_set.pk}/publish", {})
        assert r.status_code == 200 and r.json()["is_published"]
        assert post(c, f"/api/v1/sla/sets/{laizhou_set.pk}/publish", {}).status_code == 409
        assert post(c, f"/api/v1/sla/sets/{laizhou_set.pk}/clone", {"year": 1800}).status_code == 422

    def test_from_preset(self, client, manager_x, manager_y, laizhou_set):
        c = login(client, manager_y)
        r = post(c, "/api/v1/sla/sets/from-preset", {"preset": "taian-antai", "year": 2026})
        assert r.status_code == 201 and r.json()["company_id"] == manager_y.company_id
        assert post(c, "/api/v1/sla/sets/from-preset", {"preset": "zzz", "year": 2026}).status_code == 400
        # manager_y cannot clone company X's set: it is not even visible
        assert post(c, f"/api/v1/sla/sets/{laizhou_set.pk}/clone", {"year": 2027}).status_code == 404
        assert CommitmentSet.objects.filter(company=manager_y.company).count() == 1


class TestBusinessHoursApi:
    def test_set_and_use_at_close_of_business(self, client, manager_x, agent_x):
        c = login(client, manager_x)
        r = c.put(
            "/api/v1/sla/business-hours",
            data=json.dumps({"opens_at": "08:30", "closes_at": "17:30"}),
            content_type="application/json",
        )
        assert r.status_code == 200, r.content
        body = c.get(
            "/api/v1/sla/calendar/add-working-days?start=2026-05-08&days=1&close_of_business=true"
        ).json()
        assert body["due_at"] == "2026-05-09T09:30:00Z" and body["business_hours"] == "08:30–17:30"
        c.logout()
        c = login(client, agent_x)
        assert len(c.get("/api/v1/sla/business-hours").json()) == 1
        r = c.put(
            "/api/v1/sla/business-hours",
            data=json.dumps({"opens_at": "09:00", "closes_at": "17:00"}),
            content_type="application/json",
        )
        assert r.status_code == 403

    def test_bad_window_and_other_company_department(self, client, manager_x, company_y):
        from kefu.accounts.tests.factories import DepartmentFactory

        dept_y = DepartmentFactory(company=company_y)
        c = login(client, manager_x)
        put = lambda d: c.put(
            "/api/v1/sla/business-hours", data=json.dumps(d), content_type="application/json"
        )  # noqa: E731
        r = put({"opens_at": "18:00", "closes_at": "08:00"})
        assert r.status_code == 400 and "营业" in r.json()["detail"]
        assert put({"department_id": dept_y.pk, "opens_at": "08:00", "closes_at": "17:00"}).status_code == 404
