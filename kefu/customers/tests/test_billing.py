"""Billing facts from the billing system (issue: customer card): the CSV import and the API are all
or nothing with per-line Chinese errors, idempotent per customer (only a newer 更新时间 replaces),
scoped to the company, and the card shows the facts with the time they were last updated."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_create
from kefu.customers.billing import billing_import_file
from kefu.customers.models import BillingImport, BillingSnapshot
from kefu.customers.tests.test_customer_services import new_customer

SH = ZoneInfo("Asia/Shanghai")
HEADER = "户号,更新时间,余额,欠费,最近购气时间,最近购气金额,表具锁定,阀门关闭,报警器到期日,软管到期日\n"
GOOD = HEADER + (
    "10000001,2026-12-01 08:30,86.50,0,2026-11-28 15:02,200.00,否,否,2028-05-31,2029-05-31\n"
    '10000002,2026-12-01 08:30,-12.00,"1,012.00",,,是,是,,\n'
)


@pytest.fixture
def two(supervisor_x):
    a = new_customer(supervisor_x)
    b = new_customer(
        supervisor_x,
        account_no="10000002",
        name="李四",
        phones=[{"number": "13912345678"}],
        address="和平小区1-1-101",
    )
    return a, b


def test_file_import_writes_then_is_idempotent(supervisor_x, two):
    report = billing_import_file(by=supervisor_x, data=GOOD.encode("utf-8"), original_name="b.csv")
    assert report.ok and (report.created, report.updated, report.unchanged) == (2, 0, 0)
    snap = BillingSnapshot.objects.get(customer=two[0])
    assert snap.balance == Decimal("86.50") and snap.meter_locked is False and snap.valve_closed is False
    assert snap.updated_at == datetime(2026, 12, 1, 8, 30, tzinfo=SH)
    assert (
        str(snap.hose_expires_on) == "2029-05-31" and snap.billing_import.source == BillingImport.Source.FILE
    )
    other = BillingSnapshot.objects.get(customer=two[1])
    assert other.arrears == Decimal("1012.00") and other.meter_locked and other.last_purchase_at is None
    again = billing_import_file(
        by=supervisor_x, data=GOOD.encode("gb18030")
    )  # GBK, same file: nothing changes
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 2)
    newer = HEADER + "10000001,2026-12-02 09:00,50.00,0,,,是,否,,\n"
    assert billing_import_file(by=supervisor_x, data=newer.encode()).updated == 1
    snap.refresh_from_db()
    assert snap.balance == Decimal("50.00") and snap.meter_locked is True and snap.alarm_expires_on is None


def test_file_with_errors_writes_nothing_and_names_each_line(supervisor_x, two):
    bad = HEADER + (
        "10000001,2026-12-01 08:30,八十,0,,,否,否,,\n"
        "99999999,2026-12-01 08:30,1,0,,,否,否,,\n"
        "10000002,2026-12-01,1,0,,,也许,否,2028-02-30,\n"
        "10000002,2026-12-01 08:30,1,0,,,否,否,,\n"
    )
    report = billing_import_file(by=supervisor_x, data=bad.encode())
    assert not report.ok and not BillingSnapshot.objects.exists() and not BillingImport.objects.exists()
    reasons = {(e.line, e.column): e.reason for e in report.errors}
    assert "不是金额" in reasons[(2, "余额")]
    assert "没有户号 99999999" in reasons[(3, "户号")]
    assert "应为“是”或“否”" in reasons[(4, "表具锁定")] and "不是日期" in reasons[(4, "报警器到期日")]
    assert "与第 4 行重复" in reasons[(5, "户号")]
    assert "未写入任何数据" in report.summary()


def test_missing_column_and_other_company(supervisor_x, two, company_y):
    from kefu.accounts.tests.factories import UserFactory

    report = billing_import_file(by=supervisor_x, data="户号,余额\n10000001,1\n".encode())
    assert [(e.line, e.column) for e in report.errors] == [(1, "更新时间")]
    sup_y = UserFactory(company=company_y, role="supervisor", username="sup_y")
    report = billing_import_file(by=sup_y, data=GOOD.encode())
    assert not report.ok and "本公司没有户号 10000001" in report.errors[0].reason


def test_agents_may_not_import(agent_x, two):
    from kefu.core.errors import DomainError

    with pytest.raises(DomainError):
        billing_import_file(by=agent_x, data=GOOD.encode())


def test_command(tmp_path, supervisor_x, two):
    path = tmp_path / "billing.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = StringIO()
    call_command("import_billing", str(path), "--company", "x", stdout=out)
    assert "新增 2" in out.getvalue()
    path.write_text(HEADER + "10000001,明天,1,0,,,否,否,,\n", encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_billing", str(path), "--company", "x", stdout=out)
    assert "第 2 行  [更新时间]" in out.getvalue()


def _auth(user, write=True):
    raw = token_create(
        user=user, name=f"b-{user.pk}", scopes=[ApiToken.Scope.WRITE if write else ApiToken.Scope.READ]
    )[1]
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_api_batch_is_idempotent_and_all_or_nothing(client, supervisor_x, agent_x, two):
    item = {
        "account_no": "10000001",
        "updated_at": "2026-12-01T08:30:00+08:00",
        "balance": "86.5",
        "meter_locked": False,
        "valve_closed": True,
        "alarm_expires_on": "2028-05-31",
    }
    headers = _auth(supervisor_x)
    r = client.post(
        "/api/v1/billing/snapshots", {"items": [item]}, content_type="application/json", **headers
    )
    assert r.status_code == 200 and r.json()["created"] == 1
    r = client.post(
        "/api/v1/billing/snapshots", {"items": [item]}, content_type="application/json", **headers
    )
    assert r.status_code == 200 and r.json()["unchanged"] == 1 and BillingSnapshot.objects.count() == 1
    snap = BillingSnapshot.objects.get()
    assert snap.valve_closed is True and snap.billing_import.source == "api"
    bad = [
        item | {"updated_at": "2026-12-02T08:30:00+08:00"},
        {"account_no": "nope", "updated_at": "2026-12-02T08:30:00+08:00"},
    ]
    r = client.post("/api/v1/billing/snapshots", {"items": bad}, content_type="application/json", **headers)
    assert r.status_code == 400 and "第 2 行" in r.json()["detail"] and r.json()["errors"][0]["line"] == 2
    assert BillingSnapshot.objects.get().updated_at == datetime(
        2026, 12, 1, 8, 30, tzinfo=SH
    )  # nothing written
    r = client.post(
        "/api/v1/billing/snapshots", {"items": [item]}, content_type="application/json", **_auth(agent_x)
    )
    assert r.status_code == 403
    r = client.post("/api/v1/billing/snapshots", {"items": "x"}, content_type="application/json", **headers)
    assert r.status_code == 422


def test_api_file_upload(client, supervisor_x, two):
    from django.core.files.uploadedfile import SimpleUploadedFile

    f = SimpleUploadedFile("b.csv", GOOD.encode(), content_type="text/csv")
    r = client.post("/api/v1/billing/imports", {"file": f}, **_auth(supervisor_x))
    assert r.status_code == 200 and r.json()["created"] == 2


def test_card_shows_billing_with_time_history_and_new_work_order(
    client, supervisor_x, agent_x, two, settings
):
    billing_import_file(by=supervisor_x, data=GOOD.encode())
    client.force_login(agent_x)
    html = client.get(f"/customers/{two[1].pk}/", {"q": "李"}).content.decode()
    assert "1012.00" in html and "已锁定" in html and "已关闭" in html
    assert "计费系统更新于 2026-12-01 08:30（文件导入）" in html
    assert f"/tickets/desk/?customer={two[1].pk}" in html and 'id="ticket-history"' in html
    assert 'href="/customers/?q=%E6%9D%8E"' in html  # back to the same search
    html = client.get(f"/customers/{two[0].pk}/").content.decode()
    assert "86.50" in html
