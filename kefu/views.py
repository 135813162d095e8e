"""Project-level pages: the home page per role and the health check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from kefu.accounts.roles import Perm, Role, role_allows
from kefu.core.health import health_report


@dataclass(frozen=True)
class Tile:
    url: str
    title: str
    text: str


# (url name, permission or None for everyone, title, text). A tile whose page is not installed
# (its URL does not resolve) is left out, so apps can land one by one.
TILES = (
    ("customers:search", Perm.CUSTOMER_VIEW, _("来电查询 / 客户查询"), _("按电话、户号、地址或姓名查找客户")),
    ("tickets:desk", Perm.TICKET_CREATE, _("受理工单"), _("来电登记、派单、跟踪处理进度")),
    ("tickets:list", Perm.TICKET_VIEW_ALL, _("工单列表"), _("本公司全部工单，按状态和时限查看")),
    ("tickets:mine", Perm.TICKET_VIEW_ASSIGNED, _("我的工单"), _("派给我的维修、安检任务")),
    ("customers:create", Perm.CUSTOMER_EDIT, _("新建客户"), _("登记新开户客户、电话和用气地址")),
    (
        "customers:import",
        Perm.CUSTOMER_IMPORT,
        _("客户导入"),
        _("从营业收费系统导入客户、地址、电话和燃气表"),
    ),
    ("sla:sets", Perm.MASTER_DATA, _("服务承诺与日历"), _("承诺时限、工作日历、节假日调整")),
    ("accounts:audit", Perm.AUDIT_VIEW, _("审计日志"), _("登录、权限变更、个人信息查看和导出记录")),
    (
        "exports:approvals",
        Perm.EXPORT_APPROVE,
        _("导出审批"),
        _("审批导出绝密数据的申请（客户资料、跟踪记录）"),
    ),
    ("admin:index", Perm.ACCOUNT_MANAGE, _("系统管理"), _("用户、部门、班组、客户类别等基础数据")),
    ("notify:centre", None, _("通知"), _("派给我的任务、到期提醒")),
    ("accounts:tokens", None, _("API 令牌"), _("为集成系统或脚本创建、吊销令牌")),
)

ROLE_INTRO = {
    Role.AGENT: _("电话响起时，在下面输入来电号码或客户报的地址，先确认客户身份。"),
    Role.CLERK: _("营业厅业务：查询客户、开户、修改资料、关爱登记。"),
    Role.DISPATCHER: _("查询客户，派单并跟踪处理进度。"),
    Role.TECHNICIAN: _("查看派给您的任务和客户地址。"),
    Role.QUALITY: _("抽查工单与服务用语。"),
    Role.TEAM_LEAD: _("班组工单、时限和服务质量。"),
    Role.SUPERVISOR: _("客户服务中心的工单、时限、客户资料和指标。"),
    Role.MANAGER: _("服务指标、基础数据和客户资料。"),
    Role.AUDITOR: _("审计日志的查询与导出（导出也会被记录）。"),
    Role.ADMIN: _("账号、部门、班组和基础数据的管理。管理员不能查看审计日志（三权分立）。"),
}

# Roles whose first action of the day is finding a caller: the lookup box sits on their home page.
LOOKUP_FIRST = {Role.AGENT, Role.CLERK, Role.DISPATCHER, Role.TEAM_LEAD, Role.SUPERVISOR}


def tiles_for(user) -> list[Tile]:
    """The pages this user's role may open, in the order of the day's work."""
    out = []
    for name, perm, title, text in TILES:
        if perm is not None and not role_allows(user, perm):
            continue
        try:
            out.append(Tile(reverse(name), str(title), str(text)))
        except NoReverseMatch:
            continue
    return out


# Roles that run a shift: their home page is the cockpit (today's counts and on-time rates).
COCKPIT_ROLES = {Role.TEAM_LEAD, Role.SUPERVISOR, Role.MANAGER}
RATE_DAYS = 30


def spec_sort_key(spec_id: str) -> tuple:
    """SPEC ids in numeric order: C2 before C10; ids without a number last."""
    m = re.fullmatch(r"([A-Za-z]*)(\d+)", spec_id or "")
    return (0, m.group(1), int(m.group(2))) if m else (1, spec_id or "", 0)


def on_time_rate(met: int, late: int) -> float | None:
    """按时率: clocks met in time over all clocks that ended or are already late (None when none)."""
    total = met + late
    return None if total == 0 else met / total


def cockpit(user, now) -> dict:
    """Today's counts and the on-time rate per commitment for the supervisor's home page (P9):
    work orders through the tickets selectors, clocks through the sla selectors."""
    from kefu.accounts.scoping import readable_company_ids
    from kefu.sla.selectors import board_counts
    from kefu.tickets.selectors import cockpit_ticket_counts

    local = timezone.localtime(now)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    companies = readable_company_ids(user)
    today = {(r["spec_id"], r["code"]): r for r in board_counts(companies, now=now, since=day_start)}
    window = {
        (r["spec_id"], r["code"]): r
        for r in board_counts(companies, now=now, since=now - timedelta(days=RATE_DAYS))
    }
    rows = []
    for key in sorted(set(today) | set(window), key=lambda k: (spec_sort_key(k[0]), k[1])):
        t = today.get(key) or {}
        w = window.get(key) or {}
        late = w.get("met_after_breach", 0) + w.get("breached", 0)
        rate = on_time_rate(w.get("met", 0), late)
        rows.append(
            {
                "spec_id": key[0],
                "name": (t or w).get("name", ""),
                "due_soon": t.get("due_soon", 0),
                "breached": t.get("breached", 0),
                "met_today": t.get("met", 0),
                "met": w.get("met", 0),
                "ended": w.get("met", 0) + late,
                "rate": None if rate is None else round(rate * 100, 1),
            }
        )
    tickets = cockpit_ticket_counts(user=user, day_start=day_start)
    return {
        "tickets": tickets,
        "rows": rows,
        "due_soon": sum(r["due_soon"] for r in rows),
        "breached": sum(r["breached"] for r in rows),
        "rate_days": RATE_DAYS,
        "as_of": local,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on what it works with: agents on the caller lookup, auditors on the audit log,
    administrators on account management."""
    user = request.user
    role = Role(user.role) if user.role in Role.values else None
    return render(
        request,
        "home.html",
        {
            "tiles": tiles_for(user),
            "role_label": role.label if role else user.role,
            "role_intro": ROLE_INTRO.get(role, ""),
            "lookup_first": role in LOOKUP_FIRST and role_allows(user, Perm.CUSTOMER_VIEW),
            "cockpit": cockpit(user, timezone.now())
            if role in COCKPIT_ROLES
            and role_allows(user, Perm.REPORT_VIEW)
            and role_allows(user, Perm.TICKET_VIEW_ALL)
            else None,
        },
    )


