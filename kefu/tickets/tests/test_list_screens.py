"""The work-order list a supervisor signs off (S2, S3, C1–C17 deadlines): search by address form,
sub-kind name and exact number; sort by time left; export to Excel, permitted, masked and audited."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from kefu.accounts.models import AuditEvent

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _repair(make_ticket, **kw):
    params = dict(
        kind="repair", sub_kind="meter", content="燃气表不走字", address="泰山区幸福小区3号楼2单元501室"
    )
    params.update(kw)
    return make_ticket(**params)


def test_search_understands_the_caller_lookup_address_forms(agent_x, make_ticket):
    written = _repair(make_ticket)
    other = _repair(make_ticket, address="泰山区幸福小区3号楼2单元502室")
    c = login(agent_x)
    for q in ("3-2-501", "3号楼2单元501", "幸福小区3-2-501", "３－２－５０１"):
        html = c.get("/tickets/", {"q": q}).content.decode()
        assert written.number in html and other.number not in html, q
    html = c.get("/tickets/", {"address": "3-2-502"}).content.decode()
    assert other.number in html and written.number not in html


def test_search_finds_the_registered_premise_by_address_form(agent_x, customer_x, make_ticket):
    """The premise's building/unit/room (kefu.customers) answer even when the written address differs."""
    premise = customer_x.premise
    t = _repair(
        make_ticket, customer_id=customer_x.pk, premise_id=premise.pk, address="幸福小区三号楼二单元五零一"
    )
    assert t.premise_id == premise.pk
    html = login(agent_x).get("/tickets/", {"q": "3-2-501"}).content.decode()
    assert t.number in html


def test_search_finds_work_orders_by_sub_kind_name(agent_x, make_ticket):
    leak = make_ticket(
        kind="emergency", sub_kind="leak", content="厨房有异味", address="幸福小区1号楼1单元101室"
    )
    meter = _repair(make_ticket)
    html = login(agent_x).get("/tickets/", {"q": "漏气"}).content.decode()
    assert leak.number in html and meter.number not in html


def test_an_exact_number_opens_the_work_order(agent_x, agent_y, make_ticket):
    t = make_ticket()
    make_ticket()
    r = login(agent_x).get("/tickets/", {"q": t.number.lower()})
    assert r.status_code == 302 and r["Location"] == f"/tickets/{t.pk}/"
    # from the filter form, with its empty fields, too
    r = login(agent_x).get("/tickets/", {"q": t.number, "kind": "", "channel": "", "address": ""})
    assert r.status_code == 302
    # with another filter it stays a list; another company's number is not opened (S2)
    assert login(agent_x).get("/tickets/", {"q": t.number, "open_only": "on"}).status_code == 200
    r = login(agent_y).get("/tickets/", {"q": t.number})
    assert r.status_code == 200 and f">{t.number}</a>" not in r.content.decode()


def test_list_sorts_by_time_left(laizhou_set, manager_x, agent_x, django_capture_on_commit_callbacks):
    from kefu.sla.services import commitment_set_publish
    from kefu.tickets.services import ticket_create

    commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=datetime(2026, 1, 1, tzinfo=SH))
    common = dict(caller_surname="张", caller_title="mr", caller_phone="13900001111", on_duplicate="create")
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=SH), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            emergency = ticket_create(
                by=agent_x,
                kind="emergency",
                sub_kind="leak",
                content="楼道有煤气味",
                address="幸福小区1号楼1单元101室",
                **common,
            ).ticket
    with time_machine.travel(datetime(2026, 3, 2, 10, 5, tzinfo=SH), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            repair = ticket_create(
                by=agent_x, kind="repair", content="灶具打不着火", address="幸福小区3号楼2单元501室", **common
            ).ticket
            answered = ticket_create(
                by=agent_x,
                kind="consultation",
                content="咨询气价",
                resolved_on_call=True,
                answer="第一档 3.1 元",
                **common,
            ).ticket
        c = login(agent_x)
        html = c.get("/tickets/").content.decode()
        assert html.index(answered.number) < html.index(repair.number) < html.index(emergency.number)
        html = c.get("/tickets/", {"sort": "time_left"}).content.decode()
        assert html.index(emergency.number) < html.index(repair.number) < html.index(answered.number)


def _xlsx_rows(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(content)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_export_needs_the_permission_and_refusals_are_audited(agent_x, make_ticket):
    make_ticket()
    html = login(agent_x).get("/tickets/").content.decode()
    assert 'id="export-xlsx"' not in html  # an agent is not offered the export
    r = login(agent_x).get("/tickets/export.xlsx")
    assert r.status_code == 403
    row = AuditEvent.objects.get(action="auth.permission_denied", object_type="tickets.ticket")
    assert row.actor == agent_x and row.result == "denied"


def test_export_masks_personal_data_and_is_audited(company_x, agent_x, make_ticket):
    """A quality reviewer may export but not see personal data in full: masked in the file (S2), 机密,
    delivered at once with a watermark; a supervisor sees it in full, which makes it customer data
    (绝密, S4): refused without an approved request, then approved by a manager and downloaded (S3);
    each delivery is one audit row with the filters and rows."""
    from kefu.accounts.tests.factories import UserFactory

    quality = UserFactory(company=company_x, role="quality", username="quality_x")
    supervisor = UserFactory(company=company_x, role="supervisor", username="sup_export", full_name="周主管")
    manager = UserFactory(company=company_x, role="manager", username="mgr_export")
    t = _repair(make_ticket, caller_phone="13912345678")
    make_ticket(content="咨询开户")
    r = login(quality).get("/tickets/export.xlsx", {"q": "3-2-501"})
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment;")
    rows = _xlsx_rows(r.content)
    assert rows[0][0].startswith("密级：机密") and "quality_x" in rows[0][0]  # the watermark row
    rows = rows[1:]
    assert rows[0][0] == "工单号" and len(rows) == 2
    assert rows[1][0] == t.number and rows[1][3] == "燃气表"
    assert "139****5678" in rows[1] and "13912345678" not in rows[1]
    assert not any("501" in str(v) for v in rows[1][9:10])
    audit = AuditEvent.objects.get(action="data.exported", actor=quality)
    assert (
        audit.detail["rows"] == 1
        and audit.detail["filters"] == {"q": "3-2-501"}
        and audit.detail["unmasked"] is False
        and audit.detail["level"] == "secret"
    )
    from kefu.accounts.tests.conftest import verified_client

    sup = verified_client(Client(), supervisor)
    r = sup.get("/tickets/export.xlsx")
    assert r.status_code == 403 and "须经主管审批" in r.content.decode()
    assert 'id="export-xlsx"' in sup.get("/tickets/").content.decode()  # offered as a request
    r = sup.post("/exports/new/", {"kind": "tickets.list", "params": "{}", "reason": "核对本月报修工单"})
    assert r.status_code == 302
    from kefu.exports.models import ExportRequest

    req = ExportRequest.objects.get(requested_by=supervisor)
    assert req.state == "pending" and req.level == "top_secret"
    assert verified_client(Client(), manager).post(f"/exports/{req.pk}/approve/").status_code == 302
    r = sup.get(f"/exports/{req.pk}/download/")
    assert r.status_code == 200, r.content.decode()[-800:]
    rows = _xlsx_rows(r.content)
    assert "绝密" in rows[0][0] and req.number in rows[0][0]
    assert len(rows) == 4 and any("13912345678" in r for r in rows)
    assert AuditEvent.objects.get(action="data.exported", actor=supervisor).detail["unmasked"] is True
