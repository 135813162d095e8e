"""The lock-out holds in parallel (S1): the sixth attempt fails whatever the timing.

Password checks are counted by their audit rows: every wrong password that was actually checked
writes one `auth.login_failed` row with reason `bad_credentials`; a refused attempt writes a
`locked:…` row instead and never reaches the password hasher.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from kefu.accounts import policy
from kefu.accounts.audit import Action
from kefu.accounts.models import AuditEvent, Lockout, LoginFailure
from kefu.accounts.tests.factories import TEST_PASSWORD


def _checked() -> int:
    return AuditEvent.objects.filter(action=Action.LOGIN_FAILED, detail__reason="bad_credentials").count()


def _authenticate(username: str, password: str, ip: str = "10.9.9.9"):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=ip)
    return authenticate(request, username=username, password=password)


@pytest.mark.django_db
def test_interleaved_attempts_the_sixth_is_refused_before_any_password_is_checked(clock, agent_x):
    """Six attempts begun before any of them is resolved (the worst interleaving): five may check a
    password, the sixth is refused at once and locks; the right password afterwards is refused."""
    now = timezone.now()
    begun = [policy.attempt_begin(username="agent_x", source_ip="10.9.9.9", now=now) for _ in range(6)]
    assert [lock is None for _row, lock in begun] == [True] * 5 + [False]
    assert Lockout.objects.filter(kind="username", key="agent_x").count() == 1
    for row, _lock in begun[:5]:
        policy.record_failure(attempt=row, now=now)
    assert _checked() == 5
    assert Lockout.objects.filter(kind="username", key="agent_x").count() == 1  # one lock per round
    assert _authenticate("agent_x", TEST_PASSWORD) is None
    assert _authenticate("agent_x", TEST_PASSWORD, ip="10.9.9.10") is None  # the account lock, elsewhere
    assert _checked() == 5


@pytest.mark.django_db
def test_right_password_checked_while_a_parallel_failure_locks_is_refused(clock, agent_x):
    """An attempt whose (right) password is checked while the fifth failure imposes the lock is
    refused after all: no log-in while a lock holds."""
    now = timezone.now()
    wrong = [policy.attempt_begin(username="agent_x", source_ip="10.9.9.9", now=now)[0] for _ in range(4)]
    right, lock = policy.attempt_begin(username="agent_x", source_ip="10.9.9.9", now=now)
    assert lock is None
    for row in wrong:
        policy.record_failure(attempt=row, now=now)  # 4 failures + the right one in flight = 5: locks
    assert Lockout.objects.filter(kind="username", key="agent_x").exists()
    assert policy.record_success(user=agent_x, attempt=right, now=now) is not None
    assert not LoginFailure.objects.filter(pk=right.pk).exists()


@pytest.mark.django_db
def test_sequential_wrong_then_right_on_both_databases(clock, agent_x):
    for _ in range(10):
        assert _authenticate("agent_x", "wrong-password") is None
    assert _checked() == 5
    assert _authenticate("agent_x", TEST_PASSWORD) is None


def _parallel(n: int, attempt) -> list:
    """Run `attempt(i)` in n threads released together by a barrier; each thread uses its own
    database connection and closes it."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = attempt(i)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n", [8, 31])
def test_parallel_wrong_passwords_check_at_most_five_and_then_the_right_one_fails(agent_x, n):
    if connection.vendor != "postgresql":
        pytest.skip("real parallel transactions need PostgreSQL")
    results = _parallel(n, lambda i: _authenticate("agent_x", f"wrong-{i}"))
    assert all(r is None for r in results)
    assert _checked() <= 5
    assert Lockout.objects.filter(kind="username", key="agent_x", released_at__isnull=True).exists()
    assert _authenticate("agent_x", TEST_PASSWORD, ip="10.1.1.1") is None
    assert not AuditEvent.objects.filter(action=Action.LOGIN).exists()
