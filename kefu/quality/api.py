"""quality endpoints (/api/v1/quality/): submit a transcript to check (telephony, chat, a
speech-recognition adapter), read transcripts with their findings, language rules with their
examples' precision and recall, try rules on a text, sampling, scoring, appeals and the report.

Every error is a 4xx JSON body with a message in the user's language; everything is scoped to the
user's company, and an agent sees only their own transcripts and evaluations (S2).
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError
from kefu.quality import engine, selectors, services
from kefu.quality.models import Evaluation, Rule, Transcript
from kefu.quality.schemas import (
    AppealIn,
    DecideIn,
    ErrorOut,
    EvaluationOut,
    PlanIn,
    RuleIn,
    RuleOut,
    SampleIn,
    ScoreIn,
    TestIn,
    TestOut,
    TranscriptIn,
    TranscriptOut,
    TranscriptRow,
)

router = Router(tags=["quality"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _name(u) -> str | None:
    return (u.full_name or u.username) if u is not None else None


def transcript_out(tr: Transcript, *, created: bool = False) -> dict:
    findings = [
        {
            "rule": f.rule.code,
            "rule_name": f.rule.name,
            "rule_version": f.rule_version,
            "clause": f.rule.clause,
            "severity": f.severity,
            "turn": f.turn,
            "start": f.start,
            "end": f.end,
            "at_ms": f.at_ms,
            "phrase": f.phrase,
            "missing": f.missing,
        }
        for f in tr.findings.select_related("rule").order_by("turn", "start", "id")
    ]
    return {
        "id": tr.pk,
        "source": tr.source,
        "external_id": tr.external_id,
        "agent": _name(tr.agent),
        "status": tr.status,
        "score": tr.score,
        "hit_count": tr.hit_count,
        "occurred_at": tr.occurred_at,
        "checked_at": tr.checked_at,
        "turns": tr.turns,
        "findings": findings,
        "created": created,
    }


def _agent(request, payload: TranscriptIn) -> User | None:
    company = request.user.company
    if payload.agent_id is not None:
        u = User.objects.filter(company=company, pk=payload.agent_id).first()
        if u is None:
            raise DomainError(_("本公司没有该坐席。"), field="agent_id")
        return u
    if payload.agent_username:
        u = User.objects.filter(company=company, username=payload.agent_username).first()
        if u is None:
            raise DomainError(_("本公司没有该坐席。"), field="agent_username")
        return u
    return None


@router.post(
    "/transcripts",
    response={200: TranscriptOut, 201: TranscriptOut, **ERRORS},
    summary="提交一段通话 / 会话文字稿并立即质检（幂等：同一来源编号只收一次）",
)
def submit_transcript(request, payload: TranscriptIn):
    """For telephony, chat and speech-recognition adapters (token auth). Needs quality.review or
    ticket.create (an integration token of the hotline). The check runs at once; if it cannot,
    the worker's sweep checks the transcript within a minute."""
    user = request.user
    if not (selectors.is_reviewer(user) or Perm.TICKET_CREATE in _perms(user)):
        assert_perm(user, Perm.QUALITY_REVIEW)
    turns = [t.dict(exclude_none=True) for t in payload.turns]
    for t in turns:
        if not t.get("noise"):
            t.pop("noise", None)
    tr, created = services.transcript_submit(
        company=user.company,
        source=payload.source,
        external_id=payload.external_id,
        turns=turns,
        agent=_agent(request, payload),
        customer_surname=payload.customer_surname,
        hangup_by=payload.hangup_by,
        noisy=payload.noisy,
        occurred_at=payload.occurred_at,
        ticket_id=payload.ticket_id,
        check_now=False,
    )
    if created:
        services.check_pending(ids=[tr.pk])
        tr.refresh_from_db()
    return (201 if created else 200), transcript_out(tr, created=created)


def _perms(user) -> frozenset:
    from kefu.accounts.roles import ROLE_PERMISSIONS

    return ROLE_PERMISSIONS.get(getattr(user, "role", ""), frozenset())


