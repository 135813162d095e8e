"""Hotline configuration (C8, C13): the screen (list, create, edit) and the API for the roles with
telephony.configure; every rule checked with a Chinese message on its field; another company's
lines invisible and their numbers refused; a new short-abandon threshold recounts the half-hours."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from kefu.accounts.models import AuditEvent
from kefu.accounts.tests.factories import UserFactory
from kefu.core.errors import Forbidden
from kefu.telephony.models import CallInterval, Hotline
from kefu.telephony.services import HotlineInvalid, call_events_ingest, hotline_save

pytestmark = pytest.mark.django_db

GOOD = {
    "number": "0535-2218888",
    "name": "抢险热线",
    "queue": "emergency",
    "is_emergency": True,
    "ring_cycle_ms": 5000,
    "answer_rings": 3,
    "short_abandon_ms": 5000,
    "service_level_ms": 20000,
}


@pytest.fixture
def admin_x(company_x):
    return UserFactory(company=company_x, role="admin", username="admin_x")


def client(user) -> Client:
    from kefu.accounts.tests.conftest import verified_client

    return verified_client(Client(), user)  # the administrator signs in with a second factor


def test_create_and_change_with_audit(admin_x):
    h = hotline_save(by=admin_x, **GOOD)
    assert h.company_id == admin_x.company_id and h.is_emergency
    hotline_save(by=admin_x, hotline_id=h.pk, **{**GOOD, "answer_rings": 4})
    h.refresh_from_db()
    assert h.answer_rings == 4
    assert AuditEvent.objects.filter(object_id=str(h.pk), action="data.updated").exists()


@pytest.mark.parametrize(
    "change, field, text",
    [
        ({"number": ""}, "number", "请填写热线号码"),
        ({"number": "96-777 x"}, "number", "只能由数字"),
        ({"name": "  "}, "name", "请填写热线名称"),
        ({"queue": ""}, "queue", "抢险热线须填写交换机队列名"),
        ({"ring_cycle_ms": 50}, "ring_cycle_ms", "振铃周期须在 1000–20000 毫秒之间"),
        ({"answer_rings": 0}, "answer_rings", "接听目标须在 1–10 声之间"),
        ({"short_abandon_ms": -1}, "short_abandon_ms", "短时放弃"),
        ({"service_level_ms": 10**7}, "service_level_ms", "服务水平时限"),
    ],
)
def test_each_rule_refused_with_its_message(admin_x, change, field, text):
    with pytest.raises(HotlineInvalid) as e:
        hotline_save(by=admin_x, **{**GOOD, **change})
    assert field in e.value.errors and text in e.value.errors[field]
    assert not Hotline.objects.exists()


def test_numbers_unique_across_companies(admin_x, company_y):
    Hotline.objects.create(company=company_y, number="96888", name="Y")
    with pytest.raises(HotlineInvalid) as e:
        hotline_save(by=admin_x, **{**GOOD, "number": "96888"})
    assert "已被其他公司登记" in e.value.errors["number"]
    mine = hotline_save(by=admin_x, **{**GOOD, "number": "96777"})
    with pytest.raises(HotlineInvalid) as e:
        hotline_save(by=admin_x, **{**GOOD, "number": "96777", "name": "另一条"})
    assert mine.name in e.value.errors["number"]


def test_roles_without_the_permission_are_refused(agent_x, supervisor_x):
    with pytest.raises(Forbidden):
        hotline_save(by=agent_x, **GOOD)
    assert hotline_save(by=supervisor_x, **GOOD).pk  # the call-centre supervisor configures lines
    assert client(agent_x).get("/telephony/hotlines/").status_code == 403
    assert client(agent_x).get("/api/v1/telephony/hotlines").status_code == 403


def test_screen_list_create_edit(admin_x, company_y):
    other = Hotline.objects.create(company=company_y, number="96888", name="Y热线")
    c = client(admin_x)
    r = c.post("/telephony/hotlines/new/", {**GOOD, "ring_cycle_ms": "abc"})
    assert r.status_code == 200 and "请填写整数" in r.content.decode()
    r = c.post("/telephony/hotlines/new/", {**GOOD, "queue": ""})
    assert "抢险热线须填写交换机队列名" in r.content.decode()
    r = c.post("/telephony/hotlines/new/", GOOD)
    assert r.status_code == 302 and r["Location"].endswith("/telephony/hotlines/")
    h = Hotline.objects.get(number=GOOD["number"])
    page = c.get("/telephony/hotlines/").content.decode()
    assert GOOD["number"] in page and "96888" not in page
    edit = c.get(f"/telephony/hotlines/{h.pk}/").content.decode()
    assert 'value="emergency"' in edit
    r = c.post(f"/telephony/hotlines/{h.pk}/", {**GOOD, "is_emergency": "", "name": "服务热线"})
    assert r.status_code == 302
    h.refresh_from_db()
    assert h.name == "服务热线" and h.is_emergency is False
    assert c.get(f"/telephony/hotlines/{other.pk}/").status_code == 404


def test_api(admin_x, company_y):
    other = Hotline.objects.create(company=company_y, number="96888", name="Y热线")
    c = client(admin_x)
    r = c.post("/api/v1/telephony/hotlines", GOOD, content_type="application/json")
    assert r.status_code == 201, r.content
    hid = r.json()["id"]
    r = c.post("/api/v1/telephony/hotlines", {**GOOD, "answer_rings": 99}, content_type="application/json")
    assert r.status_code == 400 and r.json()["field"] == "number"  # first error: the number is taken
    r = c.put(
        f"/api/v1/telephony/hotlines/{hid}", {**GOOD, "answer_rings": 99}, content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["field"] == "answer_rings" and "接听目标" in r.json()["detail"]
    r = c.put(
        f"/api/v1/telephony/hotlines/{hid}", {**GOOD, "answer_rings": 2}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["answer_rings"] == 2
    assert [h["number"] for h in c.get("/api/v1/telephony/hotlines").json()] == [GOOD["number"]]
    r = c.put(f"/api/v1/telephony/hotlines/{other.pk}", GOOD, content_type="application/json")
    assert r.status_code == 404


def test_new_short_abandon_threshold_recounts_the_intervals(feed_x, hotline_x, t0, supervisor_x):
    from kefu.telephony.tests.conftest import ev

    call_events_ingest(
        by=feed_x,
        events=[
            ev("s1", "call.started", t0, "s", hotline="96777"),
            ev("s2", "call.queued", t0, "s", queue="service"),
            ev("s3", "call.abandoned", t0 + timedelta(seconds=8), "s", reason="in_queue"),
        ],
    )
    assert CallInterval.objects.get(hotline=hotline_x).short_abandoned == 0  # 8 s ≥ 5 s
    values = {f: getattr(hotline_x, f) for f in GOOD}
    hotline_save(by=supervisor_x, hotline_id=hotline_x.pk, **{**values, "short_abandon_ms": 10000})
    assert CallInterval.objects.get(hotline=hotline_x).short_abandoned == 1
