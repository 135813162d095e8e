"""Reading export requests (S3): one's own, the approval queue of a company, one request."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kefu.core.errors import NotFound
from kefu.exports import rules
from kefu.exports.models import ExportRequest
from kefu.exports.registry import Params, export_kind
from kefu.exports.states import RequestState

_LIST_FIELDS = ("requested_by", "decided_by")


def export_requests_mine(*, user) -> QuerySet[ExportRequest]:
    """The user's own requests and direct exports, newest first (never the file content)."""
    return (
        ExportRequest.objects.filter(requested_by=user, company_id=user.company_id)
        .select_related(*_LIST_FIELDS)
        .defer("content")
    )


def export_requests_to_decide(*, user) -> QuerySet[ExportRequest]:
    """Pending 绝密 requests of the approver's company, oldest first (nothing for others)."""
    if not rules.may_approve(user) or not user.company_id:
        return ExportRequest.objects.none()
    return (
        ExportRequest.objects.filter(company_id=user.company_id, state=RequestState.PENDING)
        .select_related(*_LIST_FIELDS)
        .defer("content")
        .order_by("requested_at", "id")
    )


def export_requests_decided(*, user, limit: int = 50) -> list[ExportRequest]:
    """The company's latest decided requests, for the approver's queue page (what was let out)."""
    if not rules.may_approve(user) or not user.company_id:
        return []
    return list(
        ExportRequest.objects.filter(
            company_id=user.company_id, state__in=(RequestState.APPROVED, RequestState.REFUSED)
        )
        .exclude(decided_by=None)
        .select_related(*_LIST_FIELDS)
        .defer("content")
        .order_by("-decided_at", "-id")[:limit]
    )


def export_request_get(*, user, request_id: int) -> ExportRequest:
    """One request, for its requester or an approver of its company; 404 for anyone else."""
    req = (
        ExportRequest.objects.filter(pk=request_id, company_id=user.company_id)
        .select_related(*_LIST_FIELDS)
        .defer("content")
        .first()
        if getattr(user, "company_id", None)
        else None
    )
    if req is None or (req.requested_by_id != user.pk and not rules.may_approve(user)):
        raise NotFound(_("没有这个导出申请。"), code="not_found")
    return req


def export_preview(*, user, kind: str, params: Params) -> dict:
    """What a request would export, before it is made: the kind, the class, the row count against
    the limit, the readable conditions. Refuses (403) who may not export this kind at all."""
    from kefu.exports.services import _check_allowed

    k = export_kind(kind)
    _check_allowed(user, k)
    data = k.build(user, params)
    level = k.level(user, params)
    return {
        "kind": k,
        "level": level,
        "rows": data.count,
        "limit": rules.max_rows(k.max_rows),
        "description": data.description,
    }
