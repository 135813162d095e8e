"""Web pages of inspections: the programme and its coverage (table and map by community, with the
projected finish), batches (with the notice PDF), the hazards ledger (with the rectification
notice PDF), the no-access ledger, the import of last year's records, and the inspector's phone
(the field app's offline queue, kefu/field/static/field/phone.js). Views parse, call one service
or selector, render; refusals become messages in the user's language."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError, NotFound
from kefu.field.models import Technician
from kefu.inspections import pdf, selectors, services
from kefu.inspections.models import Batch, Hazard, Programme
from kefu.inspections.states import EntryStatus, RectifiedBy


def _year(request: HttpRequest) -> int:
    try:
        y = int(request.GET.get("year") or request.POST.get("year") or 0)
    except ValueError:
        y = 0
    return y if 2000 <= y <= 2100 else services.local_today(request.user.company).year


def _need(user, perm: str) -> None:
    """A page refused to a role without `perm`: Django's 403 page (logged by the refusal audit)."""
    if not role_allows(user, perm):
        raise PermissionDenied


@login_required
def programme(request: HttpRequest) -> HttpResponse:
    """年度安检计划与覆盖率 (C5): generate the ledger; coverage by community, district or category
    against the target with the projected finish; the map by community."""
    _need(request.user, Perm.INSPECTION_PLAN)
    year = _year(request)
    if request.method == "POST":
        try:
            services.programme_generate(by=request.user, year=year)
            messages.success(request, _("%(y)s 年度安检台账已生成。") % {"y": year})
        except DomainError as e:
            messages.error(request, e.message)
        return redirect(f"{request.path}?year={year}")
    by = request.GET.get("by") if request.GET.get("by") in selectors.GROUPS else "community"
    today = services.local_today(request.user.company)
    rows = selectors.coverage(company_id=request.user.company_id, year=year, by=by, today=today)
    prog = Programme.objects.filter(company_id=request.user.company_id, year=year).first()
    return render(
        request,
        "inspections/programme.html",
        {
            "year": year,
            "by": by,
            "prog": prog,
            "rows": rows,
            "total": selectors.coverage_total(rows, year=year, today=today) if rows else None,
            "points": selectors.community_map(company_id=request.user.company_id, rows=rows)
            if by == "community"
            else [],
        },
    )


@login_required
def batches(request: HttpRequest) -> HttpResponse:
    """安检批次: plan a community's buildings for an inspector and days; print the notice."""
    _need(request.user, Perm.INSPECTION_PLAN)
    year = _year(request)
    if request.method == "POST":
        p = request.POST
        first, last = parse_date(p.get("first_day") or ""), parse_date(p.get("last_day") or "")
        try:
            if first is None or last is None:
                raise DomainError(_("请填写开始和结束日期。"), field="first_day")
            b = services.batch_create(
                by=request.user,
                year=year,
                community=p.get("community", ""),
                buildings=[x for x in p.get("buildings", "").replace("，", ",").split(",")],
                inspector_id=int(p.get("inspector_id") or 0),
                first_day=first,
                last_day=last,
            )
            messages.success(request, _("批次已建立，共 %(n)d 户。") % {"n": b.entries.count()})
        except (DomainError, ValueError) as e:
            messages.error(request, getattr(e, "message", _("请求数据有误。")))
        return redirect(f"{request.path}?year={year}")
    inspectors = [
        t
        for t in Technician.objects.filter(company_id=request.user.company_id, is_active=True).select_related(
            "user"
        )
        if "inspection" in (t.skills or [])
    ]
    return render(
        request,
        "inspections/batches.html",
        {
            "year": year,
            "rows": selectors.batches(company_id=request.user.company_id, year=year),
            "inspectors": inspectors,
        },
    )


