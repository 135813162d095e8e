"""The client's address behind 0, 1 or 2 trusted reverse proxies (KEFU_TRUSTED_PROXY_COUNT, S1/S3):
one function (context.client_ip) feeds the lock-out and the audit log; a forged X-Forwarded-For
cannot choose the address."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from kefu.accounts.audit import Action
from kefu.accounts.context import client_ip
from kefu.accounts.models import AuditEvent, Lockout
from kefu.accounts.tests.factories import TEST_PASSWORD

PROXY = "10.0.0.254"


def _ip(settings, hops: int, forwarded: str | None, remote: str = PROXY) -> str | None:
    settings.KEFU_TRUSTED_PROXY_COUNT = hops
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


@pytest.mark.parametrize(
    "hops, forwarded, expected",
    [
        (0, None, PROXY),
        (0, "203.0.113.7", PROXY),  # not behind a proxy: the header is the client's word, ignored
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # forged entry on the left is ignored
        (1, None, PROXY),
        (2, "203.0.113.7, 10.0.0.1", "203.0.113.7"),
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.1", "203.0.113.7"),
        (2, "203.0.113.7", PROXY),  # shorter than the proxy chain: not from the proxies
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, hops, forwarded, expected):
    assert _ip(settings, hops, forwarded) == expected


def test_garbage_remote_addr_is_no_address(settings):
    assert _ip(settings, 0, None, remote="") is None


def test_setting_is_read_from_the_environment(monkeypatch):
    import importlib

    from kefu import settings as kefu_settings

    monkeypatch.setenv("KEFU_TRUSTED_PROXY_COUNT", "2")
    try:
        assert importlib.reload(kefu_settings).KEFU_TRUSTED_PROXY_COUNT == 2
    finally:
        monkeypatch.delenv("KEFU_TRUSTED_PROXY_COUNT")
        importlib.reload(kefu_settings)


@pytest.mark.django_db
def test_behind_one_proxy_lockout_and_audit_use_the_client_address(settings, client, agent_x, supervisor_x):
    """Five bad log-ins by one client behind the proxy lock that client's address, not the proxy's:
    another person behind the same proxy still logs in, and the audit rows name the clients."""
    settings.KEFU_TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        client.post(
            "/accounts/login/",
            {"username": "nobody", "password": "x"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1",  # 1.2.3.4 is forged by the client
        )
    assert set(Lockout.objects.filter(kind="address").values_list("key", flat=True)) == {"198.51.100.1"}
    r = client.post(
        "/accounts/login/",
        {"username": "agent_x", "password": TEST_PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )
    assert r.status_code == 302
    assert AuditEvent.objects.get(action=Action.LOGIN).source_ip == "198.51.100.2"
    assert set(AuditEvent.objects.filter(action=Action.LOGIN_FAILED).values_list("source_ip", flat=True)) == {
        "198.51.100.1"
    }
