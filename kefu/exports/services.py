"""Export services (S3, S4): deliver a 机密/内部 file at once, or request, approve, refuse, withdraw
and download a 绝密 one. Every delivery and every download is one audit row; every refusal too.

The file is always written here (kefu.exports.render) from what the kind's `build` returns, so no
file leaves without the watermark, the row limit and the audit row. Times come from `now`
(default: the clock), so tests move the clock instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditEvent, User
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.exports import rules
from kefu.exports.classification import Level, needs_approval
from kefu.exports.models import ExportRequest
from kefu.exports.registry import ExportData, ExportKind, Params, export_kind
from kefu.exports.render import CONTENT_TYPES, Watermark, render_csv, render_xlsx
from kefu.exports.states import RequestState, can_move


class LinkExpired(DomainError):
    """The download link of an approved export has run out: HTTP 410 Gone."""

    status = 410


class ExportAction:
    """Audit actions of this app (their words are in kefu.accounts.audit.ACTION_LABELS)."""

    REQUESTED = "export.requested"
    APPROVED = "export.approved"
    REFUSED = "export.refused"
    WITHDRAWN = "export.withdrawn"
    LINK_EXPIRED = "export.link_expired"


@dataclass(frozen=True)
class Delivery:
    """A file ready to send: its name, type, and content (bytes, or text chunks for a CSV stream)."""

    request: ExportRequest
    filename: str
    content_type: str
    content: bytes | Iterator[str]


def person(user: User) -> str:
    """ "张敏（supervisor）" — the name and the login, as the watermark and the audit show people."""
    name = user.full_name or ""
    return f"{name}（{user.username}）" if name and name != user.username else user.username


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _deny(by, kind: ExportKind | None, message: str, *, code: str, wanted: str, **detail) -> Forbidden:
    audit_record(
        action=Action.PERMISSION_DENIED,
        actor=by,
        result=AuditEvent.Result.DENIED,
        object_type=kind.object_type or kind.code if kind else "exports.exportrequest",
        object_repr=str(kind.label) if kind else _("数据导出"),
        detail={"wanted": wanted, **detail},
    )
    return Forbidden(message, code=code)


def _check_allowed(by, kind: ExportKind) -> None:
    if by is None or not getattr(by, "is_authenticated", False) or not by.company_id:
        raise _deny(by, kind, str(kind.refusal), code="permission_denied", wanted=kind.code)
    if not kind.allowed(by):
        raise _deny(by, kind, str(kind.refusal), code="permission_denied", wanted=kind.code)


def _check_rows(kind: ExportKind, data: ExportData) -> None:
    limit = rules.max_rows(kind.max_rows)
    if data.count > limit:
        raise DomainError(
            _("本次导出共 %(n)d 行，超过单次导出上限 %(limit)d 行。请缩小筛选范围后再导出。")
            % {"n": data.count, "limit": limit},
            code="too_many_rows",
        )


def _number(req: ExportRequest) -> str:
    return f"DC-{timezone.localtime(req.requested_at):%Y%m%d}-{req.pk:04d}"


def _filename(kind: ExportKind, number: str) -> str:
    return f"{kind.filename}-{number}.{kind.fmt}"


def _audit_detail(req: ExportRequest, **more: Any) -> dict[str, Any]:
    return {
        **(req.facts or {}),
        "number": req.number,
        "kind": req.kind,
        "level": req.level,
        "rows": req.rows,
        **({"summary": req.description} if req.description else {}),
        **more,
    }


def _create(
    *,
    by: User,
    kind: ExportKind,
    params: Params,
    data: ExportData,
    level: Level,
    state: str,
    reason: str,
    now,
) -> ExportRequest:
    req = ExportRequest.objects.create(
        company_id=by.company_id,
        kind=kind.code,
        kind_label=str(kind.label)[:100],
        params=params,
        description=(data.description or "")[:500],
        facts=data.detail,
        level=level,
        rows=data.count,
        reason=reason,
        state=state,
        requested_by=by,
        requested_at=now,
    )
    req.number = _number(req)
    req.save(update_fields=["number"])
    return req


def export_direct(*, by: User, kind: str, params: Params, now: datetime | None = None) -> Delivery:
    """Deliver a 机密 or 内部 export at once (S3, S4): permission checked, 绝密 refused (403: it needs
    an approved request), the row limit applied, a `delivered` request recorded for the number, one
    audit row, the file watermarked. A CSV comes back as a stream of text chunks."""
    now = _now(now)
    k = export_kind(kind)
    _check_allowed(by, k)
    level = k.level(by, params)
    if needs_approval(level):
        raise _deny(
            by,
            k,
            _("绝密数据导出须经主管审批：请填写导出原因提交导出申请，批准后在“我的导出”中下载。"),
            code="approval_required",
            wanted="export.approval",
            level=level,
        )
    data = k.build(by, params)
    _check_rows(k, data)
    with transaction.atomic():
        req = _create(
            by=by,
            kind=k,
            params=params,
            data=data,
            level=level,
            state=RequestState.DELIVERED,
            reason="",
            now=now,
        )
        req.file_name, req.content_type, req.produced_at, req.downloads = (
            _filename(k, req.number),
            CONTENT_TYPES[k.fmt],
            now,
            1,
        )
        req.save(update_fields=["file_name", "content_type", "produced_at", "downloads"])
        audit_record(
            action=k.audit_action,
            actor=by,
            object_type=k.object_type or k.code,
            object_repr=str(k.label),
            detail=_audit_detail(req),
        )
    mark = Watermark(
        number=req.number,
        level=Level(level),
        who=person(by),
        company=by.company.name,
        at=now,
        kind=str(k.label),
    )
    content = render_csv(data, mark) if k.fmt == "csv" else render_xlsx(data, mark)
    return Delivery(req, req.file_name, req.content_type, content)


def export_request_create(
    *, by: User, kind: str, params: Params, reason: str = "", now: datetime | None = None
) -> ExportRequest:
    """Ask to export (S3). 绝密: a reason is required and the request waits for a supervisor. 机密
    and 内部 need no approval: the request is approved at once and its file made (watermarked,
    logged), so an API client follows one path for every class. Over the row limit: refused."""
    now = _now(now)
    k = export_kind(kind)
    _check_allowed(by, k)
    level = k.level(by, params)
    reason = (reason or "").strip()
    if needs_approval(level) and not rules.reason_ok(reason):
        raise DomainError(_("请写明导出原因（至少 %(n)d 个字）。") % {"n": rules.MIN_REASON}, field="reason")
    data = k.build(by, params)
    _check_rows(k, data)
    with transaction.atomic():
        req = _create(
            by=by,
            kind=k,
            params=params,
            data=data,
            level=level,
            state=RequestState.PENDING,
            reason=reason,
            now=now,
        )
        audit_record(
            action=ExportAction.REQUESTED,
            obj=req,
            actor=by,
            object_repr=f"{req.number} {req.kind_label}",
            detail=_audit_detail(req, reason=reason),
        )
        if not needs_approval(level):
            _produce(
                req,
                k,
                approver=None,
                note=_("%(level)s数据，无需审批（已加水印并记录）。") % {"level": Level(level).label},
                now=now,
            )
    return req


def _locked(by: User, request_id: int) -> ExportRequest:
    req = (
        ExportRequest.objects.select_for_update()  # no joins: PostgreSQL locks no nullable outer side
        .filter(pk=request_id, company_id=by.company_id)
        .first()
    )
    if req is None:
        raise NotFound(_("没有这个导出申请。"), code="not_found")
    return req


def _decider(by: User, request_id: int) -> None:
    """Refuse (and log, outside any transaction so the row stays) someone who may not decide."""
    if not rules.may_approve(by):
        raise _deny(
            by, None, _("只有主管或经理可以审批导出申请。"), code="permission_denied", wanted="export.approve"
        )
    own = ExportRequest.objects.filter(pk=request_id, company_id=by.company_id, requested_by=by).exists()
    if own:
        raise _deny(
            by,
            None,
            _("不能审批本人的导出申请，请由其他主管审批。"),
            code="own_request",
            wanted="export.approve",
        )


def _movable(req: ExportRequest, target: str) -> None:
    if not can_move(req.state, target):
        raise Conflict(
            _("该申请已是“%(state)s”状态，不能再审批。") % {"state": RequestState(req.state).label},
            code="conflict",
        )


def _produce(
    req: ExportRequest, kind: ExportKind, *, approver: User | None, note: str, now: datetime
) -> None:
    """Make the file of an approved request: built as the requester sees the data (never as the
    approver), watermarked with both names and the link's end, kept until it expires."""
    requester = req.requested_by
    if not kind.allowed(requester) or not requester.is_active:
        raise DomainError(_("申请人已无权导出这类数据，不能批准。"), code="requester_not_allowed")
    data = kind.build(requester, req.params)
    _check_rows(kind, data)
    expires = now + timedelta(hours=rules.link_hours())
    mark = Watermark(
        number=req.number,
        level=Level(req.level),
        who=person(requester),
        company=requester.company.name,
        at=now,
        kind=req.kind_label,
        approved_by=person(approver) if approver else "",
        expires_at=expires,
    )
    if kind.fmt == "csv":
        content = "".join(render_csv(data, mark)).encode("utf-8")
    else:
        content = render_xlsx(data, mark)
    req.state = RequestState.APPROVED
    req.decided_by = approver
    req.decided_at = now
    req.decision_note = note
    req.rows = data.count
    req.facts = data.detail
    req.file_name = _filename(kind, req.number)
    req.content_type = CONTENT_TYPES[kind.fmt]
    req.content = content
    req.produced_at = now
    req.expires_at = expires
    req.save()


