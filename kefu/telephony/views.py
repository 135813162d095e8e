"""Telephony pages: the agent's console (states, pop), the wallboard (大屏), calls and their
recordings, the indicator inputs of a month (K5, K14, C13, C15, C18), the agents' chat console and
the customers' chat page (no login, rate-limited)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.context import client_ip
from kefu.accounts.models import Company
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.customers.masking import mask_phone
from kefu.telephony import selectors, services
from kefu.telephony.models import AgentProfile, Call, ChatSession, Hotline
from kefu.telephony.states import AgentState, ChatSender, ChatStatus, NotReadyReason

#: Customer chat: new chats per address per 10 minutes, messages per chat per minute.
CHAT_STARTS_PER_10_MIN = 10
CHAT_MESSAGES_PER_MIN = 20


def _refused(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    return render(request, "telephony/refused.html", {"message": message}, status=status)


def _mask(user, number: str) -> str:
    return number if role_allows(user, Perm.CUSTOMER_VIEW_UNMASKED) else mask_phone(number)


# ------------------------------------------------------------------------------ agent console


@login_required
def console(request: HttpRequest) -> HttpResponse:
    """The agent's seat: state toggle (item 4) and today's own calls; the pop script runs here as on
    every page of an agent (base.html)."""
    if not role_allows(request.user, Perm.TICKET_CREATE):
        return _refused(request, _("您的角色不接听电话。"))
    if request.method == "POST":
        try:
            services.agent_state_set(
                by=request.user, state=request.POST.get("state", ""), reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            from django.contrib import messages

            messages.error(request, exc.message)
        return redirect("telephony:console")
    profile = AgentProfile.objects.filter(user=request.user).first()
    calls = (
        Call.objects.filter(answered_by=request.user).select_related("hotline").order_by("-started_at")[:20]
    )
    return render(
        request,
        "telephony/console.html",
        {
            "profile": profile,
            "states": AgentState.choices,
            "reasons": NotReadyReason.choices,
            "calls": [(c, _mask(request.user, c.caller_number)) for c in calls],
        },
    )


# ---------------------------------------------------------------------------------- wallboard


@login_required
def wallboard(request: HttpRequest) -> HttpResponse:
    """The wall TV (item 6): refreshes itself every 5 seconds (htmx), large type."""
    if not selectors.can_see_calls(request.user):
        return _refused(request, _("您的角色无权查看话务数据。"))
    board = selectors.wallboard(user=request.user)
    template = "telephony/_wallboard.html" if request.htmx else "telephony/wallboard.html"
    return render(request, template, {"b": board, "now": timezone.now(), "states": AgentState.choices})


# -------------------------------------------------------------------------------------- calls


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    if not selectors.can_see_calls(request.user):
        return _refused(request, _("您的角色无权查看话务数据。"))
    day = None
    if request.GET.get("day"):
        try:
            day = datetime.strptime(request.GET["day"], "%Y-%m-%d").date()
        except ValueError:
            day = None
    rows = selectors.calls_for(request.user, day=day)[:200]
    return render(
        request,
        "telephony/calls.html",
        {"rows": [(c, _mask(request.user, c.caller_number)) for c in rows], "day": day},
    )


@login_required
def call_detail(request: HttpRequest, call_pk: int) -> HttpResponse:
    try:
        call = selectors.call_get(request.user, call_pk)
    except DomainError as exc:
        return _refused(request, exc.message, 404 if exc.status == 404 else 403)
    return render(
        request,
        "telephony/call_detail.html",
        {
            "call": call,
            "caller": _mask(request.user, call.caller_number),
            "may_play": role_allows(request.user, Perm.RECORDING_PLAY),
            "may_see_tickets": role_allows(request.user, Perm.TICKET_VIEW_ALL),
        },
    )


@login_required
def recording(request: HttpRequest, call_pk: int) -> HttpResponse:
    """Play a call's recording (item 8): role-gated, every play in the audit log."""
    try:
        call = services.recording_play(user=request.user, call_id=call_pk)
    except DomainError as exc:
        return _refused(request, exc.message, exc.status)
    base = getattr(settings, "KEFU_RECORDINGS_URL", "/recordings/")
    ref = call.recording_ref
    src = ref if ref.startswith(("http://", "https://", "/")) else base + ref
    return render(request, "telephony/recording.html", {"call": call, "src": src})


