"""Export endpoints, /api/v1/exports/ (S3, S4). Thin: parse, call one service or selector, shape
the answer. A 绝密 export is a request that a supervisor approves; 机密/内部 requests are approved
at once. The file is fetched from /{id}/file by its requester while the link is valid (410 after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from kefu.exports import rules, selectors, services
from kefu.exports.classification import classification_table
from kefu.exports.models import ExportRequest
from kefu.exports.registry import clean_params, export_kinds
from kefu.exports.web import delivery_response

router = Router(tags=["exports"])


class ErrorOut(Schema):
    detail: str
    code: str = "invalid"
    field: str | None = None


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 410: ErrorOut, 422: ErrorOut}


class KindOut(Schema):
    code: str
    label: str
    format: str


class ClassOut(Schema):
    model: str
    level: str
    level_label: str
    category: str


class RequestIn(Schema):
    kind: str = Field(..., max_length=60)
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field("", max_length=2000)


class NoteIn(Schema):
    note: str = Field("", max_length=2000)


class RequestOut(Schema):
    id: int
    number: str
    kind: str
    kind_label: str
    description: str
    level: str
    level_label: str
    rows: int
    reason: str
    state: str
    state_label: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    expires_at: datetime | None
    downloads: int
    file_url: str | None


def request_out(r: ExportRequest) -> dict:
    return {
        "id": r.pk,
        "number": r.number,
        "kind": r.kind,
        "kind_label": r.kind_label,
        "description": r.description,
        "level": r.level,
        "level_label": str(r.get_level_display()),
        "rows": r.rows,
        "reason": r.reason,
        "state": r.state,
        "state_label": str(r.get_state_display()),
        "requested_by": r.requested_by.display_name,
        "requested_at": r.requested_at,
        "decided_by": r.decided_by.display_name if r.decided_by_id else None,
        "decided_at": r.decided_at,
        "decision_note": r.decision_note,
        "expires_at": r.expires_at,
        "downloads": r.downloads,
        "file_url": f"/api/v1/exports/{r.pk}/file" if r.state == "approved" else None,
    }


@router.get("/kinds", response=list[KindOut], summary="可用的导出类型（本人角色允许的）")
def kinds(request: HttpRequest):
    return [
        {"code": k.code, "label": str(k.label), "format": k.fmt}
        for k in export_kinds()
        if k.allowed(request.auth)
    ]


@router.get("/classification", response=list[ClassOut], summary="数据密级表（S4）")
def classification(request: HttpRequest):
    return [
        {
            "model": c.model,
            "level": c.level.value,
            "level_label": str(c.level.label),
            "category": str(c.category),
        }
        for c in classification_table()
    ]


@router.get("/", response=list[RequestOut], summary="我的导出申请（最新 200 条）")
def my_requests(request: HttpRequest):
    return [request_out(r) for r in selectors.export_requests_mine(user=request.auth)[:200]]


@router.post(
    "/",
    response={201: RequestOut, **ERRORS},
    summary="提交导出申请",
    description=(
        "绝密数据须写明 reason，等待主管审批；机密、内部数据立即批准并生成文件。超过行数上限返回 400。"
    ),
)
def create(request: HttpRequest, payload: RequestIn):
    req = services.export_request_create(
        by=request.auth, kind=payload.kind, params=clean_params(payload.params), reason=payload.reason
    )
    return 201, request_out(req)


@router.get(
    "/approvals", response={200: list[RequestOut], **ERRORS}, summary="待审批的导出申请（主管、经理）"
)
def approvals(request: HttpRequest):
    if not rules.may_approve(request.auth):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return [request_out(r) for r in selectors.export_requests_to_decide(user=request.auth)]


@router.get("/{request_id}", response={200: RequestOut, **ERRORS}, summary="一个导出申请")
def get_request(request: HttpRequest, request_id: int):
    return request_out(selectors.export_request_get(user=request.auth, request_id=request_id))


@router.post(
    "/{request_id}/approve", response={200: RequestOut, **ERRORS}, summary="批准（不能批准本人的申请）"
)
def approve(request: HttpRequest, payload: NoteIn, request_id: int):
    return request_out(
        services.export_request_approve(by=request.auth, request_id=request_id, note=payload.note)
    )


@router.post("/{request_id}/refuse", response={200: RequestOut, **ERRORS}, summary="驳回（须写明理由）")
def refuse(request: HttpRequest, payload: NoteIn, request_id: int):
    return request_out(
        services.export_request_refuse(by=request.auth, request_id=request_id, note=payload.note)
    )


@router.post("/{request_id}/withdraw", response={200: RequestOut, **ERRORS}, summary="撤回本人待审批的申请")
def withdraw(request: HttpRequest, request_id: int):
    return request_out(services.export_request_withdraw(by=request.auth, request_id=request_id))


@router.get(
    "/{request_id}/file",
    response={200: None, **ERRORS},
    summary="下载已批准的文件（仅申请人，有效期内）",
    description="有效期过后返回 410。每次下载写入审计日志。",
)
def file(request: HttpRequest, request_id: int):
    return delivery_response(services.export_download(by=request.auth, request_id=request_id))
