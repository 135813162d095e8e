"""Fixtures for the accounts and security tests: more personas (administrators and auditors of both
companies), a frozen clock, and a helper that marks a session as having passed the second factor."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock(time_machine):
    """The clock frozen at T0 (a Monday morning); tests move it with clock.shift(timedelta)."""
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture
def admin_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="admin", username="admin_x", is_staff=True)


@pytest.fixture
def admin_y(company_y):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_y, role="admin", username="admin_y", is_staff=True)


@pytest.fixture
def auditor_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="auditor", username="auditor_x")


@pytest.fixture
def auditor_y(company_y):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_y, role="auditor", username="auditor_y")


def verified_client(client, user):
    """Log `user` in and mark the session as having passed TOTP (a confirmed device exists)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="test", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
