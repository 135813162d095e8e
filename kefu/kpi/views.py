"""Indicator pages: the month's seventeen figures (Perm.REPORT_VIEW) and the records behind one."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.refusals import refused_with_message
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.kpi import documents, report, selectors, services
from kefu.kpi.registry import INDICATORS


def _month(request: HttpRequest, now):
    return selectors.parse_month(request.GET.get("month"), now=now)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The month's indicators of the user's company with numerator, denominator and value (the indicators
    as 004 第十条 defines them; 无数据 where nothing was counted)."""
    if not role_allows(request.user, Perm.REPORT_VIEW):
        return render(request, "403.html", status=403)
    now = timezone.now()
    try:
        month = _month(request, now)
    except DomainError as exc:
        return render(request, "kpi/dashboard.html", {"error": exc.message, "lines": []}, status=400)
    view = selectors.month_view(request.user.company_id, month, now=now)
    corrections = [
        (v, selectors.version_changes(prev, v))
        for prev, v in zip(view.versions, view.versions[1:], strict=False)
    ]
    return render(
        request,
        "kpi/dashboard.html",
        {
            "month": month,
            "lines": report.report_lines(
                request.user.company_id,
                month,
                now=now,
                figures={x.indicator.code: x.figure for x in view.lines},
            ),
            "report": view.report,
            "changed": view.changed_since_closing,
            "corrections": corrections,
            "as_of": selectors.as_of_for(month, now),
            "can_close": role_allows(request.user, Perm.REPORT_CLOSE) and month.end <= now,
        },
    )


