"""Writing the audit log (S2, S3). One function, used by every service that must leave a trace."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

from django.db import connection, models

from kefu.accounts.context import current_actor
from kefu.accounts.models import AuditEvent


class Action:
    """Audit action names. Grouped by area; the auditor filters by prefix."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    LOCKED_OUT = "auth.locked_out"
    UNLOCKED = "auth.unlocked"
    PASSWORD_CHANGED = "auth.password_changed"
    PASSWORD_RESET = "account.password_reset"
    MFA_RESET = "account.mfa_reset"
    MFA_ENROLLED = "auth.mfa_enrolled"
    MFA_FAILED = "auth.mfa_failed"
    TOKEN_CREATED = "auth.token_created"
    TOKEN_REVOKED = "auth.token_revoked"
    TOKEN_REJECTED = "auth.token_rejected"
    USER_CREATED = "account.user_created"
    USER_CHANGED = "account.user_changed"
    ROLE_CHANGED = "account.role_changed"
    USER_DISABLED = "account.user_disabled"
    USER_ENABLED = "account.user_enabled"
    CREATED = "data.created"
    UPDATED = "data.updated"
    PERSONAL_DATA_VIEWED = "privacy.unmasked_view"
    ATTACHMENT_VIEWED = "privacy.attachment_view"  # a work-order attachment opened or downloaded
    EXPORTED = "data.exported"
    IMPORTED = "data.imported"
    PERMISSION_DENIED = "auth.permission_denied"
    NOT_FOUND = "auth.not_found"  # a view answered 404: another company's object, or none (S2, S3)
    AUDIT_SEARCHED = "audit.searched"
    AUDIT_EXPORTED = "audit.exported"
    AUDIT_ARCHIVED = "audit.archived"


#: Set when a refusal row is written during the current request, so the refusal middleware does not
#: write a second one for the same refusal (middleware.RefusalAuditMiddleware).
refusal_recorded: ContextVar[bool] = ContextVar("kefu_refusal_recorded", default=False)


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    actor: Any = None,
    company: Any = None,
    result: str = AuditEvent.Result.OK,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit row. The actor and source address default to the current request's.

    `obj` fills the object columns; the company defaults to the object's or the actor's company.
    """
    ctx = current_actor()
    actor = actor if actor is not None else ctx.user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        company = company if company is not None else getattr(obj, "company", None)
    if company is None and actor is not None:
        company = getattr(actor, "company", None)
    if result == AuditEvent.Result.DENIED and action in (Action.PERMISSION_DENIED, Action.NOT_FOUND):
        refusal_recorded.set(True)
    return AuditEvent.objects.create(
        company=company,
        actor=actor,
        actor_label=actor_label or (actor.username if actor is not None else ctx.channel),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        result=result,
        source_ip=ctx.source_ip,
        detail=detail or {},
    )


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed — what an audit row of an update keeps."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


_purge_allowed = False


def sqlite_audit_purge_flag() -> int:
    """The SQL function `kefu_audit_purge()` the SQLite delete trigger reads (1 only during test teardown)."""
    return 1 if _purge_allowed else 0


@contextmanager
def audit_purge_for_tests() -> Iterator[None]:
    """Let the test runner empty the append-only tables between transactional tests, and nothing else.

    One switch for every append-only table: the audit log (accounts migrations 0002, 0003) and the
    work-order timeline (tickets migration 0004) read the same flag. Used only by conftest.py around
    Django's flush. UPDATE stays refused even inside.
    """
    global _purge_allowed
    _purge_allowed = True
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET kefu.audit_purge = 'on'")
        yield
    finally:
        _purge_allowed = False
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cur:
                cur.execute("RESET kefu.audit_purge")
