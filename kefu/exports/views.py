"""Screens of data export (S3): my exports, the approval queue, a request's page with its download,
the request form, and the classification table (S4). Thin: each calls one service or selector."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError
from kefu.exports import rules, selectors, services
from kefu.exports.classification import classification_table, needs_approval
from kefu.exports.registry import clean_params, params_from_query
from kefu.exports.states import RequestState
from kefu.exports.web import delivery_response, refusal_response


def _page(request: HttpRequest, template: str, ctx: dict, status: int = 200) -> HttpResponse:
    return render(request, f"exports/{template}", ctx, status=status)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """我的导出: every request and direct export of the user, with their states and links."""
    rows = list(selectors.export_requests_mine(user=request.user)[:200])
    return _page(
        request,
        "mine.html",
        {
            "rows": rows,
            "now": timezone.now(),
            "to_decide": selectors.export_requests_to_decide(user=request.user).count(),
            "may_approve": rules.may_approve(request.user),
        },
    )


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """导出审批: the company's pending 绝密 requests (supervisors, managers) and the latest decisions."""
    if not rules.may_approve(request.user):
        return _page(request, "refused.html", {"message": _("只有主管或经理可以审批导出申请。")}, status=403)
    return _page(
        request,
        "approvals.html",
        {
            "pending": list(selectors.export_requests_to_decide(user=request.user)),
            "decided": selectors.export_requests_decided(user=request.user),
        },
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    """The request form: GET ?kind=…&<the list's conditions> shows what would be exported (class,
    rows, conditions); POST creates the request (绝密: pending; otherwise approved at once)."""
    kind = (request.POST.get("kind") if request.method == "POST" else request.GET.get("kind")) or ""
    try:
        if request.method == "POST":
            try:
                params = clean_params(json.loads(request.POST.get("params") or "{}"))
            except ValueError:
                raise DomainError(_("导出条件格式有误。"), field="params") from None
        else:
            params = params_from_query(request.GET)
        preview = selectors.export_preview(user=request.user, kind=kind, params=params)
        if request.method == "POST":
            req = services.export_request_create(
                by=request.user, kind=kind, params=params, reason=request.POST.get("reason", "")
            )
            if req.state == RequestState.PENDING:
                messages.success(request, _("导出申请 %(n)s 已提交，等待主管审批。") % {"n": req.number})
            else:
                messages.success(request, _("导出文件 %(n)s 已生成，可以下载。") % {"n": req.number})
            return redirect("exports:detail", req.pk)
    except DomainError as exc:
        if exc.field != "reason":
            return refusal_response(request, exc)
        messages.error(request, exc.message)
        preview = selectors.export_preview(user=request.user, kind=kind, params=params)
    return _page(
        request,
        "new.html",
        {
            **preview,
            "needs_approval": needs_approval(preview["level"]),
            "params_json": json.dumps(params, ensure_ascii=False),
            "reason": request.POST.get("reason", ""),
        },
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: what, why, who decided, and for the requester the download while it is valid."""
    try:
        req = selectors.export_request_get(user=request.user, request_id=pk)
    except DomainError as exc:
        return refusal_response(request, exc)
    now = timezone.now()
    return _page(
        request,
        "detail.html",
        {
            "r": req,
            "now": now,
            "expired": req.is_expired(now),
            "mine": req.requested_by_id == request.user.pk,
            "may_decide": req.state == RequestState.PENDING and rules.may_decide(request.user, req),
            "link_hours": rules.link_hours(),
        },
    )


def _act(request: HttpRequest, pk: int, fn, done: str) -> HttpResponse:
    try:
        fn()
        messages.success(request, done)
    except DomainError as exc:
        if exc.status in (403, 404):
            return refusal_response(request, exc)
        messages.error(request, exc.message)
    return redirect("exports:detail", pk)


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda: services.export_request_approve(
            by=request.user, request_id=pk, note=request.POST.get("note", "")
        ),
        _("已批准，文件已生成；申请人可在有效期内下载。"),
    )


@login_required
@require_POST
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda: services.export_request_refuse(
            by=request.user, request_id=pk, note=request.POST.get("note", "")
        ),
        _("已驳回。"),
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, lambda: services.export_request_withdraw(by=request.user, request_id=pk), _("已撤回。")
    )


@login_required
def download(request: HttpRequest, pk: int) -> HttpResponse:
    """The approved file, for its requester, while the link is valid (410 after; every download logged)."""
    try:
        return delivery_response(services.export_download(by=request.user, request_id=pk))
    except DomainError as exc:
        return refusal_response(request, exc)


@login_required
def classes(request: HttpRequest) -> HttpResponse:
    """数据密级: the class of every declared model (S4) and what needs an approval."""
    from django.apps import apps

    rows = []
    for c in classification_table():
        try:
            name = apps.get_model(c.model)._meta.verbose_name
        except LookupError:
            name = c.model
        rows.append({"model": c.model, "name": name, "level": c.level, "category": c.category})
    return _page(request, "classes.html", {"rows": rows, "kinds": _kinds_for(request.user)})


def _kinds_for(user):
    from kefu.exports.registry import export_kinds

    return [k for k in export_kinds() if k.allowed(user)]