@router.get(
    "/transcripts", response={200: list[TranscriptRow], **ERRORS}, summary="质检文本列表（坐席只看到自己的）"
)
def list_transcripts(
    request, source: str = "", status: str = "", min_hits: int = 0, limit: int = 50, offset: int = 0
):
    qs = selectors.transcripts_visible_to(request.user).select_related("agent")
    if source:
        qs = qs.filter(source=source)
    if status:
        qs = qs.filter(status=status)
    if min_hits > 0:
        qs = qs.filter(hit_count__gte=min(min_hits, 10**6))
    limit = min(max(limit, 1), 200)
    offset = min(max(offset, 0), 10**7)
    return [
        {
            "id": t.pk,
            "source": t.source,
            "external_id": t.external_id,
            "agent": _name(t.agent),
            "status": t.status,
            "score": t.score,
            "hit_count": t.hit_count,
            "occurred_at": t.occurred_at,
        }
        for t in qs[offset : offset + limit]
    ]


@router.get(
    "/transcripts/{int:transcript_id}", response={200: TranscriptOut, **ERRORS}, summary="文字稿及命中位置"
)
def get_transcript(request, transcript_id: int):
    return transcript_out(selectors.transcript_get(request.user, transcript_id))


@router.post(
    "/transcripts/{int:transcript_id}/recheck",
    response={200: TranscriptOut, **ERRORS},
    summary="按现行规则重新质检",
)
def recheck(request, transcript_id: int):
    return transcript_out(services.transcript_recheck(by=request.user, transcript_id=transcript_id))


def rule_out(rule: Rule, metrics: dict | None = None) -> dict:
    return {
        "id": rule.pk,
        "code": rule.code,
        "name": rule.name,
        "clause": rule.clause,
        "severity": rule.severity,
        "weight": rule.weight,
        "spec": rule.spec,
        "examples": rule.examples,
        "sources": rule.sources,
        "active": rule.active,
        "version": rule.version,
        "metrics": metrics,
    }


@router.get(
    "/rules", response={200: list[RuleOut], **ERRORS}, summary="服务用语规则（含样例的准确率与召回率）"
)
def list_rules(request):
    assert_perm(request.user, Perm.QUALITY_REVIEW)
    if not Rule.objects.filter(company=request.user.company).exists():
        services.quality_seed(company=request.user.company)
    out = []
    for r in selectors.rules_of(request.user):
        try:
            m = services.rule_metrics(r)
        except engine.SpecError:
            m = None
        out.append(rule_out(r, m))
    return out


@router.post(
    "/rules", response={200: RuleOut, **ERRORS}, summary="新建或修改规则（新版本；返回样例的准确率与召回率）"
)
def save_rule(request, payload: RuleIn):
    rule, metrics = services.rule_save(by=request.user, **payload.dict())
    return rule_out(rule, metrics)


@router.post("/test", response={200: TestOut, **ERRORS}, summary="用本公司现行规则试检一段文字")
def try_rules(request, payload: TestIn):
    assert_perm(request.user, Perm.QUALITY_REVIEW)
    if payload.turns is not None:
        turns = services.validate_turns([t.dict(exclude_none=True) for t in payload.turns])
    else:
        turns = [{"speaker": "agent", "text": payload.text}]
    book, _rules = services._rulebook(request.user.company_id, payload.source)
    tr = engine.Transcript(
        tuple(
            engine.Turn(t["speaker"], t["text"], t.get("start_ms"), t.get("end_ms"), bool(t.get("noise")))
            for t in turns
        ),
        company=request.user.company.short_name,
        surname=payload.customer_surname,
        hangup_by=payload.hangup_by,
    )
    res = engine.evaluate(book, tr)
    return {"score": res.score, "hits": [h.__dict__ for h in res.hits]}


def evaluation_out(ev: Evaluation, *, events: bool = False) -> dict:
    out = {
        "id": ev.pk,
        "transcript_id": ev.transcript_id,
        "agent": _name(ev.agent),
        "inspector": _name(ev.inspector),
        "week": ev.week,
        "reason": ev.reason,
        "status": ev.status,
        "items": ev.items,
        "score": ev.score,
        "comment": ev.comment,
        "appeal_reason": ev.appeal_reason,
        "decision": ev.decision,
        "decision_comment": ev.decision_comment,
    }
    if events:
        out["events"] = [
            {"kind": e.kind, "actor": _name(e.actor), "at": e.at.isoformat(), "payload": e.payload}
            for e in ev.events.select_related("actor")
        ]
    return out


