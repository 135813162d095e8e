"""Linking an account (S1, S2): account number + the phone on file + SMS code; five wrong codes
lock; codes are rate-limited; every step is logged (S2); the session is the portal's own."""

from __future__ import annotations

import pytest

from kefu.core.errors import DomainError
from kefu.portal import rules, services
from kefu.portal.models import PortalAccess, PortalAccount, PortalChallenge
from kefu.portal.tests.conftest import CODE, sign_in

pytestmark = pytest.mark.django_db


def test_right_code_links_the_account_and_starts_a_session(
    customer_x, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ch = services.link_start(company=customer_x.company, account_no="100001", phone="138-0013-8000")
    outbox = (settings.VAR_DIR / "sms-outbox.log").read_text()
    assert CODE in outbox and "138****8000" in outbox and "13800138000" not in outbox
    assert ch.code_hash and CODE not in ch.code_hash  # only a salted hash is stored
    done = services.link_verify(challenge_id=ch.pk, code=CODE)
    assert done.token.startswith(rules.TOKEN_PREFIX)
    account = PortalAccount.objects.get(customer=customer_x)
    assert account.phone == "13800138000"
    assert services.session_for_token(done.token).account == account
    assert services.session_for_token(done.token + "x") is None
    actions = list(PortalAccess.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["link.code_sent", "login"]


def test_phone_not_on_file_is_refused_without_saying_which_was_wrong(customer_x, neighbour_x):
    for account_no, phone in (("100001", "13900139000"), ("999999", "13800138000"), ("100001", "abc")):
        with pytest.raises(DomainError) as exc:
            services.link_start(company=customer_x.company, account_no=account_no, phone=phone)
        assert exc.value.code == "mismatch"
    assert not PortalChallenge.objects.exists()
    assert PortalAccess.objects.filter(action="link.mismatch").count() == 3


def test_another_companys_account_number_is_not_found_here(customer_x, customer_y):
    with pytest.raises(DomainError):
        services.link_start(company=customer_x.company, account_no="100001", phone="13700137000")


def test_five_wrong_codes_lock_even_the_right_code(customer_x):
    ch = services.link_start(company=customer_x.company, account_no="100001", phone="13800138000")
    for n in range(1, 5):
        with pytest.raises(DomainError) as exc:
            services.link_verify(challenge_id=ch.pk, code="000000")
        assert exc.value.code == "wrong_code"
        assert f"{rules.MAX_FAILURES - n}" in exc.value.message
    with pytest.raises(DomainError) as exc:
        services.link_verify(challenge_id=ch.pk, code="000000")
    assert exc.value.code == "locked"
    ch.refresh_from_db()
    assert ch.state == PortalChallenge.State.LOCKED and ch.failures == 5
    with pytest.raises(DomainError) as exc:
        services.link_verify(challenge_id=ch.pk, code=CODE)
    assert exc.value.code == "locked"
    # a new code cannot be asked for while locked either
    with pytest.raises(DomainError) as exc:
        services.link_start(company=customer_x.company, account_no="100001", phone="13800138000")
    assert exc.value.code == "locked"
    assert PortalAccess.objects.filter(action="link.locked_now").count() == 1
    assert not PortalAccount.objects.exists()


def test_lock_ends_after_thirty_minutes(customer_x):
    import time_machine

    from kefu.portal.tests.conftest import L

    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False):
        ch = services.link_start(company=customer_x.company, account_no="100001", phone="13800138000")
        for _n in range(5):
            with pytest.raises(DomainError):
                services.link_verify(challenge_id=ch.pk, code="111111")
    with time_machine.travel(L(2026, 3, 2, 10, 31), tick=False):
        done = sign_in(customer_x, "13800138000")
        assert done.session.account.customer_id == customer_x.pk


def test_expired_code_is_refused(customer_x):
    import time_machine

    from kefu.portal.tests.conftest import L

    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False):
        ch = services.link_start(company=customer_x.company, account_no="100001", phone="13800138000")
    with time_machine.travel(L(2026, 3, 2, 10, 11), tick=False):
        with pytest.raises(DomainError) as exc:
            services.link_verify(challenge_id=ch.pk, code=CODE)
    assert exc.value.code == "expired"


def test_codes_per_customer_are_limited(customer_x):
    for _n in range(rules.CODES_PER_CUSTOMER_HOUR):
        services.link_start(company=customer_x.company, account_no="100001", phone="13800138000")
    with pytest.raises(services.TooMany):
        services.link_start(company=customer_x.company, account_no="100001", phone="13800138000")


def test_codes_per_address_are_limited(customer_x, neighbour_x, monkeypatch):
    monkeypatch.setattr(rules, "CODES_PER_ADDRESS_HOUR", 3)
    for _n in range(3):
        services.link_start(
            company=customer_x.company, account_no="100001", phone="13800138000", source_ip="10.0.0.9"
        )
    with pytest.raises(services.TooMany):
        services.link_start(
            company=customer_x.company, account_no="100002", phone="13900139000", source_ip="10.0.0.9"
        )


def test_session_ends_when_idle_and_on_logout(customer_x):
    import time_machine

    from kefu.portal.tests.conftest import L

    with time_machine.travel(L(2026, 3, 2, 10, 0), tick=False):
        done = sign_in(customer_x, "13800138000")
    with time_machine.travel(L(2026, 3, 2, 10, 29), tick=False):
        assert services.session_for_token(done.token) is not None
    with time_machine.travel(L(2026, 3, 2, 11, 0), tick=False):
        assert services.session_for_token(done.token) is None
        done2 = sign_in(customer_x, "13800138000")
        services.session_end(session=done2.session)
        assert services.session_for_token(done2.token) is None


def test_the_portal_session_is_not_a_staff_login(client, signed_in):
    """A portal token opens neither the staff pages nor the staff API."""
    client.cookies[rules.COOKIE] = signed_in.token
    assert client.get("/tickets/").status_code == 302  # to the staff log-in
    r = client.get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Bearer {signed_in.token}")
    assert r.status_code == 401


def test_the_access_log_is_append_only(signed_in):
    row = PortalAccess.objects.first()
    with pytest.raises(PermissionError):
        row.save()
