"""Outage pages: the list, the wizard on one page (plan → area or valves → review affected →
approve → notify → start → restore → close), the network (import, valve-closure analysis, map),
indicator inputs, settings, and the public page without login (an operator switch turns it on)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.refusals import refused_with_message
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.outages import network, network_import, rules, selectors, services
from kefu.outages.models import FaultReport, Notice, OutageCall, OutageEvent, RestorationStep
from kefu.outages.states import OutageKind, OutageState

WIZARD = (
    ("plan", "计划"),
    ("area", "范围"),
    ("review", "核对受影响用户"),
    ("approve", "批准"),
    ("notify", "通知"),
    ("start", "开始停气"),
    ("restore", "恢复供气"),
    ("close", "关闭"),
)


def _tz(request) -> ZoneInfo:
    return ZoneInfo(getattr(request.user.company, "timezone", "") or "Asia/Shanghai")


def _when(request, value: str, field: str, *, required: bool = True) -> datetime | None:
    """A `datetime-local` field read in the company's zone."""
    value = (value or "").strip()
    if not value:
        if required:
            raise DomainError(_("请填写时间。"), field=field)
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise DomainError(_("时间格式有误。"), field=field) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=_tz(request))


def _lines(value: str) -> list[str]:
    return [x.strip() for x in (value or "").replace("，", ",").replace("\n", ",").split(",") if x.strip()]


@login_required
def outage_list(request: HttpRequest) -> HttpResponse:
    if not selectors.may_view(request.user):
        raise Http404
    state = request.GET.get("state", "")[:12]
    return render(
        request,
        "outages/list.html",
        {
            "rows": selectors.outage_list(user=request.user, state=state),
            "state": state,
            "states": OutageState.choices,
            "may_plan": role_allows(request.user, Perm.OUTAGE_PLAN),
        },
    )


