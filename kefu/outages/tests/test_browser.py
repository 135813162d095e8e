"""The outage wizard in a browser (Playwright, system Chromium): a manager plans a stop, chooses the
zone, approves, notifies, and sees the frozen list and the printed-notice link; the page raises no
Content-Security-Policy violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_runs_the_wizard_to_the_notices(browser, live_server, manager_x, households):
    from kefu.accounts.tests.factories import TEST_PASSWORD

    ctx = browser.new_context(locale="zh-CN")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", manager_x.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{live_server.url}/outages/new/")
    start = timezone.localtime() + timedelta(days=4)
    page.fill("#reason", "庭院管网改造")
    page.fill("#area", "幸福小区")
    page.fill("#planned_start", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#planned_end", (start + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        page.click("#outage-new button[type=submit]")
    expect(page.locator("#wizard")).to_be_visible()
    page.check("#area-zone input[value=A]")
    with page.expect_navigation():
        page.click("#area-zone button[type=submit]")
    expect(page.locator("#review")).to_contain_text("5")
    with page.expect_navigation():
        page.click("#btn-approve")
    with page.expect_navigation():
        page.click("#btn-notify")
    expect(page.locator("#area")).to_contain_text("名单已冻结")
    expect(page.locator("#notices")).to_contain_text("打印张贴通知")
    assert violations == []
    ctx.close()
