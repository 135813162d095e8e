"""Workforce screens (W1, W2, W3, W4, W5): my shifts (phone-first), who is on duty, team rosters, requests and
approvals, hand-overs, attendance, penalties. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from datetime import date, datetime
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.context import client_ip
from kefu.accounts.models import Team, User
from kefu.accounts.refusals import refused_with_message
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.workforce import selectors, services
from kefu.workforce.models import (
    Assignment,
    Handover,
    LeaveKind,
    LeaveRequest,
    Penalty,
    Punch,
    ShiftPattern,
    SwapRequest,
)
from kefu.workforce.states import OPEN_REQUEST, RequestStatus


def _action(back: str):
    """POST actions: a DomainError becomes a message on the page we go back to."""

    def deco(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                view(request, *args, **kwargs)
            except DomainError as exc:
                refused_with_message(request, exc)
            except (ValueError, TypeError):
                messages.error(request, _("提交的数据有误。"))
            target = request.POST.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else back)

        return login_required(require_POST(wrapped))

    return deco


def _is_head(user) -> bool:
    return role_allows(user, Perm.ROSTER_MANAGE)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My shifts, phone-first, with the clock buttons."""
    today = timezone.localdate()
    shifts = list(selectors.my_shifts(request.user, since=today, days=31))
    return render(
        request, "workforce/home.html", {"shifts": shifts, "today": today, "kinds": Punch.Kind.choices}
    )


@login_required
def on_duty(request: HttpRequest) -> HttpResponse:
    at = timezone.now()
    raw = request.GET.get("at", "")
    if raw:
        try:
            parsed = datetime.fromisoformat(raw)
            at = parsed if parsed.tzinfo else timezone.make_aware(parsed)
        except ValueError:
            messages.error(request, _("时间格式有误。"))
    rows = selectors.on_duty_assignments(request.user.company_id, at)
    return render(request, "workforce/on_duty.html", {"rows": rows, "at": at})


@login_required
def rosters(request: HttpRequest) -> HttpResponse:
    teams = Team.objects.filter(company=request.user.company, is_active=True).order_by("name")
    return render(
        request,
        "workforce/rosters.html",
        {
            "rosters": selectors.rosters_visible(request.user)[:60],
            "patterns": ShiftPattern.objects.filter(company=request.user.company)
            .select_related("team")
            .prefetch_related("needs"),
            "teams": teams,
            "is_head": _is_head(request.user),
            "next_month": (timezone.localdate().replace(day=28) + timezone.timedelta(days=4)).replace(day=1),
        },
    )


@_action("workforce:rosters")
def roster_propose(request: HttpRequest) -> None:
    team = Team.objects.filter(company=request.user.company, pk=int(request.POST.get("team", 0) or 0)).first()
    if team is None:
        raise DomainError(_("请选择班组。"), field="team")
    month = date.fromisoformat((request.POST.get("month", "") + "-01")[:10])
    roster = services.roster_propose(team=team, month=month, by=request.user)
    messages.success(request, _("已生成排班建议：%(n)s") % {"n": roster.solver_note})


@_action("workforce:rosters")
def pattern_new(request: HttpRequest) -> None:
    """A team head adds a shift pattern with its minimum staffing per job (W1)."""
    from datetime import time as dtime

    team = Team.objects.filter(company=request.user.company, pk=int(request.POST.get("team", 0) or 0)).first()
    if team is None:
        raise DomainError(_("请选择班组。"), field="team")
    if not services.is_team_head_of(request.user, team.pk):
        raise DomainError(_("只有本班组班长或主管、经理可以编排排班。"), code="permission_denied")
    p = request.POST
    needs = {k: int(p.get(f"need_{k}") or 0) for k in ("hotline", "cashier", "emergency")}
    services.pattern_create(
        team=team,
        code=p.get("code", "")[:8],
        name=p.get("name", "")[:30],
        start=dtime.fromisoformat(p.get("start", "")),
        hours=int(p.get("hours") or 8),
        is_night=p.get("is_night") == "1",
        exemption_reason=p.get("exemption_reason", "")[:200],
        needs={k: v for k, v in needs.items() if v > 0},
    )
    messages.success(request, _("已添加班次。"))


