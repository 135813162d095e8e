"""Customer API (issue 2 items 5, 6, 9): lookup, card (masked / unmasked and logged), create and
update with optimistic locking; errors are 4xx JSON with a Chinese message, never a 500."""

from __future__ import annotations

import pytest

from kefu.accounts.models import ApiToken, AuditEvent
from kefu.accounts.services import token_create
from kefu.customers.tests.test_customer_services import new_customer, seed_categories

BASE = "/api/v1/customers"


def auth(user, *, write: bool = False) -> dict:
    scopes = [ApiToken.Scope.WRITE] if write else [ApiToken.Scope.READ]
    raw = token_create(user=user, name=f"t-{user.pk}-{write}", scopes=scopes)[1]
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def zhang(supervisor_x):
    return new_customer(supervisor_x, phones=[{"number": "13812345678"}])


def test_lookup_by_phone(client, agent_x, zhang):
    r = client.get(f"{BASE}/lookup", {"q": "+86 138 1234 5678"}, **auth(agent_x))
    assert r.status_code == 200
    body = r.json()
    assert [(c["customer_id"], c["match"], c["name_masked"], c["phone_masked"]) for c in body] == [
        (zhang.pk, "phone", "张**", "138****5678")
    ]


def test_lookup_other_company_sees_nothing(client, agent_y, zhang):
    r = client.get(f"{BASE}/lookup", {"q": "13812345678"}, **auth(agent_y))
    assert (r.status_code, r.json()) == (200, [])


def test_lookup_needs_authentication(client, zhang):
    r = client.get(f"{BASE}/lookup", {"q": "13812345678"})
    assert r.status_code == 401
    assert r.json()["detail"]


def test_lookup_refused_for_auditor(client, company_x, zhang):
    from kefu.accounts.tests.factories import UserFactory

    auditor = UserFactory(company=company_x, role="auditor")
    r = client.get(f"{BASE}/lookup", {"q": "13812345678"}, **auth(auditor))
    assert r.status_code == 403
    assert "无权" in r.json()["detail"]


@pytest.mark.parametrize("params", [{}, {"q": "x" * 101}, {"q": "1", "limit": 0}, {"q": "1", "limit": "abc"}])
def test_lookup_bad_parameters_are_422(client, agent_x, params):
    r = client.get(f"{BASE}/lookup", params, **auth(agent_x))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid"


def test_card_masked(client, agent_x, zhang):
    r = client.get(f"{BASE}/{zhang.pk}", **auth(agent_x))
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "张**"
    assert body["phones"][0]["number"] == "138****5678"
    assert body["unmasked"] is False
    assert body["version"] == 1


def test_card_unmasked_agent_forbidden(client, agent_x, zhang):
    r = client.get(f"{BASE}/{zhang.pk}", {"unmasked": "true"}, **auth(agent_x))
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    assert not AuditEvent.objects.filter(action="privacy.unmasked_view").exists()


