"""The outage API: the wizard through the API (plan → area → approve → notify → receipts → start →
restore → close), the persona checks (an agent cannot plan, company Y sees nothing), receipts in
batches with duplicates and unknown ids, the public page switch, and 4xx with a message for bad
input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

BASE = "/api/v1/outages/"
START = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def create(c, **kw):
    body = {
        "kind": "planned",
        "reason": "管道改造",
        "area": "幸福小区",
        "planned_start": START.isoformat(),
        "planned_end": (START + timedelta(hours=8)).isoformat(),
        **kw,
    }
    return c.post(BASE, body, content_type="application/json")


@pytest.mark.django_db(transaction=True)
def test_wizard_through_the_api(
    dispatcher_x, manager_x, technician_x, agent_x, agent_y, households, commitments
):
    d, m = client_for(dispatcher_x), client_for(manager_x)
    with time_machine.travel(START - timedelta(days=4), tick=False):
        r = create(d)
        assert r.status_code == 201, r.content
        oid = r.json()["id"]
        assert create(client_for(agent_x)).status_code == 403
        assert client_for(agent_y).get(f"{BASE}{oid}").status_code == 404
        r = d.post(
            f"{BASE}{oid}/affected",
            {"method": "address", "buildings": ["幸福小区/1", "幸福小区/2"]},
            content_type="application/json",
        )
        assert r.json() == {"households": 5}
        assert d.post(f"{BASE}{oid}/approve").status_code == 403  # a dispatcher cannot approve
        assert m.post(f"{BASE}{oid}/approve").json()["state"] == "approved"
        r = d.post(f"{BASE}{oid}/notify")
        assert r.json()["sms"] == 4, r.content
        assert d.post(f"{BASE}{oid}/notify").status_code == 409
        notices = d.get(f"{BASE}{oid}/notices?channel=sms").json()
        assert all("*" in n["phone_masked"] for n in notices)
        # the console gateway delivered at once; a resent batch is counted as duplicates
        mids = [n["message_id"] for n in notices]
        payload = [
            {"message_id": mid, "status": "delivered", "at": (START - timedelta(hours=70)).isoformat()}
            for mid in mids
        ]
        r = d.post(
            f"{BASE}sms/receipts/console",
            payload + [{"message_id": "x", "status": "delivered"}],
            content_type="application/json",
        )
        assert r.json()["duplicates"] == 4 and r.json()["unknown"] == 1
        assert d.post(f"{BASE}sms/receipts/nope", [], content_type="application/json").status_code == 404
        assert (
            d.post(
                f"{BASE}sms/receipts/console", [{"status": 1}], content_type="application/json"
            ).status_code
            == 400
        )
        posted = d.get(f"{BASE}{oid}/notices?channel=posted").json()
        for p in posted:
            r = client_for(technician_x).post(f"{BASE}notices/{p['id']}/posted")
            assert r.status_code == 200, r.content
        detail = d.get(f"{BASE}{oid}").json()
        assert detail["notices_complete_at"] is not None and detail["state"] == "notified"
        clocks = d.get(f"/api/v1/sla/outages/{oid}/clocks").json()
        assert [c["state"] for c in clocks] == ["met"]
        pdf = d.get(f"{BASE}{oid}/notice.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        d, m = client_for(dispatcher_x), client_for(manager_x)  # sessions expire over days
        assert (
            d.post(
                f"{BASE}{oid}/start", {"at": START.isoformat()}, content_type="application/json"
            ).status_code
            == 200
        )
        r = client_for(agent_x).get(f"{BASE}for-caller?customer_id={households[0].pk}")
        assert "该地址在停气范围内" in r.json()[0]["message"]
        r = client_for(agent_x).post(
            f"{BASE}{oid}/calls", {"customer_id": households[0].pk}, content_type="application/json"
        )
        assert r.json()["calls"] == 1
        assert (
            d.post(f"{BASE}{oid}/steps", {}, content_type="application/json").status_code == 400
        )  # no restore notice
        d.post(f"{BASE}{oid}/restore-notice")
        r = d.post(f"{BASE}{oid}/steps", {"buildings": []}, content_type="application/json")
        assert r.json()["state"] == "restored", r.content
        assert d.post(f"{BASE}{oid}/answer-calls", {}, content_type="application/json").json() == {
            "closed": 1
        }
        assert d.post(f"{BASE}{oid}/close").json()["state"] == "closed"
    m = client_for(manager_x)
    r = m.get(f"{BASE}indicators?year=2026&month=3")
    assert r.status_code == 200 and r.json()["K2"] == {"numerator": 1, "denominator": 1}
    assert m.get(f"{BASE}indicators?year=2026&month=13").status_code == 400


@pytest.mark.django_db
def test_bad_input_is_a_4xx_with_a_message(dispatcher_x):
    d = client_for(dispatcher_x)
    r = create(d, planned_end=START.isoformat())
    assert r.status_code == 400 and r.json()["detail"]
    assert create(d, kind="nope").status_code == 400
    assert d.post(BASE, {"reason": "x"}, content_type="application/json").status_code == 422
    assert d.get(f"{BASE}999999").status_code == 404
    oid = create(d).json()["id"]
    r = d.post(
        f"{BASE}{oid}/affected", {"method": "network", "valves": ["V1"]}, content_type="application/json"
    )
    assert r.status_code == 400 and "V1" in r.json()["detail"]
    assert (
        d.post(f"{BASE}network/analyse", {"valves": []}, content_type="application/json").status_code == 400
    )
    assert d.post(f"{BASE}{oid}/notify").status_code == 400  # not approved


@pytest.mark.django_db
def test_public_page_is_off_until_the_operator_switches_it_on(manager_x, dispatcher_x, households):
    anon = Client()
    assert anon.get(f"/outages/public/{manager_x.company.code}/").status_code == 404
    assert anon.get(f"{BASE}public/{manager_x.company.code}").status_code == 404
    r = client_for(manager_x).put(f"{BASE}settings", {"public_page": True}, content_type="application/json")
    assert r.json()["public_page"] is True
    assert (
        client_for(dispatcher_x)
        .put(f"{BASE}settings", {"public_page": False}, content_type="application/json")
        .status_code
        == 403
    )
    d = client_for(dispatcher_x)
    oid = create(d).json()["id"]
    d.post(f"{BASE}{oid}/affected", {"method": "zone", "zones": ["A"]}, content_type="application/json")
    client_for(manager_x).post(f"{BASE}{oid}/approve")
    page = anon.get(f"/outages/public/{manager_x.company.code}/")
    assert page.status_code == 200 and "幸福小区" in page.content.decode()
    assert "张一" not in page.content.decode()
    assert anon.get(f"{BASE}public/{manager_x.company.code}").json()[0]["communities"] == ["幸福小区"]