@login_required
def roster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        roster = selectors.roster_get(request.user, pk)
    except DomainError as exc:
        refused_with_message(request, exc)
        return redirect("workforce:rosters")
    days, holidays, _standard = services.month_facts(roster.company, roster.month)
    cal_names = {}
    from kefu.sla.selectors import calendar_for_company

    cal = calendar_for_company(roster.company, years=[roster.month.year])
    for d in days:
        info = cal.day_info(d)
        cal_names[d] = info
    grid: dict[int, dict[date, Assignment]] = {}
    for a in roster.assignments.select_related("pattern"):
        grid.setdefault(a.user_id, {})[a.day] = a
    profiles = list(selectors.team_profiles(roster.team))
    rows = [(p, [grid.get(p.user_id, {}).get(d) for d in days]) for p in profiles]
    shortfalls, problems = services.roster_check(roster)
    return render(
        request,
        "workforce/roster.html",
        {
            "roster": roster,
            "days": [(d, cal_names[d], d in holidays) for d in days],
            "rows": rows,
            "shortfalls": shortfalls[:20],
            "shortfall_count": len(shortfalls),
            "problems": [(User.objects.get(pk=uid), p) for uid, p in list(problems.items())[:20]],
            "patterns": ShiftPattern.objects.filter(team=roster.team),
            "changes": roster.changes.select_related("by")[:50],
            "is_head": services.is_team_head_of(request.user, roster.team_id),
        },
    )


@_action("workforce:rosters")
def roster_publish(request: HttpRequest, pk: int) -> None:
    roster = selectors.roster_get(request.user, pk)
    services.roster_publish(roster=roster, by=request.user)
    messages.success(request, _("排班表已发布。"))


@_action("workforce:rosters")
def roster_edit(request: HttpRequest, pk: int) -> None:
    roster = selectors.roster_get(request.user, pk)
    user = User.objects.filter(company_id=roster.company_id, pk=int(request.POST.get("user", 0) or 0)).first()
    if user is None:
        raise DomainError(_("请选择员工。"), field="user")
    code = request.POST.get("pattern", "")
    pattern = ShiftPattern.objects.filter(team=roster.team, code=code).first() if code else None
    services.assignment_set(
        roster=roster,
        user=user,
        day=date.fromisoformat(request.POST.get("day", "")),
        pattern=pattern,
        by=request.user,
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, _("已调整。"))


@login_required
def requests_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    leave = selectors.leave_visible(user)
    swaps = selectors.swaps_visible(user)
    mine_leave = leave.filter(user=user)[:30]
    mine_swaps = [s for s in swaps.filter(requester=user)[:30]] + [
        s for s in swaps.filter(colleague=user)[:30]
    ]
    to_approve_leave = (
        leave.filter(status=RequestStatus.PENDING).exclude(user=user)[:50] if _is_head(user) else []
    )
    to_approve_swaps = swaps.filter(status=RequestStatus.PENDING)[:50] if _is_head(user) else []
    today = timezone.localdate()
    my_future = Assignment.objects.filter(user=user, published=True, day__gte=today).select_related(
        "pattern"
    )[:40]
    others = (
        Assignment.objects.filter(company=user.company, published=True, day__gte=today)
        .exclude(user=user)
        .select_related("pattern", "user")
        .order_by("day", "start_at")[:200]
    )
    return render(
        request,
        "workforce/requests.html",
        {
            "mine_leave": mine_leave,
            "mine_swaps": mine_swaps,
            "to_approve_leave": to_approve_leave,
            "to_approve_swaps": to_approve_swaps,
            "kinds": LeaveKind.choices,
            "my_future": my_future,
            "others": others,
            "open": OPEN_REQUEST,
        },
    )


@_action("workforce:requests")
def leave_new(request: HttpRequest) -> None:
    kind = request.POST.get("kind", "")
    if kind not in LeaveKind.values:
        raise DomainError(_("请选择假别。"), field="kind")
    services.leave_request(
        user=request.user,
        kind=kind,
        first_day=date.fromisoformat(request.POST.get("first_day", "")),
        last_day=date.fromisoformat(request.POST.get("last_day", "") or request.POST.get("first_day", "")),
        reason=request.POST.get("reason", ""),
        certificate=request.FILES.get("certificate"),
    )
    messages.success(request, _("请假申请已提交。"))


