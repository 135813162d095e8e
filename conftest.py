"""Test-wide fixtures: personas of two companies (S2: the one of company Y must see nothing of X)."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

# No per-example deadline: timings do not belong in unit tests (a loaded CI machine made a pure
# formula property "flaky" at Hypothesis's default 200 ms).
hypothesis_settings.register_profile("kefu", deadline=None)
hypothesis_settings.load_profile("kefu")


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"kefu test database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('HOST') or db['NAME']})"


@pytest.fixture
def company_x(db):
    from kefu.accounts.tests.factories import CompanyFactory

    return CompanyFactory(code="x", name="X市燃气有限公司", short_name="X燃气")


@pytest.fixture
def company_y(db):
    from kefu.accounts.tests.factories import CompanyFactory

    return CompanyFactory(code="y", name="Y市燃气有限公司", short_name="Y燃气")


@pytest.fixture
def agent_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="agent", username="agent_x")


@pytest.fixture
def supervisor_x(company_x):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_x, role="supervisor", username="supervisor_x")


@pytest.fixture
def agent_y(company_y):
    from kefu.accounts.tests.factories import UserFactory

    return UserFactory(company=company_y, role="agent", username="agent_y")


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _huey_immediate(settings):
    """Jobs run inline in tests (the real worker is tested separately where it matters)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield


@pytest.fixture(autouse=True)
def _empty_django_cache():
    """Django's cache (per process) holds rate-limit slots keyed by user ids, which rolled-back tests
    reuse (e.g. the refusal audit's one row per actor and minute): every test starts with it empty."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """A request in English (LocaleMiddleware) leaves English active in the thread after it: every
    test starts, and ends, in the default language (labels compared as text depend on it)."""
    from django.utils import translation

    translation.activate(settings_language())
    yield
    translation.activate(settings_language())


def settings_language() -> str:
    from django.conf import settings

    return settings.LANGUAGE_CODE


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Per-process caches (kefu.core.caching) are keyed by row ids, which rolled-back tests reuse: every
    test starts with them empty."""
    from kefu.core.caching import forget_all

    forget_all()
    yield


# Argon2 (production's first hasher, S1) costs ~50 ms per hash or check; every persona of every test
# gets a password, so the suite hashes with MD5 instead. Test-only: production settings are checked to
# keep Argon2 first (kefu/accounts/tests/test_settings_hashers.py).
TEST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _use_fast_password_hasher():
    from django.test.utils import override_settings

    # override_settings sends setting_changed, which empties Django's cache of hashers.
    override_settings(PASSWORD_HASHERS=TEST_PASSWORD_HASHERS).enable()


def pytest_configure(config):
    """Transactional tests end with Django's flush, which empties every table — including the
    append-only ones the database otherwise refuses to delete from: the audit log (accounts
    migrations 0002/0003) and the work-order timeline (tickets migration 0004). Their triggers read
    one switch, so the flush alone runs inside `audit_purge_for_tests()` and nothing else is needed
    for a new append-only table that reads the same flag."""
    from django.test import testcases

    original = testcases.TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        from kefu.accounts.audit import audit_purge_for_tests

        with audit_purge_for_tests():
            return original(self)

    testcases.TransactionTestCase._fixture_teardown = _fixture_teardown
    _use_fast_password_hasher()


@pytest.fixture
def keep_test_connection():
    """Tests that call the WSGI app directly (schemathesis) must stop Django from closing the test's
    database connection at the end of each request — on PostgreSQL that would end the test transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    """The system Chromium (Debian package) driven by Playwright — no browser download.

    Skipped where Chromium is missing, except under CI, where a missing browser fails the run.
    """
    import os
    import shutil

    executable = (
        os.environ.get("KEFU_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not executable:
        if os.environ.get("CI"):
            pytest.fail("Chromium not found; CI must run the browser tests (scripts/ensure-chromium.sh)")
        pytest.skip("Chromium not found")
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls are in another.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
