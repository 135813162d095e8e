"""Inspection by people: sampling plans (n per agent per week, more for low scores), the scoring
form (a critical item sets the score to zero), the agent's acknowledgement or appeal, the QA lead's
decision with a mandatory comment and the recomputed score — everything on record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.quality import services
from kefu.quality.models import EvalStatus, Evaluation, SamplingPlan
from kefu.quality.tests.conftest import BAD_CALL, GOOD_CALL

pytestmark = pytest.mark.django_db
BASE = "/api/v1/quality/"
FULL = {
    "opening": 10,
    "address": 10,
    "listening": 20,
    "answer": 30,
    "attitude": 20,
    "closing": 10,
    "forbidden": 1,
}


def _calls(company, agent, n, turns, prefix):
    out = []
    for i in range(n):
        tr, _ = services.transcript_submit(
            company=company,
            source="call",
            external_id=f"{prefix}{i}",
            turns=turns,
            agent=agent,
            customer_surname="王",
            hangup_by="customer",
            occurred_at=timezone.now() - timedelta(minutes=i + 1),
            check_now=False,
        )
        out.append(tr)
    services.check_pending()
    return out


def test_sampling_plan_per_agent_and_low_scores(inspector_x, agent_x, agent2_x):
    company = agent_x.company
    services.quality_seed(company=company)
    SamplingPlan.objects.filter(company=company).update(per_agent_week=2, low_score=80, extra_low=1)
    _calls(company, agent_x, 5, GOOD_CALL, "g")
    low = _calls(company, agent2_x, 5, BAD_CALL, "b")
    drawn = services.sampling_draw(by=inspector_x, week=timezone.localdate())
    per_agent = {a: [e for e in drawn if e.agent_id == a] for a in (agent_x.pk, agent2_x.pk)}
    assert len(per_agent[agent_x.pk]) == 2 and {e.reason for e in per_agent[agent_x.pk]} == {"random"}
    assert len(per_agent[agent2_x.pk]) == 3 and [e.reason for e in per_agent[agent2_x.pk]].count("low") == 1
    assert {e.transcript_id for e in per_agent[agent2_x.pk]} <= {t.pk for t in low}
    assert services.sampling_draw(by=inspector_x, week=timezone.localdate()) == []  # idempotent per week
    assert Evaluation.objects.count() == 5


def test_agent_cannot_draw_or_score(agent_x):
    from kefu.core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.sampling_draw(by=agent_x, week=timezone.localdate())


def test_score_acknowledge(client_for, inspector_x, agent_x):
    tr = _calls(agent_x.company, agent_x, 1, GOOD_CALL, "s")[0]
    ev = services.evaluation_open(by=inspector_x, transcript_id=tr.pk)
    r = client_for(inspector_x).post(
        f"{BASE}evaluations/{ev.pk}/score",
        {"points": {**FULL, "answer": 15}, "comment": "答复不完整"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["score"] == 85 and r.json()["status"] == "scored"
    r = client_for(agent_x).post(f"{BASE}evaluations/{ev.pk}/acknowledge")
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    r = client_for(agent_x).post(
        f"{BASE}evaluations/{ev.pk}/appeal", {"reason": "已确认后又想申诉"}, content_type="application/json"
    )
    assert r.status_code == 409


def test_critical_item_sets_score_to_zero(inspector_x, agent_x):
    tr = _calls(agent_x.company, agent_x, 1, BAD_CALL, "c")[0]
    ev = services.evaluation_open(by=inspector_x, transcript_id=tr.pk)
    ev = services.evaluation_score(by=inspector_x, evaluation_id=ev.pk, points={**FULL, "forbidden": 0})
    assert ev.score == 0


def test_appeal_upheld_recomputes_score_and_keeps_the_record(
    client_for, inspector_x, supervisor_x, agent_x, agent2_x
):
    tr = _calls(agent_x.company, agent_x, 1, GOOD_CALL, "a")[0]
    ev = services.evaluation_open(by=inspector_x, transcript_id=tr.pk)
    services.evaluation_score(by=inspector_x, evaluation_id=ev.pk, points={**FULL, "answer": 0})
    # another agent cannot appeal someone else's evaluation, nor see it
    assert (
        client_for(agent2_x)
        .post(f"{BASE}evaluations/{ev.pk}/appeal", {"reason": "不是我的"}, content_type="application/json")
        .status_code
        == 404
    )
    r = client_for(agent_x).post(
        f"{BASE}evaluations/{ev.pk}/appeal", {"reason": ""}, content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["field"] == "reason"
    r = client_for(agent_x).post(
        f"{BASE}evaluations/{ev.pk}/appeal",
        {"reason": "已完整答复，见第4轮"},
        content_type="application/json",
    )
    assert r.json()["status"] == "appealed"
    # the inspector may not decide (no quality.manage); a decision needs a comment
    assert (
        client_for(inspector_x)
        .post(
            f"{BASE}evaluations/{ev.pk}/decide",
            {"decision": "upheld", "comment": "x", "points": FULL},
            content_type="application/json",
        )
        .status_code
        == 403
    )
    r = client_for(supervisor_x).post(
        f"{BASE}evaluations/{ev.pk}/decide",
        {"decision": "upheld", "comment": "  ", "points": FULL},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["field"] == "comment"
    r = client_for(supervisor_x).post(
        f"{BASE}evaluations/{ev.pk}/decide",
        {"decision": "upheld", "comment": "录音证实已答复", "points": FULL},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["score"] == 100 and body["status"] == "decided"
    kinds = [e["kind"] for e in body["events"]]
    assert kinds == ["queued", "scored", "appealed", "decided"]
    assert (
        body["events"][-1]["payload"]["score_before"] == 70
        and body["events"][-1]["payload"]["score_after"] == 100
    )
    # the agent sees it, with the whole record
    mine = client_for(agent_x).get(f"{BASE}evaluations/{ev.pk}").json()
    assert mine["decision"] == "upheld" and len(mine["events"]) == 4


def test_appeal_rejected_keeps_score(inspector_x, supervisor_x, agent_x):
    tr = _calls(agent_x.company, agent_x, 1, GOOD_CALL, "r")[0]
    ev = services.evaluation_open(by=inspector_x, transcript_id=tr.pk)
    services.evaluation_score(by=inspector_x, evaluation_id=ev.pk, points={**FULL, "attitude": 10})
    services.evaluation_appeal(by=agent_x, evaluation_id=ev.pk, reason="语气没有问题")
    ev = services.appeal_decide(
        by=supervisor_x, evaluation_id=ev.pk, decision="rejected", comment="录音中语气生硬"
    )
    assert ev.score == 90 and ev.status == EvalStatus.DECIDED


def test_rule_edit_is_versioned_and_reports_precision_recall(client_for, supervisor_x, inspector_x):
    c = client_for(supervisor_x)
    rules = c.get(BASE + "rules").json()
    assert len(rules) >= 25 and all(r["metrics"]["failures"] == [] for r in rules)
    body = {
        "code": "no-slang",
        "name": "不说“搞不定”",
        "clause": "000 4.4.2",
        "severity": "minor",
        "weight": 3,
        "spec": {"kind": "forbidden", "any": ["搞不定"]},
        "examples": [
            {"text": "这个我搞不定", "hit": True},
            {"text": "我来搞定", "hit": False},
            {"text": "我弄不了", "hit": True},
        ],
    }
    r = c.post(BASE + "rules", body, content_type="application/json")
    assert r.status_code == 200, r.content
    m = r.json()["metrics"]
    assert m["precision"] == 1.0 and m["recall"] == 0.5 and m["failures"] == [2]
    body["spec"] = {"kind": "forbidden", "any": ["搞不定", "弄不了"]}
    r = c.post(BASE + "rules", body, content_type="application/json")
    assert r.json()["version"] == 2 and r.json()["metrics"]["recall"] == 1.0
    bad = c.post(
        BASE + "rules",
        {**body, "spec": {"kind": "forbidden", "pattern": "("}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "spec"
    assert (
        client_for(inspector_x).post(BASE + "rules", body, content_type="application/json").status_code == 403
    )
    t = (
        client_for(inspector_x)
        .post(BASE + "test", {"text": "嗯，這個我弄不了"}, content_type="application/json")
        .json()
    )
    assert "no-slang" in {h["rule"] for h in t["hits"]}


def test_report_per_agent_and_export_is_audited(client_for, inspector_x, agent_x, agent2_x):
    from kefu.accounts.models import AuditEvent

    _calls(agent_x.company, agent_x, 2, GOOD_CALL, "g")
    _calls(agent_x.company, agent2_x, 3, BAD_CALL, "b")
    data = client_for(inspector_x).get(BASE + "report").json()
    rows = {r["label"]: r for r in data["rows"]}
    assert (
        rows[agent2_x.full_name]["checked"] == 3
        and rows[agent2_x.full_name]["auto"] < rows[agent_x.display_name]["auto"]
    )
    assert "forbidden-4.5.1" in rows[agent2_x.full_name]["top"]
    assert data["top_rules"] and data["trend"][-1]["checked"] == 5
    r = client_for(inspector_x).get("/quality/report/?export=csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")  # a CSV streams (kefu.exports)
    assert r.status_code == 200 and "王芳" in text and "# 密级：机密" in text  # watermarked (S3, S4)
    assert AuditEvent.objects.filter(action="data.exported", actor=inspector_x).exists()
    assert client_for(agent_x).get(BASE + "report").status_code == 403