@_action("workforce:requests")
def leave_act(request: HttpRequest, pk: int, action: str) -> None:
    row = services.get_or_404(LeaveRequest, request.user, pk)
    if action == "certificate":
        services.leave_attach_certificate(
            leave=row, by=request.user, certificate=request.FILES["certificate"]
        )
    else:
        services.leave_decide(
            leave=row, by=request.user, approve=action == "approve", note=request.POST.get("note", "")
        )
    messages.success(request, _("已处理。"))


@_action("workforce:requests")
def swap_new(request: HttpRequest) -> None:
    give = services.get_or_404(Assignment, request.user, int(request.POST.get("give", 0) or 0))
    take = services.get_or_404(Assignment, request.user, int(request.POST.get("take", 0) or 0))
    services.swap_request(requester=request.user, give=give, take=take, reason=request.POST.get("reason", ""))
    messages.success(request, _("换班申请已发给同事。"))


@_action("workforce:requests")
def swap_act(request: HttpRequest, pk: int, action: str) -> None:
    row = services.get_or_404(SwapRequest, request.user, pk)
    if action in ("accept", "decline"):
        services.swap_answer(swap=row, by=request.user, accept=action == "accept")
    else:
        services.swap_decide(
            swap=row, by=request.user, approve=action == "approve", note=request.POST.get("note", "")
        )
    messages.success(request, _("已处理。"))


@login_required
def handovers(request: HttpRequest) -> HttpResponse:
    rows = selectors.handovers_visible(request.user)
    if not _is_head(request.user):
        from django.db.models import Q

        rows = rows.filter(Q(leaver=request.user) | Q(successor=request.user))
    colleagues = User.objects.filter(company=request.user.company, is_active=True).exclude(pk=request.user.pk)
    return render(
        request,
        "workforce/handovers.html",
        {"rows": rows[:50], "colleagues": colleagues.order_by("full_name")[:300]},
    )


@_action("workforce:handovers")
def handover_new(request: HttpRequest) -> None:
    successor = User.objects.filter(
        company=request.user.company, pk=int(request.POST.get("successor", 0) or 0)
    ).first()
    if successor is None:
        raise DomainError(_("请选择接班人。"), field="successor")
    p = request.POST
    services.handover_record(
        leaver=request.user,
        successor=successor,
        equipment_state=p.get("equipment_state", ""),
        difficult_cases=p.get("difficult_cases", ""),
        work_orders=p.get("work_orders", ""),
        staff_changes=p.get("staff_changes", ""),
    )
    messages.success(request, _("交接日志已填写，等待接班人确认。"))


@_action("workforce:handovers")
def handover_act(request: HttpRequest, pk: int, action: str) -> None:
    row = services.get_or_404(Handover, request.user, pk)
    if action == "confirm":
        services.handover_confirm(handover=row, by=request.user)
    else:
        services.handover_sign_off(handover=row, by=request.user)
    messages.success(request, _("已处理。"))


@login_required
def attendance(request: HttpRequest) -> HttpResponse:
    rows = selectors.violations_visible(request.user)
    if not _is_head(request.user):
        rows = rows.filter(user=request.user)
    punches = Punch.objects.filter(user=request.user)[:20]
    return render(
        request,
        "workforce/attendance.html",
        {"rows": rows[:100], "punches": punches, "kinds": Punch.Kind.choices},
    )


@_action("workforce:attendance")
def punch(request: HttpRequest) -> None:
    _row, violation = services.punch(
        user=request.user, kind=request.POST.get("kind", ""), source_ip=client_ip(request)
    )
    if violation:
        messages.warning(
            request,
            _("已打卡，记录违纪：%(k)s %(m)s 分钟（%(r)s）")
            % {"k": violation.get_kind_display(), "m": violation.minutes, "r": violation.rule},
        )
    else:
        messages.success(request, _("已打卡。"))


@login_required
def penalties(request: HttpRequest) -> HttpResponse:
    rows = selectors.penalties_visible(request.user)
    can = role_allows(request.user, Perm.PENALTY_APPROVE)
    if not can:
        rows = rows.filter(user=request.user)
    return render(request, "workforce/penalties.html", {"rows": rows[:100], "can_approve": can})


@_action("workforce:penalties")
def penalty_act(request: HttpRequest, pk: int, action: str) -> None:
    row = services.get_or_404(Penalty, request.user, pk)
    services.penalty_decide(penalty=row, by=request.user, approve=action == "approve")
    messages.success(request, _("已处理。"))
