"""The 等保 level-3 authentication rules (S1) with a frozen clock: password policy, expiry, lock-out
per account and per address, idle sessions, TOTP for administrators/auditors/supervisors, and
disabling people."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from kefu.accounts import services
from kefu.accounts.audit import Action
from kefu.accounts.models import AuditEvent, Lockout, LoginFailure, User
from kefu.accounts.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _errors(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors()) if response.context else ""


# --- Password policy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, reason",
    [
        ("Ab1!xyz", "too short"),
        ("abcdefghijkl", "one class"),
        ("abcdefgh1234", "two classes"),
        ("Password123", "common (password123)"),
        ("1qaz2wsx3edc", "common and two classes"),
    ],
)
def test_weak_passwords_are_refused(agent_x, password, reason):
    with pytest.raises(ValidationError):
        validate_password(password, agent_x)


def test_policy_password_is_accepted(agent_x):
    validate_password("Huanghe-Gas-7rx", agent_x)  # ≥10, four classes, not common
    validate_password("hUANGHEgas7rx", agent_x)  # three classes are enough


def test_error_messages_are_chinese(agent_x):
    with pytest.raises(ValidationError) as exc:
        validate_password("abcdefghijkl", agent_x)
    assert any("至少 3 类" in m for m in exc.value.messages)


def test_last_five_passwords_cannot_be_reused(clock, agent_x):
    passwords = [f"Ranqi-{i}-Kefu!x" for i in range(1, 6)]
    for p in passwords:
        clock.shift(timedelta(days=1))
        validate_password(p, agent_x)
        agent_x.set_password(p)
        agent_x.save()
    agent_x.refresh_from_db()
    # the current one and the four before it, plus TEST_PASSWORD is now the sixth back
    for p in passwords:
        with pytest.raises(ValidationError) as exc:
            validate_password(p, agent_x)
        assert "最近 5 次" in exc.value.messages[0]
    validate_password(TEST_PASSWORD, agent_x)  # six changes ago: allowed again
    assert agent_x.password_history.count() == 5


def test_password_change_page_enforces_history(clock, client, agent_x):
    client.force_login(agent_x)
    r = client.post(
        "/accounts/password/",
        {"old_password": TEST_PASSWORD, "new_password1": TEST_PASSWORD, "new_password2": TEST_PASSWORD},
    )
    assert r.status_code == 200
    assert "最近 5 次" in r.content.decode()
    assert "密码每 90 天须更换一次" in r.content.decode()


def test_expired_password_forces_the_change_page(clock, client, agent_x):
    clock.shift(timedelta(days=89))
    client.force_login(agent_x)
    assert client.get("/").status_code == 200
    clock.shift(timedelta(days=2))  # 91 days since the password was set
    client.force_login(agent_x)
    r = client.get("/")
    assert r.status_code == 302 and r["Location"] == "/accounts/password/"
    assert client.get("/customers/").status_code == 302  # every page, not only home
    r = client.post(
        "/accounts/password/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Xinmima-2026-ok",
            "new_password2": "Xinmima-2026-ok",
        },
    )
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    agent_x.refresh_from_db()
    assert agent_x.password_changed_at is not None and not agent_x.must_change_password
    assert AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED, actor=agent_x).exists()


def test_expired_password_blocks_the_session_api(clock, client, agent_x):
    clock.shift(timedelta(days=91))
    client.force_login(agent_x)
    r = client.get("/api/v1/accounts/me")
    assert r.status_code == 403
    assert "密码" in r.json()["detail"]


# --- Lock-out ---------------------------------------------------------------------------------


def test_five_failures_lock_account_and_address_and_sixth_fails_even_with_right_password(
    clock, client, agent_x
):
    for i in range(4):
        r = _login(client, "agent_x", "wrong-password")
        assert r.status_code == 200 and "工号或密码错误" in _errors(r)
    r = _login(client, "agent_x", "wrong-password")
    assert "已锁定" in _errors(r)
    assert set(Lockout.objects.values_list("kind", "key")) == {
        ("username", "agent_x"),
        ("address", "10.0.0.1"),
    }

    r = _login(client, "agent_x", TEST_PASSWORD)  # 6th attempt, right password
    assert r.status_code == 200 and "已锁定" in _errors(r)
    r = _login(client, "agent_x", TEST_PASSWORD, ip="10.0.0.2")  # the account lock holds from elsewhere
    assert r.status_code == 200 and "已锁定" in _errors(r)

    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED)
    assert failed.count() == 7
    assert failed.filter(detail__reason="bad_credentials").count() == 5
    assert failed.filter(detail__reason="locked:username").count() == 2
    locked = AuditEvent.objects.filter(action=Action.LOCKED_OUT)
    assert locked.count() == 2
    assert all(e.result == AuditEvent.Result.DENIED for e in locked)
    assert locked.filter(source_ip="10.0.0.1").count() == 2
    assert not AuditEvent.objects.filter(action=Action.LOGIN).exists()

    clock.shift(timedelta(minutes=29))
    assert "已锁定" in _errors(_login(client, "agent_x", TEST_PASSWORD, ip="10.0.0.2"))
    clock.shift(timedelta(minutes=2))  # 31 minutes: both locks have expired
    r = _login(client, "agent_x", TEST_PASSWORD)
    assert r.status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor=agent_x, source_ip="10.0.0.1").count() == 1


def test_address_lock_covers_other_accounts(clock, client, agent_x, supervisor_x):
    for name in ["a1", "a2", "a3", "a4", "a5"]:
        _login(client, name, "nope", ip="192.0.2.9")
    assert Lockout.objects.filter(kind="address", key="192.0.2.9").exists()
    assert not Lockout.objects.filter(kind="username").exists()
    r = _login(client, "agent_x", TEST_PASSWORD, ip="192.0.2.9")
    assert "已锁定" in _errors(r)
    r = _login(client, "agent_x", TEST_PASSWORD, ip="192.0.2.10")
    assert r.status_code == 302


def test_failures_outside_the_window_do_not_lock(clock, client, agent_x):
    for _ in range(4):
        _login(client, "agent_x", "wrong")
    clock.shift(timedelta(minutes=31))
    _login(client, "agent_x", "wrong")
    assert not Lockout.objects.exists()


def test_success_resets_the_account_count(clock, client, agent_x):
    for _ in range(4):
        _login(client, "agent_x", "wrong")
    assert _login(client, "agent_x", TEST_PASSWORD).status_code == 302
    client.logout()
    _login(client, "agent_x", "wrong", ip="10.0.0.3")
    assert not Lockout.objects.filter(kind="username").exists()
    assert LoginFailure.objects.filter(username="agent_x").count() == 1


def test_admin_unlock_releases_and_is_audited(clock, client, agent_x, admin_x):
    from kefu.accounts.policy import lock_release

    for _ in range(5):
        _login(client, "agent_x", "wrong", ip="10.0.0.1")
    lock = Lockout.objects.get(kind="username")
    lock_release(lock=lock, by=admin_x)
    lock_release(lock=Lockout.objects.get(kind="address"), by=admin_x)
    assert _login(client, "agent_x", TEST_PASSWORD).status_code == 302
    row = AuditEvent.objects.filter(action=Action.UNLOCKED).order_by("id").first()
    assert row.actor == admin_x and row.detail == {"kind": "username", "key": "agent_x"}


def test_agent_cannot_unlock(clock, client, agent_x, supervisor_x):
    from kefu.accounts.policy import lock_release
    from kefu.core.errors import Forbidden

    for _ in range(5):
        _login(client, "agent_x", "wrong")
    with pytest.raises(Forbidden):
        lock_release(lock=Lockout.objects.get(kind="username"), by=supervisor_x)


# --- Idle sessions ----------------------------------------------------------------------------


def test_idle_session_ends_after_thirty_minutes(clock, client, agent_x):
    assert _login(client, "agent_x", TEST_PASSWORD).status_code == 302
    clock.shift(timedelta(minutes=29))
    assert client.get("/").status_code == 200  # activity restarts the 30 minutes
    clock.shift(timedelta(minutes=29))
    assert client.get("/").status_code == 200
    clock.shift(timedelta(minutes=31))
    r = client.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


# --- Second factor ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "admin", "auditor"])
def test_mfa_roles_are_sent_to_the_mfa_page(clock, client, company_x, role):
    UserFactory(company=company_x, role=role, username="boss")
    assert _login(client, "boss", TEST_PASSWORD).status_code == 302
    for path in ["/", "/accounts/tokens/", "/accounts/audit/", "/admin/"]:
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/mfa/"), path
    r = client.get("/api/v1/accounts/me")
    assert r.status_code == 403 and "动态口令" in r.json()["detail"]
    # changing the password does not bypass the second factor either
    assert client.get("/accounts/password/")["Location"].startswith("/accounts/mfa/")


def test_agent_needs_no_second_factor(clock, client, agent_x):
    _login(client, "agent_x", TEST_PASSWORD)
    assert client.get("/").status_code == 200


def test_totp_enrolment_then_verification(clock, client, supervisor_x):
    _login(client, "supervisor_x", TEST_PASSWORD)
    r = client.get("/")
    assert r["Location"] == "/accounts/mfa/?next=%2F"
    page = client.get(r["Location"]).content.decode()
    assert "<svg" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    key = b32decode(secret)

    r = client.post("/accounts/mfa/?next=/", {"otp_token": "000000" if totp(key) != 0 else "111111"})
    assert r.status_code == 200 and "动态口令不正确" in r.content.decode()
    assert AuditEvent.objects.filter(action=Action.MFA_FAILED, actor=supervisor_x).exists()
    r = client.post("/accounts/mfa/?next=/", {"otp_token": f"{totp(key):06d}"})
    # django-otp throttles 1 s after the first failure; one slip is not "too many attempts"
    assert "请等 1 秒后输入新的口令" in r.content.decode() and "尝试次数过多" not in r.content.decode()

    clock.shift(timedelta(seconds=2))
    r = client.post("/accounts/mfa/?next=/", {"otp_token": f"{totp(key):06d}"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.get("/").status_code == 200
    assert TOTPDevice.objects.get(user=supervisor_x).confirmed
    assert AuditEvent.objects.filter(action=Action.MFA_ENROLLED, actor=supervisor_x).exists()

    # next log-in: verification with the enrolled device, no new secret shown
    client.logout()
    clock.shift(timedelta(minutes=1))
    _login(client, "supervisor_x", TEST_PASSWORD)
    page = client.get("/accounts/mfa/").content.decode()
    assert "totp-secret" not in page
    r = client.post("/accounts/mfa/", {"otp_token": f"{totp(key):06d}"})
    assert r.status_code == 302
    assert client.get("/").status_code == 200


def test_mfa_next_is_not_an_open_redirect(clock, client, supervisor_x):
    _login(client, "supervisor_x", TEST_PASSWORD)
    page = client.get("/accounts/mfa/").content.decode()
    key = b32decode(re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1))
    r = client.post("/accounts/mfa/?next=https://evil.example.com/", {"otp_token": f"{totp(key):06d}"})
    assert r["Location"] == "/"


# --- Disabling people -------------------------------------------------------------------------


def test_disabling_ends_sessions_and_tokens(clock, client, agent_x, admin_x):
    _row, raw = services.token_create(user=agent_x, name="脚本", scopes=[])
    assert _login(client, "agent_x", TEST_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    services.user_disable(user=agent_x, by=admin_x, reason="离职")

    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(agent_x.pk)]
    r = client.get("/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    r = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 401 and r.json()["detail"]
    assert _login(client, "agent_x", TEST_PASSWORD).status_code == 200  # cannot log in again
    agent_x.refresh_from_db()
    assert not agent_x.is_active and agent_x.disabled_at is not None
    assert User.objects.filter(pk=agent_x.pk).exists()  # never deleted
    row = AuditEvent.objects.get(action=Action.USER_DISABLED)
    assert row.actor == admin_x and row.detail["sessions_ended"] == 1 and row.detail["tokens_stopped"] == 1


def test_login_and_logout_are_audited(clock, client, agent_x):
    _login(client, "agent_x", TEST_PASSWORD, ip="198.51.100.7")
    client.post("/accounts/logout/", REMOTE_ADDR="198.51.100.7")
    rows = list(AuditEvent.objects.filter(actor=agent_x).order_by("id").values_list("action", "source_ip"))
    assert rows == [(Action.LOGIN, "198.51.100.7"), (Action.LOGOUT, "198.51.100.7")]
    e = AuditEvent.objects.get(action=Action.LOGIN)
    assert e.company == agent_x.company and e.result == AuditEvent.Result.OK


def test_password_like_employee_number_or_mobile_is_refused(agent_x):
    agent_x.employee_no, agent_x.mobile = "KF20260001", "13912345678"
    with pytest.raises(ValidationError):
        validate_password("Kf20260001!", agent_x)
    with pytest.raises(ValidationError):
        validate_password("13912345678Aa", agent_x)