@login_required
def outage_new(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, Perm.OUTAGE_PLAN):
        raise Http404
    if request.method == "POST":
        try:
            o = services.outage_create(
                by=request.user,
                kind=request.POST.get("kind", "planned"),
                reason=request.POST.get("reason", ""),
                area=request.POST.get("area", ""),
                planned_start=_when(request, request.POST.get("planned_start"), "planned_start"),
                planned_end=_when(request, request.POST.get("planned_end"), "planned_end"),
                major=request.POST.get("major") == "on",
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已建立停气单 %(n)s，请选择停气范围。") % {"n": o.number})
            return redirect("outages:detail", o.pk)
    return render(request, "outages/new.html", {"kinds": OutageKind.choices, "post": request.POST})


def _step_of(o) -> str:
    if o.state == OutageState.DRAFT:
        return "area" if not o.method else ("approve" if o.is_planned else "start")
    return {
        OutageState.APPROVED: "notify",
        OutageState.NOTIFIED: "start",
        OutageState.STARTED: "restore",
        OutageState.RESTORED: "close",
    }.get(o.state, "close")


@login_required
def outage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        o = selectors.outage_get(user=request.user, outage_id=pk)
    except DomainError:
        raise Http404 from None
    current = _step_of(o)
    keys = [k for k, _l in WIZARD]
    posted = list(
        Notice.objects.filter(outage=o, round=o.notice_round, channel=Notice.Channel.POSTED).order_by(
            "building_key"
        )
    )
    covered, total, _last = services.notice_coverage(o.pk, o.notice_round) if o.notice_round else (0, 0, None)
    net = None
    map_svg = None
    if o.method == "network":
        net = selectors.company_network(o.company_id)
        map_svg = _map(net, set(o.selection.get("closed", [])))
    ctx = {
        "o": o,
        "wizard": [(k, _(label), keys.index(k) < keys.index(current), k == current) for k, label in WIZARD],
        "summary": selectors.affected_summary(o),
        "affected": selectors.affected_list(o, limit=100),
        "posted": posted,
        "coverage": (covered, total),
        "sms": Notice.objects.filter(outage=o, round=o.notice_round, channel="sms", purpose="advance"),
        "voice": Notice.objects.filter(outage=o, round=o.notice_round, channel="voice").select_related(
            "affected__premise"
        )[:200],
        "steps": RestorationStep.objects.filter(outage=o),
        "calls": OutageCall.objects.filter(outage=o).select_related("ticket"),
        "events": OutageEvent.objects.filter(outage=o).select_related("by"),
        "report": FaultReport.objects.filter(outage=o).first(),
        "notice_due": rules.notice_due(o.planned_start) if o.is_planned else None,
        "may_plan": role_allows(request.user, Perm.OUTAGE_PLAN),
        "may_approve": role_allows(request.user, Perm.OUTAGE_APPROVE),
        "may_post": role_allows(request.user, Perm.OUTAGE_NOTICE),
        "zones": sorted(
            z for z in request.user.company.premises.values_list("supply_zone", flat=True).distinct() if z
        )[:200],
        "valves": sorted(v for v, k in (net.kinds.items() if net else []) if k == "valve")[:500],
        "map_svg": map_svg,
        "now": timezone.now(),
    }
    return render(request, "outages/detail.html", ctx)


def _map(net, closed: set[str]) -> str | None:
    """An SVG sketch of the network when it has coordinates (no map tiles: intranets): pipes grey,
    closed valves red, the isolated part orange."""
    if not net or len(net.coords) < 2 or len(net.coords) > 20000:
        return None
    iso = network.isolate(net, closed) if closed else None
    cut = iso.isolated_nodes if iso else set()
    xs = [c[0] for c in net.coords.values()]
    ys = [c[1] for c in net.coords.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = 580 / ((x1 - x0) or 1)
    sy = 380 / ((y1 - y0) or 1)

    def p(n):
        x, y = net.coords[n]
        return 10 + (x - x0) * sx, 390 - (y - y0) * sy

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 400" class="outage-map" role="img">']
    for a, b in net.graph.edges():
        if a in net.coords and b in net.coords:
            (ax, ay), (bx, by) = p(a), p(b)
            colour = "#e67e22" if a in cut and b in cut else "#999"
            parts.append(
                f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
    for n, kind in net.kinds.items():
        if n not in net.coords:
            continue
        x, y = p(n)
        title = f"<title>{escape(n)}</title>"  # ids come from an imported file: escaped
        if kind == "valve":
            fill = "#c0392b" if n in closed else "#2c3e50"
            parts.append(
                f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{fill}">{title}</rect>'
            )
        elif kind in ("source", "regulator"):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#27ae60">{title}</circle>')
        elif kind == "service":
            fill = "#e67e22" if n in cut else "#3498db"
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{fill}">{title}</circle>')
    parts.append("</svg>")
    return "".join(parts)


def _do(request, o_pk: int, action: str) -> str:
    """Run one wizard action; returns the success message."""
    P = request.POST
    by = request.user
    if action == "affected":
        method = P.get("method", "")
        sel = {
            "zones": P.getlist("zones"),
            "communities": _lines(P.get("communities", "")),
            "buildings": _lines(P.get("buildings", "")),
            "valves": P.getlist("valves") or _lines(P.get("valves_text", "")),
            "pipe": P.get("pipe", "").strip()[:40],
            "stuck": _lines(P.get("stuck", "")),
        }
        n = services.outage_set_affected(by=by, outage_id=o_pk, method=method, selection=sel)
        return _("已选定受影响用户 %(n)s 户。") % {"n": n}
    if action == "reschedule":
        services.outage_reschedule(
            by=by,
            outage_id=o_pk,
            planned_start=_when(request, P.get("planned_start"), "planned_start"),
            planned_end=_when(request, P.get("planned_end"), "planned_end"),
            reason=P.get("reason", ""),
        )
        return _("已修改计划时间。")
    if action == "approve":
        services.outage_approve(by=by, outage_id=o_pk)
        return _("已批准。")
    if action == "notify":
        c = services.outage_notify(by=by, outage_id=o_pk)
        return _("已冻结名单并发出通知：短信 %(s)s 条，张贴 %(p)s 栋，外呼 %(v)s 户。") % {
            "s": c["sms"],
            "p": c["posted"],
            "v": c["voice"],
        }
    if action == "posted":
        services.notice_mark_posted(
            by=by,
            notice_id=int(P.get("notice_id") or 0),
            at=_when(request, P.get("at"), "at", required=False),
            photo=request.FILES.get("photo"),
        )
        return _("已登记张贴。")
    if action == "called":
        services.notice_mark_called(
            by=by, notice_id=int(P.get("notice_id") or 0), reached=P.get("reached") != "no"
        )
        return _("已登记外呼结果。")
    if action == "start":
        services.outage_start(by=by, outage_id=o_pk, at=_when(request, P.get("at"), "at", required=False))
        return _("已开始停气。")
    if action == "restore-notice":
        services.outage_restore_notice(by=by, outage_id=o_pk)
        return _("已发出恢复供气预告。")
    if action == "step":
        s = services.outage_restore_step(
            by=by,
            outage_id=o_pk,
            at=_when(request, P.get("at"), "at", required=False),
            buildings=P.getlist("buildings"),
            note=P.get("note", ""),
            override_reason=P.get("override_reason", ""),
            needs_ignition=int(P.get("needs_ignition") or 0),
        )
        return _("已恢复 %(n)s 户。") % {"n": s.households}
    if action == "answer-calls":
        n = services.outage_answer_calls(by=by, outage_id=o_pk, text=P.get("text", ""))
        return _("已答复并关闭 %(n)s 张来电工单。") % {"n": n}
    if action == "close":
        services.outage_close(by=by, outage_id=o_pk)
        return _("已关闭。")
    if action == "cancel":
        services.outage_cancel(by=by, outage_id=o_pk, reason=P.get("reason", ""))
        return _("已取消。")
    if action == "report":
        services.fault_report_write(
            by=by, outage_id=o_pk, **{f: P.get(f, "") for f in services.REPORT_FIELDS}
        )
        return _("已保存故障分析报告。")
    if action == "report-approve":
        services.fault_report_approve(by=by, outage_id=o_pk)
        return _("已批准故障分析报告。")
    if action == "report-publish":
        services.fault_report_publish(by=by, outage_id=o_pk)
        return _("已向受影响用户发布故障分析报告。")
    raise DomainError(_("未知的操作。"))


@login_required
@require_POST
def outage_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    try:
        selectors.outage_get(user=request.user, outage_id=pk)
        msg = _do(request, pk, action)
    except DomainError as exc:
        refused_with_message(request, exc)
    except ValueError:
        messages.error(request, _("输入有误。"))
    else:
        messages.success(request, msg)
    return redirect("outages:detail", pk)


@login_required
@require_POST
def link_call(request: HttpRequest, pk: int) -> HttpResponse:
    def _int(name):
        v = request.POST.get(name, "")
        return int(v) if v.isdigit() else None

    try:
        call = services.outage_link_call(
            by=request.user,
            outage_id=pk,
            customer_id=_int("customer_id"),
            premise_id=_int("premise_id"),
            caller_phone=request.POST.get("caller_phone", "")[:30],
        )
    except DomainError as exc:
        refused_with_message(request, exc)
        return redirect("outages:list")
    messages.success(request, _("已关联停气，工单 %(n)s。") % {"n": call.ticket.number})
    return redirect("tickets:detail", call.ticket_id)


@login_required
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from kefu.outages.api import notice_pdf as api_pdf

    try:
        return api_pdf(request, pk, building=request.GET.get("building", ""))
    except DomainError:
        raise Http404 from None


@login_required
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from kefu.outages.api import report_pdf as api_pdf

    try:
        return api_pdf(request, pk)
    except DomainError:
        raise Http404 from None


@login_required
def network_page(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, Perm.OUTAGE_PLAN):
        raise Http404
    run = None
    analysis = None
    if request.method == "POST" and request.POST.get("do") == "import":
        fmt = request.POST.get("fmt", "csv")
        f = request.FILES
        try:
            run = network_import.network_import(
                by=request.user,
                fmt=fmt,
                nodes=f["nodes"].read() if "nodes" in f else None,
                edges=f["edges"].read() if "edges" in f else None,
                geojson=f["geojson"].read() if "geojson" in f else None,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if run.ok:
                messages.success(
                    request, _("管网已导入：节点 %(n)s，管段 %(e)s。") % {"n": run.nodes, "e": run.edges}
                )
            else:
                messages.error(request, _("文件有 %(n)s 处错误，未导入任何数据。") % {"n": len(run.errors)})
    net = selectors.company_network(request.user.company_id)
    if request.method == "POST" and request.POST.get("do") == "analyse":
        valves = _lines(request.POST.get("valves", ""))
        pipe = request.POST.get("pipe", "").strip()
        stuck_v = request.POST.get("stuck", "").strip()
        try:
            iso = network.valves_for_pipe(net, pipe) if pipe else network.isolate(net, valves)
            analysis = {"closed": iso.closed, "households": len(iso.premise_ids)}
            if stuck_v:
                res = network.stuck(net, iso.closed, stuck_v)
                analysis.update(
                    ring=res.ring, extra=len(res.extra_premise_ids), after=len(res.after.premise_ids)
                )
        except KeyError as exc:
            messages.error(
                request, _("管网中没有 %(x)s（或它不在关闭的阀门中）。") % {"x": str(exc).strip("'")}
            )
    return render(
        request,
        "outages/network.html",
        {
            "summary": selectors.network_summary(request.user.company_id),
            "run": run,
            "analysis": analysis,
            "map_svg": _map(net, set(analysis["closed"]) if analysis else set()),
            "post": request.POST,
        },
    )


@login_required
def indicators(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, Perm.REPORT_VIEW):
        raise Http404
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
        month = int(request.GET.get("month") or today.month)
        date(year, month, 1)
    except ValueError:
        year, month = today.year, today.month
    m = selectors.k_inputs(company=request.user.company, year=year, month=month)
    return render(request, "outages/indicators.html", {"m": m, "year": year, "month": month})


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, Perm.OUTAGE_APPROVE):
        raise Http404
    if request.method == "POST":
        try:
            services.settings_update(
                by=request.user,
                public_page=request.POST.get("public_page") == "on",
                quiet_from=time.fromisoformat(request.POST.get("quiet_from") or "22:00"),
                quiet_until=time.fromisoformat(request.POST.get("quiet_until") or "06:00"),
                hotline=request.POST.get("hotline", ""),
            )
        except (DomainError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", _("输入有误。")))
        else:
            messages.success(request, _("已保存。"))
            return redirect("outages:settings")
    return render(request, "outages/settings.html", {"s": services.outage_settings(request.user.company_id)})


def public_page(request: HttpRequest, code: str) -> HttpResponse:
    """Without login: current and planned interruptions by community (no personal data)."""
    from kefu.accounts.models import Company

    company = Company.objects.filter(code=code).first()
    if company is None or not services.outage_settings(company.pk).public_page:
        raise Http404
    return render(
        request, "outages/public.html", {"company": company, "rows": selectors.public_outages(company)}
    )
