"""Export approval (S3) and classification (S4): request → approve → download → expiry on a
controllable clock; refusal; four eyes; row limit; 绝密 without approval refused; per company;
every step in the audit log."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from kefu.accounts.models import AuditEvent
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.exports import services
from kefu.exports.classification import Level, classification_table, highest, level_of
from kefu.exports.models import ExportRequest
from kefu.exports.services import LinkExpired

from .conftest import T0

pytestmark = pytest.mark.django_db


def _csv(content) -> list[list[str]]:
    text = content.decode("utf-8") if isinstance(content, bytes) else "".join(content)
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_standard_s_classes_are_declared_by_the_apps():
    """S4 (seed 001 篇6 五): customer data and follow-up records 绝密; calls, visits, hand-overs and
    survey analyses 机密; anything undeclared 内部. Each app declared its own in ready()."""
    assert level_of("customers.customer") == Level.TOP_SECRET
    assert level_of("customers.Premise") == Level.TOP_SECRET
    assert level_of("followups.complaint") == Level.TOP_SECRET
    assert level_of("followups.returnvisit") == Level.TOP_SECRET
    assert level_of("telephony.call") == Level.SECRET
    assert level_of("field.fieldjob") == Level.SECRET
    assert level_of("tickets.ticket") == Level.SECRET
    assert level_of("workforce.handover") == Level.SECRET
    assert level_of("followups.surveyresponse") == Level.SECRET
    assert level_of("accounts.auditevent") == Level.SECRET
    assert level_of("kpi.monthreport") == Level.INTERNAL
    assert highest(["internal", "secret", "top_secret"]) == Level.TOP_SECRET and highest([]) == Level.INTERNAL
    table = classification_table()
    assert table[0].level == Level.TOP_SECRET and table[-1].level == Level.SECRET


def test_request_approve_download_and_expiry(clock, lead_x, supervisor_x, settings):
    """A 绝密 request waits; a supervisor approves; the requester downloads a watermarked file while
    the link is valid; one second after it ends: 410 with the time; the hourly purge drops the file."""
    settings.KEFU_EXPORT_LINK_HOURS = 24
    req = services.export_request_create(
        by=lead_x, kind="tickets.list", params={"open_only": ["on"]}, reason="月底与承办部门逐单核对"
    )
    assert req.state == "pending" and req.level == "top_secret" and req.number == f"DC-20260302-{req.pk:04d}"
    with pytest.raises(Conflict):
        services.export_download(by=lead_x, request_id=req.pk)  # nothing to download yet

    clock.shift(timedelta(minutes=30))
    services.export_request_approve(by=supervisor_x, request_id=req.pk, note="仅限核对使用")
    req.refresh_from_db()
    assert req.state == "approved" and req.decided_by == supervisor_x
    assert req.expires_at == T0 + timedelta(minutes=30, hours=24)

    clock.shift(timedelta(hours=23, minutes=59))
    delivery = services.export_download(by=lead_x, request_id=req.pk)
    assert delivery.filename == f"tickets-{req.number}.xlsx"
    ws = load_workbook(BytesIO(delivery.content)).active
    mark = ws["A1"].value
    assert "密级：绝密" in mark and req.number in mark and "李强（lead_x）" in mark
    assert "审批人" in mark and "下载有效期至：2026-03-03 09:30:00+08:00" in mark
    assert "生成时间：2026-03-02 09:30:00+08:00" in mark
    assert ws["A2"].value == "工单号"

    clock.shift(timedelta(minutes=1, seconds=1))  # past the 24 hours
    with pytest.raises(LinkExpired) as exc:
        services.export_download(by=lead_x, request_id=req.pk)
    assert exc.value.status == 410 and "已于 2026-03-03 09:30 过期" in exc.value.message
    assert services.export_files_purge() == 1
    req.refresh_from_db()
    assert req.content is None and req.purged_at is not None and req.downloads == 1

    actions = list(AuditEvent.objects.order_by("id").values_list("action", "result"))
    assert actions == [
        ("export.requested", "ok"),
        ("export.approved", "ok"),
        ("data.exported", "ok"),
        ("export.link_expired", "denied"),
    ]
    download = AuditEvent.objects.get(action="data.exported")
    assert download.actor == lead_x and download.detail["number"] == req.number
    assert download.detail["download"] == 1 and download.detail["level"] == "top_secret"
    assert download.detail["unmasked"] is True


def test_refusal_needs_a_reason_and_leaves_nothing_to_download(lead_x, supervisor_x):
    req = services.export_request_create(by=lead_x, kind="tickets.list", params={}, reason="例会分析")
    with pytest.raises(DomainError) as exc:
        services.export_request_refuse(by=supervisor_x, request_id=req.pk, note=" ")
    assert exc.value.field == "note"
    services.export_request_refuse(by=supervisor_x, request_id=req.pk, note="范围过大，请按月申请")
    req.refresh_from_db()
    assert req.state == "refused" and req.content is None
    with pytest.raises(Conflict):
        services.export_download(by=lead_x, request_id=req.pk)
    with pytest.raises(Conflict):
        services.export_request_approve(by=supervisor_x, request_id=req.pk)
    refused = AuditEvent.objects.get(action="export.refused")
    assert refused.actor == supervisor_x and refused.detail["note"] == "范围过大，请按月申请"


def test_a_reason_is_required_for_top_secret(lead_x):
    with pytest.raises(DomainError) as exc:
        services.export_request_create(by=lead_x, kind="tickets.list", params={}, reason="  ")
    assert exc.value.field == "reason" and "导出原因" in exc.value.message
    assert not ExportRequest.objects.exists()


def test_four_eyes_no_one_approves_their_own_request(supervisor_x, manager_x, agent_x):
    """A supervisor's own 绝密 request needs another approver; an agent approves nothing (logged)."""
    req = services.export_request_create(
        by=supervisor_x, kind="tickets.list", params={}, reason="核对本月工单"
    )
    with pytest.raises(Forbidden) as exc:
        services.export_request_approve(by=supervisor_x, request_id=req.pk)
    assert "不能审批本人" in exc.value.message
    with pytest.raises(Forbidden):
        services.export_request_approve(by=agent_x, request_id=req.pk)
    denied = AuditEvent.objects.filter(action="auth.permission_denied", detail__wanted="export.approve")
    assert {e.actor for e in denied} == {supervisor_x, agent_x}
    services.export_request_approve(by=manager_x, request_id=req.pk)
    req.refresh_from_db()
    assert req.state == "approved" and req.decided_by == manager_x


