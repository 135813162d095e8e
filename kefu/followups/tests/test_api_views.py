"""The follow-up API and pages: every step and visit usable over HTTP; bad input refused with a 4xx and a
message (score 11, another company's visit, an approval without the right); the knowledge base
searched as the agent types and changed only with a supervisor's approval; a survey from questionnaire
to statistics, the customer's link and the Excel export (audited)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import time_machine
from django.test import Client

from kefu.accounts.models import AuditEvent
from kefu.followups.models import Complaint, ReturnVisit, SurveyResponse
from kefu.followups.tests.conftest import L

pytestmark = pytest.mark.django_db
API = "/api/v1/followups"


def client_for(user) -> Client:
    """A logged-in browser session; supervisors and auditors have passed their one-time code (MFA)."""
    from kefu.accounts.tests.conftest import verified_client

    return verified_client(Client(), user)


@pytest.fixture
def at(django_capture_on_commit_callbacks):
    @contextmanager
    def travel(*a):
        with time_machine.travel(L(*a), tick=False), django_capture_on_commit_callbacks(execute=True):
            yield

    return travel


@pytest.fixture
def repair(at, set_laizhou, agent_x):
    from kefu.tickets.services import ticket_create, ticket_transition

    with at(2026, 3, 2, 10, 0):
        t = ticket_create(
            by=agent_x,
            kind="repair",
            content="热水器不点火",
            caller_surname="王",
            caller_title="mr",
            caller_phone="13900004444",
            address="幸福小区3-2-501",
            on_duplicate="create",
        ).ticket
        ticket_transition(ticket_id=t.pk, by=agent_x, to="resolved", version=t.version)
    return t


def test_visit_over_the_api_and_bad_input(at, repair, agent_x, agent_y):
    v = ReturnVisit.objects.get(ticket=repair)
    a = client_for(agent_x)
    with time_machine.travel(L(2026, 3, 3, 10, 0), tick=False):
        queue = a.get(f"{API}/visits").json()
        assert [x["id"] for x in queue] == [v.pk] and queue[0][
            "phone"
        ] != "13900004444"  # masked for an agent
        r = a.post(
            f"{API}/visits/{v.pk}/result",
            {"consent": True, "satisfied": True, "attitude_score": 11, "ability_score": 8},
            content_type="application/json",
        )
        assert r.status_code == 400 and "1 到 10" in r.json()["detail"]
        r = client_for(agent_y).post(
            f"{API}/visits/{v.pk}/result", {"consent": True}, content_type="application/json"
        )
        assert r.status_code == 404 and r.json()["detail"]
        assert client_for(agent_y).get(f"{API}/visits/{v.pk}").status_code == 404
        r = a.post(f"{API}/visits/{v.pk}/attempts", {"result": "teleported"}, content_type="application/json")
        assert r.status_code == 400
        assert a.get(f"{API}/visits/99999999999999999999").status_code in (400, 404, 422)
    with at(2026, 3, 3, 10, 5):
        r = a.post(
            f"{API}/visits/{v.pk}/result",
            {
                "consent": True,
                "satisfied": True,
                "attitude_score": 9,
                "ability_score": 8,
                "answers": {"resolved": "已解决"},
            },
            content_type="application/json",
        )
    assert r.status_code == 200 and r.json()["status"] == "done"


def test_complaint_steps_over_the_api(at, set_002, agent_x, supervisor_x, manager_x, repair_dept):
    from kefu.tickets.services import ticket_create

    with at(2026, 3, 2, 10, 0):
        t = ticket_create(
            by=agent_x,
            kind="complaint",
            content="抄表员态度差",
            caller_surname="李",
            caller_phone="13900003333",
            on_duplicate="create",
        ).ticket
    cid = Complaint.objects.get(ticket=t).pk
    s, m, a = client_for(supervisor_x), client_for(manager_x), client_for(agent_x)
    with at(2026, 3, 2, 11, 0):
        assert (
            s.post(
                f"{API}/complaints/{cid}/judgement",
                {"stands": True, "reason": "属实"},
                content_type="application/json",
            ).status_code
            == 200
        )
        assert (
            s.post(
                f"{API}/complaints/{cid}/responsibility",
                {"department_id": repair_dept.pk},
                content_type="application/json",
            ).status_code
            == 200
        )
        assert (
            s.post(
                f"{API}/complaints/{cid}/analysis",
                {"text": "服务用语不规范"},
                content_type="application/json",
            ).status_code
            == 200
        )
        assert (
            s.post(
                f"{API}/complaints/{cid}/plan", {"text": "批评教育"}, content_type="application/json"
            ).status_code
            == 200
        )
        r = a.post(f"{API}/complaints/{cid}/approval", {"approve": True}, content_type="application/json")
        assert r.status_code == 403 and r.json()["detail"]
        r = m.post(f"{API}/complaints/{cid}/approval", {"approve": True}, content_type="application/json")
        assert r.status_code == 200 and r.json()["step"] == "approved"
        r = a.post(
            f"{API}/complaints/{cid}/execution",
            {"informed": "已批评教育并致歉"},
            content_type="application/json",
        )
        assert r.status_code == 200 and r.json()["step"] == "executed"
        body = a.get(f"{API}/complaints/{cid}").json()
        assert [x["step"] for x in body["steps"]] == [
            "received",
            "judged",
            "responsibility",
            "analysed",
            "planned",
            "approved",
            "executed",
        ]
        assert s.get(f"/api/v1/sla/complaints/{cid}/clocks").status_code == 200
        for url in (f"/followups/complaints/{cid}/", "/followups/complaints/", "/followups/"):
            assert a.get(url).status_code == 200


def test_knowledge_base_search_and_approval(company_x, agent_x, supervisor_x, agent_y):
    a, s = client_for(agent_x), client_for(supervisor_x)
    r = a.post(
        f"{API}/kb/proposals",
        {
            "category": "installation",
            "title": "居民开户需要的材料",
            "body": "身份证、房产证明原件及复印件",
            "keywords": "开户 报装 材料",
        },
        content_type="application/json",
    )
    assert r.status_code == 201
    vid = r.json()["id"]
    assert a.get(f"{API}/kb/articles", {"q": "开户"}).json() == []  # not approved yet
    assert (
        a.post(
            f"{API}/kb/proposals/{vid}/decision", {"approve": True}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        s.post(
            f"{API}/kb/proposals/{vid}/decision", {"approve": True}, content_type="application/json"
        ).status_code
        == 200
    )
    hits = a.get(f"{API}/kb/articles", {"q": "开户 材料"}).json()
    assert [h["title"] for h in hits] == ["居民开户需要的材料"]
    assert client_for(agent_y).get(f"{API}/kb/articles", {"q": "开户"}).json() == []
    page = a.get("/followups/kb/search/", {"q": "房产"})
    assert "居民开户需要的材料" in page.content.decode()


def test_consultation_routed_to_the_expert_department(company_x, agent_x, repair_dept):
    r = client_for(agent_x).post(
        f"{API}/consultations",
        {
            "surname": "孙",
            "phone": "13900006666",
            "question": "壁挂炉能不能自己改管道",
            "department_id": repair_dept.pk,
        },
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["assigned_department_id"] == repair_dept.pk


def test_survey_from_questionnaire_to_statistics(company_x, supervisor_x, agent_x, auditor_client=None):
    from kefu.accounts.tests.factories import UserFactory
    from kefu.customers.tests.factories import CustomerFactory

    clerk = UserFactory(company=company_x, role="clerk", username="clerk_s")
    for i in range(6):
        CustomerFactory(
            user=clerk,
            account_no=f"20000{i}",
            name=f"客户{i}",
            category="resident",
            phones=[{"number": f"1380000000{i}", "is_primary": True}],
            address=f"幸福小区{i}号",
        )
    s = client_for(supervisor_x)
    r = s.post(
        f"{API}/questionnaires",
        {
            "name": "年度满意度",
            "questions": [
                {"key": "overall", "text": "总体满意度", "type": "score"},
                {
                    "key": "channel",
                    "text": "您最常用的缴费方式",
                    "type": "choice",
                    "choices": ["微信", "营业厅"],
                },
            ],
        },
        content_type="application/json",
    )
    assert r.status_code == 201
    bad = s.post(
        f"{API}/questionnaires",
        {"name": "x", "questions": [{"key": "a", "text": "t", "type": "stars"}]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["detail"]
    r = s.post(
        f"{API}/surveys",
        {"name": "2026 年度", "questionnaire_id": r.json()["id"], "sample_size": 4, "seed": "s1"},
        content_type="application/json",
    )
    assert r.status_code == 201
    camp = r.json()["id"]
    responses = list(SurveyResponse.objects.filter(campaign_id=camp).order_by("id"))
    assert len(responses) == 4
    for resp, score in zip(responses[:3], (8, 9, 10), strict=True):
        r = Client().post(
            f"{API}/surveys/link/{resp.token}",
            {"answers": {"overall": score, "channel": "微信"}},
            content_type="application/json",
        )
        assert r.status_code == 200
    again = Client().post(
        f"{API}/surveys/link/{responses[0].token}",
        {"answers": {"overall": 1}},
        content_type="application/json",
    )
    assert again.status_code == 400
    r = client_for(agent_x).post(
        f"{API}/surveys/responses/{responses[3].pk}",
        {"answers": {"overall": 11}},
        content_type="application/json",
    )
    assert r.status_code == 400
    stats = s.get(f"{API}/surveys/{camp}").json()["stats"]
    overall = stats["questions"][0]
    assert (overall["n"], overall["mean"]) == (3, 9.0)
    assert overall["low"] == pytest.approx(9 - 4.303 * 1 / 3**0.5, abs=1e-3)
    assert stats["questions"][1]["distribution"] == {"微信": 3, "营业厅": 0}
    r = s.get(f"{API}/surveys/{camp}/export.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert AuditEvent.objects.filter(action="data.exported", object_type="followups.campaign").count() == 1
    assert Client().get(f"/followups/s/{responses[3].token}/").status_code == 200
    assert s.get(f"/followups/surveys/{camp}/").status_code == 200


def test_indicator_page_and_api(company_x, supervisor_x, agent_x):
    assert client_for(supervisor_x).get(f"{API}/indicators", {"year": 2026, "month": 3}).status_code == 200
    assert client_for(agent_x).get(f"{API}/indicators", {"year": 2026, "month": 3}).status_code == 403
    assert client_for(supervisor_x).get(f"{API}/indicators", {"year": 2026, "month": 13}).status_code in (
        400,
        422,
    )
    assert client_for(supervisor_x).get("/followups/indicators/?year=2026&month=3").status_code == 200
    assert client_for(agent_x).get("/followups/visits/").status_code == 200
