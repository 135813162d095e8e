"""Indicator pages: the month's seventeen figures (Perm.REPORT_VIEW) and the records behind one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.refusals import refused_with_message
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.kpi import selectors, services


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
            "lines": view.lines,
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
