"""sla pages (issue 4 §5): the working-day calendar of a year with the source of each day, the
calendar overrides of administrators, and the read-only commitment sets (C17, SPEC Time rules)."""

from __future__ import annotations

import calendar as pycal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from kefu.accounts.roles import Perm, role_allows
from kefu.errors import DomainError
from kefu.sla import selectors, services
from kefu.sla.api import fallback_warning
from kefu.sla.calendar import OFFICIAL_YEARS
from kefu.sla.forms import OverrideForm
from kefu.sla.models import CalendarOverride

WEEKDAYS = [_l("一"), _l("二"), _l("三"), _l("四"), _l("五"), _l("六"), _l("日")]


def _year_param(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    return min(max(year, 2004), 2100)


@login_required
def calendar_year(request: HttpRequest) -> HttpResponse:
    """A year's calendar: holidays, make-up working days (调休) and each day's source."""
    year = _year_param(request)
    cal = selectors.calendar_for_company(request.user.company, [year])
    infos = dict(selectors.calendar_year_days(cal, year))
    months = []
    for m in range(1, 13):
        weeks = []
        for week in pycal.Calendar(firstweekday=0).monthdatescalendar(year, m):
            weeks.append([(d, infos[d]) if d.month == m else (None, None) for d in week])
        months.append({"month": m, "weeks": weeks})
    special = [
        (d, info, WEEKDAYS[d.weekday()])
        for d, info in infos.items()
        if info.name or info.source == "override" or (info.is_workday != (d.weekday() < 5))
    ]
    return render(
        request,
        "sla/calendar.html",
        {
            "year": year,
            "months": months,
            "weekdays": WEEKDAYS,
            "special": special,
            "fallback": cal.is_fallback_year(year),
            "warning": fallback_warning(year) if cal.is_fallback_year(year) else "",
            "year_source": cal.year_source(year),
            "official_range": f"{min(OFFICIAL_YEARS)}–{max(OFFICIAL_YEARS)}" if OFFICIAL_YEARS else "",
            "can_edit": role_allows(request.user, Perm.MASTER_DATA),
            "prev_year": year - 1,
            "next_year": year + 1,
        },
    )


@login_required
def overrides(request: HttpRequest) -> HttpResponse:
    """Administrators enter days on top of the official calendar (e.g. next year's notice)."""
    if not role_allows(request.user, Perm.MASTER_DATA):
        return render(request, "403.html", status=403)
    form = OverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.calendar_override_create(
                by=request.user,
                day=form.cleaned_data["date"],
                is_workday=form.cleaned_data["is_workday"],
                name=form.cleaned_data["name"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存日历调整。"))
            return redirect("sla:overrides")
    rows = CalendarOverride.objects.filter(
        Q(company__isnull=True) | Q(company_id=request.user.company_id)
    ).order_by("-date")
    return render(request, "sla/overrides.html", {"form": form, "rows": rows})


@login_required
@require_POST
def override_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.calendar_override_delete(by=request.user, override_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除日历调整。"))
    return redirect("sla:overrides")


@login_required
def commitment_sets(request: HttpRequest) -> HttpResponse:
    """The company's commitment sets by year and version (C17)."""
    rows = selectors.commitment_sets_visible(request.user).order_by("-year", "-version")
    return render(request, "sla/sets.html", {"rows": rows})


@login_required
def commitment_set_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One set's commitments with SPEC id, limit and the seed clause they come from (read only)."""
    try:
        row = selectors.commitment_set_get(request.user, pk)
    except DomainError:
        raise Http404 from None
    return render(request, "sla/set_detail.html", {"set": row, "commitments": row.commitments.all()})
