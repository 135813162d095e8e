"""Account services (S1): API tokens, disabling people who leave, role changes. Each writes its audit row."""
from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import ApiToken, User, hash_token
from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.errors import Conflict, DomainError, Forbidden


@transaction.atomic
def token_create(*, user: User, name: str, scopes: list[str], expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a named token for `user`; returns the row and the secret, which is never shown again."""
    name = name.strip()
    if not name:
        raise DomainError(_("请填写令牌名称。"), field="name")
    unknown = set(scopes) - set(ApiToken.Scope.values)
    if unknown:
        raise DomainError(_("未知的令牌范围：%(s)s") % {"s": ", ".join(sorted(unknown))}, field="scopes")
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise Conflict(_("已有同名令牌。"), field="name")
    raw = settings.KEFU_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[:12],
        token_hash=hash_token(raw),
        scopes=sorted(set(scopes) | {ApiToken.Scope.READ}),
        expires_at=expires_at,
    )
    audit_record(action=Action.TOKEN_CREATED, obj=row, company=user.company, detail={"scopes": row.scopes})
    return row, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke a token at once. Its owner may revoke it, and so may an account administrator."""
    if token.user_id != by.pk:
        assert_perm(by, Perm.ACCOUNT_MANAGE)
        if token.user.company_id != by.company_id:
            raise Forbidden(_("不能修改其他公司的数据。"))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action=Action.TOKEN_REVOKED, obj=token, company=token.user.company)
    return token


def end_sessions(user: User) -> int:
    """Delete every browser session of `user` (after disabling, or a password reset by an admin)."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_disable(*, user: User, by: User | None, reason: str = "") -> User:
    """A person who leaves is disabled, never deleted: sessions end, tokens stop working (S1)."""
    if by is not None:
        assert_perm(by, Perm.ACCOUNT_MANAGE)
    user.is_active = False
    user.disabled_at = timezone.now()
    user.save(update_fields=["is_active", "disabled_at"])
    ended = end_sessions(user)
    audit_record(action=Action.USER_DISABLED, obj=user, actor=by, detail={"reason": reason, "sessions_ended": ended})
    return user


@transaction.atomic
def user_enable(*, user: User, by: User | None) -> User:
    if by is not None:
        assert_perm(by, Perm.ACCOUNT_MANAGE)
    user.is_active, user.disabled_at = True, None
    user.save(update_fields=["is_active", "disabled_at"])
    audit_record(action=Action.USER_ENABLED, obj=user, actor=by)
    return user