# ------------------------------------------------------------------------------ indicators


@login_required
def indicators(request: HttpRequest) -> HttpResponse:
    """K5, K14, C13/C15/C18 of a month with the records behind them (item 9), and the form to enter
    an out-of-service period by hand (K5)."""
    if not role_allows(request.user, Perm.REPORT_VIEW):
        return _refused(request, _("您的角色无权查看指标。"))
    company = request.user.company
    now = timezone.localtime()
    try:
        year, month = (int(x) for x in (request.GET.get("month") or f"{now.year}-{now.month}").split("-")[:2])
        selectors.month_range(company, year, month)
    except ValueError:
        year, month = now.year, now.month
    may_record = role_allows(request.user, Perm.TELEPHONY_FEED)
    error = ""
    if request.method == "POST" and may_record:
        try:
            start = _local(request.POST.get("started_at"))
            end = _local(request.POST.get("ended_at")) if request.POST.get("ended_at") else None
            services.outage_record(
                by=request.user,
                hotline_id=int(request.POST.get("hotline") or 0),
                started_at=start,
                ended_at=end,
                note=request.POST.get("note", ""),
            )
            return redirect(f"{reverse('telephony:indicators')}?month={year}-{month:02d}")
        except (ValueError, TypeError):
            error = _("请填写正确的时间。")
        except DomainError as exc:
            error = exc.message
    slow = selectors.k14_calls(company=company, year=year, month=month, within=False).select_related(
        "answered_by"
    )[:100]
    return render(
        request,
        "telephony/indicators.html",
        {
            "year": year,
            "month": month,
            "k5": selectors.k5_inputs(company=company, year=year, month=month),
            "k14": selectors.k14_inputs(company=company, year=year, month=month),
            "calls": selectors.call_figures(company=company, year=year, month=month),
            "chat": selectors.chat_figures(company=company, year=year, month=month),
            "periods": selectors.k5_periods(company=company, year=year, month=month),
            "slow": [(c, _mask(request.user, c.caller_number)) for c in slow],
            "hotlines": Hotline.objects.filter(company=company),
            "may_record": may_record,
            "error": error,
        },
        status=400 if error else 200,
    )


def _local(value: str | None) -> datetime:
    dt = datetime.fromisoformat((value or "").strip())
    return timezone.make_aware(dt) if timezone.is_naive(dt) else dt


# ------------------------------------------------------------------------- chat: agents (C18)


@login_required
def chats(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, Perm.TICKET_CREATE):
        return _refused(request, _("您的角色不接待在线客服。"))
    rows = (
        ChatSession.objects.filter(company_id=request.user.company_id)
        .exclude(status=ChatStatus.CLOSED)
        .order_by("arrived_at")
    )
    template = "telephony/_chat_list.html" if request.htmx else "telephony/chats.html"
    return render(request, template, {"rows": rows, "now": timezone.now()})


@login_required
def chat_console(request: HttpRequest, chat_id: int) -> HttpResponse:
    if not role_allows(request.user, Perm.TICKET_CREATE):
        return _refused(request, _("您的角色不接待在线客服。"))
    s = ChatSession.objects.filter(company_id=request.user.company_id, pk=chat_id).first()
    if s is None:
        raise Http404
    if request.method == "POST":
        try:
            if request.POST.get("close"):
                services.chat_close(session=s, by=request.user)
                return redirect("telephony:chats")
            services.chat_post(
                session=s, sender=ChatSender.AGENT, text=request.POST.get("text", ""), by=request.user
            )
        except DomainError as exc:
            from django.contrib import messages

            messages.error(request, exc.message)
        return redirect("telephony:chat_console", chat_id=s.pk)
    s.refresh_from_db()
    template = "telephony/_chat_messages.html" if request.htmx else "telephony/chat_console.html"
    return render(
        request,
        template,
        {
            "s": s,
            "msgs": s.messages.all(),
            "contact": _mask(request.user, s.contact),
            "desk_phone": s.contact,
            "agent_view": True,
        },
    )


