"""Browser test of the agent desk: look up a caller, create a repair order, find it in the
list, hand it over, accept it as another user — Playwright driving the system Chromium against the
live server. Plus a keyboard-only quick consultation (C15: under 30 seconds)."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(browser, live_server, user, *, width=1280):
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


def test_desk_lookup_create_list_hand_over_accept(browser, live_server, agent_x, agent2_x, customer_x):
    from kefu.tickets.models import Ticket

    page = _login(browser, live_server, agent_x)
    # The telephone system opens the desk with the caller's number.
    page.goto(f"{live_server.url}/tickets/desk/?phone=13800138000")
    card = page.locator("#customer-card")
    card.wait_for()
    assert "100001" in card.inner_text() and "138****8000" in card.inner_text()

    # A repair: address and phone are required (P5); the card fills them.
    page.select_option("#id_kind", "repair")
    assert page.locator(".req[data-for=address]").is_visible()
    page.select_option("#id_sub_kind", "repair.meter")
    page.fill("#id_caller_surname", "张")
    page.check("input[name=caller_title][value=mr]")
    page.fill("#id_content", "燃气表屏幕无显示，不走字")
    page.click("#save-ticket")
    page.locator("#saved-banner").wait_for()
    assert "您还有其他问题吗" in page.locator("#saved-banner").inner_text()
    assert "张先生" in page.locator("#saved-banner").inner_text()
    number = page.locator("#saved-number").inner_text().strip()
    t = Ticket.objects.get(number=number)
    assert t.kind.code == "repair" and t.owner_id == agent_x.pk and t.caller_phone == "13800138000"

    # Find it in the list by its number.
    page.goto(f"{live_server.url}/tickets/")
    page.fill("#f-q", number)
    page.press("#f-q", "Enter")
    page.locator(f"#ticket-table >> text={number}").click()
    page.wait_for_url(f"{live_server.url}/tickets/{t.pk}/")

    # Hand it over through the dialog.
    page.click("#open-hand-over")
    page.select_option("#ho-to", str(agent2_x.pk))
    page.fill("#ho-reason", "下班交接，客户下午回电")
    page.click("#confirm-hand-over")
    page.locator("#pending-hand-over").wait_for()
    assert page.locator("#owner-name").inner_text().strip() == agent_x.display_name

    # The colleague accepts and becomes the owner.
    other = _login(browser, live_server, agent2_x)
    other.goto(f"{live_server.url}/tickets/hand-overs/")
    other.locator(f"text={number}").wait_for()
    other.click("form[action$='/accept/'] button")
    other.wait_for_url(f"{live_server.url}/tickets/{t.pk}/")
    assert other.locator("#owner-name").inner_text().strip() == agent2_x.display_name
    kinds = other.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == ["created", "handed_over", "accepted"]


def test_quick_consultation_keyboard_only(browser, live_server, agent_x):
    from kefu.tickets.models import Ticket

    page = _login(browser, live_server, agent_x)
    page.goto(f"{live_server.url}/tickets/desk/?quick=1")
    started = time.monotonic()
    page.focus("#id_kind")
    page.keyboard.press("Tab")  # sub-kind
    page.keyboard.press("ArrowDown")
    page.focus("#id_content")
    page.keyboard.type("咨询开户需要带什么材料")
    page.keyboard.press("Tab")  # resolved on call: already ticked by quick mode
    page.keyboard.press("Tab")
    page.keyboard.type("身份证和房产证")
    page.keyboard.press("Control+Enter")
    page.locator("#saved-banner").wait_for()
    assert time.monotonic() - started < 30
    t = Ticket.objects.get()
    assert t.state == "resolved" and t.resolved_at_first_contact
    assert t.events.filter(kind="reply").exists()
