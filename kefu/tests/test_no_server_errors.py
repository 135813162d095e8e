"""Inputs that once gave a 500 (hardening review): each must be a 4xx with a message (API errors are
JSON), on SQLite and PostgreSQL. In production an unexpected API error is JSON too, never an HTML
page."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_create
from kefu.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    """A test client that returns a 500 as a response instead of raising (what a real client sees)."""

    def make(user, *, write=True):
        token = token_create(user=user, name="t", scopes=[ApiToken.Scope.WRITE] if write else [])[1]
        return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")

    return make


@pytest.fixture
def admin_x(company_x):
    return UserFactory(company=company_x, role="admin", username="admin_x", is_staff=True)


@pytest.fixture
def auditor_x(company_x):
    return UserFactory(company=company_x, role="auditor", username="auditor_x")


@pytest.fixture
def make_ticket(agent_x):
    from kefu.tickets.services import ticket_create

    def make():
        return ticket_create(
            by=agent_x,
            kind="consultation",
            content="咨询燃气开户需要什么材料",
            caller_surname="张",
            caller_title="mr",
            caller_phone="13900001111",
            on_duplicate="create",
        ).ticket

    return make


def _is_4xx_with_message(r) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.content[:300])
    if r["Content-Type"].startswith("application/json"):
        assert json.loads(r.content)["detail"]


@pytest.mark.parametrize("role", ["admin_x", "auditor_x"])
def test_text_search_by_a_role_without_work_orders(api, role, request):
    r = api(request.getfixturevalue(role)).get("/api/v1/tickets/", {"q": "abc"})
    assert r.status_code in (200, 403), r.content[:300]
    if r.status_code == 403:
        _is_4xx_with_message(r)


def test_body_over_ten_megabytes_is_413(api, supervisor_x):
    body = b'{"name": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    r = api(supervisor_x).post("/api/v1/accounts/tokens", body, content_type="application/json")
    assert r.status_code == 413
    _is_4xx_with_message(r)


@pytest.mark.parametrize("path", ["/api/v1/imports/", "/api/v1/tickets/1/attachments"])
def test_multipart_without_boundary(api, supervisor_x, path):
    r = api(supervisor_x).post(path, b"--x\r\n", content_type="multipart/form-data")
    _is_4xx_with_message(r)


def test_lone_surrogate_in_a_token_name(api, supervisor_x):
    r = api(supervisor_x).post(
        "/api/v1/accounts/tokens", b'{"name": "a\\ud800b"}', content_type="application/json"
    )
    _is_4xx_with_message(r)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/accounts/tokens", b'{"name": "a\\u0000b"}', "name"),
        (
            "/api/v1/field/jobs/1/complete",
            b'{"client_id": "c\\u0000", "cause": "x", "measures": "y"}',
            "client_id",
        ),
        ("/api/v1/field/jobs/1/complete", b'{"lines": [{"code": "\\u0000"}]}', "lines.code"),
    ],
)
def test_nul_anywhere_in_a_body_is_refused_by_name(api, supervisor_x, path, body, field):
    """PostgreSQL cannot store NUL: the parser refuses it before any view runs, and nothing is kept."""
    client = api(supervisor_x)
    tokens = ApiToken.objects.count()
    r = client.post(path, body, content_type="application/json")
    assert r.status_code == 400, r.content[:300]
    assert json.loads(r.content)["field"] == field
    assert ApiToken.objects.count() == tokens


def test_nul_in_a_query_string_is_dropped(api, supervisor_x):
    """A filter stores nothing: "a\\x00b" searches for "ab" on both databases."""
    r = api(supervisor_x).get("/api/v1/tickets/", {"q": "a\x00b"})
    assert r.status_code == 200


@pytest.mark.parametrize("year", ["-1", "0", "10000", "99999999999"])
def test_calendar_override_year_out_of_range(api, admin_x, year):
    r = api(admin_x).get("/api/v1/sla/overrides", {"year": year})
    _is_4xx_with_message(r)


@pytest.mark.parametrize("opens", ["08:00:00+08:00", "08:00Z"])
def test_business_hours_with_an_offset(api, admin_x, opens):
    r = api(admin_x).put(
        "/api/v1/sla/business-hours",
        {"opens_at": opens, "closes_at": "17:00:00"},
        content_type="application/json",
    )
    _is_4xx_with_message(r)


def test_nul_in_audit_search_filters(auditor_x):
    from kefu.accounts.tests.conftest import verified_client

    c = verified_client(Client(raise_request_exception=False), auditor_x)
    for field in ("actor", "action", "object", "ip", "result"):
        r = c.get("/accounts/audit/", {field: "a\x00b"})
        assert r.status_code < 500, (field, r.status_code)


def test_nul_in_a_link_target(client, agent_x, make_ticket):
    t = make_ticket()
    c = Client(raise_request_exception=False)
    c.force_login(agent_x)
    r = c.post(f"/tickets/{t.pk}/do/link/", {"target": "GD\x001", "kind": "duplicate_of"})
    assert r.status_code < 500


@pytest.mark.parametrize("value", [str(2**64), str(2**63), "-" + str(2**64)])
def test_huge_ids_in_web_forms(agent_x, make_ticket, value):
    t = make_ticket()
    c = Client(raise_request_exception=False)
    c.force_login(agent_x)
    for action, data in [
        ("assign", {"department_id": value, "user_id": value, "version": value}),
        ("link", {"target": value, "kind": "duplicate_of"}),
        ("reassign", {"to_user_id": value, "reason": "x", "version": value}),
        ("hand_over", {"to_user_id": value, "reason": "x", "version": value}),
        ("close_children", {"reason": "x", "version": value}),
    ]:
        r = c.post(f"/tickets/{t.pk}/do/{action}/", data)
        assert r.status_code < 500, (action, r.status_code)
    r = c.post(
        "/tickets/desk/new/",
        {"customer_id": value, "link_to_id": value, "content": "x", "kind": "consultation"},
    )
    assert r.status_code < 500
    r = c.get("/tickets/", {"department_id": value, "owner_id": value})
    assert r.status_code < 500
    for path in (f"/tickets/{value.lstrip('-')}/", f"/tickets/{t.pk}/attachments/{value.lstrip('-')}/"):
        assert c.get(path).status_code == 404


def test_an_unexpected_api_error_is_json_not_an_html_page(settings, supervisor_x):
    """The API's last-resort handler (DEBUG off, as in production): a bug gives JSON 500 with a message."""
    from django.test import RequestFactory

    from kefu.api import api

    settings.DEBUG = False
    request = RequestFactory().get("/api/v1/tickets/")
    request.user = supervisor_x
    r = api.on_exception(request, RuntimeError("a bug"))
    assert r.status_code == 500 and r["Content-Type"].startswith("application/json")
    assert json.loads(r.content)["code"] == "server_error"


def test_unknown_api_path_is_json_404(settings, client):
    settings.DEBUG = False
    r = Client(raise_request_exception=False).get("/api/v1/no-such-thing/")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/json"), r.content[:200]
    assert json.loads(r.content)["detail"]
