"""The customer's mobile pages (网上营业厅, 390 px first). A page finds the customer's session by its
own cookie (rules.COOKIE), never the staff log-in; every page is rate-limited per address and logged
(S2). Views parse, call one service or selector, render."""

from __future__ import annotations

import uuid
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from kefu.accounts.context import client_ip
from kefu.accounts.models import Company
from kefu.core.errors import DomainError
from kefu.portal import rules, selectors, services


def _per_minute() -> int:
    """Requests per client address per minute (settings.KEFU_PORTAL_REQUESTS_PER_MINUTE)."""
    return int(getattr(settings, "KEFU_PORTAL_REQUESTS_PER_MINUTE", 120))


def limited(key: str, limit: int, seconds: int) -> bool:
    """True once `key` has been used `limit` times in the window (Django's cache, per process — the
    pattern of the customers' chat page, kefu.telephony.views)."""
    if cache.add(key, 1, seconds):
        return False
    try:
        n = cache.incr(key)
    except ValueError:
        cache.set(key, 1, seconds)
        return False
    return n > limit


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/message.html", {"message": _("请求过于频繁，请稍后再试。")}, status=429)


def portal_page(action: str, *, login: bool = True):
    """Rate limit, the customer's session (else to the log-in page), and one access-log row per
    request with the page's answer."""

    def deco(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            ip = client_ip(request)
            if limited(f"portal:req:{ip}", _per_minute(), 60):
                services.access_log(action="rate_limited", source_ip=ip, path=request.path, status=429)
                return _too_many(request)
            session = services.session_for_token(request.COOKIES.get(rules.COOKIE, ""))
            request.portal_session = session
            request.portal_account = session.account if session else None
            if login and session is None:
                return redirect("portal:start")
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                services.access_log(
                    action=action,
                    account=request.portal_account,
                    source_ip=ip,
                    path=request.path,
                    status=404,
                    object_ref=str(kwargs.get("ticket_id", "")),
                )
                return render(request, "portal/message.html", {"message": _("未找到。")}, status=404)
            if session is not None or action.startswith("link"):
                services.access_log(
                    action=action,
                    account=request.portal_account,
                    source_ip=ip,
                    path=request.path,
                    status=response.status_code,
                    object_ref=str(kwargs.get("ticket_id", "")),
                )
            return response

        return wrapped

    return deco


def _company(code: str) -> Company:
    company = Company.objects.filter(code=code, is_active=True).first()
    if company is None:
        raise Http404
    return company


# ---- linking and log-in ---------------------------------------------------------------------------
@portal_page("link.start_page", login=False)
def start(request: HttpRequest) -> HttpResponse:
    """Without a company in the address: the only active company's log-in, or the list of companies."""
    if request.portal_session is not None:
        return redirect("portal:home")
    companies = list(Company.objects.filter(is_active=True).order_by("name")[:50])
    if len(companies) == 1:
        return redirect("portal:login", company_code=companies[0].code)
    return render(request, "portal/companies.html", {"companies": companies})


@portal_page("link.login_page", login=False)
def login(request: HttpRequest, company_code: str) -> HttpResponse:
    company = _company(company_code)
    error = ""
    if request.method == "POST":
        try:
            ch = services.link_start(
                company=company,
                account_no=request.POST.get("account_no", ""),
                phone=request.POST.get("phone", ""),
                source_ip=client_ip(request),
            )
            return redirect("portal:verify", challenge_id=ch.pk)
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "portal/login.html",
        {"company": company, "error": error, "account_no": request.POST.get("account_no", "")},
        status=400 if error else 200,
    )


