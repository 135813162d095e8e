"""Log-in policy of 等保 level 3 (S1): lock-out after repeated failures, password age, second factor.

Lock-out is per account and per source address: 5 failures lock for 30 minutes, and while a lock
holds, even the right password is refused. Numbers come from settings.KEFU_SECURITY.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditEvent, Lockout, LoginFailure, User


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


def _failures_since(kind: str, key: str, window_start: datetime):
    """Failures on `key` that count now: inside the window and after the key's last lock (the count
    starts again once a lock has been imposed, so a lock is never re-imposed by the same failures)."""
    last_lock = (
        Lockout.objects.filter(kind=kind, key=key)
        .order_by("-locked_at")
        .values_list("locked_at", flat=True)
        .first()
    )
    start = max(window_start, last_lock) if last_lock else window_start
    field = "username" if kind == Lockout.Kind.USERNAME else "source_ip"
    return LoginFailure.objects.filter(**{field: key}, at__gt=start)


def _keys(username: str, source_ip: str | None) -> list[tuple[str, str]]:
    keys = [(Lockout.Kind.USERNAME, username)]
    if source_ip:
        keys.append((Lockout.Kind.ADDRESS, source_ip))
    return keys


def attempt_begin(
    *, username: str, source_ip: str | None, now: datetime
) -> tuple[LoginFailure, Lockout | None]:
    """Count a log-in attempt BEFORE its password is checked (S1: the sixth attempt fails whatever the
    timing). Returns the attempt's row and the lock that refuses it (None: the password may be checked).

    The attempt is written first (its own committed row) and only then are the rows on its account and
    address counted. Of any six attempts in one window, the one whose row committed last sees all six
    rows when it counts, so at most LOCKOUT_THRESHOLD passwords are ever checked per round, on
    SQLite and PostgreSQL alike, without holding a lock during the (slow) password hash. Only then is
    the lock table read: a lock created after this count was created by an attempt counted with this
    one. A refused attempt's row is removed again (attempts during a lock are logged, not counted).
    """
    username = username.lower()[:150]
    row = LoginFailure.objects.create(username=username, source_ip=source_ip, at=now)
    threshold = _policy()["LOCKOUT_THRESHOLD"]
    minutes = _policy()["LOCKOUT_MINUTES"]
    window_start = now - timedelta(minutes=minutes)
    over = [
        (kind, key)
        for kind, key in _keys(username, source_ip)
        if _failures_since(kind, key, window_start).count() > threshold
    ]
    lock = active_lock(username=username, source_ip=source_ip, now=now)
    if lock is None and over:
        # More attempts at once than the policy allows: they lock as that many failures would (a
        # burst of wrong passwords must not leave the account open for the right one afterwards).
        user = User.objects.filter(username__iexact=username).first()
        locks = [
            _impose_lock(kind=kind, key=key, username=username, user=user, now=now) for kind, key in over
        ]
        lock = locks[0]
    if lock is not None:
        LoginFailure.objects.filter(pk=row.pk).delete()
        record_refused_while_locked(username=username, lock=lock)
    return row, lock


def _impose_lock(*, kind: str, key: str, username: str, user: User | None, now: datetime) -> Lockout:
    """Lock `key` for LOCKOUT_MINUTES and log it; an active lock on the key is returned instead (the
    parallel failures of one round impose one lock, not one each)."""
    existing = Lockout.objects.filter(kind=kind, key=key, until__gt=now, released_at__isnull=True).first()
    if existing is not None:
        return existing
    minutes = _policy()["LOCKOUT_MINUTES"]
    lock = Lockout.objects.create(kind=kind, key=key, locked_at=now, until=now + timedelta(minutes=minutes))
    audit_record(
        action=Action.LOCKED_OUT,
        actor=user,
        actor_label=username,
        result=AuditEvent.Result.DENIED,
        object_type="accounts.lockout",
        object_id=str(lock.pk),
        object_repr=f"{kind}:{key}",
        detail={"kind": kind, "key": key, "until": lock.until.isoformat(), "minutes": minutes},
    )
    return lock


def record_failure(*, attempt: LoginFailure, now: datetime) -> Lockout | None:
    """The attempt's password was wrong: its row (written by attempt_begin) stays as a failure; lock the
    account and/or the source address at the threshold (S1).

    Both counters are evaluated for every failure: five wrong passwords for one account from one
    address lock the account AND the address. Failure rows are kept as evidence; each lock restarts
    the count for its key. Returns the account lock if one was imposed, else the address lock.
    """
    username, source_ip = attempt.username, attempt.source_ip
    # Rows older than a day count for nothing any more (the audit log keeps every failure).
    LoginFailure.objects.filter(at__lt=now - timedelta(days=1)).delete()
    user = _audit_failure(username, "bad_credentials")
    window_start = now - timedelta(minutes=_policy()["LOCKOUT_MINUTES"])
    due = [
        (kind, key)
        for kind, key in _keys(username, source_ip)
        if _failures_since(kind, key, window_start).count() >= _policy()["LOCKOUT_THRESHOLD"]
        and not Lockout.objects.filter(kind=kind, key=key, until__gt=now, released_at__isnull=True).exists()
    ]
    locks = [_impose_lock(kind=kind, key=key, username=username, user=user, now=now) for kind, key in due]
    return locks[0] if locks else None


def record_success(*, user: User, attempt: LoginFailure, now: datetime) -> Lockout | None:
    """The password was right. If a lock was imposed while it was being checked (a parallel failure
    reached the threshold), the attempt is refused after all and the lock returned. Otherwise the
    attempt's row and the account's earlier failure rows are cleared (failures on other accounts from
    the same address still count towards the address lock; attempts still in flight keep theirs)."""
    LoginFailure.objects.filter(pk=attempt.pk).delete()
    lock = active_lock(username=attempt.username, source_ip=attempt.source_ip, now=now)
    if lock is not None:
        record_refused_while_locked(username=attempt.username, lock=lock)
        return lock
    LoginFailure.objects.filter(username=user.username.lower(), pk__lt=attempt.pk).delete()
    return None


def lock_release(*, lock: Lockout, by: User) -> Lockout:
    """An administrator ends a lock early (S1, logged). Releasing twice is harmless."""
    from kefu.accounts.roles import Perm
    from kefu.accounts.scoping import assert_perm

    if not (by.is_superuser and by.is_active):
        assert_perm(by, Perm.ACCOUNT_MANAGE)
    if lock.released_at is not None:
        return lock
    lock.released_at, lock.released_by = timezone.now(), by
    lock.save(update_fields=["released_at", "released_by"])
    if lock.kind == Lockout.Kind.USERNAME:
        LoginFailure.objects.filter(username=lock.key).delete()
    else:
        LoginFailure.objects.filter(source_ip=lock.key).delete()
    audit_record(
        action=Action.UNLOCKED,
        obj=lock,
        actor=by,
        object_repr=f"{lock.kind}:{lock.key}",
        detail={"kind": lock.kind, "key": lock.key},
    )
    return lock


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
