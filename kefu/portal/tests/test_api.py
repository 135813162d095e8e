"""/api/v1/portal/: linking gives the customer's own token; with it only the customer's own records
(another customer's work order is 404); staff tokens and sessions are not accepted."""

from __future__ import annotations

import json

import pytest

from kefu.portal.models import PortalAccess
from kefu.portal.tests.conftest import CODE, sign_in
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _post(client, url, data, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def _get(client, url, token):
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_link_and_use_the_token(client, customer_x, published):
    r = _post(
        client, "/api/v1/portal/link/start", {"company": "x", "account_no": "100001", "phone": "13800138000"}
    )
    assert r.status_code == 200 and r.json()["phone"] == "138****8000"
    wrong = _post(
        client, "/api/v1/portal/link/verify", {"challenge_id": r.json()["challenge_id"], "code": "1"}
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_code"
    ok = _post(client, "/api/v1/portal/link/verify", {"challenge_id": r.json()["challenge_id"], "code": CODE})
    token = ok.json()["token"]
    me = _get(client, "/api/v1/portal/me", token).json()
    assert me["account_no"] == "100001" and me["phone"] == "138****8000"
    safety = _get(client, "/api/v1/portal/leak/safety", token).json()
    assert safety["hotline"] == "0538-96777" and "119" == safety["fire"]
    leak = _post(client, "/api/v1/portal/leaks", {"content": "楼道有煤气味", "idempotency_key": "z1"}, token)
    assert leak.status_code == 201 and leak.json()["safety"]["steps"][0].startswith("立即关闭")
    t = Ticket.objects.get()
    assert t.kind.code == "emergency" and t.channel == "portal"
    detail = _get(client, f"/api/v1/portal/tickets/{t.pk}", token).json()
    assert detail["number"] == t.number and detail["steps"][0]["text"].startswith("已受理")
    assert [x["number"] for x in _get(client, "/api/v1/portal/tickets", token).json()] == [t.number]
    c = _get(client, "/api/v1/portal/commitments", token).json()
    assert any(x["spec_id"] == "C8" for x in c["commitments"]) and c["results"] == []
    assert c["results_note"]
    assert PortalAccess.objects.filter(channel="api", action="orders.view").exists()
    assert _post(client, "/api/v1/portal/logout", {}, token).status_code == 204
    assert _get(client, "/api/v1/portal/me", token).status_code == 401


def test_another_customers_work_order_is_404(client, customer_x, neighbour_x):
    from kefu.portal import services

    mine = sign_in(customer_x, "13800138000")
    theirs = sign_in(neighbour_x, "13900139000")
    t = services.fault_report(account=theirs.session.account, fault="repair:meter", content="表不走字")
    r = _get(client, f"/api/v1/portal/tickets/{t.pk}", mine.token)
    assert r.status_code == 404 and t.number not in r.content.decode()
    r = _post(
        client,
        f"/api/v1/portal/tickets/{t.pk}/rating",
        {"attitude_score": 10, "ability_score": 10, "satisfied": True},
        mine.token,
    )
    assert r.status_code == 404


def test_staff_credentials_are_not_a_customer_token(client, agent_x, customer_x):
    from kefu.accounts.services import token_create

    _row, raw = token_create(user=agent_x, name="t", scopes=["read"])
    assert _get(client, "/api/v1/portal/me", raw).status_code == 401
    client.force_login(agent_x)
    assert client.get("/api/v1/portal/me").status_code == 401


def test_fault_and_booking_errors_are_4xx(client, customer_x):
    token = sign_in(customer_x, "13800138000").token
    r = _post(client, "/api/v1/portal/faults", {"fault": "nonsense", "content": "x"}, token)
    assert r.status_code == 400
    r = _post(client, "/api/v1/portal/appointments", {"purpose": "inspection", "slot_id": 999}, token)
    assert r.status_code == 400 and not Ticket.objects.exists()
    assert _get(client, "/api/v1/portal/slots?purpose=repair", token).json() == []
    r = _post(client, "/api/v1/portal/faults", {"fault": "repair:meter", "content": "表不走字"}, token)
    assert r.status_code == 201


def test_unknown_company_and_locked_link(client, customer_x):
    r = _post(client, "/api/v1/portal/link/start", {"company": "nope", "account_no": "1", "phone": "1"})
    assert r.status_code == 404
    start = _post(
        client, "/api/v1/portal/link/start", {"company": "x", "account_no": "100001", "phone": "13800138000"}
    )
    cid = start.json()["challenge_id"]
    codes = [
        _post(client, "/api/v1/portal/link/verify", {"challenge_id": cid, "code": "999999"}).json()["code"]
        for _n in range(6)
    ]
    assert codes == ["wrong_code"] * 4 + ["locked", "locked"]
