"""Audit rows for log-in and log-out, whichever page did it (the web log-in or the admin site's) (S1).

Failed log-ins and lock-outs are written by the authentication backend (backends.py, policy.py)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from kefu.accounts.audit import Action, audit_record


@receiver(user_logged_in, dispatch_uid="kefu_audit_login")
def _audit_login(sender, request, user, **kwargs) -> None:
    audit_record(action=Action.LOGIN, actor=user, obj=user)


@receiver(user_logged_out, dispatch_uid="kefu_audit_logout")
def _audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user, obj=user)
