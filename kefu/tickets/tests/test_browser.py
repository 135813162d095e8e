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
    page.press("#f-q", "Enter")  # an exact number opens the work order
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
    focused = "() => document.activeElement && document.activeElement.id"
    assert page.evaluate(focused) == "id_content"  # the question box has the focus, no mouse needed
    assert page.locator("#id_resolved_on_call").is_checked()  # quick mode: already ticked
    page.keyboard.type("咨询开户需要带什么材料")
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "id_answer"  # Tab goes straight to the answer
    page.keyboard.type("身份证和房产证")
    page.keyboard.press("Control+Enter")
    page.locator("#saved-banner").wait_for()
    assert time.monotonic() - started < 30
    t = Ticket.objects.get()
    assert t.state == "resolved" and t.resolved_at_first_contact
    assert t.events.filter(kind="reply").exists()
    # The next call starts in quick mode again; without the answer it is refused (C15), nothing saved.
    assert "quick=1" in page.url and page.evaluate(focused) == "id_content"
    page.keyboard.type("咨询气价")
    page.keyboard.press("Control+Enter")
    page.locator("#id_answer + .error, .error[role=alert]").first.wait_for()
    assert "当场办结须填写给客户的答复内容" in page.content()
    assert Ticket.objects.count() == 1


def test_list_is_readable_at_1366(browser, live_server, agent_x, make_ticket):
    """No one-character-per-line columns at 1366 px: every header is on one line and every column
    is wider than a few characters; sorting by time left is one click."""
    for i in range(5):
        make_ticket(
            kind="repair",
            sub_kind="meter",
            content=f"燃气表屏幕无显示，不走字，客户要求尽快上门处理 {i}",
            address=f"泰山区岱宗大街幸福小区{i + 1}号楼2单元501室",
        )
    page = _login(browser, live_server, agent_x, width=1366)
    page.goto(f"{live_server.url}/tickets/")
    cells = page.locator("#ticket-table thead th").evaluate_all(
        "els => els.filter(e => e.offsetParent).map(e => [e.textContent.trim(), e.offsetWidth, e.offsetHeight])"  # noqa: E501
    )
    assert len(cells) >= 9
    line = page.locator("#ticket-table thead th").first.evaluate(
        "e => parseFloat(getComputedStyle(e).lineHeight)"
    )
    for text, width, height in cells:
        assert width >= 40 and height < 2.5 * line, (text, width, height)
    widths = page.locator("#ticket-table tbody tr:first-child td").evaluate_all(
        "els => els.map(e => e.offsetWidth)"
    )
    assert min(widths) >= 40
    page.click("#ticket-table th.c-clock a")
    page.wait_for_url("**sort=time_left**")
    assert page.locator("#f-sort").input_value() == "time_left"
