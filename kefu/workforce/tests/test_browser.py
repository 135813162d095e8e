"""The phone view of "my shifts" in a browser (Playwright, a 390 px wide phone): the agent logs in,
sees the coming shifts and clocks in; the page does not scroll sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_my_shifts_on_the_phone(browser, live_server, team_x, head_x, patterns, staff):
    from kefu.accounts.tests.factories import TEST_PASSWORD
    from kefu.workforce.tests.factories import published_roster

    day = timezone.localdate() + timedelta(days=1)
    published_roster(team=team_x, month=day, by=head_x, shifts=[(staff[0], day, patterns["M"])])
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 800}, is_mobile=True)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", staff[0].username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{live_server.url}/workforce/")
    expect(page.locator("#my-shifts li")).to_have_count(1)
    expect(page.locator("#my-shifts")).to_contain_text("中班")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    with page.expect_navigation():
        page.click("button[value=in]")
    expect(page.locator(".messages")).to_contain_text("已打卡")
    ctx.close()