def export_request_approve(
    *, by: User, request_id: int, note: str = "", now: datetime | None = None
) -> ExportRequest:
    """A supervisor approves a 绝密 request of their company, not their own (S3): the file is made
    at once as the requester would see the data, watermarked (requester, approver, time, number)
    and downloadable by the requester for `KEFU_EXPORT_LINK_HOURS`."""
    now = _now(now)
    _decider(by, request_id)
    with transaction.atomic():
        req = _locked(by, request_id)
        _movable(req, RequestState.APPROVED)
        _produce(req, export_kind(req.kind), approver=by, note=(note or "").strip(), now=now)
        audit_record(
            action=ExportAction.APPROVED,
            obj=req,
            actor=by,
            object_repr=f"{req.number} {req.kind_label}",
            detail=_audit_detail(req, note=req.decision_note),
        )
    return req


def export_request_refuse(
    *, by: User, request_id: int, note: str, now: datetime | None = None
) -> ExportRequest:
    """A supervisor refuses a 绝密 request, saying why (S3)."""
    now = _now(now)
    note = (note or "").strip()
    _decider(by, request_id)
    with transaction.atomic():
        req = _locked(by, request_id)
        _movable(req, RequestState.REFUSED)
        if not note:
            raise DomainError(_("驳回时请写明理由。"), field="note")
        req.state, req.decided_by, req.decided_at, req.decision_note = RequestState.REFUSED, by, now, note
        req.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        audit_record(
            action=ExportAction.REFUSED,
            obj=req,
            actor=by,
            object_repr=f"{req.number} {req.kind_label}",
            detail=_audit_detail(req, note=note),
        )
    return req


