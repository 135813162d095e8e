"""Browser test of the customer portal on a 390 px phone (S2, C8): link the account with the SMS code,
the leak path (safety instructions and the emergency number on top, before the report button), the
work order's progress, a fault report, the commitments page — no sideways scrolling anywhere.
Playwright on the system Chromium against the live server."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 390


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH + 1


def test_portal_on_a_phone(browser, live_server, customer_x, published):
    from playwright.sync_api import expect

    from kefu.portal.tests.conftest import CODE
    from kefu.tickets.models import Ticket

    ctx = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 844}, is_mobile=True)
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/portal/c/x/")
    _no_sideways_scroll(page)
    page.fill("#account_no", "100001")
    page.fill("#phone", "13800138000")
    with page.expect_navigation():
        page.click("#send-code")
    expect(page.locator("main")).to_contain_text("138****8000")
    page.fill("#code", "000000")
    with page.expect_navigation():
        page.click("#verify")
    expect(page.locator("#error")).to_contain_text("验证码错误")
    page.fill("#code", CODE)
    with page.expect_navigation():
        page.click("#verify")
    expect(page.locator("#greeting")).to_contain_text("100001")
    _no_sideways_scroll(page)

    # the leak path: safety first, the emergency number visible without scrolling, then the report
    with page.expect_navigation():
        page.click("#tile-leak")
    safety = page.locator("#safety")
    expect(safety).to_contain_text("立即关闭燃气表前阀门")
    expect(page.locator("#emergency-number")).to_have_text("0538-96777")
    number_box = page.locator("#emergency-number").bounding_box()
    button_box = page.locator("#report-leak").bounding_box()
    assert number_box["y"] + number_box["height"] <= 844 and number_box["y"] < button_box["y"]
    _no_sideways_scroll(page)
    with page.expect_navigation():
        page.click("#report-leak")
    t = Ticket.objects.get()
    expect(page.locator("h1")).to_have_text(t.number)
    expect(page.locator("#timeline")).to_contain_text("已受理")
    _no_sideways_scroll(page)

    # a fault report from the home page
    with page.expect_navigation():
        page.click("#portal-home")
    with page.expect_navigation():
        page.click("#tile-report")
    page.select_option("#fault", "repair:appliance")
    page.fill("#content", "热水器打不着火")
    with page.expect_navigation():
        page.click("#submit-fault")
    expect(page.locator("#state")).to_have_text("新建")
    with page.expect_navigation():
        page.click("text=返回工单列表")
    expect(page.locator("#orders li")).to_have_count(2)
    _no_sideways_scroll(page)

    page.goto(f"{live_server.url}/portal/commitments/")
    expect(page.locator("#commitments")).to_contain_text("40")
    expect(page.locator("#results")).to_contain_text("年度报告完成后公布")
    _no_sideways_scroll(page)
    ctx.close()