def test_top_secret_without_approval_is_refused(lead_x, quality_x):
    """The direct path refuses 绝密 (403, Chinese message, refusal logged); the same list masked is
    机密 and leaves at once, watermarked and logged."""
    with pytest.raises(Forbidden) as exc:
        services.export_direct(by=lead_x, kind="tickets.list", params={})
    assert exc.value.status == 403 and exc.value.code == "approval_required"
    assert "绝密数据导出须经主管审批" in exc.value.message
    row = AuditEvent.objects.get(action="auth.permission_denied")
    assert (
        row.actor == lead_x
        and row.detail["wanted"] == "export.approval"
        and row.detail["level"] == "top_secret"
    )

    delivery = services.export_direct(by=quality_x, kind="tickets.list", params={})
    assert delivery.request.state == "delivered" and delivery.request.level == "secret"
    assert "密级：机密" in load_workbook(BytesIO(delivery.content)).active["A1"].value


def test_secret_requests_are_approved_at_once(quality_x):
    """机密 needs no approval: an API client's request is approved on the spot, its file made."""
    req = services.export_request_create(by=quality_x, kind="tickets.list", params={})
    assert req.state == "approved" and req.decided_by is None and "无需审批" in req.decision_note
    assert services.export_download(by=quality_x, request_id=req.pk).content[:2] == b"PK"


def test_withdraw_only_own_pending(lead_x, supervisor_x):
    req = services.export_request_create(by=lead_x, kind="tickets.list", params={}, reason="例会分析")
    with pytest.raises(NotFound):
        services.export_request_withdraw(by=supervisor_x, request_id=req.pk)
    services.export_request_withdraw(by=lead_x, request_id=req.pk)
    with pytest.raises(Conflict):
        services.export_request_withdraw(by=lead_x, request_id=req.pk)
    with pytest.raises(Conflict):
        services.export_request_approve(by=supervisor_x, request_id=req.pk)