@login_required
def batch_notice(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The 入户安检通知 PDF of a batch, one page per building."""
    _need(request.user, Perm.INSPECTION_PLAN)
    b = Batch.objects.filter(pk=batch_id, company_id=request.user.company_id).first()
    if b is None:
        raise NotFound(_("没有找到该批次。"), code="not_found")
    s = services.settings_for(request.user.company)
    body = pdf.batch_notice_pdf(
        b, hotline=s.hotline or request.user.company.hotline, company_name=request.user.company.name
    )
    resp = HttpResponse(body, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="notice-{b.pk}.pdf"'
    return resp


@login_required
def hazards(request: HttpRequest) -> HttpResponse:
    """隐患台账: open hazards and those waiting for their re-check, overdue first, with the person
    responsible and the escalation; rectified / re-checked from here."""
    _need(request.user, Perm.INSPECTION_PLAN)
    if request.method == "POST":
        p = request.POST
        try:
            hid = int(p.get("hazard_id") or 0)
            action = p.get("action")
            if action == "rectify":
                services.hazard_rectify(
                    by=request.user, hazard_id=hid, how=p.get("how", ""), note=p.get("note", "")
                )
            elif action == "recheck":
                services.hazard_recheck(
                    by=request.user, hazard_id=hid, passed=p.get("passed") == "1", note=p.get("note", "")
                )
            elif action == "sign":
                services.hazard_notice_sign(by=request.user, hazard_id=hid, signed_by=p.get("signed_by", ""))
            messages.success(request, _("已保存。"))
        except (DomainError, ValueError) as e:
            messages.error(request, getattr(e, "message", _("请求数据有误。")))
        return redirect(request.path)
    return render(
        request,
        "inspections/hazards.html",
        {
            "rows": selectors.hazards_open(company_id=request.user.company_id),
            "today": services.local_today(request.user.company),
            "how": RectifiedBy.choices,
        },
    )


@login_required
def hazard_notice(request: HttpRequest, hazard_id: int) -> HttpResponse:
    """The 安全隐患整改通知书 PDF of a hazard (for the planner or the person responsible)."""
    h = (
        Hazard.objects.filter(pk=hazard_id, company_id=request.user.company_id)
        .select_related("type", "customer__premise", "responsible")
        .first()
    )
    if h is None or not (
        role_allows(request.user, Perm.INSPECTION_PLAN) or h.responsible_id == request.user.pk
    ):
        raise NotFound(_("没有找到该隐患，或您无权查看。"), code="not_found")
    s = services.settings_for(request.user.company)
    body = pdf.hazard_notice_pdf(
        h, company_name=request.user.company.name, hotline=s.hotline or request.user.company.hotline
    )
    resp = HttpResponse(body, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{h.number}.pdf"'
    return resp


@login_required
def no_access(request: HttpRequest) -> HttpResponse:
    """不遇台账: households not reached with the ladder's next step; the next step recorded here."""
    _need(request.user, Perm.INSPECTION_PLAN)
    year = _year(request)
    if request.method == "POST":
        p = request.POST
        try:
            eid = int(p.get("entry_id") or 0)
            if p.get("kind") == "approval":
                services.restriction_approve(by=request.user, entry_id=eid, note=p.get("note", ""))
            else:
                services.ladder_record(
                    by=request.user,
                    entry_id=eid,
                    kind=p.get("kind", ""),
                    note=p.get("note", ""),
                    measurement=p.get("measurement"),
                )
            messages.success(request, _("已保存。"))
        except (DomainError, ValueError) as e:
            messages.error(request, getattr(e, "message", _("请求数据有误。")))
        return redirect(f"{request.path}?year={year}")
    settings = services.settings_for(request.user.company)
    rows = [
        (e, services.ladder_state(e, settings))
        for e in selectors.no_access_ledger(company_id=request.user.company_id, year=year)
    ]
    return render(request, "inspections/no_access.html", {"year": year, "rows": rows})


# ---- the inspector's phone ---------------------------------------------------------------------
@login_required
def phone(request: HttpRequest) -> HttpResponse:
    """The inspector's day (PWA): today's households by building and room; big one-hand buttons
    for the outcome; the checklist; everything queued offline by the field's queue and applied
    once by the server (client ids)."""
    _need(request.user, Perm.FIELD_WORK)
    s = services.settings_for(request.user.company)
    from kefu.inspections.models import HazardType

    try:
        unmask = int(request.GET.get("unmasked") or 0)
    except ValueError:
        unmask = 0
    rows = []
    for e in selectors.inspector_day(user=request.user):
        full = e.pk == unmask
        try:
            rows.append((e, selectors.entry_contact(user=request.user, entry=e, unmasked=full)))
        except DomainError as err:
            messages.error(request, err.message)
            rows.append((e, selectors.entry_contact(user=request.user, entry=e, unmasked=False)))
    return render(
        request,
        "inspections/phone.html",
        {
            "rows": rows,
            "checklist": s.checklist,
            "hazard_types": HazardType.objects.filter(company_id=request.user.company_id).order_by(
                "severity", "code"
            ),
            "status_labels": dict(EntryStatus.choices),
        },
    )


def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker at /inspections/sw.js (scope /inspections/): keeps the phone page and the
    scripts (the field's queue included) for offline use; API calls are never cached."""
    files = [
        static("field/phone.js"),
        static("inspections/phone.js"),
        static("kefu/kefu.css"),
        "/inspections/phone/",
    ]
    body = (
        f"const FILES = {json.dumps(files)};\n"
        "self.addEventListener('install', e =>\n"
        "  e.waitUntil(caches.open('kefu-inspections-v1').then(c => c.addAll(FILES))));\n"
        "self.addEventListener('fetch', e => {\n"
        "  const u = new URL(e.request.url);\n"
        "  if (e.request.method !== 'GET' || u.pathname.startsWith('/api/')) return;\n"
        "  e.respondWith(fetch(e.request).then(r => { const copy = r.clone();"
        " caches.open('kefu-inspections-v1').then(c => c.put(e.request, copy)); return r; })"
        ".catch(() => caches.match(e.request)));\n"
        "});\n"
    )
    response = HttpResponse(body, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/inspections/"
    return response