def healthz(request: HttpRequest) -> JsonResponse:
    """Health without login and without personal data (kefu.core.health): the database, the time of
    the last completed clock sweep, the import heartbeat. HTTP 503 when a check fails;
    `?scope=web` checks only the database (for a load balancer in front of the web processes)."""
    report = health_report(database_only=request.GET.get("scope") == "web")
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


# ------------------------------------------------------------------- Erlang C staffing (W1, C13)
# workforce and telephony sit in the same layer and may not import each other: this interface-level
# view reads the call forecast through telephony's selector, sizes it with workforce's pure Erlang C
# and sets it next to the roster's agents.


@login_required
def roster_staffing(request: HttpRequest, roster_id: int) -> HttpResponse:
    """The roster page's staffing panel (htmx): for one day of the roster's month, per half-hour the
    calls forecast from the telephony records, the mean handle time, the agents Erlang C requires for
    the service-level target within the hotlines' answer target (C13: 3 rings = 15 s), and the hotline
    agents rostered."""
    from datetime import date as date_type

    from django.utils.translation import gettext as _t

    from kefu.core.errors import DomainError
    from kefu.telephony.selectors import call_forecast
    from kefu.workforce.erlang import agents_required
    from kefu.workforce.selectors import roster_get, rostered_per_interval

    if not (role_allows(request.user, Perm.ROSTER_MANAGE) or role_allows(request.user, Perm.REPORT_VIEW)):
        return HttpResponse(_t("您的角色无权查看排班。"), status=403)
    try:
        roster = roster_get(request.user, roster_id)
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status)
    try:
        day = date_type.fromisoformat(request.GET.get("day", ""))
        if day.replace(day=1) != roster.month:
            raise ValueError
    except ValueError:
        today = timezone.localdate()
        day = today if today.replace(day=1) == roster.month else roster.month
    try:
        target_sl = min(0.99, max(0.5, int(request.GET.get("sl", "80")) / 100))
    except ValueError:
        target_sl = 0.8
    forecast = call_forecast(company=roster.company, day=day)
    have = rostered_per_interval(roster, [i.start for i in forecast.intervals])
    rows, short = [], 0
    for interval, n in zip(forecast.intervals, have, strict=True):
        aht = interval.aht_s or forecast.aht_s
        need = (
            agents_required(calls=interval.calls, aht_s=aht, target_sl=target_sl, target_s=forecast.target_s)
            if aht and interval.calls > 0
            else None
        )
        gap = need is not None and n < need.agents
        short += gap
        rows.append({"interval": interval, "aht": aht, "need": need, "have": n, "short": gap})
    days = [roster.month + timedelta(days=k) for k in range(31)]
    return render(
        request,
        "workforce/_staffing.html",
        {
            "roster": roster,
            "day": day,
            "days": [d for d in days if d.month == roster.month.month],
            "forecast": forecast,
            "rows": rows,
            "short": short,
            "target_pct": round(target_sl * 100),
            "has_data": any(i.calls for i in forecast.intervals),
        },
    )


