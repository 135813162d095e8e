"""The work-order page in a browser (Playwright, system Chromium) at 1366 px and on a 390 px phone:
the commitment clocks first and ticking; actions as verbs, each its own dialog with labelled,
required reasons; a hold because the customer asked for another time pauses the clocks with the
agreed time (C4 "除和客户另有约定外") and "恢复处理" resumes them; the page refreshes by itself."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published_now(company_x, manager_x):
    """This year's commitments (seed 004), in force since the first of January."""
    from kefu.sla.services import commitment_set_from_preset, commitment_set_publish

    year = timezone.localdate().year
    the_set = commitment_set_from_preset(
        company=company_x, year=year, preset="laizhou-crgas-2024", by=manager_x
    )
    return commitment_set_publish(
        commitment_set=the_set, by=manager_x, at=timezone.make_aware(datetime(year, 1, 1))
    )


@pytest.fixture
def repair(published_now, agent_x):
    from kefu.tickets.services import ticket_create

    return ticket_create(
        by=agent_x,
        kind="repair",
        sub_kind="appliance",
        content="燃气灶打不着火",
        caller_surname="张",
        caller_title="mr",
        caller_phone="13900001111",
        address="幸福小区3号楼2单元501室",
        on_duplicate="create",
    ).ticket


def _page(browser, live_server, user, width):
    from kefu.accounts.tests.factories import TEST_PASSWORD

    ctx = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page, errors


@pytest.mark.parametrize("width", [1366, 390])
def test_hold_pauses_and_resume_restarts_the_clocks(browser, live_server, agent_x, repair, width):
    from kefu.sla.models import Clock
    from kefu.tickets.models import Ticket

    page, errors = _page(browser, live_server, agent_x, width)
    page.goto(f"{live_server.url}/tickets/{repair.pk}/")
    clocks = page.locator("#ticket-clocks")
    bar = page.locator("#action-bar")
    expect(clocks.locator(".clock-running").first).to_be_visible()
    assert clocks.bounding_box()["y"] < bar.bounding_box()["y"]  # the clocks come first
    assert "止于" in clocks.inner_text()  # what stops each clock
    # No horizontal scrolling on the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    # Verbs, in the order of the work (the owner may pass the work order on, start, hold …).
    verbs = bar.locator("button[data-move]").all_inner_texts()
    assert verbs == ["派发", "开始处理", "挂起", "办结", "取消工单"]

    # 挂起: its own dialog; the reason and, for another time asked, the agreed time are required.
    bar.locator("button[data-move=on_hold]").click()
    dialog = page.locator("#dlg-on_hold")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#hold-agreed")).to_be_hidden()
    dialog.locator("#hold-reason").select_option("customer_requested_time")
    expect(dialog.locator("#hold-agreed")).to_be_visible()
    assert dialog.locator("label[for=hold-agreed]").inner_text() == "约定时间"
    dialog.locator("#reason-on_hold").fill("客户另约明天下午")
    dialog.locator("button[data-to=on_hold]").click()  # the agreed time is missing: the browser asks
    expect(dialog).to_be_visible()
    agreed = timezone.localtime() + timedelta(days=1)
    dialog.locator("#hold-agreed").fill(agreed.replace(hour=14, minute=0).strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        dialog.locator("button[data-to=on_hold]").click()
    expect(page.locator("#state-badge")).to_have_text("挂起")
    expect(page.locator("#hold-note")).to_contain_text("计时已暂停")
    expect(page.locator("#hold-note")).to_contain_text(agreed.strftime("%Y-%m-%d") + " 14:00")
    expect(clocks.locator(".clock-paused").first).to_be_visible()
    expect(page.locator("#timeline li").last).to_contain_text("计时暂停")
    assert Clock.objects.filter(subject_id=str(repair.pk), state="paused").exists()

    # 恢复处理: the clocks run again, on the timeline.
    resume = page.locator("#action-bar button[data-move=in_progress]")
    expect(resume).to_have_text("恢复处理")
    resume.click()
    with page.expect_navigation():
        page.locator("#dlg-in_progress button[data-to=in_progress]").click()
    expect(page.locator("#state-badge")).to_have_text("处理中")
    expect(page.locator("#timeline li").last).to_contain_text("计时恢复")
    assert not Clock.objects.filter(subject_id=str(repair.pk), state="paused").exists()
    assert Ticket.objects.get(pk=repair.pk).state == "in_progress"
    assert not [e for e in errors if "Content Security Policy" in e]


def test_cancel_dialog_needs_its_reasons_and_a_dispatcher_dispatches(
    browser, live_server, agent_x, dispatcher_x, technician_x, repair
):
    page, _ = _page(browser, live_server, dispatcher_x, 1366)
    page.goto(f"{live_server.url}/tickets/{repair.pk}/")
    bar = page.locator("#action-bar")
    assert bar.locator("button[data-move]").first.inner_text() == "派发"
    bar.locator("button[data-move=cancelled]").click()
    dialog = page.locator("#dlg-cancelled")
    assert dialog.locator("label[for=cancel-kind]").inner_text() == "取消类别"
    assert dialog.locator("#cancel-kind").get_attribute("required") is not None
    assert dialog.locator("#reason-cancelled").get_attribute("required") is not None
    dialog.locator("[data-close-dialog]").click()
    expect(dialog).to_be_hidden()
    bar.locator("button[data-move=assigned]").click()
    page.locator("#as-user").select_option(str(technician_x.pk))
    with page.expect_navigation():
        page.locator("#confirm-assign").click()
    expect(page.locator("#state-badge")).to_have_text("已派发")


def test_clocks_tick_and_the_page_refreshes_by_itself(browser, live_server, agent_x, agent2_x, repair):
    from kefu.tickets.services import ticket_comment

    page, _ = _page(browser, live_server, agent_x, 390)
    page.goto(f"{live_server.url}/tickets/{repair.pk}/")
    clock = page.locator("#ticket-clocks .clock[data-due]").first
    expect(clock.locator(".clock-text")).to_contain_text("剩余")
    # The browser counts down: a due time just passed shows as breached within a second.
    clock.evaluate("el => { el.dataset.due = new Date(Date.now() - 125000).toISOString(); }")
    expect(clock).to_have_class(re.compile(r"clock-breached"))
    expect(clock.locator(".clock-text")).to_have_text(re.compile(r"已超时 2分"))
    # A colleague's note appears without reloading (htmx polling every 20 s).
    page.evaluate("window.__marker = 1")
    ticket_comment(ticket_id=repair.pk, by=agent2_x, text="客户来电催问进度")
    expect(page.locator("#timeline")).to_contain_text("客户来电催问进度", timeout=30_000)
    assert page.evaluate("window.__marker") == 1  # the same page: no full reload