def test_card_unmasked_supervisor_logged(client, supervisor_x, zhang):
    r = client.get(f"{BASE}/{zhang.pk}", {"unmasked": "true"}, **auth(supervisor_x), REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 200
    assert r.json()["name"] == "张三丰"
    row = AuditEvent.objects.get(action="privacy.unmasked_view")
    assert (row.actor_id, row.object_id, row.source_ip) == (supervisor_x.pk, str(zhang.pk), "10.1.2.3")


@pytest.mark.parametrize("cid", ["999999", "0", "-1", "abc", str(2**70)])
def test_card_bad_or_unknown_id_is_4xx(client, agent_x, cid):
    r = client.get(f"{BASE}/{cid}", **auth(agent_x))
    assert 400 <= r.status_code < 500
    assert r.json()["detail"]


def test_card_other_company_is_404(client, agent_y, zhang):
    r = client.get(f"{BASE}/{zhang.pk}", **auth(agent_y))
    assert r.status_code == 404


def test_create_and_update(client, supervisor_x):
    seed_categories(supervisor_x.company)
    h = auth(supervisor_x, write=True)
    payload = {
        "account_no": "10023456",
        "name": "李四",
        "category": "居民",
        "phones": [{"number": "+86 139-1234-5678"}, {"number": "620 1234", "label": "家里"}],
        "address": "泰山区岱宗大街幸福小区3号楼2单元501室",
    }
    r = client.post(f"{BASE}/", payload, content_type="application/json", **h)
    assert r.status_code == 201, r.content
    card = r.json()
    assert card["name"] == "李*" and card["version"] == 1
    assert [p["number"] for p in card["phones"]] == ["139****5678", "0538*****34"]
    cid = card["customer_id"]

    r = client.post(f"{BASE}/", payload, content_type="application/json", **h)
    assert r.status_code == 409 and r.json()["field"] == "account_no"

    r = client.patch(
        f"{BASE}/{cid}",
        {"version": 1, "status": "suspended", "status_reason": "停气"},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["version"]) == ("suspended", 2)

    r = client.patch(f"{BASE}/{cid}", {"version": 1, "name": "王五"}, content_type="application/json", **h)
    assert r.status_code == 409
    assert "刷新" in r.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"account_no": "1", "name": "x", "category": "居民", "phones": [{"number": "123"}]},
        {"account_no": "1", "name": "x", "category": "没有"},
        {"account_no": "", "name": "x", "category": "居民"},
        {"account_no": "1", "name": "x\x00y", "category": "居民", "phones": "13812345678"},
        {"account_no": "1", "name": "x", "category": "居民", "status": "deleted"},
        {"account_no": "1" * 31, "name": "x", "category": "居民"},
    ],
)
def test_create_bad_payloads_are_4xx(client, supervisor_x, payload):
    seed_categories(supervisor_x.company)
    r = client.post(f"{BASE}/", payload, content_type="application/json", **auth(supervisor_x, write=True))
    assert r.status_code in (400, 422), r.content
    assert r.json()["detail"]


def test_create_by_agent_is_403(client, agent_x):
    seed_categories(agent_x.company)
    r = client.post(
        f"{BASE}/",
        {"account_no": "1", "name": "x", "category": "居民"},
        content_type="application/json",
        **auth(agent_x, write=True),
    )
    assert r.status_code == 403


def test_read_only_token_cannot_write(client, supervisor_x):
    seed_categories(supervisor_x.company)
    r = client.post(
        f"{BASE}/",
        {"account_no": "1", "name": "x", "category": "居民"},
        content_type="application/json",
        **auth(supervisor_x),
    )
    assert r.status_code == 403


def test_nul_in_query_is_harmless(client, agent_x, zhang):
    r = client.get(f"{BASE}/lookup", {"q": "138\x0012345678"}, **auth(agent_x))
    assert r.status_code == 200


def test_care_register(client, agent_x, zhang):
    r = client.post(
        f"{BASE}/{zhang.pk}/care",
        {"needs": ["老"], "consent_on": "2026-01-05", "consent_by": "张三丰"},
        content_type="application/json",
        **auth(agent_x, write=True),
    )
    assert r.status_code == 201, r.content
    assert r.json()["needs"] == ["老"]
    r = client.get(f"{BASE}/lookup", {"q": "13812345678"}, **auth(agent_x))
    assert r.json()[0]["care_needs"] == ["老"]


def test_openapi_documents_the_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers/lookup" in schema["paths"]
    assert schema["paths"]["/api/v1/customers/lookup"]["get"]["summary"].startswith("来电查询")


def test_patch_null_phones_keeps_them(client, supervisor_x, zhang):
    h = auth(supervisor_x, write=True)
    r = client.patch(
        f"{BASE}/{zhang.pk}",
        {"version": 1, "phones": None, "notes": None},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 200, r.content
    assert [p["number"] for p in r.json()["phones"]] == ["138****5678"]


@pytest.mark.parametrize(
    "body",
    [
        {"version": 0},
        {"version": "x"},
        {},
        {"version": 1, "phones": [{"number": "1"}]},
        {"version": 1, "status": "gone"},
    ],
)
def test_patch_bad_bodies_are_4xx(client, supervisor_x, zhang, body):
    r = client.patch(
        f"{BASE}/{zhang.pk}", body, content_type="application/json", **auth(supervisor_x, write=True)
    )
    assert r.status_code in (400, 422), r.content
