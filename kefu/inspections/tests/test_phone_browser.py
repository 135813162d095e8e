"""The inspector's phone at 390 px (Playwright): a nobody-home visit tapped with the network off waits
in the field's offline queue with its client-made id and capture time; when the network returns the
queue — replayed twice — is applied exactly once, counted at the capture time (P14)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect
from time_machine import escape_hatch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_offline_visit_queued_and_applied_once(
    browser, live_server, households, planner_x, inspector, time_machine
):
    from kefu.accounts.tests.factories import TEST_PASSWORD
    from kefu.inspections.models import LedgerEntry, Visit
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
    entry = LedgerEntry.objects.get(customer__account_no="A002", kind="household")

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

    ctx.set_offline(True)
    card.locator('[data-outcome="nobody_home"]').click()
    expect(page.locator("#queue")).to_have_attribute("data-count", "1")
    assert Visit.objects.count() == 0
    page.evaluate("""() => { const q = JSON.parse(localStorage.getItem('kefu.field.queue'));
        q.push(JSON.parse(JSON.stringify(q[0])));
        localStorage.setItem('kefu.field.queue', JSON.stringify(q)); }""")
    ctx.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#queue")).to_have_attribute("data-count", "0", timeout=30_000)
    expect(page.locator("#queue-errors li")).to_have_count(0)
    [visit] = Visit.objects.filter(entry=entry)
    assert visit.outcome == "nobody_home" and visit.offline and visit.door_notice
    entry.refresh_from_db()
    assert entry.status == "nobody_home" and entry.no_access_visits == 1
    ctx.close()
