"""Closing a month (P15): the figures are frozen as of the month's end; a closed month is unchanged
after later edits of its records; a correction is a new version with its reason and the difference;
the current month cannot be closed; only Perm.REPORT_CLOSE closes; every close is audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from kefu.accounts.models import AuditEvent
from kefu.accounts.tests.factories import TEST_PASSWORD, UserFactory
from kefu.core.errors import DomainError, Forbidden
from kefu.kpi import formulas as f
from kefu.kpi.models import MonthReport
from kefu.kpi.selectors import figure_records, month_view, version_changes
from kefu.kpi.services import month_close
from kefu.kpi.tests.conftest import LATER, MARCH, L, clock_of
from kefu.sla.services import clock_cancel

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(company_x):
    return UserFactory(company=company_x, role="manager", username="boss_x")


def _k6(view):
    return next(x.figure for x in view.lines if x.indicator.code == "K6")


def test_a_closed_month_does_not_change_and_a_correction_is_a_new_version(march, manager, company_x):
    report = month_close(by=manager, month=MARCH, now=LATER)
    assert report.version == 1 and len(report.inputs_hash) == 64
    # Later the third emergency's work order is found to be a duplicate: its clock is cancelled.
    clock_cancel(clock=clock_of(march["e3"], "C8"), at=L(2026, 4, 12, 9))
    view = month_view(company_x.pk, MARCH, now=L(2026, 4, 13))
    assert _k6(view).value == Decimal("33.33")  # frozen: 1 / 3
    assert view.changed_since_closing == ("K6",)
    _line, rows = figure_records(company_x.pk, "K6", MARCH, now=L(2026, 4, 13))
    assert sorted(r.outcome for r in rows) == ["met", "missed", "missed"]  # the records it was closed with

    with pytest.raises(DomainError, match="更正原因"):
        month_close(by=manager, month=MARCH, now=L(2026, 4, 13))
    v2 = month_close(by=manager, month=MARCH, now=L(2026, 4, 13), reason="GD 重复工单撤销")
    view = month_view(company_x.pk, MARCH, now=L(2026, 4, 14))
    assert (v2.version, _k6(view).value, view.changed_since_closing) == (2, Decimal("50.00"), ())
    assert ("K6", "33.33", "50.00") in version_changes(report, v2)
    assert MonthReport.objects.get(pk=report.pk).figures == report.figures  # version 1 kept as it was
    actions = list(AuditEvent.objects.filter(action__startswith="kpi.").values_list("action", flat=True))
    assert sorted(actions) == ["kpi.month_closed", "kpi.month_corrected"]


def test_the_current_month_cannot_be_closed(manager):
    with pytest.raises(DomainError, match="尚未结束"):
        month_close(by=manager, month=f.Month(2026, 3), now=L(2026, 3, 31, 23, 59))


def test_only_report_close_may_close(company_x):
    lead = UserFactory(company=company_x, role="team_lead", username="lead_x2")
    with pytest.raises(Forbidden):
        month_close(by=lead, month=MARCH, now=LATER)


def test_a_company_closes_only_its_own_month(march, manager, company_y):
    month_close(by=manager, month=MARCH, now=LATER)
    assert month_view(company_y.pk, MARCH, now=LATER).report is None


def test_page_and_api(client, march, manager):
    assert client.login(username=manager.username, password=TEST_PASSWORD)
    with time_machine.travel(LATER, tick=False):
        r = client.post("/kpi/close/", {"month": "2026-03"})
        assert r.status_code == 302
        page = client.get("/kpi/?month=2026-03").content.decode()
        assert 'id="closed-banner"' in page and "发布更正版本" in page
        bad = client.post("/api/v1/kpi/months/2026-03/close", {"reason": ""}, content_type="application/json")
        assert bad.status_code == 400 and "更正原因" in bad.json()["detail"]
        ok = client.post(
            "/api/v1/kpi/months/2026-03/close", {"reason": "复核"}, content_type="application/json"
        )
        assert ok.status_code == 201 and ok.json()["closed"]["version"] == 2
        early = client.post("/api/v1/kpi/months/2026-04/close", {}, content_type="application/json")
        assert early.status_code == 400
