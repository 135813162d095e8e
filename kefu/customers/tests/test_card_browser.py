"""Browser test of the customer card (issue: screens a supervisor signs off), at 1366 px and on a
390 px phone: the card shows billing facts with their time and the work-order history; "新建工单"
opens the desk with the customer filled in; the saved work order is in the history; "返回查询" goes
back to the same search. Playwright on the system Chromium against the live server."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1366, 390]


def _login(browser, live_server, user, width):
    from kefu.accounts.tests.factories import TEST_PASSWORD

    ctx = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def _no_sideways_scroll(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


@pytest.mark.parametrize("width", WIDTHS)
def test_card_new_work_order_history_and_back(browser, live_server, agent_x, supervisor_x, width):
    from kefu.customers.billing import billing_import_file
    from kefu.customers.tests.test_billing import GOOD
    from kefu.customers.tests.test_customer_services import new_customer
    from kefu.tickets.models import Ticket
    from kefu.tickets.services import ticket_create

    zhang = new_customer(supervisor_x, phones=[{"number": "13812345678"}])
    billing_import_file(
        by=supervisor_x, data=GOOD.splitlines()[0].encode() + b"\n" + GOOD.splitlines()[1].encode()
    )
    old = ticket_create(
        by=agent_x,
        kind="praise",
        content="表扬维修师傅",
        customer_id=zhang.pk,
        caller_surname="张",
        caller_phone="13812345678",
        on_duplicate="create",
    ).ticket

    page = _login(browser, live_server, agent_x, width)
    page.fill("input[name=q]", "13812345678")
    page.press("input[name=q]", "Enter")
    page.locator("a.result").first.click()
    page.wait_for_url(f"**/customers/{zhang.pk}/?q=13812345678")
    history = page.locator("#ticket-history")
    assert old.number in history.inner_text()
    billing = page.locator("#billing").inner_text()
    assert "86.50" in billing and "计费系统更新于 2026-12-01 08:30" in billing
    _no_sideways_scroll(page, width)

    # Back to the search: the query and its results are still there.
    page.click("#back-to-search")
    page.wait_for_url("**/customers/?q=13812345678")
    assert page.input_value("input[name=q]") == "13812345678"
    page.locator("a.result").first.click()

    # New work order from the card: the desk opens with this customer.
    page.click("#new-ticket")
    page.wait_for_url(f"**/tickets/desk/?customer={zhang.pk}")
    assert "10000001" in page.locator("#customer-card").inner_text()
    assert page.input_value("input[name=customer_id]") == str(zhang.pk)
    page.check("input[name=caller_title][value=mr]")
    page.fill("#id_caller_phone", "13812345678")
    page.fill("#id_content", "咨询阶梯气价")
    page.click("#save-ticket")
    page.locator("#saved-banner").wait_for()
    number = page.locator("#saved-number").inner_text().strip()
    assert Ticket.objects.get(number=number).customer_id == zhang.pk
    _no_sideways_scroll(page, width)

    page.goto(f"{live_server.url}/customers/{zhang.pk}/")
    assert number in page.locator("#ticket-history").inner_text()