# ---------------------------------------------------------------------- chat: customers (C18)


def _limited(key: str, limit: int, seconds: int) -> bool:
    """True once `key` has been used `limit` times in the window (Django's cache; per process)."""
    if cache.add(key, 1, seconds):
        return False
    try:
        n = cache.incr(key)
    except ValueError:
        cache.set(key, 1, seconds)
        return False
    return n > limit


def chat_public(request: HttpRequest, company_code: str) -> HttpResponse:
    """The customer's chat page (no login). A phone or account number is optional."""
    company = Company.objects.filter(code=company_code, is_active=True).first()
    if company is None:
        raise Http404
    if request.method == "POST":
        if _limited(f"telephony:chat-start:{client_ip(request)}", CHAT_STARTS_PER_10_MIN, 600):
            return render(
                request,
                "telephony/chat_public.html",
                {"company": company, "error": _("请求过于频繁，请稍后再试。")},
                status=429,
            )
        contact = (request.POST.get("contact") or "").strip()[:40]
        s = services.chat_start(company=company, contact=contact)
        return redirect("telephony:chat_session", token=s.token)
    return render(request, "telephony/chat_public.html", {"company": company})


def chat_session(request: HttpRequest, token: str) -> HttpResponse:
    s = ChatSession.objects.filter(token=token[:40]).select_related("company").first()
    if s is None:
        raise Http404
    error = ""
    if request.method == "POST":
        if _limited(f"telephony:chat-msg:{s.pk}", CHAT_MESSAGES_PER_MIN, 60):
            error = _("发送过于频繁，请稍后再试。")
        else:
            try:
                services.chat_post(session=s, sender=ChatSender.CUSTOMER, text=request.POST.get("text", ""))
                return redirect("telephony:chat_session", token=s.token)
            except DomainError as exc:
                error = exc.message
    template = "telephony/_chat_messages.html" if request.htmx else "telephony/chat_session.html"
    return render(
        request,
        template,
        {"s": s, "msgs": s.messages.all(), "error": error},
        status=429 if error and request.method == "POST" and "频繁" in error else 200,
    )


# ------------------------------------------------------------------------------ hotline configuration


@login_required
def hotlines(request: HttpRequest) -> HttpResponse:
    """The company's hotlines (C8, C13) for the telephony administrator (telephony.configure)."""
    if not role_allows(request.user, Perm.TELEPHONY_CONFIGURE):
        return _refused(request, _("您的角色无权配置服务热线。"))
    return render(request, "telephony/hotlines.html", {"hotlines": selectors.hotlines_for(request.user)})


@login_required
def hotline_edit(request: HttpRequest, hotline_id: int | None = None) -> HttpResponse:
    """Create (no id) or change a hotline; the service's messages are shown on their fields."""
    from kefu.telephony.forms import HotlineForm

    if not role_allows(request.user, Perm.TELEPHONY_CONFIGURE):
        return _refused(request, _("您的角色无权配置服务热线。"))
    hotline = None
    if hotline_id is not None:
        hotline = selectors.hotlines_for(request.user).filter(pk=hotline_id).first()
        if hotline is None:
            raise Http404
    if request.method == "POST":
        form = HotlineForm(request.POST)
        if form.is_valid():
            try:
                services.hotline_save(by=request.user, hotline_id=hotline_id, **form.cleaned_data)
            except services.HotlineInvalid as exc:
                for field, message in exc.errors.items():
                    form.add_error(field, message)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                from django.contrib import messages

                messages.success(request, _("热线已保存。"))
                return redirect("telephony:hotlines")
    elif hotline is not None:
        form = HotlineForm(initial={f: getattr(hotline, f) for f in HotlineForm.base_fields})
    else:
        form = HotlineForm()
    return render(request, "telephony/hotline_form.html", {"form": form, "hotline": hotline})
