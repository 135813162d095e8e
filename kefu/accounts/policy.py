"""Log-in policy of 等保 level 3 (S1): lock-out after repeated failures, password age, second factor.

Lock-out is per account and per source address: 5 failures lock for 30 minutes, and while a lock
holds, even the right password is refused. Numbers come from settings.KEFU_SECURITY.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditEvent, LoginFailure, Lockout, User


def _policy() -> dict:
    return settings.KEFU_SECURITY


def active_lock(*, username: str, source_ip: str | None, now: datetime) -> Lockout | None:
    """The lock that refuses this attempt, if any (account first, then source address)."""
    keys = [(Lockout.Kind.USERNAME, username.lower())]
    if source_ip:
        keys.append((Lockout.Kind.ADDRESS, source_ip))
    for kind, key in keys:
        lock = Lockout.objects.filter(kind=kind, key=key, until__gt=now, released_at__isnull=True).first()
        if lock:
            return lock
    return None


def _audit_failure(username: str, reason: str) -> User | None:
    user = User.objects.filter(username__iexact=username).first()
    audit_record(
        action=Action.LOGIN_FAILED,
        actor=user,
        actor_label=username,
        result=AuditEvent.Result.FAILED,
        object_type="accounts.user",
        object_id=str(user.pk) if user else "",
        object_repr=username,
        detail={"reason": reason},
    )
    return user


def record_refused_while_locked(*, username: str, lock: Lockout) -> None:
    """An attempt during a lock is refused whatever the password, and logged (not counted again)."""
    _audit_failure(username.lower(), f"locked:{lock.kind}")


def record_failure(*, username: str, source_ip: str | None, now: datetime) -> Lockout | None:
    """Record a failed attempt; lock the account and/or the address at the threshold."""
    username = username.lower()
    LoginFailure.objects.create(username=username, source_ip=source_ip, at=now)
    user = _audit_failure(username, "bad_credentials")
    window_start = now - timedelta(minutes=_policy()["LOCKOUT_MINUTES"])
    lock = None
    checks = [(Lockout.Kind.USERNAME, username, LoginFailure.objects.filter(username=username))]
    if source_ip:
        checks.append((Lockout.Kind.ADDRESS, source_ip, LoginFailure.objects.filter(source_ip=source_ip)))
    for kind, key, failures in checks:
        if failures.filter(at__gt=window_start).count() >= _policy()["LOCKOUT_THRESHOLD"]:
            lock = Lockout.objects.create(
                kind=kind, key=key, locked_at=now, until=now + timedelta(minutes=_policy()["LOCKOUT_MINUTES"])
            )
            failures.delete()  # the count starts again after this lock
            audit_record(
                action=Action.LOCKED_OUT,
                actor=user,
                actor_label=username,
                result=AuditEvent.Result.DENIED,
                object_type="accounts.lockout",
                object_id=str(lock.pk),
                object_repr=f"{kind}:{key}",
                detail={"kind": kind, "key": key, "until": lock.until.isoformat()},
            )
    return lock


def record_success(*, user: User) -> None:
    LoginFailure.objects.filter(username=user.username.lower()).delete()


def lock_release(*, lock: Lockout, by: User) -> None:
    """An administrator ends a lock early (logged)."""
    lock.released_at, lock.released_by = timezone.now(), by
    lock.save(update_fields=["released_at", "released_by"])
    audit_record(action=Action.UNLOCKED, obj=lock, object_repr=f"{lock.kind}:{lock.key}")


def password_expired(user: User, now: datetime | None = None) -> bool:
    """True when the user must set a new password before doing anything else."""
    if user.must_change_password:
        return True
    if user.password_changed_at is None:
        return False  # accounts made before the policy: the admin sets must_change_password
    max_age = timedelta(days=_policy()["PASSWORD_MAX_AGE_DAYS"])
    return (now or timezone.now()) - user.password_changed_at > max_age


def mfa_required(user: User) -> bool:
    """Administrators, auditors and supervisors must use a second factor (TOTP)."""
    return bool(_policy()["MFA_ENFORCED"]) and (user.role in _policy()["MFA_ROLES"] or user.is_superuser)
