"""The pages work under the Content-Security-Policy (Playwright on the system Chromium): no
violation is reported while an agent uses the desk, the list and a work order's dialog, and the
behaviours moved out of inline handlers (kefu.js) still work."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_run_without_csp_violations(browser, live_server, agent_x):
    from kefu.accounts.tests.factories import TEST_PASSWORD, UserFactory
    from kefu.tickets.services import ticket_create

    UserFactory(company=agent_x.company, role="agent", username="agent2_x")
    t = ticket_create(
        by=agent_x,
        kind="consultation",
        content="开户材料",
        caller_surname="张",
        caller_title="mr",
        caller_phone="13900001111",
        on_duplicate="create",
    ).ticket
    ctx = browser.new_context(locale="zh-CN")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error('Content Security Policy: ' + e.violatedDirective))"  # noqa: E501 (one message or data row, kept whole)
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "agent_x")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    for path in ("/", "/tickets/desk/", "/tickets/", "/tickets/mine/", f"/tickets/{t.pk}/"):
        page.goto(f"{live_server.url}{path}")
    page.click("#open-hand-over")  # data-open-dialog (was an inline onclick)
    assert page.locator("#hand-over-dialog").is_visible()
    page.click("#hand-over-dialog [data-close-dialog]")
    assert not page.locator("#hand-over-dialog").is_visible()
    # data-autosubmit (was an inline onchange): the change submits the form, and the answer is a new
    # page; wait for that navigation, not for the load state of the page already shown.
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert violations == []
    ctx.close()
