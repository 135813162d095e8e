"""Authentication backend that applies the lock-out policy (S1) to every password log-in — the web
log-in, the admin log-in and anything else that calls `authenticate()`."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from kefu.accounts import policy
from kefu.accounts.context import client_ip


class LockedOut(Exception):
    def __init__(self, lock):
        super().__init__("locked")
        self.lock = lock


class PolicyBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        now = timezone.now()
        source_ip = client_ip(request) if request is not None else None
        attempt, lock = policy.attempt_begin(username=username, source_ip=source_ip, now=now)
        if lock is not None:
            if request is not None:
                request.kefu_lock = lock
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            new_lock = policy.record_failure(attempt=attempt, now=now)
            if request is not None and new_lock is not None:
                request.kefu_lock = new_lock
            return None
        late_lock = policy.record_success(user=user, attempt=attempt, now=now)
        if late_lock is not None:
            if request is not None:
                request.kefu_lock = late_lock
            return None
        return user
