"""Browser test of the supervisor's cockpit at 1366 px and on a 390 px phone: the counts, the
unassigned emergency, the on-time rate per commitment in SPEC id order, the commitment sets and the
calendar reachable from the menu, and no sideways scrolling on the phone."""

from __future__ import annotations

import re

import pytest

from kefu.tests.test_cockpit import L
from kefu.views import spec_sort_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shift(company_x, agent_x):
    import time_machine

    from kefu.accounts.tests.factories import UserFactory
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish
    from kefu.tickets.services import ticket_create

    manager = UserFactory(company=company_x, role="manager", username="mgr_x")
    the_set = commitment_set_from_preset(
        company=company_x, year=2026, preset="laizhou-crgas-2024", by=manager
    )
    commitment_set_publish(commitment_set=the_set, by=manager, at=L(2026, 1, 1))
    with time_machine.travel(L(2026, 3, 3, 9, 0), tick=False):
        emergency = ticket_create(
            by=agent_x,
            kind="emergency",
            content="厨房闻到燃气味",
            caller_surname="张",
            caller_phone="13900001111",
            address="幸福小区3号楼2单元501室",
            on_duplicate="create",
        ).ticket
    return manager, emergency


@pytest.mark.parametrize("width", [1366, 390])
def test_cockpit(browser, live_server, shift, width):
    from kefu.accounts.tests.factories import TEST_PASSWORD

    manager, emergency = shift
    ctx = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.locator("#cockpit").wait_for()
    assert page.locator("#count-open strong").inner_text() == "1"
    assert page.locator("#count-unassigned strong").inner_text() == "1"
    assert int(page.locator("#count-breached strong").inner_text()) >= 1  # 40 minutes (C8) long gone
    assert emergency.number in page.locator("#unassigned").inner_text()
    specs = [
        s
        for s in page.locator("#commitment-rates tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.spec)"
        )
    ]
    assert "C8" in specs and specs == sorted(specs, key=spec_sort_key)
    assert re.search(r"\(0/1\)", page.locator("#commitment-rates tr[data-spec=C8]").inner_text())
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.screenshot(path=f"/tmp/screens_cockpit_{width}.png", full_page=True)
    # The menu leads to the commitment sets and the working-day calendar.
    page.locator("nav.mainnav >> text=工作日历").click()
    page.wait_for_url("**/sla/calendar/")
    page.locator('nav.mainnav >> text="服务承诺"').click()  # exact: not 服务承诺指标
    page.wait_for_url("**/sla/")
    ctx.close()
