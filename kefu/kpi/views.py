"""Indicator pages: the month's seventeen figures (Perm.REPORT_VIEW) and the records behind one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.kpi import selectors


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
    lines = selectors.month_lines(request.user.company_id, month, now=now)
    return render(
        request,
        "kpi/dashboard.html",
        {"month": month, "lines": lines, "as_of": selectors.as_of_for(month, now)},
    )


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
