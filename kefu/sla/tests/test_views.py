"""sla pages: the calendar with sources and the fallback banner, overrides form, commitment sets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from kefu.accounts.tests.factories import TEST_PASSWORD
from kefu.sla.models import CalendarOverride


def login(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def test_calendar_2026_shows_make_up_days_without_warning(client, agent_x):
    r = login(client, agent_x).get("/sla/calendar/?year=2026")
    html = r.content.decode()
    assert r.status_code == 200
    assert "春节调休上班" in html and "国庆节" in html and "2026-10-10" in html
    assert 'data-testid="fallback-warning"' not in html


def test_calendar_default_year_is_this_year(client, agent_x):
    with time_machine.travel(datetime(2027, 1, 5, 9, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        r = login(client, agent_x).get("/sla/calendar/")
    assert "2027 年工作日历" in r.content.decode()


def test_calendar_2027_shows_fallback_banner_then_override(client, manager_x):
    c = login(client, manager_x)
    html = c.get("/sla/calendar/?year=2027").content.decode()
    assert 'data-testid="fallback-warning"' in html and "2027 年尚无官方节假日数据" in html
    r = c.post(
        "/sla/calendar/overrides/", {"date": "2027-01-01", "is_workday": "0", "name": "元旦", "note": "通知"}
    )
    assert r.status_code == 302
    html = c.get("/sla/calendar/?year=2027").content.decode()
    assert "元旦" in html and "管理员录入" in html


def test_overrides_page_is_for_administrators(client, agent_x):
    r = login(client, agent_x).get("/sla/calendar/overrides/")
    assert r.status_code == 403
    r = client.post("/sla/calendar/overrides/", {"date": "2027-01-01", "is_workday": "0"})
    assert r.status_code == 403 and not CalendarOverride.objects.exists()


def test_override_delete_from_page(client, manager_x):
    c = login(client, manager_x)
    c.post("/sla/calendar/overrides/", {"date": "2027-01-01", "is_workday": "0", "name": "元旦"})
    row = CalendarOverride.objects.get()
    assert c.post(f"/sla/calendar/overrides/{row.pk}/delete/").status_code == 302
    assert not CalendarOverride.objects.exists()


def test_commitment_set_page_lists_spec_ids_limits_and_clauses(client, agent_x, agent_y, laizhou_set):
    c = login(client, agent_x)
    assert laizhou_set.name in c.get("/sla/").content.decode()
    html = c.get(f"/sla/sets/{laizhou_set.pk}/").content.decode()
    assert "C8" in html and "40 分钟" in html and "004 附表 紧急抢险服务" in html and "1 工作日" in html
    c.logout()
    assert login(client, agent_y).get(f"/sla/sets/{laizhou_set.pk}/").status_code == 404


def test_pages_need_login(client):
    assert client.get("/sla/calendar/").status_code == 302
