"""Helpers shared by the follow-up services."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError, Forbidden

FOLLOWUP_APPROVE = Perm.FOLLOWUP_APPROVE


def require(user, perm: str, message: str | None = None) -> None:
    if not role_allows(user, perm):
        raise Forbidden(message or _("您的角色无权执行此操作。"), code="permission_denied")


def require_company(user) -> int:
    cid = getattr(user, "company_id", None)
    if not cid:
        raise Forbidden(_("您的账号不属于任何公司。"), code="no_company")
    return cid


def text(value, *, field: str, label: str, required: bool = True, limit: int = 2000) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise DomainError(_("%(l)s格式有误。") % {"l": label}, field=field)
    if required and not value:
        raise DomainError(_("请填写%(l)s。") % {"l": label}, field=field)
    if len(value) > limit:
        raise DomainError(_("%(l)s不能超过 %(n)d 个字。") % {"l": label, "n": limit}, field=field)
    if "\x00" in value:
        raise DomainError(_("%(l)s含有无效字符。") % {"l": label}, field=field)
    return value


__all__ = ["FOLLOWUP_APPROVE", "Perm", "require", "require_company", "text"]
