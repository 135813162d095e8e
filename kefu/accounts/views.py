"""Log-in, log-out, password change, second factor, API tokens and the audit log (S1, S2, S3)."""

from __future__ import annotations

from base64 import b32encode
from datetime import timedelta
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kefu.accounts import selectors, services
from kefu.accounts.audit import (
    Action,
    action_choices,
    action_label,
    actor_name,
    audit_record,
    describe_detail,
)
from kefu.accounts.forms import ApiTokenForm, LoginForm, TokenForm
from kefu.accounts.models import ApiToken, AuditEvent
from kefu.accounts.refusals import refused_with_message
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.core.redirects import same_site_path
from kefu.exports.registry import params_from_query
from kefu.exports.render import FORMULA_STARTS, csv_safe  # noqa: F401  (the guard lives in kefu.exports now)
from kefu.exports.web import export_response


class KefuLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    # The LOGIN and LOGOUT audit rows are written by signal receivers (signals.py), so the admin
    # site's log-in is logged the same way.


class KefuLogoutView(auth_views.LogoutView):
    pass


class KefuPasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (S1: every 90 days, not one of the last 5). A person who owes the
    second factor verifies it first."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "max_age_days": settings.KEFU_SECURITY["PASSWORD_MAX_AGE_DAYS"],
        }

    def dispatch(self, request, *args, **kwargs):
        from kefu.accounts.middleware import policy_block

        if request.user.is_authenticated and policy_block(request.user) == "mfa":
            return redirect("accounts:mfa")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(action=Action.PASSWORD_CHANGED, obj=self.request.user)
        messages.success(self.request, _("密码已修改。"))
        return response


def _safe_next(request: HttpRequest) -> str:
    """The page to return to after the second factor: only a path on this site (no open redirect)."""
    return same_site_path(request.GET.get("next"), reverse("home"))


def _qr_svg(uri: str) -> str:
    buf = BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(buf)
    return buf.getvalue().decode()


MFA_TOO_MANY = 5  # failures in a row before the page speaks of "too many attempts"


def _mfa_refusal(device, allowed: bool, info) -> str:
    """Why a code was refused. django-otp makes one wait 1 s, 2 s, 4 s… after each failure (S1); a
    code typed during that wait is refused too, but one or two slips are not "too many attempts"."""
    if allowed:
        return _("动态口令不正确或已过期，请重试。")
    locked_until = (info or {}).get("locked_until")
    wait = max(1, int((locked_until - timezone.now()).total_seconds() + 0.999)) if locked_until else 1
    if device.throttling_failure_count >= MFA_TOO_MANY:
        return _("尝试次数过多，请 %(s)d 秒后再试。") % {"s": wait}
    return _("动态口令不正确，请等 %(s)d 秒后输入新的口令。") % {"s": wait}


@login_required
def mfa(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator (first time) or verify a code (every log-in) — mandatory for
    administrators, auditors and supervisors (S1)."""
    user = request.user
    if user.is_verified():
        return redirect(_safe_next(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="kefu", confirmed=False
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _info = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["otp_token"]):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit_record(action=Action.MFA_ENROLLED, obj=user)
            # A new session key once the second factor is proven: a key fixed or seen before this
            # step (on a shared machine, in a proxy log) must not carry the verified session (S1).
            request.session.cycle_key()
            otp_login(request, device)
            return redirect(_safe_next(request))
        audit_record(action=Action.MFA_FAILED, obj=user, result=AuditEvent.Result.FAILED)
        form.add_error("otp_token", _mfa_refusal(device, allowed, _info))
    context = {"form": form, "enrolling": enrolling}
    if enrolling:
        context["qr_svg"] = _qr_svg(device.config_url)
        context["secret"] = b32encode(device.bin_key).decode()
    return render(request, "accounts/mfa.html", context)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """A person's own API tokens: create (the secret is shown once) and revoke."""
    form = ApiTokenForm(request.POST or None)
    created_secret = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_days"]
        try:
            _row, created_secret = services.token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=[ApiToken.Scope.WRITE] if form.cleaned_data["write"] else [],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
            form = ApiTokenForm()
        except DomainError as exc:
            form.add_error(exc.field or None, exc.message)
    rows = ApiToken.objects.filter(user=request.user).order_by("-created_at")  # one's own only
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "rows": rows, "created_secret": created_secret, "now": timezone.now()},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(services.tokens_visible_to(request.user), pk=pk)
    try:
        services.token_revoke(token=token, by=request.user)
        messages.success(request, _("令牌已吊销。"))
    except DomainError as exc:
        refused_with_message(request, exc)
    return redirect("accounts:tokens")


def _audit_forbidden(request: HttpRequest) -> HttpResponse:
    audit_record(
        action=Action.PERMISSION_DENIED,
        result=AuditEvent.Result.DENIED,
        object_type="audit",
        object_repr=request.path,
    )
    return render(request, "403.html", status=403)


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    """The auditor's search over the audit log (time, actor, action, object, result, address)."""
    if not role_allows(request.user, Perm.AUDIT_VIEW):
        return _audit_forbidden(request)
    filters = selectors.AuditFilters.from_query(request.GET)
    if request.GET:  # logged first, so the page's count and rows come from one state of the table
        audit_record(action=Action.AUDIT_SEARCHED, object_type="audit", detail=filters.as_dict())
    rows = selectors.audit_events(user=request.user, filters=filters)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for e in page.object_list:  # what the auditor reads: the person's name, the action and detail in words
        e.who, e.what, e.details = actor_name(e), action_label(e.action), describe_detail(e.detail)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "accounts/audit.html",
        {
            "page": page,
            "filters": filters,
            "results": AuditEvent.Result.choices,
            "query": params.urlencode(),
            "actions": action_choices(),
        },
    )


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    """CSV export of the filtered audit log through kefu.exports: watermarked, row-limited, and the
    export itself is logged (S3)."""
    if not role_allows(request.user, Perm.AUDIT_EXPORT):
        return _audit_forbidden(request)
    return export_response(request, kind="accounts.audit_log", params=params_from_query(request.GET))
