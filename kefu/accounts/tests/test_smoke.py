"""Smoke: the shell starts, log-in works, the API answers with JSON errors."""

import pytest

from kefu.accounts.tests.factories import TEST_PASSWORD


@pytest.mark.django_db
def test_login_and_home(client, agent_x):
    r = client.post("/accounts/login/", {"username": "agent_x", "password": TEST_PASSWORD})
    assert r.status_code == 302
    r = client.get("/")
    assert r.status_code == 200
    assert "您好" in r.content.decode()


@pytest.mark.django_db
def test_api_me_requires_auth(client):
    r = client.get("/api/v1/accounts/me")
    assert r.status_code == 401
    assert r.json()["detail"]
