"""The counter's screens and API end to end (P11, P12): the greeter gives a number, the clerk calls,
serves and finishes at the window, the customer rates on their phone, the clerk takes a payment and
prints the receipt, closes the day, and finance receives it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from kefu.accounts.tests.conftest import verified_client
from kefu.counter.models import DailyBalance, Payment, QueueStatus, QueueTicket

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_screens_from_the_number_to_the_receipt(clerk_x, hall_x, types_x, windows_x):
    c = _client(clerk_x)
    assert c.get("/counter/").status_code == 200
    r = c.post(
        f"/counter/h/{hall_x.pk}/greeter/",
        {"action": "take", "business_type": types_x["C"].pk, "window": "auto"},
    )
    assert r.status_code == 302
    t = QueueTicket.objects.get()
    page = c.get(r["Location"]).content.decode()
    assert "C001" in page and f"/counter/t/{t.token}/" in page
    w = windows_x[1]
    assert c.post(f"/counter/w/{w.pk}/sign-in/").status_code == 302
    c.post(f"/counter/w/{w.pk}/call/")
    board = c.get(f"/counter/h/{hall_x.pk}/display/board/").content.decode()
    assert "C001" in board and "1号窗口" in board
    c.post(f"/counter/w/{w.pk}/start/", {"ticket": t.pk})
    c.post(
        f"/counter/w/{w.pk}/service/",
        {
            "ticket": t.pk,
            "business_type": types_x["C"].pk,
            "documents": ["身份证", "房产证", "原户主证明"],
            "outcome": "on_spot",
            "note": "过户",
        },
    )
    page = c.get(f"/counter/w/{w.pk}/").content.decode()
    assert "还有其他需要办理的吗" in page
    c.post(f"/counter/w/{w.pk}/finish/", {"ticket": t.pk})  # not asked: refused
    assert QueueTicket.objects.get().status == QueueStatus.SERVING
    c.post(f"/counter/w/{w.pk}/finish/", {"ticket": t.pk, "anything_else": "1"})
    assert QueueTicket.objects.get().status == QueueStatus.DONE
    phone = Client()  # the customer's phone: no login
    assert "已办结" in phone.get(f"/counter/t/{t.token}/").content.decode()
    phone.post(f"/counter/t/{t.token}/", {"rating": "4"})
    assert QueueTicket.objects.get().rating == 4

    r = c.post(
        "/counter/cash/",
        {
            "hall": hall_x.pk,
            "qty_TRANSFER": "1",
            "method": "cash",
            "tendered": "100",
            "queue_ticket": t.pk,
            "idempotency_key": "form-1",
        },
    )
    p = Payment.objects.get()
    assert (
        r["Location"] == f"/counter/payments/{p.pk}/"
        and p.change == Decimal("50.00")
        and p.queue_ticket_id == t.pk
    )
    pdf = c.get(f"/counter/payments/{p.pk}/receipt.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    c.post("/counter/balance/", {"hall": hall_x.pk, "opening_float": "0", "counted_cash": "50"})
    assert DailyBalance.objects.get().discrepancy == 0


def test_pages_refuse_other_roles_and_companies(agent_x, clerk_y, clerk_x, hall_x, windows_x):
    assert _client(agent_x).get("/counter/").status_code == 403
    assert _client(agent_x).get("/counter/cash/").status_code == 403
    y = _client(clerk_y)
    assert y.get(f"/counter/h/{hall_x.pk}/greeter/").status_code == 404
    assert y.get(f"/counter/w/{windows_x[1].pk}/").status_code == 404
    p = Client().get("/counter/t/not-a-token/")
    assert p.status_code == 404


def test_finance_receives_on_the_balance_screen(clerk_x, manager_x, hall_x):
    from kefu.counter import services

    services.payment_take(by=clerk_x, hall_id=hall_x.pk, lines=[("IC-CARD", 1)])
    services.balance_submit(by=clerk_x, hall_id=hall_x.pk, counted_cash="15", note="少了 5 元，待查")
    b = DailyBalance.objects.get()
    m = verified_client(Client(), manager_x)
    page = m.get("/counter/balance/").content.decode()
    assert "少了 5 元" in page and "-5.00" in page
    m.post(f"/counter/balance/{b.pk}/receive/", {"received_amount": "15"})
    b.refresh_from_db()
    assert b.received_by == manager_x


def test_manager_pages(manager_x, clerk_x, hall_x, client):
    c = verified_client(client, manager_x)
    assert c.get("/counter/report/").status_code == 200
    assert c.get("/counter/prices/").status_code == 200
    assert c.get("/counter/refunds/").status_code == 200


API = "/api/v1/counter"


def test_api_from_the_number_to_the_hand_over(clerk_x, clerk2_x, supervisor_x, hall_x, types_x, windows_x):
    c = _client(clerk_x)
    halls = c.get(f"{API}/halls").json()
    assert halls[0]["windows"][0]["number"] == 1
    r = c.post(
        f"{API}/queue",
        {"hall_id": hall_x.pk, "business_type_id": types_x["E"].pk},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["number"] == "E001"
    tid = r.json()["id"]
    w = windows_x[1].pk
    assert c.post(f"{API}/windows/{w}/call-next").status_code == 409  # not signed in
    c.post(f"{API}/windows/{w}/sign-in")
    assert c.post(f"{API}/windows/{w}/call-next").json()["id"] == tid
    c.post(f"{API}/queue/{tid}/start", {}, content_type="application/json")
    s = c.post(
        f"{API}/queue/{tid}/services",
        {"business_type_id": types_x["E"].pk, "outcome": "on_spot", "note": "咨询"},
        content_type="application/json",
    )
    assert s.status_code == 201
    assert (
        c.post(
            f"{API}/queue/{tid}/finish", {"anything_else_asked": False}, content_type="application/json"
        ).status_code
        == 400
    )
    done = c.post(
        f"{API}/queue/{tid}/finish", {"anything_else_asked": True}, content_type="application/json"
    ).json()
    assert done["status"] == "done" and done["service_seconds"] is not None
    assert c.post(f"{API}/windows/{w}/call-next").status_code == 204
    assert (
        c.post(f"{API}/queue/{tid}/rating", {"rating": 5}, content_type="application/json").json()["rating"]
        == 5
    )

    pay = c.post(
        f"{API}/payments",
        {"hall_id": hall_x.pk, "lines": [{"code": "ALARM", "quantity": 1}], "tendered": "300"},
        content_type="application/json",
    )
    assert pay.status_code == 201, pay.content
    body = pay.json()
    assert body["change"] == "20.00" and body["price_list_version"] == 1
    assert c.get(body["receipt_url"]).status_code == 200
    assert c.get(f"{API}/payments/{body['id']}/receipt.pdf").content.startswith(b"%PDF")
    ref = c.post(
        f"{API}/payments/{body['id']}/refunds",
        {"amount": "280", "reason": "退货"},
        content_type="application/json",
    ).json()
    s = verified_client(Client(), supervisor_x)
    assert (
        s.post(
            f"{API}/refunds/{ref['id']}/decision", {"approve": True}, content_type="application/json"
        ).json()["status"]
        == "approved"
    )
    assert _client(clerk2_x).post(f"{API}/refunds/{ref['id']}/pay").json()["status"] == "paid"
    today = c.get(f"{API}/balance/today").json()
    assert today["cash_in"] == "280.00" and today["receipts"]["count"] == 1
    b = c.post(
        f"{API}/balances", {"hall_id": hall_x.pk, "counted_cash": "280"}, content_type="application/json"
    )
    assert b.status_code == 201 and b.json()["discrepancy"] == "0.00"
    rep = s.get(f"{API}/report").json()
    assert rep["done"] == 1 and rep["target_seconds"] == 180 and rep["within_target"] == 1


def test_api_other_company_gets_404(clerk_x, clerk_y, hall_x, types_x):
    c = _client(clerk_x)
    tid = c.post(
        f"{API}/queue",
        {"hall_id": hall_x.pk, "business_type_id": types_x["B"].pk},
        content_type="application/json",
    ).json()["id"]
    y = _client(clerk_y)
    assert y.get(f"{API}/queue/{tid}").status_code == 404
    assert y.post(f"{API}/queue/{tid}/cancel").status_code == 404
    assert (
        y.post(
            f"{API}/queue",
            {"hall_id": hall_x.pk, "business_type_id": types_x["B"].pk},
            content_type="application/json",
        ).status_code
        == 404
    )
