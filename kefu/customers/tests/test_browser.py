"""Browser test (issue 2): an agent logs in, types the caller's phone number into the lookup box and
finds the customer, masked, with the care flag — Playwright driving the system Chromium against
pytest-django's live server, at a phone's screen width."""

from __future__ import annotations

from datetime import date

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_agent_finds_caller_by_phone(page, live_server, agent_x, supervisor_x):
    from kefu.accounts.tests.factories import TEST_PASSWORD
    from kefu.customers import services
    from kefu.customers.tests.test_customer_services import new_customer

    zhang = new_customer(supervisor_x, phones=[{"number": "13812345678"}])
    services.care_register(
        user=supervisor_x,
        customer_id=zhang.pk,
        needs=["elderly"],
        consent_on=date(2026, 1, 1),
        consent_by="张三丰",
    )
    new_customer(
        supervisor_x,
        account_no="10000002",
        name="李四",
        phones=[{"number": "13912345678"}],
        address="和平小区1-1-101",
    )

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", agent_x.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # The agent's home page has the lookup box; the caller's number as the phone shows it.
    page.fill("input[name=q]", "138 1234 5678")
    page.press("input[name=q]", "Enter")
    result = page.locator("a.result")
    result.first.wait_for()
    assert result.count() == 1
    text = result.first.inner_text()
    assert "张**" in text and "138****5678" in text and "老" in text
    assert "张三丰" not in page.content()

    # Live results while typing (htmx), without reloading the page.
    page.fill("input[name=q]", "")
    page.type("input[name=q]", "13912345678", delay=20)
    page.wait_for_selector("a.result >> text=李*")
    assert page.locator("a.result").count() == 1

    # The customer page, masked for an agent, with no button to unmask.
    page.fill("input[name=q]", "13812345678")
    page.wait_for_selector("a.result >> text=张**")
    page.click("a.result")
    page.wait_for_url(f"{live_server.url}/customers/{zhang.pk}/?q=13812345678")
    assert "特殊关爱客户" in page.inner_text("main")
    assert page.locator("text=显示完整信息").count() == 0
