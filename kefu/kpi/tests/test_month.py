"""A month of indicators computed from the commitment clocks of real work orders: K6 from the C8
clocks of emergencies, K8 from the C10 clocks of repairs; the page, the records behind a figure and
the API; company Y sees none of company X's records (S2); a role without Perm.REPORT_VIEW is refused;
a malformed or future month and an unknown indicator get a clear 4xx."""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from kefu.accounts.tests.factories import TEST_PASSWORD
from kefu.kpi.selectors import figure_records, month_lines
from kefu.kpi.tests.conftest import LATER, MARCH, L

pytestmark = pytest.mark.django_db


def _by_code(lines):
    return {x.indicator.code: x.figure for x in lines}


def test_k6_and_k8_from_the_clocks(march, company_x):
    """K6 = arrivals within 40 min / emergencies = 1/3 = 33.33 %; K8 = 1/1 = 100 %; indicators with
    no source connected, or nothing counted, are 无数据 (never 0 % or 100 %)."""
    figures = _by_code(month_lines(company_x.pk, MARCH, now=LATER))
    assert len(figures) == 17
    k6 = figures["K6"]
    assert (k6.numerator, k6.denominator, k6.value) == (1, 3, Decimal("33.33"))
    assert (figures["K8"].value, figures["K8"].denominator) == (Decimal("100.00"), 1)
    assert figures["K7"].value is None and figures["K7"].method == "primary"
    assert figures["K1"].value is None and figures["K1"].method == "primary"  # no active customers
    assert figures["K4"].value is None and figures["K4"].method == "primary"  # no active households


def test_the_records_behind_k6(march, company_x):
    line, rows = figure_records(company_x.pk, "k6", MARCH, now=LATER)
    assert line.indicator.code == "K6"
    assert sorted(r.label for r in rows if r.outcome == "met") == [march["e1"].number]
    assert sorted(r.label for r in rows if r.outcome == "missed") == sorted(
        [march["e2"].number, march["e3"].number]
    )
    urls = {r.label: r.url for r in rows}
    assert urls[march["e1"].number].endswith(f"/tickets/{march['e1'].pk}/")


def test_a_month_before_the_limit_passed_lists_the_open_clock_as_pending(march, company_x):
    """Taken at 10:30 on 2 March, the third emergency's 40 minutes are still running: pending."""
    figure = _by_code(month_lines(company_x.pk, MARCH, now=L(2026, 3, 2, 10, 30)))["K6"]
    assert figure.records["pending"]


def test_another_company_sees_nothing(march, company_y):
    figures = _by_code(month_lines(company_y.pk, MARCH, now=LATER))
    assert figures["K6"].value is None and not any(figures["K6"].records.values())


class TestPagesAndApi:
    def login(self, client, user):
        assert client.login(username=user.username, password=TEST_PASSWORD)
        return client

    def test_dashboard_and_records_page(self, client, march, lead_x):
        c = self.login(client, lead_x)
        with time_machine.travel(LATER, tick=False):
            page = c.get("/kpi/?month=2026-03").content.decode()
            records = c.get("/kpi/K6/?month=2026-03").content.decode()
        assert "紧急抢险服务" in page and "33.33%" in page and "1 / 3" in page and "无数据" in page
        assert march["e1"].number in records and "按时" in records and "超时" in records

    def test_api(self, client, march, lead_x):
        c = self.login(client, lead_x)
        with time_machine.travel(LATER, tick=False):
            body = c.get("/api/v1/kpi/months/2026-03").json()
            recs = c.get("/api/v1/kpi/months/2026-03/K6/records").json()
        k6 = next(x for x in body["figures"] if x["code"] == "K6")
        assert (k6["value"], k6["numerator"], k6["denominator"]) == ("33.33", "1", "3")
        assert k6["records"] == {"met": 1, "missed": 2, "pending": 0, "excluded": 0}
        assert len(recs["records"]) == 3 and recs["figure"]["code"] == "K6"

    @pytest.mark.parametrize(
        "url,status",
        [
            ("/api/v1/kpi/months/2026-13", 400),
            ("/api/v1/kpi/months/march", 400),
            ("/api/v1/kpi/months/2031-01", 400),
            ("/api/v1/kpi/months/2026-03/K18/records", 404),
            ("/kpi/?month=2026-13", 400),
            ("/kpi/K99/?month=2026-03", 404),
        ],
    )
    def test_bad_input_is_a_clear_4xx(self, client, lead_x, url, status):
        c = self.login(client, lead_x)
        with time_machine.travel(LATER, tick=False):
            r = c.get(url)
        assert r.status_code == status
        text = r.json()["detail"] if url.startswith("/api/") else r.content.decode()
        assert "月份" in text or "指标" in text

    def test_a_role_without_report_view_is_refused(self, client, agent_x):
        c = self.login(client, agent_x)
        assert c.get("/kpi/").status_code == 403
        assert c.get("/api/v1/kpi/months/2026-03").status_code == 403