@router.get(
    "/evaluations", response={200: list[EvaluationOut], **ERRORS}, summary="评分记录（坐席只看到自己的）"
)
def list_evaluations(request, status: str = "", limit: int = 50, offset: int = 0):
    qs = selectors.evaluations_visible_to(request.user)
    if status:
        qs = qs.filter(status=status)
    limit, offset = min(max(limit, 1), 200), min(max(offset, 0), 10**7)
    return [evaluation_out(e) for e in qs[offset : offset + limit]]


@router.get(
    "/evaluations/{int:evaluation_id}",
    response={200: EvaluationOut, **ERRORS},
    summary="评分记录及其全部经过",
)
def get_evaluation(request, evaluation_id: int):
    return evaluation_out(selectors.evaluation_get(request.user, evaluation_id), events=True)


@router.post(
    "/sampling", response={200: list[EvaluationOut], **ERRORS}, summary="按抽检计划抽取本周待评分的通话"
)
def draw_sample(request, payload: SampleIn):
    week = payload.week or timezone.localdate()
    return [evaluation_out(e) for e in services.sampling_draw(by=request.user, week=week)]


@router.post("/sampling/plan", response={200: PlanIn, **ERRORS}, summary="设置抽检计划（质检主管）")
def save_plan(request, payload: PlanIn):
    plan = services.sampling_plan_save(by=request.user, **payload.dict())
    return {"per_agent_week": plan.per_agent_week, "low_score": plan.low_score, "extra_low": plan.extra_low}


@router.post(
    "/transcripts/{int:transcript_id}/evaluation",
    response={200: EvaluationOut, **ERRORS},
    summary="选定一条文字稿进行人工评分",
)
def open_evaluation(request, transcript_id: int):
    return evaluation_out(services.evaluation_open(by=request.user, transcript_id=transcript_id))


@router.post(
    "/evaluations/{int:evaluation_id}/score", response={200: EvaluationOut, **ERRORS}, summary="填写评分表"
)
def score(request, evaluation_id: int, payload: ScoreIn):
    ev = services.evaluation_score(
        by=request.user, evaluation_id=evaluation_id, points=payload.points, comment=payload.comment
    )
    return evaluation_out(ev, events=True)


@router.post(
    "/evaluations/{int:evaluation_id}/acknowledge",
    response={200: EvaluationOut, **ERRORS},
    summary="坐席确认评分",
)
def acknowledge(request, evaluation_id: int):
    return evaluation_out(
        services.evaluation_acknowledge(by=request.user, evaluation_id=evaluation_id), events=True
    )


@router.post(
    "/evaluations/{int:evaluation_id}/appeal", response={200: EvaluationOut, **ERRORS}, summary="坐席申诉"
)
def appeal(request, evaluation_id: int, payload: AppealIn):
    ev = services.evaluation_appeal(by=request.user, evaluation_id=evaluation_id, reason=payload.reason)
    return evaluation_out(ev, events=True)


@router.post(
    "/evaluations/{int:evaluation_id}/decide",
    response={200: EvaluationOut, **ERRORS},
    summary="质检主管裁定申诉（必须填写意见）",
)
def decide(request, evaluation_id: int, payload: DecideIn):
    ev = services.appeal_decide(
        by=request.user,
        evaluation_id=evaluation_id,
        decision=payload.decision,
        comment=payload.comment,
        points=payload.points,
    )
    return evaluation_out(ev, events=True)


@router.get("/report", response={200: dict, **ERRORS}, summary="质检报表：按坐席或班组，按月")
def report(request, month: str = "", by: str = "agent"):
    assert_perm(request.user, Perm.QUALITY_REVIEW)
    return selectors.report(request.user, month=_month(month), by="team" if by == "team" else "agent")


def _month(value: str) -> date:
    if not value:
        return timezone.localdate().replace(day=1)
    try:
        y, m = value.split("-")
        return date(int(y), int(m), 1)
    except (ValueError, TypeError):
        raise DomainError(_("月份格式应为 YYYY-MM。"), field="month") from None
