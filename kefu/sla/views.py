"""sla pages (issue 4 §5): the working-day calendar of a year with the source of each day, the
calendar overrides of administrators, and the read-only commitment sets (C17, SPEC Time rules)."""

from __future__ import annotations

import calendar as pycal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.sla import selectors, services
from kefu.sla.api import fallback_warning
from kefu.sla.calendar import OFFICIAL_YEARS
from kefu.sla.forms import NoticeForm, OverrideEditForm, RangeForm
from kefu.sla.models import CalendarOverride, CalendarYear
from kefu.sla.subjects import subject_adapter

WEEKDAYS = [
    pgettext_lazy("weekday", "一"),
    pgettext_lazy("weekday", "二"),
    pgettext_lazy("weekday", "三"),
    pgettext_lazy("weekday", "四"),
    pgettext_lazy("weekday", "五"),
    pgettext_lazy("weekday", "六"),
    pgettext_lazy("weekday", "日"),
]


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
            "can_edit": role_allows(request.user, Perm.CALENDAR_EDIT),
            "prev_year": year - 1,
            "next_year": year + 1,
        },
    )


def _calendar_rows(user):
    return CalendarOverride.objects.filter(Q(company__isnull=True) | Q(company_id=user.company_id)).order_by(
        "-date"
    )


@login_required
def overrides(request: HttpRequest) -> HttpResponse:
    """Supervisors and administrators enter holidays and make-up days as ranges on top of the
    official calendar (Perm.CALENDAR_EDIT; SPEC Time rules)."""
    if not role_allows(request.user, Perm.CALENDAR_EDIT):
        return render(request, "403.html", status=403)
    form = RangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            days = services.calendar_range_days(
                first=d["date"], last=d["last"] or d["date"], is_workday=d["is_workday"], name=d["name"]
            )
            created = services.calendar_overrides_enter(by=request.user, days=days, note=d["note"])
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已录入 %(n)d 天。") % {"n": len(created)})
            return redirect("sla:overrides")
    return render(request, "sla/overrides.html", {"form": form, "rows": _calendar_rows(request.user)})


@login_required
def override_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change one entered day of the company (Perm.CALENDAR_EDIT)."""
    if not role_allows(request.user, Perm.CALENDAR_EDIT):
        return render(request, "403.html", status=403)
    row = CalendarOverride.objects.filter(pk=pk, company_id=request.user.company_id).first()
    if row is None:
        raise Http404
    initial = {"is_workday": "1" if row.is_workday else "0", "name": row.name, "note": row.note}
    form = OverrideEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.calendar_override_update(by=request.user, override_id=pk, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存日历调整。"))
            return redirect("sla:overrides")
    return render(request, "sla/override_edit.html", {"form": form, "row": row})


@login_required
def notice(request: HttpRequest) -> HttpResponse:
    """Paste the State Council's notice; kefu shows what it read; the supervisor confirms and the
    days are entered all at once (Perm.CALENDAR_EDIT; SPEC Time rules)."""
    from kefu.sla.calendar_notice import NoticeError, parse_notice

    if not role_allows(request.user, Perm.CALENDAR_EDIT):
        return render(request, "403.html", status=403)
    form = NoticeForm(request.POST or None)
    parsed = None
    if request.method == "POST" and form.is_valid():
        try:
            parsed = parse_notice(form.cleaned_data["text"])
        except NoticeError as exc:
            form.add_error("text", exc.message)
        if parsed is not None and request.POST.get("confirm") == "1":
            try:
                days = [(d.day, d.is_workday, d.name) for d in parsed.days]
                note = _("国务院办公厅%(y)s年节假日安排通知") % {"y": parsed.year}
                created = services.calendar_overrides_enter(by=request.user, days=days, note=note)
                if not CalendarYear.objects.filter(
                    company_id=request.user.company_id, year=parsed.year
                ).exists():
                    services.calendar_year_enter(
                        by=request.user, year=parsed.year, notice=note
                    )  # no fallback banner
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("已按通知录入 %(y)s 年 %(n)d 天。") % {"y": parsed.year, "n": len(created)}
                )
                return redirect(f"{reverse('sla:calendar')}?year={parsed.year}")
    rows = [(d, WEEKDAYS[d.day.weekday()]) for d in parsed.days] if parsed else []
    return render(request, "sla/notice.html", {"form": form, "notice": parsed, "rows": rows})


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
    return render(
        request,
        "sla/set_detail.html",
        {
            "set": row,
            "commitments": row.commitments.all(),
            "can_edit": role_allows(request.user, Perm.MASTER_DATA)
            and row.company_id == request.user.company_id,
        },
    )


# ---- queues, board, editor (issue 4 §5) --------------------------------------------------------
QUEUE_LIMIT = 200


def _teams(user):
    from kefu.accounts.models import Team

    return Team.objects.filter(company_id=user.company_id, is_active=True).select_related("department")


def _subjects(clocks) -> dict[tuple[str, str], object]:
    """Label, link and owner of the clocks' subjects, from their adapters (kefu.sla.subjects)."""
    by_type: dict[str, list[str]] = {}
    for c in clocks:
        by_type.setdefault(c.subject_type, []).append(c.subject_id)
    out = {}
    for subject_type, ids in by_type.items():
        adapter = subject_adapter(subject_type)
        if adapter is not None:
            out.update({(subject_type, sid): info for sid, info in adapter.describe(ids).items()})
    return out


