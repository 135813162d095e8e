"""Browser test of the quality screens: the inspector sees the hits highlighted in the transcript
and scores it; the agent appeals from their own evaluation page (Playwright, system Chromium)."""

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


def test_inspector_scores_agent_appeals(browser, live_server, inspector_x, agent_x):
    from playwright.sync_api import expect

    from kefu.quality import services
    from kefu.quality.models import Evaluation
    from kefu.quality.tests.conftest import BAD_CALL

    tr, _ = services.transcript_submit(
        company=agent_x.company,
        source="call",
        external_id="PBX-B1",
        turns=BAD_CALL,
        agent=agent_x,
        customer_surname="王",
        check_now=False,
    )
    services.check_pending()
    page = _login(browser, live_server, inspector_x)
    page.goto(f"{live_server.url}/quality/?hits=1")
    with page.expect_navigation():
        page.click("text=PBX-B1")
    expect(page.locator("mark").first).to_be_visible()
    assert "不知道" in page.locator("mark").all_inner_texts()
    with page.expect_navigation():
        page.click("button:has-text('人工评分')")
    for name, value in {
        "opening": 0,
        "address": 5,
        "listening": 10,
        "answer": 10,
        "attitude": 5,
        "closing": 5,
        "forbidden": 0,
    }.items():
        page.fill(f"input[name=p_{name}]", str(value))
    with page.expect_navigation():
        page.click("button[value=score]")
    expect(page.locator("#ev-score")).to_have_text("0")  # the critical item

    ev = Evaluation.objects.get(transcript=tr)
    agent_page = _login(browser, live_server, agent_x)
    agent_page.goto(f"{live_server.url}/quality/evaluations/{ev.pk}/")
    agent_page.fill("textarea[name=reason]", "客户先辱骂，我在解释流程")
    with agent_page.expect_navigation():
        agent_page.click("button[value=appeal]")
    expect(agent_page.locator("#ev-status")).to_have_text("申诉中")
