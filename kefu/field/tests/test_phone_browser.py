"""The technician's phone at 390 px (Playwright): an arrival tapped with the network off waits in the
browser's queue with its client-made id and capture time; when the network returns the queue —
replayed twice — is applied exactly once, and the arrival counts as captured offline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_offline_arrival_queued_and_applied_once(
    browser, live_server, published, make_ticket, customer_x, crew_a, tech_a, dispatcher_x
):
    from kefu.accounts.tests.factories import TEST_PASSWORD
    from kefu.field.models import JobEvent
    from kefu.field.services import job_create, job_dispatch

    ticket = make_ticket(kind="repair", sub_kind="indoor_facility", customer=customer_x)
    job = job_create(by=dispatcher_x, ticket_id=ticket.pk)
    job_dispatch(by=dispatcher_x, job_id=job.pk, crew_id=crew_a.pk)

    ctx = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        geolocation={"latitude": 36.2001, "longitude": 117.1001, "accuracy": 12},
        permissions=["geolocation"],
    )
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", tech_a.user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{live_server.url}/field/phone/")
    card = page.locator(f'[data-job="{job.pk}"]')
    expect(card).to_be_visible()

    ctx.set_offline(True)
    card.locator('[data-event="arrived"]').click()
    expect(page.locator("#queue")).to_have_attribute("data-count", "1")
    assert JobEvent.objects.count() == 0
    # the same action queued twice (a second tab, or a resend after a lost answer)
    page.evaluate("""() => { const q = JSON.parse(localStorage.getItem('kefu.field.queue'));
        q.push(JSON.parse(JSON.stringify(q[0])));
        localStorage.setItem('kefu.field.queue', JSON.stringify(q)); }""")
    ctx.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#queue")).to_have_attribute("data-count", "0", timeout=30_000)
    expect(page.locator("#queue-errors li")).to_have_count(0)
    [event] = JobEvent.objects.filter(job=job)
    assert event.kind == "arrived" and event.offline and event.device_at is not None
    assert event.source == "gps" and event.distance_m is not None and event.distance_m < 50
    assert event.at == event.device_at <= event.server_at
    ctx.close()