def hotline_demand(company, month, *, target_sl: float = 0.8) -> dict:
    """W1: the hotline agents Erlang C requires per half-hour of every day of `month` (the first of
    the month), from the call forecast of the telephony records — the roster solver's demand."""
    from kefu.telephony.selectors import call_forecast
    from kefu.workforce.erlang import demand_from
    from kefu.workforce.services import month_facts

    days, _holidays, _standard = month_facts(company, month)
    return demand_from((call_forecast(company=company, day=d) for d in days), target_sl=target_sl)


@login_required
@require_POST
def roster_propose_from_forecast(request: HttpRequest) -> HttpResponse:
    """POST: a roster proposal whose hotline staffing follows the call forecast (Erlang C for the
    service level asked, e.g. 80 % answered within the hotlines' 3 rings), the hard rules first."""
    from datetime import date as date_type

    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _t

    from kefu.accounts.models import Team
    from kefu.accounts.refusals import refused_with_message
    from kefu.core.errors import DomainError
    from kefu.workforce import services

    try:
        team = Team.objects.filter(
            company=request.user.company, pk=int(request.POST.get("team") or 0)
        ).first()
        if team is None:
            raise DomainError(_t("请选择班组。"), field="team")
        month = date_type.fromisoformat((request.POST.get("month", "") + "-01")[:10])
        target_sl = min(0.99, max(0.5, int(request.POST.get("sl") or 80) / 100))
        demand = hotline_demand(team.company, month, target_sl=target_sl)
        if not demand:
            raise DomainError(_t("近四周没有话务记录，无法按话务预测排班。"), code="no_forecast")
        roster = services.roster_propose(team=team, month=month, by=request.user, demand=demand)
        messages.success(request, _t("已按话务预测生成排班建议：%(n)s") % {"n": roster.solver_note})
    except DomainError as exc:
        refused_with_message(request, exc)
    except ValueError:
        messages.error(request, _t("提交的数据有误。"))
    return redirect("workforce:rosters")