@portal_page("link.verify_page", login=False)
def verify(request: HttpRequest, challenge_id: int) -> HttpResponse:
    from kefu.portal.models import PortalChallenge

    ch = PortalChallenge.objects.select_related("company").filter(pk=challenge_id).first()
    if ch is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            done = services.link_verify(
                challenge_id=ch.pk, code=request.POST.get("code", ""), source_ip=client_ip(request)
            )
            response = redirect("portal:home")
            response.set_cookie(
                rules.COOKIE,
                done.token,
                max_age=rules.MAX_HOURS * 3600,
                httponly=True,
                samesite="Lax",
                secure=getattr(settings, "PRODUCTION", False),
            )
            return response
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "portal/verify.html",
        {"challenge": ch, "company": ch.company, "phone": rules.mask_phone(ch.phone), "error": error},
        status=400 if error else 200,
    )


@portal_page("logout")
def logout(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.session_end(session=request.portal_session, source_ip=client_ip(request))
        response = redirect("portal:login", company_code=request.portal_account.company.code)
        response.delete_cookie(rules.COOKIE)
        return response
    return redirect("portal:home")


# ---- the customer's pages ------------------------------------------------------------------------
def _ctx(request: HttpRequest, **extra) -> dict:
    account = request.portal_account
    return {"account": account, "customer": account.customer, "company": account.company, **extra}


@portal_page("home")
def home(request: HttpRequest) -> HttpResponse:
    account = request.portal_account
    return render(
        request,
        "portal/home.html",
        _ctx(
            request,
            outages=selectors.interruptions(account=account),
            open_tickets=[
                t
                for t in selectors.my_tickets(account=account, limit=10)
                if t.state not in ("closed", "cancelled")
            ],
        ),
    )


@portal_page("fault.page")
def report(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            t = services.fault_report(
                account=request.portal_account,
                fault=request.POST.get("fault", ""),
                content=request.POST.get("content", ""),
                idempotency_key=request.POST.get("key", ""),
            )
            return redirect("portal:order", ticket_id=t.pk)
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "portal/report.html",
        _ctx(
            request,
            faults=[(f"{k}:{s}", label) for k, s, label in rules.FAULT_KINDS],
            error=error,
            key=uuid.uuid4().hex,
        ),
        status=400 if error else 200,
    )


@portal_page("leak.page")
def leak(request: HttpRequest) -> HttpResponse:
    """Safety first: the instructions and the emergency number, then (a second step) the report."""
    error = ""
    if request.method == "POST":
        try:
            t = services.leak_report(
                account=request.portal_account,
                content=request.POST.get("content", ""),
                idempotency_key=request.POST.get("key", ""),
            )
            return redirect("portal:order", ticket_id=t.pk)
        except DomainError as exc:
            error = exc.message
    company = request.portal_account.company
    return render(
        request,
        "portal/leak.html",
        _ctx(
            request,
            steps=rules.LEAK_STEPS,
            hotline=company.hotline,
            fire=rules.FIRE_NUMBER,
            error=error,
            key=uuid.uuid4().hex,
        ),
    )


@portal_page("appointment.page")
def book(request: HttpRequest) -> HttpResponse:
    purpose = request.GET.get("purpose") or request.POST.get("purpose") or "inspection"
    if purpose not in rules.APPOINTMENT_KINDS:
        purpose = "inspection"
    error = ""
    if request.method == "POST":
        try:
            appt = services.appointment_request(
                account=request.portal_account,
                purpose=purpose,
                slot_id=int(request.POST.get("slot_id") or 0),
                content=request.POST.get("content", ""),
                idempotency_key=request.POST.get("key", ""),
            )
            return redirect("portal:order", ticket_id=appt.ticket_id)
        except (DomainError, ValueError) as exc:
            error = getattr(exc, "message", _("请选择时段。"))
    slots = selectors.open_slots(account=request.portal_account, purpose=purpose)
    return render(
        request,
        "portal/book.html",
        _ctx(request, purpose=purpose, slots=slots, error=error, key=uuid.uuid4().hex),
        status=400 if error else 200,
    )


@portal_page("orders.list")
def orders(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/orders.html",
        _ctx(request, tickets=selectors.my_tickets(account=request.portal_account)),
    )


@portal_page("orders.view")
def order(request: HttpRequest, ticket_id: int) -> HttpResponse:
    from kefu.core.errors import NotFound

    try:
        t = selectors.my_ticket(account=request.portal_account, ticket_id=ticket_id)
    except NotFound:
        raise Http404 from None
    error = ""
    if request.method == "POST":
        try:
            services.rating_submit(
                account=request.portal_account,
                ticket_id=t.pk,
                attitude_score=int(request.POST.get("attitude_score") or 0),
                ability_score=int(request.POST.get("ability_score") or 0),
                satisfied=request.POST.get("satisfied") == "yes",
                comment=request.POST.get("comment", ""),
            )
            return redirect("portal:order", ticket_id=t.pk)
        except (DomainError, ValueError) as exc:
            error = getattr(exc, "message", _("评分须为 1 到 10 的整数。"))
    from kefu.portal.models import PortalRating

    return render(
        request,
        "portal/order.html",
        _ctx(
            request,
            t=t,
            steps=selectors.ticket_timeline(t),
            can_rate=selectors.can_rate(t),
            rating=PortalRating.objects.filter(ticket=t).first(),
            scores=range(10, 0, -1),
            error=error,
        ),
        status=400 if error else 200,
    )


@portal_page("outages.view")
def outages(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/outages.html",
        _ctx(request, outages=selectors.interruptions(account=request.portal_account)),
    )


@portal_page("commitments.view")
def commitments(request: HttpRequest) -> HttpResponse:
    company = request.portal_account.company
    now = timezone.now()
    the_set, items = selectors.commitments(company=company, now=now)
    year = timezone.localtime(now).year
    return render(
        request,
        "portal/commitments.html",
        _ctx(
            request,
            the_set=the_set,
            items=items,
            year=year,
            last_year=year - 1,
            results=selectors.results(company=company, year=year - 1),
        ),
    )


@portal_page("chat.start")
def chat(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("portal:home")
    token = services.chat_begin(account=request.portal_account)
    return redirect(reverse("telephony:chat_session", kwargs={"token": token}))


@portal_page("account.view")
def me(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/me.html",
        _ctx(
            request,
            phone=rules.mask_phone(request.portal_account.phone),
            history=selectors.access_history(account=request.portal_account),
        ),
    )


# ---- WeChat official account (messages pushed by WeChat's servers) ------------------------------
@csrf_exempt
def wechat(request: HttpRequest, company_code: str) -> HttpResponse:
    """The official account's server URL: GET is WeChat's signature check (echo `echostr`), POST a
    message or event in XML, answered with a passive reply (kefu.portal.wechat)."""
    from kefu.portal import wechat as wx

    company = _company(company_code)
    if not wx.signature_ok(
        token=wx.token_for(company),
        signature=request.GET.get("signature", ""),
        timestamp=request.GET.get("timestamp", ""),
        nonce=request.GET.get("nonce", ""),
    ):
        return HttpResponse("bad signature", status=403, content_type="text/plain")
    if request.method == "GET":
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
    if limited(f"portal:wx:{client_ip(request)}", _per_minute() * 10, 60):
        return HttpResponse("success", content_type="text/plain")
    reply = wx.handle_message(company=company, body=request.body)
    return HttpResponse(reply or "success", content_type="application/xml" if reply else "text/plain")


# ---- staff: the portal's access log (auditors, S2) ---------------------------------------------------
def access_log_page(request: HttpRequest) -> HttpResponse:
    """The portal's access log of the auditor's company, newest first; `?account=` filters by 户号."""
    from django.contrib.auth.views import redirect_to_login

    from kefu.accounts.roles import Perm, role_allows

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not role_allows(request.user, Perm.AUDIT_VIEW) or request.user.company_id is None:
        return render(request, "403.html", status=403)
    account_no = (request.GET.get("account") or "").strip()[:30]
    rows = selectors.access_log_rows(company_id=request.user.company_id, account_no=account_no)
    return render(request, "portal/access_log.html", {"rows": rows, "account_no": account_no})
