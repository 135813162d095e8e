"""The work-order API: create (idempotent), get, list/search with counts, transition, comment, reply,
hand-over and accept, link — and a 4xx JSON for every bad input."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.accounts.models import AuditEvent
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db
BASE = "/api/v1/tickets/"


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


REPAIR = {
    "kind": "repair",
    "sub_kind": "meter",
    "content": "燃气表不走字",
    "caller_surname": "张",
    "caller_title": "mr",
    "caller_phone": "138-0013-8000",
    "address": "幸福小区3号楼2单元501室",
}


def test_create_get_and_idempotency_header(agent_x):
    c = client_for(agent_x)
    r = c.post(BASE, REPAIR, content_type="application/json", headers={"Idempotency-Key": "pbx-call-77"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["created"] and body["state"] == "new" and body["owner"]["id"] == agent_x.pk
    assert body["caller_phone"] == "138****8000"  # masked by default (S2)
    assert body["salutation"] == "张先生"
    again = c.post(BASE, REPAIR, content_type="application/json", headers={"Idempotency-Key": "pbx-call-77"})
    assert again.status_code == 200 and again.json()["id"] == body["id"] and again.json()["created"] is False
    assert Ticket.objects.count() == 1
    got = c.get(f"{BASE}{body['id']}")
    assert got.status_code == 200 and got.json()["number"] == body["number"]


def test_unmasked_view_needs_permission_and_is_logged(agent_x, team_lead_x):
    t = client_for(agent_x).post(BASE, REPAIR, content_type="application/json").json()
    r = client_for(agent_x).get(f"{BASE}{t['id']}?unmasked=true")
    assert r.status_code == 403 and r.json()["detail"]
    # The same service as the customer card (kefu.customers.privacy): the refusal is logged too.
    assert AuditEvent.objects.filter(
        action="auth.permission_denied", object_id=str(t["id"]), actor=agent_x
    ).exists()
    r = client_for(team_lead_x).get(f"{BASE}{t['id']}?unmasked=true")
    assert r.status_code == 200, r.json()
    assert r.json()["caller_phone"] == "13800138000"
    assert AuditEvent.objects.filter(
        action="privacy.unmasked_view", object_id=str(t["id"]), actor=team_lead_x
    ).exists()


@pytest.mark.parametrize(
    "payload,status,field",
    [
        ({**REPAIR, "caller_phone": ""}, 400, "caller_phone"),
        ({**REPAIR, "address": ""}, 400, "address"),
        ({**REPAIR, "kind": "bogus"}, 400, "kind"),
        ({**REPAIR, "channel": "fax"}, 422, None),
        ({"content": "x"}, 422, None),
        ({**REPAIR, "received_at": "2020-01-01T00:00:00+08:00"}, 403, None),
    ],
)
def test_create_bad_inputs_are_4xx(agent_x, payload, status, field):
    r = client_for(agent_x).post(BASE, payload, content_type="application/json")
    assert r.status_code == status, r.content
    body = r.json()
    assert body["detail"]
    if field:
        assert body["field"] == field


def test_malformed_json_is_4xx(agent_x):
    r = client_for(agent_x).post(BASE, "{not json", content_type="application/json")
    assert 400 <= r.status_code < 500


def test_duplicate_returns_409_with_list(agent_x, customer_x):
    c = client_for(agent_x)
    first = c.post(
        BASE,
        {"kind": "repair", "content": "表不走", "customer_id": customer_x.pk},
        content_type="application/json",
    )
    assert first.status_code == 201
    dup = c.post(
        BASE,
        {"kind": "repair", "content": "表还是不走", "customer_id": customer_x.pk},
        content_type="application/json",
    )
    assert dup.status_code == 409
    assert dup.json()["code"] == "duplicate" and dup.json()["duplicates"][0]["id"] == first.json()["id"]
    forced = c.post(
        BASE,
        {
            "kind": "repair",
            "content": "表还是不走",
            "customer_id": customer_x.pk,
            "link_to_id": first.json()["id"],
            "link_kind": "duplicate_of",
        },
        content_type="application/json",
    )
    assert forced.status_code == 201


def test_list_filters_search_pagination_counts(agent_x, agent2_x):
    c = client_for(agent_x)
    ids = [
        c.post(
            BASE,
            {**REPAIR, "content": f"第{i}次 燃气表不走字", "address": f"幸福小区{i}号楼"},
            content_type="application/json",
        ).json()["id"]
        for i in range(5)
    ]
    c2 = client_for(agent2_x)
    c2.post(
        BASE,
        {
            "kind": "consultation",
            "content": "咨询阶梯气价",
            "caller_phone": "13911112222",
            "resolved_on_call": True,
            "answer": "按月累计用气量分档",
        },
        content_type="application/json",
    )
    r = c.get(BASE, {"page_size": 2})
    body = r.json()
    assert body["count"] == 6 and body["pages"] == 3 and len(body["items"]) == 2
    assert body["counts_by_state"]["new"] == 5 and body["counts_by_state"]["resolved"] == 1
    assert c.get(BASE, {"state": "resolved"}).json()["count"] == 1
    assert c.get(BASE, {"owner_id": agent2_x.pk}).json()["count"] == 1
    assert c.get(BASE, {"kind": "consultation"}).json()["count"] == 1
    assert c.get(BASE, {"phone": "139 1111 2222"}).json()["count"] == 1
    assert c.get(BASE, {"content": "第3次"}).json()["items"][0]["id"] == ids[3]
    assert c.get(BASE, {"address": "幸福小区4号楼"}).json()["items"][0]["id"] == ids[4]
    number = c.get(f"{BASE}{ids[2]}").json()["number"]
    assert c.get(BASE, {"number": number}).json()["items"][0]["id"] == ids[2]
    assert c.get(BASE, {"q": number}).json()["count"] == 1
    assert c.get(BASE, {"q": "阶梯气价"}).json()["count"] == 1
    assert c.get(BASE, {"channel": "hotline", "open_only": True}).json()["count"] == 5
    assert c.get(BASE, {"page_size": 1000}).status_code == 422
    assert c.get(BASE, {"date_from": "2026-02-02", "date_to": "2026-01-01"}).status_code == 400
    assert c.get(BASE, {"date_from": "not-a-date"}).status_code == 422


def test_transition_conflict_comment_reply_link(agent_x):
    c = client_for(agent_x)
    t = c.post(BASE, REPAIR, content_type="application/json").json()
    u = f"{BASE}{t['id']}"
    r = c.post(f"{u}/transition", {"to": "in_progress", "version": 1}, content_type="application/json")
    assert r.status_code == 200 and r.json()["version"] == 2
    stale = c.post(f"{u}/transition", {"to": "resolved", "version": 1}, content_type="application/json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    illegal = c.post(f"{u}/transition", {"to": "closed", "version": 2}, content_type="application/json")
    assert illegal.status_code == 400 and "不能改为" in illegal.json()["detail"]
    assert (
        c.post(f"{u}/comment", {"text": "内部：已通知维修班"}, content_type="application/json").status_code
        == 201
    )
    assert (
        c.post(
            f"{u}/reply", {"text": "师傅下午到", "via": "sms"}, content_type="application/json"
        ).status_code
        == 201
    )
    assert c.post(f"{u}/comment", {"text": ""}, content_type="application/json").status_code == 400
    other = c.post(BASE, {**REPAIR, "address": "别处"}, content_type="application/json").json()
    r = c.post(
        f"{u}/links", {"target_id": other["id"], "kind": "follow_up_of"}, content_type="application/json"
    )
    assert r.status_code == 201
    events = c.get(f"{u}/events").json()
    assert [e["kind"] for e in events] == ["created", "state_changed", "comment", "reply", "linked"]
    assert (
        c.post(f"{u}/called-again", {"note": "催"}, content_type="application/json").json()[
            "called_again_count"
        ]
        == 1
    )


def test_hand_over_and_accept_via_api(agent_x, agent2_x):
    t = client_for(agent_x).post(BASE, REPAIR, content_type="application/json").json()
    r = client_for(agent_x).post(
        f"{BASE}{t['id']}/hand-over",
        {"to_user_id": agent2_x.pk, "reason": "交班"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    ho = r.json()
    pending = client_for(agent2_x).get(f"{BASE}hand-overs/pending").json()
    assert [p["id"] for p in pending] == [ho["id"]]
    assert client_for(agent_x).post(f"{BASE}hand-overs/{ho['id']}/accept").status_code == 403
    acc = client_for(agent2_x).post(f"{BASE}hand-overs/{ho['id']}/accept")
    assert acc.status_code == 200 and acc.json()["owner"]["id"] == agent2_x.pk
    assert client_for(agent2_x).post(f"{BASE}hand-overs/999999/accept").status_code == 404


def test_other_company_gets_404_and_anonymous_401(agent_x, agent_y):
    t = client_for(agent_x).post(BASE, REPAIR, content_type="application/json").json()
    c = client_for(agent_y)
    assert c.get(f"{BASE}{t['id']}").status_code == 404
    assert (
        c.post(f"{BASE}{t['id']}/comment", {"text": "x"}, content_type="application/json").status_code == 404
    )
    assert c.get(BASE).json()["count"] == 0
    assert Client().get(BASE).status_code == 401


def test_kinds_endpoint(agent_x):
    kinds = client_for(agent_x).get(f"{BASE}kinds").json()
    repair = next(k for k in kinds if k["code"] == "repair")
    assert repair["requires_address"] and repair["name"] == "维修"


def test_token_auth_create(agent_x):
    from kefu.accounts.services import token_create

    _, raw = token_create(user=agent_x, name="pbx", scopes=["read", "write"])
    c = Client()
    r = c.post(
        BASE,
        REPAIR,
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "k1"},
    )
    assert r.status_code == 201
    r = c.post(
        BASE,
        REPAIR,
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "k1"},
    )
    assert r.status_code == 200


def test_openapi_has_examples():
    from kefu.api import api

    schema = api.get_openapi_schema()
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/tickets/")]
    assert "/api/v1/tickets/{ticket_id}/transition" in paths
    create_schema = schema["components"]["schemas"]["TicketCreateIn"]
    assert create_schema.get("examples")


def test_nul_characters_are_4xx_not_5xx(agent_x):
    """PostgreSQL cannot store NUL: refused (create) or ignored (search) on both databases."""
    c = client_for(agent_x)
    r = c.post(BASE, {**REPAIR, "content": "燃气\x00表"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "content"
    r = c.post(BASE, REPAIR, content_type="application/json", headers={"Idempotency-Key": "a\x00b"})
    assert r.status_code == 400
    assert c.get(BASE, {"content": "燃\x00气", "kind": "re\x00pair", "q": "\x00"}).status_code == 200
