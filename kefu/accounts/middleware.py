"""Request-wide security: who and from where (for the audit log), the password-age and second-factor
rules of the 等保 level-3 policy (S1)."""
from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from kefu.accounts.context import ActorContext, acting_as, client_ip


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        channel = "api" if request.path.startswith("/api/") else "web"
        with acting_as(ActorContext(user=user, source_ip=client_ip(request), channel=channel)):
            return self.get_response(request)


class SecurityPolicyMiddleware:
    """Sends a logged-in person to change an expired password or to enrol/verify the second factor
    before anything else. The API (token auth) and the login pages themselves are exempt."""

    exempt_prefixes = ("/accounts/", "/static/", "/api/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(self.exempt_prefixes):
            from kefu.accounts.policy import mfa_required, password_expired

            if password_expired(user):
                return redirect(reverse("accounts:password_change"))
            if mfa_required(user) and not request.user.is_verified():
                return redirect(reverse("accounts:mfa"))
        return self.get_response(request)


def security_settings() -> dict:
    return settings.KEFU_SECURITY
