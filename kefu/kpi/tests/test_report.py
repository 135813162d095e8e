"""The monthly service-supervision report (P15), the weekly summary, the group roll-up and the yearly
publication (C17): the report's figures equal the registry's, targets decide met / missed, a closed
month is read frozen, the group's figure comes from summed numerators and denominators, files are
real PDFs and workbooks and every download is logged, the publication is public only once made so."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine

from kefu.accounts.tests.factories import TEST_PASSWORD, UserFactory
from kefu.kpi import formulas as f
from kefu.kpi.report import group_rollup, monthly_report, months_back, year_results
from kefu.kpi.selectors import month_lines
from kefu.kpi.services import month_close, publication_make_public, target_set
from kefu.kpi.tests.conftest import LATER, MARCH, L

pytestmark = pytest.mark.django_db


def _fig(code, num, den):
    return f.Figure(code, f.value_of(code, Fraction(num), Fraction(den)), Fraction(num), Fraction(den))


class TestPure:
    def test_group_k1_is_summed_household_hours_not_a_mean_of_percentages(self):
        """Company A: 36 h lost of 4,464 (99.19 %); B: 0 of 744,000 (100 %). Group: 1 − 36/748,464
        = 99.995 % → 100.00 (the mean of the two would be 99.60)."""
        total = f.rolled_up("K1", [_fig("K1", 36, 4464), _fig("K1", 0, 744000)])
        assert (total.numerator, total.denominator, total.value) == (36, 748464, Decimal("100.00"))

    def test_group_share_and_mean_and_no_data(self):
        """K6: (1 + 9) / (3 + 10) = 76.92 %; K15: (18 + 7) / (2 + 1) = 8.33 分; 无数据 adds nothing."""
        k6 = f.rolled_up(
            "K6", [_fig("K6", 1, 3), _fig("K6", 9, 10), f.Figure("K6", None, Fraction(0), Fraction(0))]
        )
        assert k6.value == Decimal("76.92")
        assert f.rolled_up("K15", [_fig("K15", 18, 2), _fig("K15", 7, 1)]).value == Decimal("8.33")
        assert f.rolled_up("K6", []).value is None

    def test_verdicts(self):
        assert f.against_target(Decimal("99.90"), Decimal("99.90"), strict=True) == f.Verdict.MISSED
        assert f.against_target(Decimal("99.91"), Decimal("99.90"), strict=True) == f.Verdict.MET
        assert f.against_target(Decimal("95.00"), Decimal("95.00")) == f.Verdict.MET
        assert f.against_target(None, Decimal("95")) == f.Verdict.NO_DATA
        assert f.against_target(Decimal("50"), None) == f.Verdict.NO_TARGET

    def test_twelve_months_back_cross_the_year(self):
        months = months_back(MARCH, 12)
        assert (str(months[0]), str(months[-1]), len(months)) == ("2025-04", "2026-03", 12)


@pytest.fixture
def manager_x(company_x):
    return UserFactory(company=company_x, role="manager", username="mgr_x")


class TestMonthlyReport:
    def test_figures_equal_the_registry_and_targets_decide(self, march, company_x, manager_x):
        """K6 1/3 = 33.33 % against a target of 95 %: missed; K8 100 % against 95 %: met; K1 keeps
        the seed's 超过99.9 % with no data (no active customers): 无数据."""
        target_set(by=manager_x, year=2026, code="K6", target="95")
        target_set(by=manager_x, year=2026, code="k8", target="95.00", commitment="预约维修1个工作日")
        report = monthly_report(company_x, MARCH, now=LATER)
        registry = {x.indicator.code: x.figure for x in month_lines(company_x.pk, MARCH, now=LATER)}
        assert {x.code: x.figure for x in report.lines} == registry
        verdicts = {x.code: x.verdict for x in report.lines}
        assert verdicts["K6"] == f.Verdict.MISSED and verdicts["K8"] == f.Verdict.MET
        assert verdicts["K1"] == f.Verdict.NO_DATA and verdicts["K7"] == f.Verdict.NO_TARGET
        assert (report.met, report.missed) == (1, 1)
        k6 = next(x for x in report.lines if x.code == "K6")
        assert k6.trend[-1] == ("2026-03", Decimal("33.33")) and len(k6.trend) == 12
        assert "<svg" in k6.chart and "2026-03: 33.33" in k6.chart

    def test_breaches_of_the_month(self, march, company_x):
        """Two of the three emergencies passed their 40 minutes (e2 late, e3 never arrived)."""
        from kefu.kpi.tests.conftest import clock_of
        from kefu.sla.services import clock_mark_breached

        clock_mark_breached(clock_id=clock_of(march["e3"], "C8").pk, now=LATER)  # the sweep's verdict
        report = monthly_report(company_x, MARCH, now=LATER)
        c8 = [b for b in report.breaches if b.spec_id == "C8"]
        assert sorted(b.label for b in c8) == sorted([march["e2"].number, march["e3"].number])

    def test_a_closed_month_is_read_frozen(self, march, company_x, manager_x):
        from kefu.kpi.tests.conftest import clock_of
        from kefu.sla.services import clock_stop

        with time_machine.travel(LATER, tick=False):
            month_close(by=manager_x, month=MARCH, now=LATER)
        # the third emergency's arrival recorded late, after closing: the closed report keeps 1/3
        clock_stop(clock=clock_of(march["e3"], "C8"), at=L(2026, 3, 2, 10, 30))
        k6 = next(x for x in monthly_report(company_x, MARCH, now=LATER).lines if x.code == "K6")
        assert (k6.figure.numerator, k6.figure.denominator) == (1, 3)

    def test_year_results_sum_the_months(self, march, company_x):
        results = year_results(company_x.pk, 2026, now=LATER)
        assert (results["K6"].numerator, results["K6"].denominator, results["K6"].value) == (
            1,
            3,
            Decimal("33.33"),
        )


