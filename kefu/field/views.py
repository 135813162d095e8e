"""Web pages of the field: the dispatch board (调度台, refreshing itself every 5 s with htmx), the
exception list, a job's page, the technician's phone (PWA, offline queue in kefu/static… field/phone.js),
appointments, the duty schedule and the daily fee list. Views parse, call one service or selector,
render; refusals become messages in the user's language."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError
from kefu.field import selectors, services
from kefu.field.models import Appointment, Crew, DutyEntry, FieldJob
from kefu.field.rules import FLAG_LABELS, window_phrase
from kefu.field.states import Duty, JobState

SAFETY_SCRIPT = (
    "关闭表前阀",
    "开窗通风",
    "勿动电器开关、勿用明火、勿在室内打电话",
    "撤离到安全地带，在室外等候抢险人员",
)


def _int(value) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**31 else None


def _board_context(request: HttpRequest) -> dict:
    b = selectors.board(user=request.user)
    fs = services.settings_for(request.user.company_id)
    ranked = {}
    new_ids = [j["id"] for j in b.jobs if j["state"] == JobState.NEW][:5]  # the most urgent undispatched
    if new_ids:
        jobs = FieldJob.objects.filter(pk__in=new_ids).select_related("premise")
        for job in jobs:
            ranked[job.pk] = selectors.rank_for_job(
                job=job, now=b.now, crews=b.crews, speeds=fs.speeds_kmh, limit=3
            )
    # Per-row words and links made here once (not a blocktrans and a reverse per row in the
    # template: the board refreshes every 5 s with 100 rows and 200 crews).
    job_url = reverse("field:job", args=[0])[:-2]  # "/field/jobs/" + id + "/"
    late_words, left_words = _("超时 %(m)s 分钟"), _("%(m)s 分钟")
    for j in b.jobs:
        j["candidates"] = ranked.get(j["id"], [])
        j["url"] = f"{job_url}{j['id']}/"
        j["state_label"] = selectors.JOB_STATE_LABELS.get(j["state"], j["state"])
        m = j["minutes_left"]
        j["left"] = "—" if m is None else (late_words if m < 0 else left_words) % {"m": m}
    return {
        "b": b,
        "map_svg": selectors.map_svg_items(b.points),
        "tile_url": fs.tile_url,
        "crew_labels": selectors.CREW_STATE_LABELS,
        "state_labels": selectors.JOB_STATE_LABELS,
        "safety": SAFETY_SCRIPT,
    }


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """调度台 (P5, C8): open jobs by urgency and time left, crews by state, the map, the pages."""
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    return render(request, "field/board.html", _board_context(request))


@login_required
def board_partial(request: HttpRequest) -> HttpResponse:
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    return render(request, "field/_board.html", _board_context(request))


@login_required
@require_POST
def dispatch(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = services.job_dispatch(
            by=request.user, job_id=job_id, crew_id=_int(request.POST.get("crew_id")) or 0
        )
        messages.success(request, _("已派工 %(n)s → %(c)s") % {"n": job.number, "c": job.crew.name})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(request.POST.get("next") == "job" and f"/field/jobs/{job_id}/" or "field:board")


@login_required
@require_POST
def job_new(request: HttpRequest) -> HttpResponse:
    """A field job on a work order given by its number (GD…) or id; a care visit when ticked (C7)."""
    from kefu.tickets.models import Ticket

    ref = (request.POST.get("ticket", "") or "").strip()
    ticket = Ticket.objects.filter(company_id=request.user.company_id, number__iexact=ref).first()
    if ticket is None and _int(ref):
        ticket = Ticket.objects.filter(company_id=request.user.company_id, pk=_int(ref)).first()
    try:
        if ticket is None:
            raise DomainError(_("没有找到该工单，或您无权查看。"), field="ticket")
        job = services.job_create(
            by=request.user,
            ticket_id=ticket.pk,
            care_visit=request.POST.get("care_visit") == "1",
            fault=request.POST.get("fault", ""),
        )
        return redirect("field:job", job_id=job.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("field:board")


@login_required
@require_POST
def approve(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        services.job_approve(by=request.user, job_id=job_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("field:job", job_id=job_id)


@login_required
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    """A job's sheet: the visit, its events with evidence, parts and fees, candidates to dispatch."""
    job = selectors.job_get(user=request.user, job_id=job_id)
    unmasked = request.GET.get("unmasked") == "1"
    try:
        contact = selectors.job_contact(user=request.user, job=job, unmasked=unmasked)
    except DomainError as exc:
        messages.error(request, exc.message)
        contact = selectors.job_contact(user=request.user, job=job, unmasked=False)
    can_dispatch = role_allows(request.user, Perm.FIELD_DISPATCH)
    return render(
        request,
        "field/job.html",
        {
            "job": job,
            "contact": contact,
            "events": job.events.select_related("actor"),
            "lines": job.lines.select_related("item"),
            "serials": job.serial_changes.all(),
            "flag_labels": FLAG_LABELS,
            "can_dispatch": can_dispatch,
            "candidates": selectors.rank_for_job(job=job, now=timezone.now()) if can_dispatch else [],
            "may_unmask": selectors.job_is_open_for(request.user, job)
            or role_allows(request.user, Perm.CUSTOMER_VIEW_UNMASKED),
            "safety": SAFETY_SCRIPT if job.is_emergency else (),
            "navigation": selectors.navigation_url(job),
        },
    )


