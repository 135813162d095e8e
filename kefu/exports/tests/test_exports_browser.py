"""Browser test (1366 px): a team lead asks to export the work-order list in full (绝密, S3), the
supervisor approves it in the queue, the team lead downloads the watermarked file."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    """The second factor in the browser is tested in accounts' own tests; this one is about exports."""
    settings.KEFU_SECURITY = {**settings.KEFU_SECURITY, "MFA_ENFORCED": False}


def _login(browser, live_server, user):
    from kefu.accounts.tests.factories import TEST_PASSWORD

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(30_000)  # a loaded CI machine: the first page may be slow
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return ctx, page


def test_request_approve_download(browser, live_server, company_x, agent_x, supervisor_x):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.tickets.tests.factories import TicketFactory

    lead = UserFactory(company=company_x, role="team_lead", username="lead_b", full_name="李强")
    TicketFactory(by=agent_x, content="燃气表不走字")

    ctx, page = _login(browser, live_server, lead)
    page.goto(f"{live_server.url}/tickets/")
    expect(page.locator("h1 .classified")).to_have_text("机密")
    link = page.locator("#export-xlsx")
    expect(link).to_contain_text("绝密，需审批")
    with page.expect_navigation():
        link.click()
    expect(page.locator("#rows")).to_contain_text("1")
    page.fill("#reason", "月底核对报修工单")
    with page.expect_navigation():
        page.click("#submit-request")
    expect(page.locator("#state")).to_have_text("待审批")
    number = re.search(r"DC-\d{8}-\d{4}", page.locator("h1").inner_text()).group(0)

    sctx, sup = _login(browser, live_server, supervisor_x)
    sup.goto(f"{live_server.url}/exports/approvals/")
    row = sup.locator(f"tr[data-number='{number}']")
    expect(row).to_contain_text("月底核对报修工单")
    with sup.expect_navigation():
        row.locator("a").first.click()
    sup.fill("#approve-note", "仅限核对")
    with sup.expect_navigation():
        sup.click("#approve")
    expect(sup.locator("#state")).to_have_text("已批准")
    sctx.close()

    page.reload()
    expect(page.locator("#download")).to_be_visible()
    with page.expect_download() as info:
        page.click("#download")
    assert info.value.suggested_filename == f"tickets-{number}.xlsx"
    ctx.close()
