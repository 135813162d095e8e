"""API authentication (S1, S2): bearer tokens (stored hashed, scoped, revocable) and the browser session."""

from __future__ import annotations

import copy
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, SessionAuth

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.context import set_current_user
from kefu.accounts.models import ApiToken, AuditEvent, hash_token
from kefu.core.caching import ProcessCache

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def token_refusal(row: ApiToken | None, now) -> str | None:
    """Why a presented token cannot be used ("unknown", "revoked", "expired", "user_disabled",
    "company_disabled"), or None when it can."""
    if row is None:
        return "unknown"
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    if not row.user.is_active:
        return "user_disabled"
    if row.user.company is not None and not row.user.company.is_active:
        return "company_disabled"
    return None


#: Valid tokens with their user and company, by token hash, for a few seconds (kefu.core.caching: an
#: API call must not cost a token query). Revoking a token or disabling a user or company clears it
#: in this process at once; other server processes refuse the token within `max_age` seconds.
#: Unknown tokens are never kept.
token_rows: ProcessCache[ApiToken] = ProcessCache("accounts.api_tokens", max_age=5)


def _token_row(token_hash: str) -> ApiToken | None:
    def load() -> ApiToken | None:
        return ApiToken.objects.select_related("user", "user__company").filter(token_hash=token_hash).first()

    row = token_rows.get(token_hash, load)
    if row is None:
        token_rows.forget(token_hash)
    return row


class TokenAuth(HttpBearer):
    """`Authorization: Bearer kefu_<secret>`. A token acts as its user; a read-only token refuses writes
    (403); an unknown, revoked or expired token, or one of a disabled user, gives 401."""

    def authenticate_quietly(self, token: str) -> bool:
        """True if `token` is usable now (no audit row, no side effect): for pages outside the API
        operations, such as the schema in production."""
        return token_refusal(_token_row(hash_token(token)), timezone.now()) is None

    def authenticate(self, request, token: str):
        row = _token_row(hash_token(token))
        now = timezone.now()
        reason = token_refusal(row, now)
        if reason is not None:
            audit_record(
                action=Action.TOKEN_REJECTED,
                result=AuditEvent.Result.DENIED,
                company=row.user.company if row is not None else None,
                object_type="accounts.apitoken",
                object_id=str(row.pk) if row else "",
                object_repr=row.prefix if row else token[:8],
                actor_label=row.user.username if row else "api",
                detail={"reason": reason},
            )
            # 401 at once: falling through to the session authenticator would answer a POST with
            # "CSRF check failed" instead of the documented 401.
            raise AuthenticationError()
        if request.method not in SAFE_METHODS and ApiToken.Scope.WRITE not in row.scopes:
            raise HttpError(403, _("此令牌只有只读权限，不能执行写操作。"))
        if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
            row.last_used_at = now
        row = copy.copy(row)  # this request's own objects: middleware and views set attributes on them
        row.user = copy.copy(row.user)
        request.user = row.user
        set_current_user(row.user)
        request.api_token = row
        return row.user


class SessionAuthCSRF(SessionAuth):
    """The logged-in browser session; CSRF is checked for writes (ninja does this for cookie auth).

    A session that still owes the second factor or a new password gets 403 with the reason, the same
    rule the web pages apply (middleware.policy_block)."""

    def authenticate(self, request, key):
        from kefu.accounts.middleware import policy_block

        user = request.user
        if not (user.is_authenticated and user.is_active):
            return None
        block = policy_block(user)
        if block == "mfa":
            raise HttpError(403, _("请先完成动态口令验证。"))
        if block == "password":
            raise HttpError(403, _("密码已过期，请先修改密码。"))
        return user
