"""The quality screens: transcripts with highlighted hits, rules with examples (edit → new version,
precision and recall shown), sampling queue, scoring form, appeals, report — for the inspector, the
QA lead and the agent; company Y sees nothing."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from kefu.quality import services
from kefu.quality.models import Evaluation, Rule
from kefu.quality.tests.conftest import BAD_CALL

pytestmark = pytest.mark.django_db


@pytest.fixture
def bad_call(agent_x):
    tr, _ = services.transcript_submit(
        company=agent_x.company,
        source="call",
        external_id="PBX-9",
        turns=BAD_CALL,
        agent=agent_x,
        customer_surname="王",
        check_now=False,
    )
    services.check_pending()
    tr.refresh_from_db()
    return tr


def test_transcript_page_highlights_hits(client_for, inspector_x, agent_x, agent_y, bad_call):
    page = client_for(inspector_x).get(f"/quality/t/{bad_call.pk}/").content.decode()
    assert "<mark" in page and "不知道</mark>" in page and "000 4.5.1" in page
    assert client_for(agent_x).get(f"/quality/t/{bad_call.pk}/").status_code == 200  # their own call
    assert client_for(agent_y).get(f"/quality/t/{bad_call.pk}/").status_code == 404
    assert "PBX-9" in client_for(inspector_x).get("/quality/?hits=1").content.decode()
    assert "PBX-9" not in client_for(agent_y).get("/quality/").content.decode()


def test_rules_page_and_edit_makes_a_version(client_for, supervisor_x, inspector_x, agent_x):
    page = client_for(inspector_x).get("/quality/rules/?text=這個我不知道").content.decode()
    assert "forbidden-4.5.1" in page and "000 4.5.15" in page
    assert client_for(agent_x).get("/quality/rules/").status_code == 403
    rule = Rule.objects.get(code="forbidden-4.5.7")
    r = client_for(supervisor_x).post(
        f"/quality/rules/{rule.code}/",
        {
            "name": rule.name,
            "clause": rule.clause,
            "severity": "major",
            "weight": "12",
            "sources": ["call", "chat"],
            "active": "on",
            "spec": json.dumps({"kind": "forbidden", "any": ["我没工夫", "没空"]}, ensure_ascii=False),
            "examples": json.dumps(rule.examples + [{"text": "我没空", "hit": True}], ensure_ascii=False),
        },
    )
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.version == 2 and rule.weight == 12 and rule.versions.count() == 2
    page = client_for(supervisor_x).get(f"/quality/rules/{rule.code}/").content.decode()
    assert 'id="metrics"' in page and "100%" in page
    bad = client_for(supervisor_x).post(
        f"/quality/rules/{rule.code}/", {"name": "x", "spec": "{oops", "examples": "[]", "sources": ["call"]}
    )
    assert bad.status_code == 200 and "JSON" in bad.content.decode()
    assert client_for(inspector_x).post(f"/quality/rules/{rule.code}/", {"name": "x"}).status_code == 403


def test_queue_score_appeal_decide_through_the_pages(
    client_for, inspector_x, supervisor_x, agent_x, bad_call
):
    c = client_for(inspector_x)
    assert c.post("/quality/queue/").status_code == 302
    ev = Evaluation.objects.get(transcript=bad_call)
    assert "PBX-9" in c.get("/quality/queue/").content.decode()
    points = {
        "p_opening": 0,
        "p_address": 5,
        "p_listening": 10,
        "p_answer": 10,
        "p_attitude": 5,
        "p_closing": 5,
        "p_forbidden": 1,
    }
    c.post(f"/quality/evaluations/{ev.pk}/", {"action": "score", "comment": "多处禁忌用语", **points})
    ev.refresh_from_db()
    assert ev.status == "scored" and ev.score is not None
    a = client_for(agent_x)
    assert "申诉" in a.get(f"/quality/evaluations/{ev.pk}/").content.decode()
    a.post(f"/quality/evaluations/{ev.pk}/", {"action": "appeal", "reason": "客户先骂人，我是在解释"})
    ev.refresh_from_db()
    assert ev.status == "appealed"
    assert "客户先骂人" in client_for(supervisor_x).get("/quality/appeals/").content.decode()
    client_for(supervisor_x).post(
        f"/quality/evaluations/{ev.pk}/",
        {"action": "decide", "decision": "rejected", "decision_comment": "禁忌用语属实"},
    )
    ev.refresh_from_db()
    assert ev.status == "decided" and ev.decision == "rejected"
    assert "禁忌用语属实" in a.get(f"/quality/evaluations/{ev.pk}/").content.decode()


def test_report_page(client_for, inspector_x, bad_call):
    page = (
        client_for(inspector_x).get(f"/quality/report/?month={timezone.localdate():%Y-%m}").content.decode()
    )
    assert "forbidden-4.5.1" in page
    assert client_for(inspector_x).get("/quality/report/?month=garbage&by=team").status_code == 200
