"""The outage pages: the wizard page at each step, the network page (import report per line,
analysis), the indicators page, and the banner on the agent's desk for a caller in an outage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kefu.outages.tests.test_network_import import EDGES, NODES

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_wizard_pages(dispatcher_x, manager_x, agent_x, agent_y, households):
    d = client_for(dispatcher_x)
    start = timezone.localtime() + timedelta(days=5)
    r = d.post(
        "/outages/new/",
        {
            "kind": "planned",
            "reason": "庭院管网改造",
            "area": "幸福小区",
            "planned_start": start.strftime("%Y-%m-%dT%H:%M"),
            "planned_end": (start + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert r.status_code == 302
    url = r["Location"]
    oid = int(url.strip("/").split("/")[-1])
    d.post(f"/outages/{oid}/do/affected/", {"method": "zone", "zones": ["A"]})
    page = d.get(url).content.decode()
    assert "受影响用户" in page and "等待经理批准" in page
    client_for(manager_x).post(f"/outages/{oid}/do/approve/")
    r = d.post(f"/outages/{oid}/do/notify/", follow=True)
    assert "已冻结名单并发出通知" in r.content.decode()
    page = d.get(url).content.decode()
    assert "名单已冻结：5 户" in page and "打印张贴通知" in page
    assert client_for(agent_y).get(url).status_code == 404
    # the desk recognises a caller in the planned stop
    desk = client_for(agent_x).get(f"/tickets/desk/?customer={households[0].pk}").content.decode()
    assert "该地址在停气范围内" in desk
    r = client_for(agent_x).post(f"/outages/{oid}/call/", {"customer_id": households[0].pk})
    assert r.status_code == 302 and "/tickets/" in r["Location"]
    assert "停气" in d.get("/outages/").content.decode()


def test_network_page_reports_bad_lines_and_analyses(dispatcher_x, households):
    from django.core.files.uploadedfile import SimpleUploadedFile

    d = client_for(dispatcher_x)
    bad = d.post(
        "/outages/network/",
        {
            "do": "import",
            "fmt": "csv",
            "nodes": SimpleUploadedFile("nodes.csv", NODES.encode()),
            "edges": SimpleUploadedFile("edges.csv", (EDGES + "p9,J1,ZZ\n").encode()),
        },
    ).content.decode()
    assert "悬空" in bad and "未导入任何数据" in bad
    d.post(
        "/outages/network/",
        {
            "do": "import",
            "fmt": "csv",
            "nodes": SimpleUploadedFile("nodes.csv", NODES.encode()),
            "edges": SimpleUploadedFile("edges.csv", EDGES.encode()),
        },
    )
    page = d.post("/outages/network/", {"do": "analyse", "pipe": "p3"}).content.decode()
    assert "V1" in page and "<svg" in page


def test_indicators_and_settings_pages(manager_x, agent_x):
    m = client_for(manager_x)
    assert "K1 = 1 − Σ(Aₙ·Tₙ)/(N·B·24)" in m.get("/outages/indicators/?year=2026&month=3").content.decode()
    assert m.get("/outages/indicators/?year=x").status_code == 200
    assert (
        m.post(
            "/outages/settings/",
            {"public_page": "on", "quiet_from": "22:00", "quiet_until": "06:00", "hotline": "96777"},
        ).status_code
        == 302
    )
    assert client_for(agent_x).get("/outages/settings/").status_code == 404
