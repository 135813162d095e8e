"""The workforce API and screens with personas: an agent of the team, its head, the manager, and
company Y's agent, who sees nothing of X (S2). Errors are 4xx with a message."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.accounts.tests.factories import TEST_PASSWORD
from kefu.workforce import services
from kefu.workforce.models import Assignment, Handover
from kefu.workforce.tests.factories import published_roster

SH = ZoneInfo("Asia/Shanghai")


def login(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def post(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


@pytest.fixture
def roster(team_x, head_x, patterns, staff):
    return published_roster(
        team=team_x,
        month=date(2026, 10, 1),
        by=head_x,
        shifts=[(staff[0], date(2026, 10, 20), patterns["Z"]), (staff[1], date(2026, 10, 23), patterns["Z"])],
    )


def test_anonymous_is_refused(client):
    r = client.get("/api/v1/workforce/on-duty")
    assert r.status_code == 401 and "detail" in r.json()


def test_on_duty_and_my_shifts(client, roster, staff, agent_y):
    r = login(client, staff[1]).get("/api/v1/workforce/on-duty?at=2026-10-20T09:00:00%2B08:00&skill=hotline")
    assert r.status_code == 200 and [p["id"] for p in r.json()] == [staff[0].pk]
    r = client.get("/api/v1/workforce/my-shifts?since=2026-10-01")
    assert [s["day"] for s in r.json()] == ["2026-10-23"]
    client.logout()
    r = login(client, agent_y).get("/api/v1/workforce/on-duty?at=2026-10-20T09:00:00%2B08:00")
    assert r.json() == []
    assert client.get(f"/api/v1/workforce/rosters/{roster.pk}").status_code == 404
    assert client.get("/api/v1/workforce/on-duty?skill=nonsense").status_code == 422


def test_propose_publish_by_the_head_only(client, team_x, head_x, patterns, staff):
    r = post(
        login(client, staff[0]),
        "/api/v1/workforce/rosters",
        {"team": team_x.pk, "month": "2026-11-01"},
    )
    assert r.status_code == 403 and r.json()["detail"]
    client.logout()
    login(client, head_x)
    r = post(client, "/api/v1/workforce/rosters", {"team": team_x.pk, "month": "2026-11-01"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "draft" and body["shortfalls"] == 0 and body["shifts"]
    r = post(client, f"/api/v1/workforce/rosters/{body['id']}/publish", {})
    assert r.status_code == 200 and r.json()["status"] == "published"


def test_propose_with_a_demand_by_api(client, team_x, head_x, patterns, staff, settings):
    """W1: an integration's own demand per half-hour; a minute that is not a half-hour's start is a 422."""
    settings.KEFU_ROSTER_SOLVER_SECONDS = 10
    login(client, head_x)
    bad = {
        "team": team_x.pk,
        "month": "2026-11-01",
        "demand": [{"day": "2026-11-03", "minute": 615, "agents": 3}],
    }
    r = post(client, "/api/v1/workforce/rosters", bad)
    assert r.status_code == 422 and r.json()["detail"]
    good = {
        "team": team_x.pk,
        "month": "2026-11-01",
        "demand": [{"day": "2026-11-03", "minute": 600, "agents": 3}],
    }
    r = post(client, "/api/v1/workforce/rosters", good)
    assert r.status_code == 200, r.content
    assert "demand short" in r.json()["solver_note"] and r.json()["shortfalls"] == 0


def test_leave_and_swap_by_api(client, roster, staff, head_x):
    with time_machine.travel(datetime(2026, 10, 15, 9, tzinfo=SH), tick=False):
        r = post(
            login(client, staff[0]),
            "/api/v1/workforce/leave",
            {"kind": "personal", "first_day": "2026-10-20", "last_day": "2026-10-20", "reason": "家事"},
        )
        assert r.status_code == 201
        leave_id = r.json()["id"]
        r = post(client, f"/api/v1/workforce/leave/{leave_id}/decide", {"approve": True})
        assert r.status_code == 403  # one's own request
        r = post(
            client,
            "/api/v1/workforce/leave",
            {"kind": "personal", "first_day": "2026-10-16", "last_day": "2026-10-15", "reason": "x"},
        )
        assert r.status_code == 400 and "结束日期" in r.json()["detail"]
        client.logout()
        r = post(login(client, head_x), f"/api/v1/workforce/leave/{leave_id}/decide", {"approve": True})
        assert r.status_code == 200 and r.json()["status"] == "approved"
        assert not Assignment.objects.filter(user=staff[0], day=date(2026, 10, 20)).exists()


def test_handover_order_by_api(client, staff):
    r = post(
        login(client, staff[0]),
        "/api/v1/workforce/handovers",
        {"successor": staff[1].pk, "equipment_state": "正常", "work_orders": "GD1"},
    )
    assert r.status_code == 201
    hid = r.json()["id"]
    r = post(client, f"/api/v1/workforce/handovers/{hid}/sign-off", {})
    assert r.status_code == 400 and "交班人不得离台" in r.json()["detail"]
    client.logout()
    assert post(login(client, staff[1]), f"/api/v1/workforce/handovers/{hid}/confirm", {}).status_code == 200
    client.logout()
    assert post(login(client, staff[0]), f"/api/v1/workforce/handovers/{hid}/sign-off", {}).status_code == 200
    assert Handover.objects.get().status == "signed_off"


def test_punch_records_the_address(client, staff):
    r = post(login(client, staff[0]), "/api/v1/workforce/attendance/punch", {"kind": "in"})
    assert r.status_code == 201


def test_penalties_api(client, staff, manager_x, agent_y):
    services.penalty_rules_install(staff[0].company)
    p = services.penalty_from_complaint(
        company_id=staff[0].company_id, user_id=staff[0].pk, complaint_ref="TS1"
    )
    assert (
        post(
            login(client, staff[1]), f"/api/v1/workforce/penalties/{p.pk}/decide", {"approve": True}
        ).status_code
        == 403
    )
    assert client.get("/api/v1/workforce/penalties").json() == []
    client.logout()
    assert (
        post(
            login(client, agent_y), f"/api/v1/workforce/penalties/{p.pk}/decide", {"approve": True}
        ).status_code
        == 404
    )
    client.logout()
    r = post(login(client, manager_x), f"/api/v1/workforce/penalties/{p.pk}/decide", {"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "approved"


@pytest.mark.parametrize(
    "url",
    [
        "/workforce/",
        "/workforce/on-duty/",
        "/workforce/rosters/",
        "/workforce/requests/",
        "/workforce/handovers/",
        "/workforce/attendance/",
        "/workforce/penalties/",
    ],
)
def test_screens_render(client, roster, head_x, url):
    r = login(client, head_x).get(url)
    assert r.status_code == 200


def test_roster_page_shows_holidays_and_my_shifts_on_the_phone(client, roster, head_x, staff, agent_y):
    r = login(client, head_x).get(f"/workforce/rosters/{roster.pk}/")
    assert r.status_code == 200 and "holiday" in r.content.decode() and "国庆" in r.content.decode()
    client.logout()
    with time_machine.travel(datetime(2026, 10, 19, 9, tzinfo=SH), tick=False):
        r = login(client, staff[0]).get("/workforce/")
        assert 'id="my-shifts"' in r.content.decode() and "10-20" in r.content.decode()
    client.logout()
    r = login(client, agent_y).get(f"/workforce/rosters/{roster.pk}/", follow=True)
    assert "热线一班" not in r.content.decode()


def test_leave_form_refusal_shows_the_clause(client, roster, staff):
    with time_machine.travel(datetime(2026, 10, 19, 9, tzinfo=SH), tick=False):
        r = login(client, staff[0]).post(
            "/workforce/leave/new/",
            {"kind": "personal", "first_day": "2026-10-20", "last_day": "2026-10-20", "reason": "家事"},
            follow=True,
        )
    assert "一般事假需在一天提出" in r.content.decode()


def test_extreme_dates_are_4xx_with_a_message(client, team_x, head_x, patterns, staff):
    login(client, head_x)
    for r in (
        post(client, "/api/v1/workforce/rosters", {"team": team_x.pk, "month": "0001-01-01"}),
        post(
            client,
            "/api/v1/workforce/leave",
            {"kind": "sick", "first_day": "0001-01-01", "last_day": "0001-01-01", "reason": "x"},
        ),
        post(
            client,
            "/api/v1/workforce/leave",
            {"kind": "sick", "first_day": "9999-12-31", "last_day": "9999-12-31", "reason": "x"},
        ),
        client.get("/api/v1/workforce/on-duty?at=0001-01-01T00:00:00"),
        client.get("/api/v1/workforce/my-shifts?since=9999-12-31"),
    ):
        assert 400 <= r.status_code < 500 and r.json()["detail"], r.content


def test_team_head_adds_a_shift_pattern_and_24h_needs_a_reason(client, team_x, head_x, agent_x):
    from kefu.workforce.models import ShiftPattern

    login(client, head_x)
    data = {
        "team": team_x.pk,
        "code": "D",
        "name": "抢险值班",
        "start": "08:00",
        "hours": "24",
        "need_emergency": "1",
    }
    r = client.post("/workforce/patterns/new/", data, follow=True)
    assert "豁免理由" in r.content.decode() and not ShiftPattern.objects.exists()
    r = client.post("/workforce/patterns/new/", {**data, "exemption_reason": "抢险特殊工时"}, follow=True)
    assert ShiftPattern.objects.get().needs.get().skill == "emergency"
    client.logout()
    login(client, agent_x)
    client.post("/workforce/patterns/new/", {**data, "code": "E", "exemption_reason": "x"})
    assert ShiftPattern.objects.count() == 1