@login_required
def queue(request: HttpRequest, which: str) -> HttpResponse:
    """The "due soon" and "breached" queues of a team (default: the user's own team)."""
    from kefu.sla.templatetags.sla_tags import clock_line

    if which not in ("due-soon", "breached"):
        raise Http404
    team_param = request.GET.get("team", "")
    if team_param == "all" and role_allows(request.user, Perm.TICKET_VIEW_ALL):
        team_id = None
    else:
        try:
            team_id = int(team_param) if team_param else request.user.team_id
        except ValueError:
            team_id = request.user.team_id
        if team_id is not None and not _teams(request.user).filter(pk=team_id).exists():
            raise Http404
    now = timezone.now()
    pick = selectors.queue_due_soon if which == "due-soon" else selectors.queue_breached
    qs = pick(request.user, team_id=team_id, now=now)
    total = qs.count()
    clocks = list(qs[:QUEUE_LIMIT])
    subjects = _subjects(clocks)
    return render(
        request,
        "sla/queue.html",
        {
            "which": which,
            "title": _("即将到期") if which == "due-soon" else _("已超时"),
            "lines": [
                dict(clock_line(c, now), subject=subjects.get((c.subject_type, c.subject_id))) for c in clocks
            ],
            "total": total,
            "limit": QUEUE_LIMIT,
            "teams": _teams(request.user),
            "team_id": team_id,
            "team_param": "all" if team_id is None else str(team_id),
            "can_all": role_allows(request.user, Perm.TICKET_VIEW_ALL),
        },
    )


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The supervisor board: clocks per commitment (SPEC id) and state (Perm.REPORT_VIEW)."""
    from datetime import timedelta

    from kefu.accounts.scoping import readable_company_ids

    if not role_allows(request.user, Perm.REPORT_VIEW):
        return render(request, "403.html", status=403)
    try:
        days = min(max(int(request.GET.get("days", "30")), 1), 366)
    except ValueError:
        days = 30
    now = timezone.now()
    rows = selectors.board_counts(
        readable_company_ids(request.user), now=now, since=now - timedelta(days=days)
    )
    totals = {k: sum(r[k] for r in rows) for k in selectors.BOARD_STATES}
    return render(
        request,
        "sla/board.html",
        {"rows": rows, "totals": totals, "days": days, "states": selectors.BOARD_STATES},
    )


@login_required
def commitment_edit(request: HttpRequest, pk: int, commitment_pk: int) -> HttpResponse:
    """Edit one commitment of an unpublished set (Perm.MASTER_DATA; published sets: clone first)."""
    from kefu.sla.forms import CommitmentForm

    if not role_allows(request.user, Perm.MASTER_DATA):
        return render(request, "403.html", status=403)
    try:
        the_set = selectors.commitment_set_get(request.user, pk)
    except DomainError:
        raise Http404 from None
    commitment = the_set.commitments.filter(pk=commitment_pk).first()
    if commitment is None:
        raise Http404
    if the_set.is_published:
        messages.error(request, _("已发布的方案不能修改，请先复制为新版本。"))
        return redirect("sla:set_detail", pk=the_set.pk)
    form = CommitmentForm(request.POST or None, instance=commitment)
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in form.changed_data}
        try:
            services.commitment_update(
                by=request.user, commitment=the_set.commitments.get(pk=commitment_pk), changes=changes
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存。"))
            return redirect("sla:set_detail", pk=the_set.pk)
    return render(
        request, "sla/commitment_edit.html", {"set": the_set, "commitment": commitment, "form": form}
    )


@login_required
@require_POST
def set_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Clone a set into a new draft version, or publish a draft (Perm.MASTER_DATA, C17)."""
    try:
        the_set = selectors.commitment_set_get(request.user, pk)
    except DomainError:
        raise Http404 from None
    try:
        if action == "clone":
            try:
                year = int(request.POST.get("year", the_set.year))
            except ValueError:
                raise DomainError(_("年度无效。"), field="year") from None
            new = services.commitment_set_clone(source=the_set, year=year, by=request.user)
            messages.success(
                request, _("已复制为 %(y)s 年 v%(v)s（草稿）。") % {"y": new.year, "v": new.version}
            )
            return redirect("sla:set_detail", pk=new.pk)
        if action == "publish":
            services.commitment_set_publish(commitment_set=the_set, by=request.user)
            messages.success(request, _("方案已发布。"))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("sla:set_detail", pk=the_set.pk)
