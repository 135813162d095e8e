"""Browser test (1366 px): an auditor finds who closed a leak in the audit log, by work-order number
and action, and reads the person's name and the action in words (S3)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    """The second factor in the browser is tested in accounts' own tests; this one is about the log."""
    settings.KEFU_SECURITY = {**settings.KEFU_SECURITY, "MFA_ENFORCED": False}


def test_auditor_finds_who_closed_the_leak(browser, live_server, company_x, agent_x, auditor_x):
    from kefu.accounts.tests.factories import TEST_PASSWORD, UserFactory
    from kefu.tickets import services
    from kefu.tickets.models import Ticket
    from kefu.tickets.tests.factories import TicketFactory

    closer = UserFactory(company=company_x, role="dispatcher", username="disp_b", full_name="赵调度")
    t = TicketFactory(
        by=agent_x,
        kind="emergency",
        sub_kind="leak",
        content="楼道有煤气味",
        address="幸福小区1号楼1单元101室",
    )
    for to, reason in (("in_progress", ""), ("resolved", "更换了接头"), ("closed", "客户确认")):
        services.ticket_transition(
            ticket_id=t.pk,
            by=closer,
            to=to,
            version=Ticket.objects.get(pk=t.pk).version,
            reason=reason,
            cancel_reason="",
        )

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", auditor_x.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/accounts/audit/")
    page.fill("#audit-obj", t.number)
    page.select_option("#audit-action", "ticket.closed")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**obj=**")
    rows = page.locator("#audit-table tbody tr")
    assert rows.count() == 1
    assert "赵调度（disp_b）" in rows.first.locator(".audit-who").inner_text()
    assert "关闭工单" in rows.first.locator(".audit-what").inner_text()
    assert "客户确认" in rows.first.locator(".audit-detail").inner_text()
    widths = rows.first.locator("td").evaluate_all("els => els.map(e => e.offsetWidth)")
    assert min(widths) >= 40
    ctx.close()
