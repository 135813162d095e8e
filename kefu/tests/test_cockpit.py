"""The supervisor's cockpit (home page): today's counts (open, due soon, breached, unassigned
emergencies — C8, P5), on-time rates per commitment (按时率) next to the raw counts, in SPEC id
numeric order (C2 before C10); agents do not get it."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.views import on_time_rate, spec_sort_key

SH = ZoneInfo("Asia/Shanghai")


def L(*a) -> datetime:
    return datetime(*a, tzinfo=SH)


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    settings.KEFU_SECURITY = {**settings.KEFU_SECURITY, "MFA_ENFORCED": False}


@pytest.fixture
def shift(company_x, supervisor_x, agent_x, django_capture_on_commit_callbacks):
    """A published preset, an emergency nobody is dispatched to and a repair, received on 3 March."""
    from kefu.accounts.tests.factories import UserFactory
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish
    from kefu.tickets.services import ticket_create

    manager = UserFactory(company=company_x, role="manager", username="mgr_x")
    the_set = commitment_set_from_preset(
        company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager
    )
    commitment_set_publish(commitment_set=the_set, by=manager, at=L(2026, 1, 1))
    made = {}
    with (
        time_machine.travel(L(2026, 3, 3, 9, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        for kind, content in (("emergency", "厨房闻到燃气味"), ("repair", "燃气灶打不着火")):
            made[kind] = ticket_create(
                by=agent_x,
                kind=kind,
                content=content,
                caller_surname="张",
                caller_phone="13900001111",
                address="幸福小区3号楼2单元501室",
                on_duplicate="create",
            ).ticket
    return made


def test_spec_ids_sort_numerically():
    assert sorted(["C10", "C2", "C8", "", "C1"], key=spec_sort_key) == ["C1", "C2", "C8", "C10", ""]
    assert on_time_rate(3, 1) == 0.75 and on_time_rate(0, 0) is None


def test_cockpit_counts_and_rates(client, supervisor_x, shift):
    client.force_login(supervisor_x)
    with time_machine.travel(L(2026, 3, 3, 10, 0), tick=False):
        html = client.get("/").content.decode()
    assert 'id="cockpit"' in html
    assert re.search(r'id="count-open"><strong>2</strong>', html)
    assert re.search(r'id="count-unassigned"><strong>1</strong>', html)
    assert shift["emergency"].number in html
    # the 40-minute emergency clock (C8) has run out by 10:00: breached, listed before C10
    assert re.search(r'id="count-breached"><strong>[1-9]', html)
    specs = re.findall(r'<tr data-spec="(C\d+)">', html)
    assert specs == sorted(specs, key=spec_sort_key) and "C8" in specs and "C10" in specs
    assert "按时率" in html and "(0/1)" in html  # the breached C8 clock counts against the rate


def test_agents_get_no_cockpit(client, agent_x, shift):
    client.force_login(agent_x)
    assert 'id="cockpit"' not in client.get("/").content.decode()


def test_menu_has_commitment_sets_and_calendar_for_supervisors(client, supervisor_x):
    client.force_login(supervisor_x)
    html = client.get("/").content.decode()
    assert 'href="/sla/"' in html and 'href="/sla/calendar/"' in html
