"""The screens and the API of data export (S3): 403 with the request form for 绝密, request →
approval queue → approve → download page → 410 after expiry; the JSON API the same way; badges
of the class on screens (S4)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from kefu.accounts.models import AuditEvent
from kefu.exports import services
from kefu.exports.models import ExportRequest

from .conftest import web

pytestmark = pytest.mark.django_db


def test_web_request_approve_download_expire(clock, lead_x, supervisor_x, make_ticket_x):
    make_ticket_x()
    lead = web(lead_x)
    # the list offers a request, not a download; the direct URL refuses with the form (403)
    html = lead.get("/tickets/").content.decode()
    assert 'id="export-xlsx"' in html and "/exports/new/?" in html and "绝密，需审批" in html
    assert 'data-level="secret"' in html  # the list's own badge: work orders are 机密
    r = lead.get("/tickets/export.xlsx", {"open_only": "on"})
    assert r.status_code == 403
    page = r.content.decode()
    assert "绝密数据导出须经主管审批" in page and 'name="reason"' in page and "open_only" in page
    # the form: what would leave, then the request
    r = lead.get("/exports/new/", {"kind": "tickets.list", "open_only": "on"})
    assert r.status_code == 200 and 'id="rows">1' in r.content.decode()
    r = lead.post(
        "/exports/new/",
        {"kind": "tickets.list", "params": json.dumps({"open_only": ["on"]}), "reason": ""},
    )
    assert r.status_code == 200 and "请写明导出原因" in r.content.decode()
    r = lead.post(
        "/exports/new/",
        {"kind": "tickets.list", "params": json.dumps({"open_only": ["on"]}), "reason": "核对未办结工单"},
    )
    req = ExportRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/exports/{req.pk}/"
    assert req.params == {"open_only": ["on"]} and req.description == "只看未办结：是"
    assert req.number in lead.get("/exports/").content.decode()
    # the supervisor's queue and decision
    sup = web(supervisor_x)
    assert 'href="/exports/approvals/"' in sup.get("/").content.decode()  # in the menu
    queue = sup.get("/exports/approvals/").content.decode()
    assert req.number in queue and "核对未办结工单" in queue
    detail = sup.get(f"/exports/{req.pk}/").content.decode()
    assert 'id="approve"' in detail and 'id="download"' not in detail
    assert sup.post(f"/exports/{req.pk}/approve/", {"note": "仅限核对"}).status_code == 302
    # the requester's download page and file
    page = lead.get(f"/exports/{req.pk}/").content.decode()
    assert 'id="download"' in page and "仅限核对" in page
    r = lead.get(f"/exports/{req.pk}/download/")
    assert (
        r.status_code == 200
        and r["Content-Disposition"] == f'attachment; filename="tickets-{req.number}.xlsx"'
    )
    assert r["Cache-Control"] == "no-store"
    # after the link's end
    clock.shift(timedelta(hours=24, seconds=1))
    lead = web(lead_x)  # the session itself has timed out meanwhile
    assert 'id="expired"' in lead.get(f"/exports/{req.pk}/").content.decode()
    r = lead.get(f"/exports/{req.pk}/download/")
    assert (
        r.status_code == 410
        and "下载链接已于" in r.content.decode()
        and "重新提交导出申请" in r.content.decode()
    )
    assert AuditEvent.objects.filter(action="export.link_expired", actor=lead_x, result="denied").count() == 1


def test_web_refuse_and_screens_for_others(lead_x, supervisor_x, agent_x, supervisor_y):
    req = services.export_request_create(by=lead_x, kind="tickets.list", params={}, reason="例会分析")
    sup = web(supervisor_x)
    r = sup.post(f"/exports/{req.pk}/refuse/", {"note": ""})
    assert r.status_code == 302 and ExportRequest.objects.get().state == "pending"
    sup.post(f"/exports/{req.pk}/refuse/", {"note": "请按月申请"})
    assert ExportRequest.objects.get().state == "refused"
    assert web(agent_x).get("/exports/approvals/").status_code == 403
    assert web(agent_x).get(f"/exports/{req.pk}/").status_code == 404
    assert web(supervisor_y).get(f"/exports/{req.pk}/").status_code == 404
    assert web(supervisor_y).post(f"/exports/{req.pk}/approve/").status_code == 404
    assert web(lead_x).get(f"/exports/{req.pk}/download/").status_code == 409
    classes = web(agent_x).get("/exports/classes/").content.decode()
    assert "客户资料" in classes and "交接记录" in classes


def test_api_flow(clock, lead_x, supervisor_x, supervisor_y):
    lead = Client()
    lead.force_login(lead_x)
    r = lead.post("/api/v1/exports/", {"kind": "tickets.list", "params": {}}, content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = lead.post(
        "/api/v1/exports/",
        {"kind": "tickets.list", "params": {"open_only": "on"}, "reason": "核对未办结工单"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "pending" and body["level"] == "top_secret" and body["file_url"] is None
    rid = body["id"]
    assert lead.get("/api/v1/exports/approvals").status_code == 403
    ysup = web(supervisor_y)  # supervisors pass a second factor
    assert ysup.get("/api/v1/exports/approvals").json() == []
    assert ysup.post(f"/api/v1/exports/{rid}/approve", {}, content_type="application/json").status_code == 404
    sup = web(supervisor_x)
    assert [x["id"] for x in sup.get("/api/v1/exports/approvals").json()] == [rid]
    r = sup.post(f"/api/v1/exports/{rid}/approve", {"note": "同意"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["file_url"] == f"/api/v1/exports/{rid}/file"
    r = lead.get(f"/api/v1/exports/{rid}/file")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert sup.get(f"/api/v1/exports/{rid}/file").status_code == 404  # only the requester
    clock.shift(timedelta(days=2))
    lead.force_login(lead_x)
    r = lead.get(f"/api/v1/exports/{rid}/file")
    assert r.status_code == 410 and r.json()["code"] == "expired" and "过期" in r.json()["detail"]
    assert {k["code"] for k in lead.get("/api/v1/exports/kinds").json()} == {
        "tickets.list",
        "followups.survey",
    }
    levels = {c["model"]: c["level"] for c in lead.get("/api/v1/exports/classification").json()}
    assert levels["customers.customer"] == "top_secret" and levels["telephony.call"] == "secret"
    assert [x["id"] for x in lead.get("/api/v1/exports/").json()] == [rid]


def test_survey_export_through_the_api_is_watermarked(quality_x):
    """An existing export of the API (the survey's Excel file) goes through kefu.exports: 机密."""
    from kefu.exports.services import export_direct

    with pytest.raises(Exception) as exc:
        export_direct(by=quality_x, kind="followups.survey", params={"campaign_id": ["999"]})
    assert getattr(exc.value, "status", None) == 404


def test_badges_on_screens(lead_x, customer_x):
    """S4 on screens: the customer page says 绝密, the classification tag renders nothing for 内部."""
    from django.template import Context, Template

    t = Template(
        '{% load exports %}{% classification_badge "customers.customer" %}|'
        '{% classification_badge "kpi.monthreport" %}'
    )
    out = t.render(Context({}))
    assert 'data-level="top_secret"' in out and out.endswith("|")
    html = web(lead_x).get(f"/customers/{customer_x.pk}/").content.decode()
    assert 'data-level="top_secret"' in html


def test_demo_step_one_approved_one_pending(company_x, supervisor_x):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.exports.demo import build_demo_exports

    UserFactory(company=company_x, role="team_lead", username="team_lead")
    supervisor_x.username = "supervisor"
    supervisor_x.save(update_fields=["username"])
    assert build_demo_exports(company_x) == 2
    assert sorted(ExportRequest.objects.values_list("state", flat=True)) == ["approved", "pending"]
