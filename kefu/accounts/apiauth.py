"""API authentication: bearer tokens (stored hashed, scoped, revocable) and the browser session."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.context import set_current_user
from kefu.accounts.models import ApiToken, AuditEvent, hash_token

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TokenAuth(HttpBearer):
    """`Authorization: Bearer kefu_<secret>`. A token acts as its user; a read-only token refuses writes."""

    def authenticate(self, request, token: str):
        row = ApiToken.objects.select_related("user", "user__company").filter(token_hash=hash_token(token)).first()
        now = timezone.now()
        if row is None or not row.is_usable(now) or not row.user.is_active:
            audit_record(
                action=Action.TOKEN_REJECTED,
                result=AuditEvent.Result.DENIED,
                object_type="accounts.apitoken",
                object_id=str(row.pk) if row else "",
                object_repr=token[:10],
                actor_label="api",
            )
            return None
        if request.method not in SAFE_METHODS and ApiToken.Scope.WRITE not in row.scopes:
            raise HttpError(403, _("此令牌只有只读权限。"))
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        set_current_user(row.user)
        request.api_token = row
        return row.user


class SessionAuthCSRF(SessionAuth):
    """The logged-in browser session; CSRF is checked for writes (ninja does this for cookie auth)."""

    def authenticate(self, request, key):
        user = request.user
        if user.is_authenticated and user.is_active:
            return user
        return None
