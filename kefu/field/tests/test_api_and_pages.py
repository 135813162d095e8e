"""The field API and pages: the technician's unmasking rules (S2), the offline queue's exactly-once
(client ids), bad input answered with a clear 4xx or flag, fees and parts summed per day, another
company's technician sees nothing, and every page renders."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kefu.accounts.models import AuditEvent
from kefu.field.models import FieldJob, JobEvent
from kefu.field.services import catalogue_item_create, duty_set, job_create, job_dispatch
from kefu.field.tests.conftest import L

pytestmark = pytest.mark.django_db
NOW = L(2026, 3, 2, 10, 0)


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def job(published, make_ticket, customer_x, crew_a, dispatcher_x, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(kind="repair", sub_kind="indoor_facility", customer=customer_x)
    with time_machine.travel(NOW, tick=False):
        j = job_create(by=dispatcher_x, ticket_id=ticket.pk, product_model="JZT-2", fault="灶具打不着火")
        job_dispatch(by=dispatcher_x, job_id=j.pk, crew_id=crew_a.pk)
    return FieldJob.objects.get(pk=j.pk)


def test_technician_sees_full_contact_of_own_open_job_only_and_every_view_is_logged(
    client, job, tech_a, tech_b
):
    client.force_login(tech_a.user)
    masked = client.get(f"/api/v1/field/jobs/{job.pk}").json()
    assert "501" not in masked["address"] and "****" in masked["contact_phone"]
    full = client.get(f"/api/v1/field/jobs/{job.pk}?unmasked=true").json()
    assert full["contact_phone"] == "13800138000" and "501" in full["address"]
    row = AuditEvent.objects.filter(action="privacy.unmasked_view", actor=tech_a.user).get()
    assert row.detail["grant"] == "assigned_open_job" and row.detail["reference"] == job.number
    # another technician of the company (not in the crew) does not even see the job
    client.force_login(tech_b.user)
    assert client.get(f"/api/v1/field/jobs/{job.pk}?unmasked=true").status_code == 404
    # once the job is over, the assigned technician no longer sees it in full
    FieldJob.objects.filter(pk=job.pk).update(state="resolved")
    client.force_login(tech_a.user)
    r = client.get(f"/api/v1/field/jobs/{job.pk}?unmasked=true")
    assert r.status_code == 403 and "派工单未完成" in r.json()["detail"]
    assert AuditEvent.objects.filter(action="auth.permission_denied", actor=tech_a.user).exists()


def test_another_companys_technician_sees_nothing(client, job, tech_y):
    client.force_login(tech_y.user)
    assert client.get(f"/api/v1/field/jobs/{job.pk}").status_code == 404
    assert client.get("/api/v1/field/jobs").json() == []
    r = post(
        client,
        f"/api/v1/field/jobs/{job.pk}/events",
        {"kind": "arrived", "client_id": "y1", "lat": 36.2, "lng": 117.1, "accuracy": 5},
    )
    assert r.status_code == 404


def test_replayed_action_is_applied_once(client, job, tech_a):
    client.force_login(tech_a.user)
    body = {
        "kind": "arrived",
        "client_id": "phone-1",
        "lat": 36.2,
        "lng": 117.1,
        "accuracy": 8,
        "device_at": (timezone.now() - timedelta(minutes=3)).isoformat(),
        "offline": True,
    }
    first = post(client, f"/api/v1/field/jobs/{job.pk}/events", body)
    second = post(client, f"/api/v1/field/jobs/{job.pk}/events", body)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert JobEvent.objects.filter(job=job, kind="arrived").count() == 1
    ev = JobEvent.objects.get(job=job)
    assert ev.offline and ev.at == ev.device_at and ev.server_at > ev.device_at  # both times kept


def test_bad_input_gets_a_clear_error_or_flag_and_loses_nothing(client, job, tech_a):
    client.force_login(tech_a.user)
    url = f"/api/v1/field/jobs/{job.pk}/events"
    future = post(
        client,
        url,
        {
            "kind": "arrived",
            "client_id": "b1",
            "lat": 36.2,
            "lng": 117.1,
            "accuracy": 5,
            "device_at": (timezone.now() + timedelta(hours=1)).isoformat(),
        },
    )
    assert future.status_code == 400 and "设备时间" in future.json()["detail"]
    no_accuracy = post(client, url, {"kind": "arrived", "client_id": "b2", "lat": 36.2, "lng": 117.1})
    assert no_accuracy.status_code == 201 and "inaccurate" in no_accuracy.json()["flags"]
    assert no_accuracy.json()["review"] == "pending"  # kept, on the exception list
    dup = post(client, url, {"kind": "arrived", "client_id": "b3", "lat": 36.2, "lng": 117.1, "accuracy": 5})
    assert dup.status_code == 409 and "已记录到达" in dup.json()["detail"]
    bad = post(client, url, {"kind": "arrived", "client_id": "b4", "lat": 95, "lng": 117.1, "accuracy": 5})
    assert bad.status_code == 422
    reused = post(client, url, {"kind": "departed", "client_id": "b2"})
    assert reused.status_code == 409
    assert JobEvent.objects.filter(job=job).count() == 1


def test_fees_and_parts_recorded_and_summed_per_day(client, job, tech_a, dispatcher_x, customer_x):
    catalogue_item_create(by=dispatcher_x, kind="part", code="P001", name="灶具点火针", price="12.50")
    catalogue_item_create(by=dispatcher_x, kind="service", code="S001", name="上门维修费", price="30")
    client.force_login(tech_a.user)
    post(
        client,
        f"/api/v1/field/jobs/{job.pk}/events",
        {"kind": "arrived", "client_id": "a", "lat": 36.2, "lng": 117.1, "accuracy": 5},
    )
    no_receipt = post(
        client,
        f"/api/v1/field/jobs/{job.pk}/complete",
        {
            "client_id": "c0",
            "cause": "点火针老化",
            "measures": "更换点火针",
            "lines": [{"code": "S001", "quantity": 1}],
        },
    )
    assert no_receipt.status_code == 400 and "收据" in no_receipt.json()["detail"]
    r = post(
        client,
        f"/api/v1/field/jobs/{job.pk}/complete",
        {
            "client_id": "c1",
            "cause": "点火针老化",
            "measures": "更换点火针",
            "receipt_no": "SJ0001",
            "lines": [{"code": "P001", "quantity": 2}, {"code": "S001", "quantity": 1}],
            "serials": [{"kind": "meter", "old": "M0001", "new": "M0002"}],
        },
    )
    assert r.status_code == 201, r.json()
    job.refresh_from_db()
    assert job.state == "resolved" and str(job.fee_total) == "30.00"
    assert set(customer_x.meters.values_list("serial", "is_active")) == {("M0001", False), ("M0002", True)}
    client.force_login(dispatcher_x)
    day = timezone.localdate().isoformat()
    rows = client.get(f"/api/v1/field/fees?day={day}").json()
    assert rows == [
        {
            "technician": tech_a.user.full_name or "tech_a",
            "fees": "30.00",
            "parts": "25.00",
            "receipts": ["SJ0001"],
        }
    ]


def test_pages_render(client, job, dispatcher_x, tech_a, supervisor_x):
    client.force_login(dispatcher_x)
    for url in [
        "/field/board/",
        "/field/board/partial/",
        f"/field/jobs/{job.pk}/",
        "/field/appointments/",
        "/field/duty/",
        "/field/fees/",
    ]:
        r = client.get(url)
        assert r.status_code == 200, url
    assert job.number in client.get("/field/board/partial/").content.decode()
    client.force_login(tech_a.user)
    r = client.get("/field/phone/")
    assert r.status_code == 200 and job.number in r.content.decode()
    assert client.get("/field/sw.js").status_code == 200
    from kefu.accounts.tests.conftest import verified_client

    assert verified_client(client, supervisor_x).get("/field/exceptions/").status_code == 200


def test_candidates_ranked_with_reason(client, job, dispatcher_x, crew_a, crew_b, tech_a, tech_b):
    from kefu.field.services import technician_report_position

    today = timezone.localdate()
    duty_set(by=dispatcher_x, crew_id=crew_a.pk, day=today, status="on_duty")
    duty_set(by=dispatcher_x, crew_id=crew_b.pk, day=today, status="on_duty")
    technician_report_position(user=tech_b.user, lat=36.21, lng=117.1, accuracy=10)
    FieldJob.objects.filter(pk=job.pk).update(state="new", crew=None)
    client.force_login(dispatcher_x)
    rows = client.get(f"/api/v1/field/jobs/{job.pk}/candidates").json()
    assert rows[0]["name"] == "B组" and "约" in rows[0]["reason"] and rows[0]["eta_minutes"] >= 1


def test_dispatcher_makes_a_job_from_the_board(client, published, make_ticket, customer_x, dispatcher_x):
    ticket = make_ticket(kind="repair", sub_kind="meter", customer=customer_x)
    client.force_login(dispatcher_x)
    r = client.post("/field/jobs/new/", {"ticket": ticket.number, "fault": "表不走字"})
    job = FieldJob.objects.get(ticket=ticket)
    assert r.status_code == 302 and r["Location"] == f"/field/jobs/{job.pk}/"
    r = client.post("/field/jobs/new/", {"ticket": "GD00000000-9999"}, follow=True)
    assert "没有找到该工单" in r.content.decode()
