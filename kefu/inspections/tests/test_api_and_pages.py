"""The inspections API and pages: a visit through the API submitted twice lands once (201 then
200), the inspector's unmasked view only for today's households (logged), another company sees
nothing, every page and PDF renders, and the import writes all or nothing with a line report."""

from __future__ import annotations

import json

import pytest

from kefu.accounts.models import AuditEvent
from kefu.inspections import rules
from kefu.inspections.models import Hazard, LedgerEntry, Visit

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


VISIT = {
    "client_id": "api-1",
    "outcome": "done",
    "checklist": {c["code"]: "pass" for c in rules.DEFAULT_CHECKLIST},
    "signed_by": "张三丰",
    "hazards": [{"type_code": "hose_aged", "description": "胶管老化"}],
}


def test_visit_through_the_api_once(client, batch, inspector, entry_of):
    client.force_login(inspector.user)
    e = entry_of("A001")
    url = f"/api/v1/inspections/entries/{e.pk}/visits"
    r1 = post(client, url, VISIT)
    r2 = post(client, url, {**VISIT, "offline": True})
    assert (r1.status_code, r2.status_code) == (201, 200), r1.content
    assert r1.json()["id"] == r2.json()["id"] and len(r1.json()["hazards"]) == 1
    assert Visit.objects.count() == 1 and Hazard.objects.count() == 1
    bad = post(client, url, {**VISIT, "client_id": "api-2", "checklist": {"leak_joints": "maybe"}})
    assert bad.status_code == 422
    day = client.get("/api/v1/inspections/my-day").json()
    assert [d["account_no"] for d in day] == ["A001", "A002", "A003"] and "*" in day[1]["contact"]["name"]


def test_unmasked_only_for_todays_households_and_logged(client, batch, inspector, inspector_b, entry_of):
    e = entry_of("A001")
    client.force_login(inspector.user)
    r = client.get(f"/api/v1/inspections/entries/{e.pk}?unmasked=true")
    assert r.status_code == 200 and r.json()["contact"]["name"] == "张三丰"
    assert AuditEvent.objects.filter(action="privacy.unmasked_view", actor=inspector.user).exists()
    client.force_login(inspector_b.user)
    assert client.get(f"/api/v1/inspections/entries/{e.pk}?unmasked=true").status_code == 404


def test_other_company_sees_nothing(client, batch, inspector_y, entry_of, agent_y):
    e = entry_of("A001")
    client.force_login(inspector_y.user)
    assert client.get(f"/api/v1/inspections/entries/{e.pk}").status_code == 404
    assert post(client, f"/api/v1/inspections/entries/{e.pk}/visits", VISIT).status_code == 404
    assert client.get("/api/v1/inspections/my-day").json() == []
    client.force_login(agent_y)
    assert client.get("/api/v1/inspections/coverage?year=2026").status_code == 403


def test_planner_api(client, batch, planner_x, inspector):
    client.force_login(planner_x)
    cov = client.get("/api/v1/inspections/coverage?year=2026&by=community").json()
    assert {c["key"]: c["target"] for c in cov} == {"和平小区": 2, "幸福小区": 6}
    assert len(client.get("/api/v1/inspections/ledger?year=2026&status=due").json()) == 8
    r = post(
        client,
        "/api/v1/inspections/batches",
        {
            "year": 2026,
            "community": "和平小区",
            "inspector_id": inspector.pk,
            "first_day": "2026-03-05",
            "last_day": "2026-03-05",
        },
    )
    assert r.status_code == 201 and r.json()["households"] == 1
    assert len(client.get("/api/v1/inspections/batches?year=2026").json()) == 2


def test_pages_and_pdfs_render(client, batch, planner_x, inspector, entry_of):
    from kefu.inspections.services import HazardInput, VisitInput, visit_submit

    v, _c = visit_submit(
        by=inspector.user,
        entry_id=entry_of("A001").pk,
        data=VisitInput(
            client_id="p-1",
            outcome="done",
            checklist=dict(VISIT["checklist"]),
            signed_by="张三丰",
            hazards=[HazardInput(type_code="no_flue")],
        ),
    )
    visit_submit(
        by=inspector.user,
        entry_id=entry_of("A002").pk,
        data=VisitInput(client_id="p-2", outcome="nobody_home", door_notice=True),
    )
    client.force_login(planner_x)
    for url in [
        "/inspections/",
        "/inspections/?by=district",
        "/inspections/batches/",
        "/inspections/hazards/",
        "/inspections/no-access/",
        "/inspections/import/",
    ]:
        r = client.get(url)
        assert r.status_code == 200, url
    assert "幸福小区" in client.get("/inspections/").content.decode()
    assert "A002" in client.get("/inspections/no-access/").content.decode()
    pdf = client.get(f"/inspections/batches/{batch.pk}/notice.pdf")
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"
    h = Hazard.objects.get(visit=v)
    assert client.get(f"/inspections/hazards/{h.pk}/notice.pdf").content[:4] == b"%PDF"
    r = client.post("/inspections/hazards/", {"hazard_id": h.pk, "action": "rectify", "how": "customer"})
    assert r.status_code == 302
    h.refresh_from_db()
    assert h.state == "recheck"
    client.force_login(inspector.user)
    page = client.get("/inspections/phone/").content.decode()
    assert "A003" in page and "张三丰" not in page
    page = client.get(f"/inspections/phone/?unmasked={entry_of('A003').pk}").content.decode()
    assert "张三丰" in page
    assert client.get("/inspections/sw.js").status_code == 200
    assert client.get("/inspections/").status_code == 403