class TestGroup:
    def test_a_group_reader_sees_each_company_and_the_group(self, march, company_x, company_y, client):
        from kefu.accounts.models import CompanyGroup

        grp = CompanyGroup.objects.create(name="华润燃气")
        for c in (company_x, company_y):
            c.group = grp
            c.save(update_fields=["group"])
        reader = UserFactory(company=company_x, role="team_lead", username="grp_x", group_reader=True)
        lines = group_rollup([company_x, company_y], MARCH, now=LATER)
        k6 = next(g for g in lines if g.indicator.code == "K6")
        assert k6.total.value == Decimal("33.33") and k6.by_company[1][1].value is None
        assert client.login(username=reader.username, password=TEST_PASSWORD)
        with time_machine.travel(LATER, tick=False):
            page = client.get("/kpi/group/?month=2026-03").content.decode()
        assert company_y.short_name in page and "33.33" in page

    def test_a_company_reader_sees_only_its_company(self, march, lead_x, company_y, client):
        assert client.login(username=lead_x.username, password=TEST_PASSWORD)
        with time_machine.travel(LATER, tick=False):
            page = client.get("/kpi/group/?month=2026-03").content.decode()
        assert company_y.short_name not in page


class TestPages:
    def login(self, client, user):
        assert client.login(username=user.username, password=TEST_PASSWORD)
        return client

    def test_report_page_pdf_and_workbook_are_logged(self, march, lead_x, client):
        from openpyxl import load_workbook

        from kefu.accounts.models import AuditEvent

        c = self.login(client, lead_x)
        with time_machine.travel(LATER, tick=False):
            page = c.get("/kpi/report/?month=2026-03").content.decode()
            pdf = c.get("/kpi/report/?month=2026-03&format=pdf")
            xlsx = c.get("/kpi/report/?month=2026-03&format=xlsx")
        assert "服务监督报告" in page and "33.33" in page and "<svg" in page
        assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
        sheet = load_workbook(io.BytesIO(xlsx.content))["指标"]
        k6 = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "K6")
        assert k6[2:5] == (1, 3, 33.33)
        assert AuditEvent.objects.filter(action="kpi.report_exported").count() == 2

    def test_week_page_and_pdf(self, march, lead_x, client):
        c = self.login(client, lead_x)
        with time_machine.travel(LATER, tick=False):
            page = c.get("/kpi/week/?day=2026-03-04")
            pdf = c.get("/kpi/week/?day=2026-03-04&format=pdf")
            bad = c.get("/kpi/week/?day=2026-13-40")
        assert page.status_code == 200 and "2026-03-02" in page.content.decode()
        assert pdf.content.startswith(b"%PDF")
        assert bad.status_code == 400 and "日期格式" in bad.content.decode()

    def test_targets_are_set_by_a_manager_only(self, lead_x, manager_x, client):
        c = self.login(client, lead_x)
        assert c.post("/kpi/targets/", {"year": 2026, "code": "K6", "target": "95"}).status_code == 403
        c = self.login(client, manager_x)
        c.post("/kpi/targets/", {"year": 2026, "code": "K6", "target": "95"})
        r = c.post("/kpi/targets/", {"year": 2026, "code": "K15", "target": "11"}, follow=True)
        assert "目标值应在 1 到 10 之间" in r.content.decode()
        page = c.get("/kpi/targets/?year=2026").content.decode()
        assert "≥ 95.00" in page and "超过99.9 %" in page

    def test_publication_is_public_only_once_made_so(self, march, published, manager_x, company_x, client):
        url = f"/kpi/public/{company_x.code}/2027/"
        with time_machine.travel(LATER, tick=False):
            assert client.get(url).status_code == 404
            publication_make_public(by=manager_x, year=2027)
            page = client.get(url).content.decode()
            pdf = client.get(url + "?format=pdf")
        assert "2026年指标完成情况" in page and "33.33" in page
        assert pdf.content.startswith(b"%PDF")
        own = self.login(client, manager_x).get("/kpi/publication/2026/").content.decode()
        assert "C8" in own  # the 2026 commitments published in the fixture

    def test_an_agent_is_refused(self, agent_x, client):
        c = self.login(client, agent_x)
        for url in ("/kpi/report/", "/kpi/week/", "/kpi/group/", "/kpi/targets/", "/kpi/publication/2026/"):
            assert c.get(url).status_code == 403, url