@login_required
@require_POST
def job_manual_arrival(request: HttpRequest, job_id: int) -> HttpResponse:
    """The dispatcher enters an arrival by hand, with a reason (always an exception)."""
    try:
        services.job_event_record(
            by=request.user,
            job_id=job_id,
            data=services.EventInput(
                kind="arrived",
                client_id=f"web-{request.user.pk}-{job_id}-{timezone.now().timestamp():.0f}",
                source="dispatcher",
                reason=request.POST.get("reason", ""),
            ),
        )
        messages.success(request, _("已代录到达，待主管审核。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("field:job", job_id=job_id)


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    """The dispatcher calls a visit off before anyone arrived, with a reason (C8–C12: see
    kefu.field.clocks.onsite_clocks_settle for what it means for the on-site clock)."""
    try:
        services.job_cancel(by=request.user, job_id=job_id, reason=request.POST.get("reason", ""))
        messages.success(request, _("已取消上门。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("field:job", job_id=job_id)


@login_required
def exceptions(request: HttpRequest) -> HttpResponse:
    """Arrivals that lack evidence, for a supervisor to accept or reject with a reason (C8)."""
    assert_perm(request.user, Perm.FIELD_REVIEW)
    if request.method == "POST":
        try:
            services.arrival_review(
                by=request.user,
                event_id=_int(request.POST.get("event_id")) or 0,
                accept=request.POST.get("decision") == "accept",
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, _("已审核。"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("field:exceptions")
    rows = list(selectors.exceptions_pending(user=request.user)[:500])
    return render(request, "field/exceptions.html", {"rows": rows, "flag_labels": FLAG_LABELS})


# ---- the technician's phone --------------------------------------------------------------------
@login_required
def phone(request: HttpRequest) -> HttpResponse:
    """The technician's day (PWA): jobs in order with the deadline counting down, one-tap actions
    that queue offline (kefu/field/static/field/phone.js)."""
    assert_perm(request.user, Perm.FIELD_WORK)
    jobs = selectors.technician_day(user=request.user)
    return render(
        request,
        "field/phone.html",
        {"jobs": jobs, "state_labels": selectors.JOB_STATE_LABELS, "safety": SAFETY_SCRIPT},
    )


def manifest(request: HttpRequest) -> HttpResponse:
    import json

    body = {
        "name": "kefu 外勤",
        "short_name": "外勤",
        "start_url": "/field/phone/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f4e79",
        "icons": [],
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")


def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker at /field/sw.js (its scope is /field/): keeps the phone page and its
    scripts for offline use; API calls are never cached (the queue in phone.js handles them)."""
    files = [static("field/phone.js"), static("kefu/kefu.css"), "/field/phone/"]
    import json

    body = (
        f"const FILES = {json.dumps(files)};\n"
        "self.addEventListener('install', e =>\n"
        "  e.waitUntil(caches.open('kefu-field-v1').then(c => c.addAll(FILES))));\n"
        "self.addEventListener('fetch', e => {\n"
        "  const u = new URL(e.request.url);\n"
        "  if (e.request.method !== 'GET' || u.pathname.startsWith('/api/')) return;\n"
        "  e.respondWith(fetch(e.request).then(r => { const copy = r.clone();"
        " caches.open('kefu-field-v1').then(c => c.put(e.request, copy)); return r; })"
        ".catch(() => caches.match(e.request)));\n"
        "});\n"
    )
    response = HttpResponse(body, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/field/"
    return response


# ---- appointments, duty, fees ------------------------------------------------------------------
@login_required
def appointments(request: HttpRequest) -> HttpResponse:
    """Slots per team and day with places left, booking by work-order id, and the changes that
    must be told to the customer in advance (P10, C9–C12)."""
    assert_perm(request.user, Perm.APPOINTMENT_BOOK)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "book":
                services.appointment_book(
                    by=request.user,
                    ticket_id=_int(request.POST.get("ticket_id")) or 0,
                    slot_id=_int(request.POST.get("slot_id")) or 0,
                )
            elif action == "slot":
                day = parse_date(request.POST.get("day", "") or "")
                start, end = request.POST.get("start", ""), request.POST.get("end", "")
                if day is None:
                    raise DomainError(_("请填写日期。"), field="day")
                try:
                    s = datetime.combine(day, datetime.strptime(start, "%H:%M").time())
                    e = datetime.combine(day, datetime.strptime(end, "%H:%M").time())
                except ValueError:
                    raise DomainError(_("时间格式应为 HH:MM。"), field="start") from None
                services.slot_create(
                    by=request.user,
                    team_id=_int(request.POST.get("team_id")) or 0,
                    starts_at=timezone.make_aware(s),
                    ends_at=timezone.make_aware(e),
                    capacity=_int(request.POST.get("capacity")) or 0,
                )
            elif action in ("late", "cancelled"):
                services.appointment_change(
                    by=request.user,
                    appointment_id=_int(request.POST.get("appointment_id")) or 0,
                    state=action,
                    reason=request.POST.get("reason", ""),
                )
            elif action == "told":
                services.appointment_customer_told(
                    by=request.user, appointment_id=_int(request.POST.get("appointment_id")) or 0
                )
            elif action in ("installable", "not_installable"):
                services.appointment_installable(
                    by=request.user,
                    appointment_id=_int(request.POST.get("appointment_id")) or 0,
                    installable=action == "installable",
                    reason=request.POST.get("reason", ""),
                )
            else:
                raise DomainError(_("请求数据有误，请刷新后重试。"))
            messages.success(request, _("已保存。"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("field:appointments")
    now = timezone.now()
    today = timezone.localdate()
    appts = list(
        Appointment.objects.filter(
            company_id=request.user.company_id, window_end__gte=now - timedelta(days=1)
        )
        .select_related("ticket", "ticket__kind")
        .order_by("window_start")[:200]
    )
    for a in appts:
        a.phrase = window_phrase(
            timezone.localtime(a.window_start), timezone.localtime(a.window_end), today=today
        )
    from kefu.accounts.models import Team

    return render(
        request,
        "field/appointments.html",
        {
            "slots": selectors.slots_open(
                company_id=request.user.company_id, team_id=None, since=now, days=14
            ),
            "appointments": appts,
            "teams": Team.objects.filter(company_id=request.user.company_id, is_active=True),
            "can_slot": role_allows(request.user, Perm.FIELD_DISPATCH),
        },
    )


@login_required
def duty(request: HttpRequest) -> HttpResponse:
    """The duty schedule: crews × the next 7 days, with the published roster's shifts of the crews'
    members (kefu.workforce): where the roster has shifts it decides the duty, the schedule is the
    fallback (and the "on call" marks) — kefu.field.selectors.crews_duty."""
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    if request.method == "POST":
        try:
            day = parse_date(request.POST.get("day", "") or "")
            if day is None:
                raise DomainError(_("请填写日期。"), field="day")
            services.duty_set(
                by=request.user,
                crew_id=_int(request.POST.get("crew_id")) or 0,
                day=day,
                status=request.POST.get("status", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("field:duty")
    today = timezone.localdate()
    days = [today + timedelta(days=i) for i in range(7)]
    crews = list(Crew.objects.filter(company_id=request.user.company_id, is_active=True).order_by("name"))
    entries = {
        (e.crew_id, e.day): e.status
        for e in DutyEntry.objects.filter(company_id=request.user.company_id, day__in=days)
    }
    shifts = selectors.roster_shifts(request.user.company_id, crews, days)
    grid = [
        (c, [(d, entries.get((c.pk, d), Duty.OFF), shifts.get((c.pk, d), [])) for d in days]) for c in crews
    ]
    return render(request, "field/duty.html", {"days": days, "grid": grid, "duty_choices": Duty.choices})


@login_required
def fees(request: HttpRequest) -> HttpResponse:
    """The daily list of fees per technician, handed to finance."""
    assert_perm(request.user, Perm.FIELD_DISPATCH)
    day = parse_date(request.GET.get("day", "") or "") or timezone.localdate()
    rows = selectors.fees_by_technician(company_id=request.user.company_id, day=day)
    return render(request, "field/fees.html", {"day": day, "rows": rows})


def _today() -> date:
    return timezone.localdate()
