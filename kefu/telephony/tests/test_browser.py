"""Screen pop in a browser (P2): an agent sits on the console; the PBX says the agent answered;
within a second or two the agent's browser shows the desk with the caller looked up; the work order
saved there is linked to the call. And the wallboard refreshes by itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(browser, live_server, username):
    from kefu.accounts.tests.factories import TEST_PASSWORD

    ctx = browser.new_context(locale="zh-CN")
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return ctx, page


def test_answered_call_pops_the_desk_with_the_caller(browser, live_server, agent_x, feed_x, hotline_x, seats):
    from django.utils import timezone

    from kefu.customers.tests.factories import CustomerFactory
    from kefu.telephony.models import Call, CallTicket
    from kefu.telephony.services import call_events_ingest
    from kefu.telephony.tests.conftest import answered_trace

    clerk = __import__("kefu.accounts.tests.factories", fromlist=["UserFactory"]).UserFactory(
        company=agent_x.company, role="clerk"
    )
    CustomerFactory(
        user=clerk,
        account_no="100001",
        name="张三丰",
        category="resident",
        phones=[{"number": "13800138000", "is_primary": True}],
        community="幸福小区",
        building="3",
        unit="2",
        room="501",
        address="幸福小区3号楼2单元501室",
    )
    from kefu.telephony.services import agent_state_set

    agent_state_set(by=agent_x, state="ready")  # on the seat: this browser pops
    ctx, page = _login(browser, live_server, "agent_x")
    page.goto(f"{live_server.url}/telephony/")
    expect(page.locator("#agent-state")).to_be_visible()
    call_events_ingest(by=feed_x, events=answered_trace(timezone.now() - timedelta(seconds=10))[:4])
    page.wait_for_url("**/tickets/desk/?phone=13800138000*", timeout=15_000)
    expect(page.locator("body")).to_contain_text("张")  # the caller's card, looked up by the number
    call = Call.objects.get()
    assert call.popped_at is not None and (call.popped_at - call.answered_at).total_seconds() < 60
    page.fill("textarea[name=content]", "咨询开户")
    with page.expect_navigation():
        page.click("#ticket-form button[type=submit]")
    expect(page.locator("body")).to_contain_text("咨询开户")
    assert CallTicket.objects.filter(call=call).count() == 1
    ctx.close()


def test_wallboard_refreshes_itself(browser, live_server, agent_x, feed_x, hotline_x):
    from django.utils import timezone

    from kefu.telephony.services import call_events_ingest
    from kefu.telephony.tests.conftest import ev

    ctx, page = _login(browser, live_server, "agent_x")
    page.goto(f"{live_server.url}/telephony/wallboard/")
    expect(page.locator("#wb-waiting")).to_have_text("0")
    now = timezone.now()
    call_events_ingest(
        by=feed_x,
        events=[ev("w1", "call.started", now, "w", hotline="96777"), ev("w2", "call.queued", now, "w")],
    )
    expect(page.locator("#wb-waiting")).to_have_text("1", timeout=10_000)
    ctx.close()