def test_report_pdf_of_a_month_without_data_still_renders(company_x):
    from kefu.kpi.documents import report_pdf

    report = monthly_report(company_x, f.Month(2026, 2), now=L(2026, 3, 1) + timedelta(days=1))
    assert report_pdf(report).startswith(b"%PDF")


class TestApi:
    def test_report_group_and_targets(self, march, lead_x, manager_x, client):
        assert client.login(username=manager_x.username, password=TEST_PASSWORD)
        with time_machine.travel(LATER, tick=False):
            put = client.put("/api/v1/kpi/targets/2026/K6", {"target": "95"}, content_type="application/json")
            bad = client.put(
                "/api/v1/kpi/targets/2026/K6", {"target": "abc"}, content_type="application/json"
            )
            body = client.get("/api/v1/kpi/months/2026-03/report").json()
            group = client.get("/api/v1/kpi/months/2026-03/group").json()
            targets = client.get("/api/v1/kpi/targets/2026").json()
        assert put.status_code == 200 and put.json()["target"] == "95.00"
        assert bad.status_code == 400 and "目标值应为数字" in bad.json()["detail"]
        k6 = next(x for x in body["lines"] if x["figure"]["code"] == "K6")
        assert k6["verdict"] == "missed" and k6["trend"][-1] == ["2026-03", "33.33"]
        assert next(g for g in group if g["code"] == "K6")["total"] == "33.33"
        assert {t["code"] for t in targets} == {"K1", "K6", "K13"}
        assert client.login(username=lead_x.username, password=TEST_PASSWORD)
        refused = client.put("/api/v1/kpi/targets/2026/K6", {"target": "90"}, content_type="application/json")
        assert refused.status_code == 403


def test_portal_results_equal_the_closed_months_rolled_up(march, company_x, manager_x):
    """The portal's C17 results read the closed months through kpi's own roll-up: K6 1/3 = 33.33 %."""
    from kefu.portal.selectors import results

    assert results(company=company_x, year=2026) == []  # nothing closed yet: nothing published
    with time_machine.travel(LATER, tick=False):
        month_close(by=manager_x, month=MARCH, now=LATER)
    k6 = next(r for r in results(company=company_x, year=2026) if r.code == "K6")
    assert (k6.value, k6.months) == (Decimal("33.33"), 1)
