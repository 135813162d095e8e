"""The inspector's phone at 390 px (Playwright): a nobody-home visit tapped with the network off waits
in the field's offline queue with its client-made id and capture time; when the network returns the
queue — replayed twice — is applied exactly once, counted at the capture time (P14)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect
from time_machine import escape_hatch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _phone(browser, live_server, planner_x, inspector, time_machine, account_no):
    """The inspector's phone (390 px, logged in) on today's batch of 幸福小区 3号楼; the card of one
    household, its ledger entry, the page and its browser context."""
    from kefu.accounts.tests.factories import TEST_PASSWORD
    from kefu.inspections.models import LedgerEntry
    from kefu.inspections.services import batch_create, local_today, programme_generate

    # the browser's clock is the real one: run the server on it too
    time_machine.move_to(datetime.fromtimestamp(escape_hatch.time.time(), tz=timezone.utc), tick=True)
    from django.utils import timezone as djtz

    type(inspector.user).objects.filter(pk=inspector.user_id).update(password_changed_at=djtz.now())
    today = local_today(planner_x.company)
    programme_generate(by=planner_x, year=today.year)
    batch_create(
        by=planner_x,
        year=today.year,
        community="幸福小区",
        buildings=["3"],
        inspector_id=inspector.pk,
        first_day=today,
        last_day=today,
    )
    entry = LedgerEntry.objects.get(customer__account_no=account_no, kind="household")

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", inspector.user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{live_server.url}/inspections/phone/")
    card = page.locator(f'[data-entry="{entry.pk}"]')
    expect(card).to_be_visible()
    return card, entry, page, ctx


def _back_online(page, ctx):
    ctx.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#queue")).to_have_attribute("data-count", "0", timeout=30_000)
    expect(page.locator("#queue-errors li")).to_have_count(0)


def test_offline_visit_queued_and_applied_once(
    browser, live_server, households, planner_x, inspector, time_machine
):
    from kefu.inspections.models import Visit

    card, entry, page, ctx = _phone(browser, live_server, planner_x, inspector, time_machine, "A002")
    ctx.set_offline(True)
    card.locator('[data-outcome="nobody_home"]').click()
    expect(page.locator("#queue")).to_have_attribute("data-count", "1")
    assert Visit.objects.count() == 0
    page.evaluate("""() => { const q = JSON.parse(localStorage.getItem('kefu.field.queue'));
        q.push(JSON.parse(JSON.stringify(q[0])));
        localStorage.setItem('kefu.field.queue', JSON.stringify(q)); }""")
    _back_online(page, ctx)
    [visit] = Visit.objects.filter(entry=entry)
    assert visit.outcome == "nobody_home" and visit.offline and visit.door_notice
    entry.refresh_from_db()
    assert entry.status == "nobody_home" and entry.no_access_visits == 1
    ctx.close()


def test_a_signature_drawn_offline_arrives_with_the_visit(
    browser, live_server, households, planner_x, inspector, time_machine
):
    """C5: the customer signs with a finger on the phone; the PNG travels in the offline queue with
    the visit and is stored with it."""
    from kefu.inspections.models import Visit

    card, entry, page, ctx = _phone(browser, live_server, planner_x, inspector, time_machine, "A001")
    card.locator("[data-open-visit]").click()
    form = card.locator("form[data-visit-form]")
    for fieldset in form.locator("fieldset[data-check]").all():
        fieldset.locator('input[value="pass"]').check()
    form.locator("input[name=signed_by]").fill("张三丰")
    pad = form.locator("canvas[data-signature]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    for k in range(1, 12):
        page.mouse.move(box["x"] + 20 + 25 * k, box["y"] + 40 + (k % 3) * 20)
    page.mouse.up()
    expect(pad).to_have_attribute("data-drawn", "1")
    ctx.set_offline(True)
    form.locator("button[type=submit]").click()
    expect(page.locator("#queue")).to_have_attribute("data-count", "1")
    _back_online(page, ctx)
    [visit] = Visit.objects.filter(entry=entry)
    assert visit.outcome == "done" and visit.signed_by == "张三丰" and visit.offline
    with visit.signature.open("rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    ctx.close()