def test_row_limit(rows_kind, lead_x, quality_x, supervisor_x, settings):
    """No file holds more than the limit (S3): the request is refused before anyone approves, the
    direct export too; at the limit exactly it passes."""
    settings.KEFU_EXPORT_MAX_ROWS = 5
    with pytest.raises(DomainError) as exc:
        services.export_request_create(by=lead_x, kind=rows_kind, params={"n": ["6"]}, reason="核对客户资料")
    assert exc.value.code == "too_many_rows" and "超过单次导出上限 5 行" in exc.value.message
    with pytest.raises(DomainError):
        services.export_direct(by=quality_x, kind=rows_kind, params={"n": ["6"], "model": ["tickets.ticket"]})
    assert not ExportRequest.objects.exists()
    delivery = services.export_direct(
        by=quality_x, kind=rows_kind, params={"n": ["5"], "model": ["tickets.ticket"]}
    )
    rows = [r for r in _csv(delivery.content) if not r[0].startswith("# ")]
    assert len(rows) == 6  # header + 5
    req = services.export_request_create(
        by=lead_x, kind=rows_kind, params={"n": ["5"]}, reason="核对客户资料"
    )
    services.export_request_approve(by=supervisor_x, request_id=req.pk)
    assert ExportRequest.objects.get(pk=req.pk).rows == 5


def test_csv_watermark_and_formula_guard(rows_kind, quality_x, clock):
    delivery = services.export_direct(
        by=quality_x, kind=rows_kind, params={"n": ["2"], "model": ["tickets.ticket"]}
    )
    lines = _csv(delivery.content)
    number = delivery.request.number
    assert lines[:5] == [
        ["# 密级：机密（严禁擅自复制、外传）"],
        ["# 内容：测试导出"],
        [f"# 导出编号：{number}"],
        ["# 导出人：陈静（quality_x） · X市燃气有限公司"],
        ["# 生成时间：2026-03-02 09:00:00+08:00"],
    ]
    assert lines[5] == ["序号", "姓名", "备注", "导出编号"]
    assert lines[6] == ["1", "客户1", '\'=HYPERLINK("x")', number]  # every row names its export


def test_per_company(lead_x, supervisor_x, supervisor_y, lead_y):
    """Company Y's approver neither sees nor decides X's requests; Y's people cannot download X's
    file; a colleague of X cannot download it either, nor can the approver who let it out."""
    from kefu.exports import selectors

    req = services.export_request_create(by=lead_x, kind="tickets.list", params={}, reason="例会分析")
    assert list(selectors.export_requests_to_decide(user=supervisor_y)) == []
    assert [r.pk for r in selectors.export_requests_to_decide(user=supervisor_x)] == [req.pk]
    with pytest.raises(NotFound):
        services.export_request_approve(by=supervisor_y, request_id=req.pk)
    with pytest.raises(NotFound):
        selectors.export_request_get(user=supervisor_y, request_id=req.pk)
    services.export_request_approve(by=supervisor_x, request_id=req.pk)
    for other in (lead_y, supervisor_y, supervisor_x):
        with pytest.raises(NotFound):
            services.export_download(by=other, request_id=req.pk)
    assert selectors.export_request_get(user=supervisor_x, request_id=req.pk) == req  # may read it


def test_approval_is_made_as_the_requester_sees_the_data(lead_x, supervisor_x):
    """The file is built with the requester's rights at approval time; a requester who lost them
    (disabled) gets nothing approved."""
    req = services.export_request_create(by=lead_x, kind="tickets.list", params={}, reason="例会分析")
    lead_x.is_active = False
    lead_x.save(update_fields=["is_active"])
    with pytest.raises(DomainError) as exc:
        services.export_request_approve(by=supervisor_x, request_id=req.pk)
    assert exc.value.code == "requester_not_allowed"
    req.refresh_from_db()
    assert req.state == "pending"


def test_no_permission_no_request(agent_x):
    with pytest.raises(Forbidden) as exc:
        services.export_request_create(by=agent_x, kind="tickets.list", params={}, reason="想看看")
    assert exc.value.message == "您的角色无权导出工单列表。"
    with pytest.raises(NotFound):
        services.export_request_create(by=agent_x, kind="no.such", params={}, reason="想看看")
