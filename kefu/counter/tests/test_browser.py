"""Browser test of the counter screens (P11, P12): the greeter gives a number, the clerk calls it at
the window, checks the documents, records the business, is prompted "还有其他需要办理的吗", finishes,
the customer rates, and the clerk takes the payment and sees its receipt (Playwright, system Chromium)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(browser, live_server, user):
    from kefu.accounts.tests.factories import TEST_PASSWORD

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def test_counter_from_the_number_to_the_receipt(browser, live_server, clerk_x, hall_x, types_x, windows_x):
    from playwright.sync_api import expect

    from kefu.counter.models import Payment, QueueTicket

    page = _login(browser, live_server, clerk_x)
    page.goto(f"{live_server.url}/counter/h/{hall_x.pk}/greeter/")
    page.check(f"input[name=business_type][value='{types_x['C'].pk}']")
    with page.expect_navigation():
        page.click("#take button")
    expect(page.locator("#issued .big")).to_have_text("C001")

    w = windows_x[1]
    page.goto(f"{live_server.url}/counter/w/{w.pk}/")
    with page.expect_navigation():
        page.click("#sign-in")
    with page.expect_navigation():
        page.click("#call-next")
    expect(page.locator("#current-number")).to_have_text("C001")

    display = page.context.new_page()
    display.goto(f"{live_server.url}/counter/h/{hall_x.pk}/display/")
    expect(display.locator("#called")).to_contain_text("C001")
    expect(display.locator("#called")).to_contain_text("1号窗口")

    with page.expect_navigation():
        page.click("#start")
    for doc in ("身份证", "房产证", "原户主证明"):
        page.locator(f"label[data-type='{types_x['C'].pk}']", has_text=doc).locator("input").check()
    page.fill("#service-form textarea[name=note]", "过户到新户主名下")
    with page.expect_navigation():
        page.click("#record-service")
    expect(page.locator("#anything-else")).to_contain_text("还需要我为您做些什么吗")
    expect(page.locator("#services")).to_contain_text("当场办结")
    page.check("#asked")
    with page.expect_navigation():
        page.click("#finish")
    expect(page.locator("#rate")).to_be_visible()
    page.check("#rate input[name=rating][value='4']")
    with page.expect_navigation():
        page.click("#rate button")
    expect(page.locator(".messages")).to_contain_text("谢谢您的评价")
    t = QueueTicket.objects.get()
    assert t.rating == 4 and t.anything_else_asked

    page.goto(f"{live_server.url}/counter/cash/")
    page.fill("input[name=qty_TRANSFER]", "1")
    page.fill("input[name=tendered]", "100")
    with page.expect_navigation():
        page.click("#take-payment")
    expect(page.locator("#receipt-no")).to_have_text(Payment.objects.get().receipt_no)
    expect(page.locator(".messages")).to_contain_text("找零 50.00 元")
    expect(page.locator("#receipt-pdf")).to_be_visible()
