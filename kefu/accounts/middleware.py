"""Request-wide security: who and from where (for the audit log), the password-age and second-factor
rules of the 等保 level-3 policy (S1)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from kefu.accounts.context import ActorContext, acting_as, client_ip


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        channel = "api" if request.path.startswith("/api/") else "web"
        with acting_as(ActorContext(user=user, source_ip=client_ip(request), channel=channel)):
            return self.get_response(request)


def policy_block(user) -> str | None:
    """Why a logged-in session may do nothing but fix its state: "password" (expired or set by an
    administrator) or "mfa" (second factor required but not verified in this session); None if free.

    One rule for the web pages (redirect) and the session-authenticated API (403)."""
    from kefu.accounts.policy import mfa_required, password_expired

    if user is None or not user.is_authenticated:
        return None
    if mfa_required(user) and not user.is_verified():
        return "mfa"
    if password_expired(user):
        return "password"
    return None


class SecurityPolicyMiddleware:
    """Sends a logged-in person to verify the second factor and then to change an expired password
    before anything else (S1). Only the pages that fix the state (and log-out) are exempt; the API is
    guarded by its own session authentication (apiauth.SessionAuthCSRF), and token requests are not
    sessions. The second factor comes first so a stolen password alone cannot even set a new password.
    """

    static_prefixes = ("/static/", "/api/", "/i18n/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt: set[str] | None = None

    def exempt_paths(self) -> set[str]:
        if self._exempt is None:
            self._exempt = {
                reverse("accounts:login"),
                reverse("accounts:logout"),
                reverse("accounts:password_change"),
                reverse("accounts:mfa"),
            }
        return self._exempt

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.static_prefixes)
            and request.path not in self.exempt_paths()
        ):
            block = policy_block(user)
            if (
                block is None
                and request.path.startswith("/admin/")
                and user.is_staff
                and not user.is_verified()
            ):
                block = "mfa"  # the admin site always needs the second factor (admin.admin_has_permission)
            if block == "mfa":
                return redirect(f"{reverse('accounts:mfa')}?{urlencode({'next': request.get_full_path()})}")
            if block == "password":
                return redirect(reverse("accounts:password_change"))
        return self.get_response(request)


def security_settings() -> dict:
    return settings.KEFU_SECURITY