def _csv(tmp_path, text):
    p = tmp_path / "records.csv"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_import_all_or_nothing_with_line_report(tmp_path, planner_x, households, inspector, time_machine):
    from kefu.inspections.importing import import_records
    from kefu.inspections.services import hazard_types_seed
    from kefu.inspections.tests.conftest import L

    time_machine.move_to(L(2026, 3, 3, 9), tick=False)
    hazard_types_seed(planner_x.company)
    bad = _csv(
        tmp_path,
        "户号,安检日期,安检结果,安检员,隐患,原因\n"
        "A001,2025-05-06,完成,,,\n"
        "X999,2025-05-06,完成,,,\n"
        "A002,2025/13/40,完成,,,\n"
        "A003,2025-05-06,拒绝入户,,,\n"
        "B001,2025-05-06,完成,,不存在的隐患,\n",
    )
    rep = import_records(by=planner_x, path=bad, year=2025)
    assert [(e["line"], e["column"]) for e in rep.errors] == [
        (3, "户号"),
        (4, "安检日期"),
        (5, "原因"),
        (6, "隐患"),
    ]
    assert Visit.objects.count() == 0 and not LedgerEntry.objects.filter(programme__year=2025).exists()
    good = _csv(
        tmp_path,
        "户号,安检日期,安检结果,安检员,隐患,已整改,原因,表读数,燃气具已检\n"
        "A001,2025-05-06,完成,insp_a,胶管老化、超期使用,是,,1234.5,是\n"
        "A002,2025年6月1日,到访不遇,,,,,,\n"
        "A003,20250607,拒绝入户,,,,户主不同意,,\n"
        "B001,2025-09-10,完成,,,,,,\n",
    )
    rep = import_records(by=planner_x, path=good, year=2025)
    assert rep.ok and (rep.lines, rep.written, rep.hazards) == (4, 4, 1), rep.errors
    st = dict(
        LedgerEntry.objects.filter(
            programme__year=2025,
            kind="household",
            status__in=["hazard", "nobody_home", "refused", "inspected"],
        ).values_list("customer__account_no", "status")
    )
    assert st == {"A001": "hazard", "A002": "nobody_home", "A003": "refused", "B001": "inspected"}
    assert (
        LedgerEntry.objects.get(programme__year=2025, customer__account_no="B001", status="inspected").period
        == 3
    )
    assert Hazard.objects.get().state == "rectified"
    again = import_records(by=planner_x, path=good, year=2025)
    assert (again.written, again.skipped) == (0, 4) and Visit.objects.count() == 4


PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@pytest.mark.parametrize(
    "drawn, field",
    [
        ("data:image/jpeg;base64," + PNG_1PX, "signature_png"),  # not a PNG data URL
        ("not base64 at all!", "signature_png"),
        ("R0lGODlhAQABAAAAACw=", "signature_png"),  # a GIF
        ("data:image/png;base64," + "A" * 280_000, "signature_png"),  # over 200 KB decoded
    ],
)
def test_a_bad_signature_is_a_clear_400_and_nothing_is_kept(client, batch, inspector, entry_of, drawn, field):
    client.force_login(inspector.user)
    r = post(
        client, f"/api/v1/inspections/entries/{entry_of('A001').pk}/visits", {**VISIT, "signature_png": drawn}
    )
    assert r.status_code == 400 and r.json()["field"] == field and r.json()["detail"]
    assert Visit.objects.count() == 0


def test_the_drawn_signature_is_kept_and_shown_to_planners_only_logged(
    client, batch, inspector, planner_x, entry_of, agent_y
):
    """C5 evidence: the PNG is stored with the visit; planners may open it (audited); the inspector's
    role may not; another company's user gets a 404."""
    client.force_login(inspector.user)
    r = post(
        client,
        f"/api/v1/inspections/entries/{entry_of('A001').pk}/visits",
        {**VISIT, "signature_png": "data:image/png;base64," + PNG_1PX},
    )
    assert r.status_code == 201 and r.json()["has_signature"] is True
    url = f"/api/v1/inspections/visits/{r.json()['id']}/signature"
    assert client.get(url).status_code == 403
    client.force_login(agent_y)
    assert client.get(url).status_code in (403, 404)
    client.force_login(planner_x)
    got = client.get(url)
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert b"".join(got.streaming_content).startswith(b"\x89PNG")
    assert AuditEvent.objects.filter(action="inspections.signature_viewed", actor=planner_x).count() == 1
