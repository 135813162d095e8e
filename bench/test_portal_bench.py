"""Smoke test of the portal benchmark at a tiny size: the households are linked through the real
services and every page it times answers 200 with their token (no timing; the HTTP part needs a
server that sees the database, which the test database is not)."""

from __future__ import annotations

import pytest

from bench.lookup import percentile
from bench.portal_pages import PAGES, _path, prepare


@pytest.mark.django_db
def test_portal_bench_prepares_customers_who_see_every_page(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.KEFU_PORTAL_REQUESTS_PER_MINUTE = 10_000
    data, sessions = prepare(customers=40, accounts=3, seed=3)
    assert data["customers"] >= 40 and len(sessions) == 3
    token, ticket_id = sessions[0]
    for page in PAGES:
        if page.startswith("api_"):
            r = client.get(_path(page, ticket_id), HTTP_AUTHORIZATION=f"Bearer {token}")
        else:
            client.cookies["kefu_portal"] = token
            r = client.get(_path(page, ticket_id))
        assert r.status_code == 200, page
    assert percentile([1.0, 2.0, 3.0], 99) == 3.0