def export_request_withdraw(*, by: User, request_id: int, now: datetime | None = None) -> ExportRequest:
    """The requester withdraws a request that is still waiting."""
    now = _now(now)
    with transaction.atomic():
        req = _locked(by, request_id)
        if req.requested_by_id != by.pk:
            raise NotFound(_("没有这个导出申请。"), code="not_found")
        if not can_move(req.state, RequestState.WITHDRAWN):
            raise Conflict(_("只能撤回待审批的申请。"), code="conflict")
        req.state, req.decided_at = RequestState.WITHDRAWN, now
        req.save(update_fields=["state", "decided_at"])
        audit_record(
            action=ExportAction.WITHDRAWN,
            obj=req,
            actor=by,
            object_repr=f"{req.number} {req.kind_label}",
            detail=_audit_detail(req),
        )
    return req


def export_download(*, by: User, request_id: int, now: datetime | None = None) -> Delivery:
    """The requester downloads an approved file while its link is valid (S3): each download is one
    audit row; after the link's end, 410 with the time it ended (and a refusal row). Only the
    requester downloads — not the approver, not a colleague (404 for anyone else)."""
    now = _now(now)
    req = (
        ExportRequest.objects.filter(pk=request_id, company_id=by.company_id, requested_by=by)
        .select_related("requested_by")
        .first()
        if getattr(by, "company_id", None)
        else None
    )
    if req is None:
        raise NotFound(_("没有这个导出文件。"), code="not_found")
    if req.state == RequestState.DELIVERED:
        raise Conflict(
            _("该导出已在申请时直接下载，文件不再保存。如需再次导出请重新操作。"), code="delivered"
        )
    if req.state != RequestState.APPROVED:
        raise Conflict(
            _("该申请是“%(state)s”状态，没有可下载的文件。") % {"state": RequestState(req.state).label},
            code="not_approved",
        )
    if req.is_expired(now) or req.content is None:
        audit_record(
            action=ExportAction.LINK_EXPIRED,
            obj=req,
            actor=by,
            result=AuditEvent.Result.DENIED,
            object_repr=f"{req.number} {req.kind_label}",
            detail=_audit_detail(req),
        )
        ended = date_format(timezone.localtime(req.expires_at), "Y-m-d H:i") if req.expires_at else ""
        raise LinkExpired(
            _("下载链接已于 %(at)s 过期（有效期 %(h)d 小时），文件已不再提供。如仍需要，请重新提交导出申请。")
            % {"at": ended, "h": rules.link_hours()},
            code="expired",
        )
    kind = export_kind(req.kind)
    with transaction.atomic():
        ExportRequest.objects.filter(pk=req.pk).update(downloads=F("downloads") + 1)
        req.refresh_from_db(fields=["downloads"])
        audit_record(
            action=kind.audit_action,
            obj=req,
            actor=by,
            object_type=kind.object_type or kind.code,
            object_repr=f"{req.number} {req.kind_label}",
            detail=_audit_detail(req, download=req.downloads),
        )
    return Delivery(req, req.file_name, req.content_type, bytes(req.content))


def export_files_purge(*, now: datetime | None = None) -> int:
    """Drop the content of every approved file whose link has expired (hourly, kefu worker): the
    request, its numbers and its audit rows stay; the data does not. Returns how many."""
    now = _now(now)
    return ExportRequest.objects.filter(
        state=RequestState.APPROVED, expires_at__lte=now, content__isnull=False
    ).update(content=None, purged_at=now)