@login_required
@require_POST
def close(request: HttpRequest) -> HttpResponse:
    """Close the month, or issue a corrected version with its reason (Perm.REPORT_CLOSE)."""
    now = timezone.now()
    value = request.POST.get("month", "")
    try:
        month = selectors.parse_month(value, now=now)
        report = services.month_close(
            by=request.user, month=month, now=now, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        refused_with_message(request, exc)
        return redirect(f"{reverse('kpi:dashboard')}?month={value}")
    messages.success(request, _("%(m)s 已关闭（第 %(v)s 版）。") % {"m": month, "v": report.version})
    return redirect(f"{reverse('kpi:dashboard')}?month={month}")


@login_required
def records(request: HttpRequest, code: str) -> HttpResponse:
    """One figure and the records behind it, each with how it counted."""
    if not role_allows(request.user, Perm.REPORT_VIEW):
        return render(request, "403.html", status=403)
    now = timezone.now()
    try:
        month = _month(request, now)
        line, rows = selectors.figure_records(request.user.company_id, code, month, now=now)
    except DomainError as exc:
        return render(request, "kpi/records.html", {"error": exc.message}, status=exc.status)
    return render(request, "kpi/records.html", {"month": month, "line": line, "rows": rows})


# ---- the monthly report, the weekly summary, the group, targets and the yearly publication (P15, C17)


def _refused(request: HttpRequest, perm: str = Perm.REPORT_VIEW) -> HttpResponse | None:
    if not role_allows(request.user, perm):
        return render(request, "403.html", status=403)
    return None


def _download(request: HttpRequest, content: bytes, *, filename: str, kind: str, action: str, detail: dict):
    """A report file, logged as an export (S4: every export is recorded with who and what)."""
    from kefu.accounts.audit import audit_record

    audit_record(action=action, actor=request.user, detail={"file": filename, **detail})
    types = {
        "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = HttpResponse(content, content_type=types[kind])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def monthly_report(request: HttpRequest) -> HttpResponse:
    """The monthly service-supervision report (P15): page, PDF (?format=pdf) and workbook (?format=xlsx)."""
    if (refused := _refused(request)) is not None:
        return refused
    now = timezone.now()
    try:
        month = _month(request, now)
    except DomainError as exc:
        return render(request, "kpi/report.html", {"error": exc.message}, status=400)
    data = report.monthly_report(request.user.company, month, now=now)
    fmt = request.GET.get("format", "")
    if fmt in ("pdf", "xlsx"):
        build = documents.report_pdf if fmt == "pdf" else documents.report_xlsx
        return _download(
            request,
            build(data),
            filename=f"service-report-{request.user.company.code}-{month}.{fmt}",
            kind=fmt,
            action="kpi.report_exported",
            detail={"month": str(month), "format": fmt},
        )
    return render(request, "kpi/report.html", {"r": data, "month": month})


@login_required
def weekly_summary(request: HttpRequest) -> HttpResponse:
    """The weekly service summary (P15): page and PDF (?format=pdf); ?day=YYYY-MM-DD picks the week."""
    if (refused := _refused(request)) is not None:
        return refused
    now = timezone.now()
    day = timezone.localdate(now)
    if request.GET.get("day"):
        try:
            day = date.fromisoformat(request.GET["day"])
        except ValueError:
            return render(request, "kpi/week.html", {"error": _("日期格式应为 YYYY-MM-DD。")}, status=400)
    if day > timezone.localdate(now):
        return render(request, "kpi/week.html", {"error": _("该周尚未开始。")}, status=400)
    data = report.week_summary(request.user.company, day, now=now)
    if request.GET.get("format") == "pdf":
        return _download(
            request,
            documents.week_pdf(data),
            filename=f"service-week-{request.user.company.code}-{data.start:%Y-%m-%d}.pdf",
            kind="pdf",
            action="kpi.week_exported",
            detail={"week": f"{data.start:%Y-%m-%d}"},
        )
    prev, nxt = day - timedelta(days=7), day + timedelta(days=7)
    return render(
        request,
        "kpi/week.html",
        {"w": data, "day": day, "prev": prev, "next": nxt if nxt <= timezone.localdate(now) else None},
    )


@login_required
def group(request: HttpRequest) -> HttpResponse:
    """The group roll-up (P15): each member company the user may read and the group's figure."""
    from kefu.accounts.models import Company
    from kefu.accounts.scoping import readable_company_ids

    if (refused := _refused(request)) is not None:
        return refused
    now = timezone.now()
    try:
        month = _month(request, now)
    except DomainError as exc:
        return render(request, "kpi/group.html", {"error": exc.message}, status=400)
    companies = list(Company.objects.filter(pk__in=readable_company_ids(request.user)).order_by("code"))
    return render(
        request,
        "kpi/group.html",
        {"month": month, "companies": companies, "lines": report.group_rollup(companies, month, now=now)},
    )


@login_required
def targets(request: HttpRequest) -> HttpResponse:
    """The year's published targets (C17): everyone with Perm.REPORT_VIEW reads, managers set them."""
    if (refused := _refused(request)) is not None:
        return refused
    now = timezone.now()
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or timezone.localdate(now).year)
    except ValueError:
        year = timezone.localdate(now).year
    can_edit = role_allows(request.user, Perm.REPORT_CLOSE)
    if request.method == "POST":
        if not can_edit:
            return render(request, "403.html", status=403)
        try:
            services.target_set(
                by=request.user,
                year=year,
                code=request.POST.get("code", ""),
                target=request.POST.get("target") or None,
                strict=request.POST.get("strict") == "on",
                commitment=request.POST.get("commitment", ""),
            )
        except DomainError as exc:
            refused_with_message(request, exc)
        else:
            messages.success(request, _("目标已保存。"))
        return redirect(f"{reverse('kpi:targets')}?year={year}")
    current = report.targets_for(request.user.company_id, year)
    rows = [(ind, current.get(ind.code)) for ind in INDICATORS]
    return render(request, "kpi/targets.html", {"year": year, "rows": rows, "can_edit": can_edit})


def _publication_response(request: HttpRequest, company, year: int, *, public: bool) -> HttpResponse:
    now = timezone.now()
    data = report.publication(company, year, now=now)
    if public and data.public_since is None:
        raise Http404(_("该年度的服务承诺尚未公开。"))
    if request.GET.get("format") == "pdf":
        response = HttpResponse(documents.publication_pdf(data), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="commitments-{company.code}-{year}.pdf"'
        return response
    return render(request, "kpi/publication.html", {"p": data, "public": public})


@login_required
def publication(request: HttpRequest, year: int) -> HttpResponse:
    """The yearly publication (C17) as staff see it before and after it is made public; a manager
    makes it public (POST)."""
    if (refused := _refused(request)) is not None:
        return refused
    if request.method == "POST":
        try:
            services.publication_make_public(
                by=request.user, year=year, public=request.POST.get("public") == "1"
            )
        except DomainError as exc:
            refused_with_message(request, exc)
        return redirect("kpi:publication", year=year)
    return _publication_response(request, request.user.company, year, public=False)


def public_publication(request: HttpRequest, company_code: str, year: int) -> HttpResponse:
    """The published commitments and last year's results, open to everyone once made public (C17)."""
    from kefu.accounts.models import Company

    company = Company.objects.filter(code=company_code).first()
    if company is None:
        raise Http404(_("没有这个公司。"))
    return _publication_response(request, company, year, public=True)
