"""Entering the calendar (SPEC Time rules): ranges, the pasted State Council notice confirmed before
anything is written, editing and deleting days — by supervisors as well as administrators
(Perm.CALENDAR_EDIT in kefu/accounts/roles.py), never by agents."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.sla import selectors, services
from kefu.sla.models import CalendarOverride, CalendarYear

NOTICE_2026 = (Path(__file__).parent / "fixtures" / "notice_2026.txt").read_text(encoding="utf-8")
NOTICE_2027 = NOTICE_2026.replace("2026年", "2027年")  # a made-up next year: weekdays no longer agree


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    """Supervisors need TOTP in the browser (tested in accounts); these tests are about the calendar."""
    settings.KEFU_SECURITY = {**settings.KEFU_SECURITY, "MFA_ENFORCED": False}


def login(client, user):
    client.force_login(user)  # the second factor is tested in accounts; force_login stands for it
    return client


def test_supervisors_and_administrators_may_edit_the_calendar_agents_not():
    from kefu.accounts.roles import ROLE_PERMISSIONS

    holders = {r for r, perms in ROLE_PERMISSIONS.items() if Perm.CALENDAR_EDIT in perms}
    assert holders == {"supervisor", "manager", "admin"}


def test_range_enters_every_day_and_is_idempotent(supervisor_x):
    assert role_allows(supervisor_x, Perm.CALENDAR_EDIT)
    days = services.calendar_range_days(
        first=date(2027, 2, 5), last=date(2027, 2, 11), is_workday=False, name="春节"
    )
    assert len(services.calendar_overrides_enter(by=supervisor_x, days=days)) == 7
    assert services.calendar_overrides_enter(by=supervisor_x, days=days) == []  # nothing new
    cal = selectors.calendar_for_company(supervisor_x.company, [2027])
    assert not cal.day_info(date(2027, 2, 8)).is_workday and cal.day_info(date(2027, 2, 8)).name == "春节"
    with pytest.raises(DomainError) as exc:  # the same day with another meaning: refused, named
        services.calendar_overrides_enter(by=supervisor_x, days=[(date(2027, 2, 8), True, "")])
    assert "2027-02-08" in exc.value.message
    with pytest.raises(DomainError):
        services.calendar_range_days(first=date(2027, 2, 5), last=date(2027, 2, 1), is_workday=False, name="")


def test_agent_cannot_enter_days(agent_x):
    with pytest.raises(DomainError):
        services.calendar_overrides_enter(by=agent_x, days=[(date(2027, 1, 1), False, "元旦")])


def test_range_form_edit_and_delete(client, supervisor_x):
    c = login(client, supervisor_x)
    r = c.post(
        "/sla/calendar/overrides/",
        {"date": "2027-10-01", "last": "2027-10-07", "is_workday": "0", "name": "国庆节"},
    )
    assert r.status_code == 302 and CalendarOverride.objects.count() == 7
    row = CalendarOverride.objects.get(date=date(2027, 10, 7))
    assert "国庆节" in c.get(f"/sla/calendar/overrides/{row.pk}/edit/").content.decode()
    r = c.post(
        f"/sla/calendar/overrides/{row.pk}/edit/", {"is_workday": "1", "name": "国庆节调休上班", "note": ""}
    )
    assert r.status_code == 302
    row.refresh_from_db()
    assert row.is_workday and row.name == "国庆节调休上班"
    assert c.post(f"/sla/calendar/overrides/{row.pk}/delete/").status_code == 302
    assert CalendarOverride.objects.count() == 6
    r = c.post("/sla/calendar/overrides/", {"date": "2027-10-01", "last": "2027-09-01", "is_workday": "0"})
    assert "结束日期早于开始日期" in r.content.decode()


def test_other_company_cannot_edit_my_day(client, supervisor_x, company_y):
    from kefu.accounts.tests.factories import UserFactory

    services.calendar_overrides_enter(by=supervisor_x, days=[(date(2027, 1, 1), False, "元旦")])
    row = CalendarOverride.objects.get()
    other = UserFactory(company=company_y, role="supervisor", username="sup_y")
    assert login(client, other).get(f"/sla/calendar/overrides/{row.pk}/edit/").status_code == 404


def test_pasted_notice_is_shown_then_entered_on_confirmation(client, supervisor_x):
    c = login(client, supervisor_x)
    r = c.post("/sla/calendar/notice/", {"text": NOTICE_2026, "confirm": "0"})
    html = r.content.decode()
    assert (
        r.status_code == 200
        and "2026-02-14" in html
        and "春节调休上班" in html
        and 'id="confirm-notice"' in html
    )
    assert not CalendarOverride.objects.exists()  # nothing written before the confirmation
    r = c.post("/sla/calendar/notice/", {"text": NOTICE_2026, "confirm": "1"})
    assert r.status_code == 302 and r["Location"].endswith("?year=2026")
    assert CalendarOverride.objects.filter(company=supervisor_x.company).count() == 39
    assert CalendarYear.objects.filter(company=supervisor_x.company, year=2026).exists()
    # the same notice again: nothing new, nothing refused
    assert c.post("/sla/calendar/notice/", {"text": NOTICE_2026, "confirm": "1"}).status_code == 302
    assert CalendarOverride.objects.count() == 39


def test_malformed_notice_is_refused_with_a_message(client, supervisor_x):
    r = login(client, supervisor_x).post("/sla/calendar/notice/", {"text": NOTICE_2027, "confirm": "1"})
    html = r.content.decode()
    assert r.status_code == 200 and "通知写的是周四" in html
    assert not CalendarOverride.objects.exists()


def test_notice_page_is_refused_to_agents(client, agent_x):
    assert login(client, agent_x).get("/sla/calendar/notice/").status_code == 403
