"""Follow-up endpoints, /api/v1/followups/ (P3, P4, P6, P16; K13, K15–K17). Thin: parse, call one
service or selector, shape the answer; every refusal is a 4xx JSON with a message in the user's
language (kefu.api handlers). Phone numbers are masked unless the role may see them in full."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from kefu.customers.privacy import can_view_unmasked, show_phone
from kefu.exports.services import export_direct
from kefu.exports.web import delivery_response
from kefu.followups import selectors, services
from kefu.followups.models import Article, ArticleVersion, Campaign, Complaint, ReturnVisit
from kefu.tickets.schemas import ErrorOut

router = Router(tags=["followups"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
Id = Field(..., ge=1, le=2**31 - 1)
OptId = Field(None, ge=1, le=2**31 - 1)


def _user(u) -> dict | None:
    return {"id": u.pk, "name": u.display_name} if u is not None else None


def _phone(request, value: str) -> str:
    return show_phone(value, unmasked=can_view_unmasked(request.auth))


# ---- complaints ---------------------------------------------------------------------------------
def complaint_out(request, c: Complaint) -> dict:
    return {
        "id": c.pk,
        "ticket_id": c.ticket_id,
        "number": c.ticket.number,
        "step": c.step,
        "step_label": str(c.get_step_display()),
        "category": c.category,
        "source": c.source,
        "source_ref": c.source_ref,
        "source_due_at": c.source_due_at,
        "complainant": c.complainant,
        "complainant_phone": _phone(request, c.complainant_phone),
        "demand": c.demand,
        "received_at": c.received_at,
        "target_department_id": c.target_department_id,
        "target_user": _user(c.target_user),
        "stands": c.stands,
        "judgement_reason": c.judgement_reason,
        "responsible_department_id": c.responsible_department_id,
        "responsible_user": _user(c.responsible_user),
        "cause": c.cause,
        "plan": c.plan,
        "approved_by": _user(c.approved_by),
        "approved_at": c.approved_at,
        "penalty_amount": str(c.penalty_amount) if c.penalty_amount is not None else None,
        "penalty_note": c.penalty_note,
        "promised_at": c.promised_at,
        "answered_at": c.answered_at,
        "informed_at": c.informed_at,
        "feedback": c.feedback,
        "summary": c.summary,
        "evaluation": c.evaluation,
        "closed_at": c.closed_at,
        "repeat_of_id": c.repeat_of_id,
        "steps": [
            {"step": s.step, "action": s.action, "by": _user(s.by), "at": s.at, "note": s.note}
            for s in c.steps.select_related("by")
        ],
    }


@router.get("/complaints", response={200: list[dict], **ERRORS})
def complaint_list(
    request: HttpRequest, step: str = "", target_user_id: int | None = Query(None, ge=1, le=2**31 - 1)
):
    """Complaints whose work order the user may see, newest first (at most 200)."""
    if target_user_id:
        qs = selectors.complaints_against(user=request.auth, staff_id=target_user_id)
    else:
        qs = selectors.complaint_list(user=request.auth, step=step[:20])
    return [complaint_out(request, c) for c in qs.select_related("approved_by", "responsible_user")[:200]]


@router.get("/complaints/{complaint_id}", response={200: dict, **ERRORS})
def complaint_detail(request: HttpRequest, complaint_id: int):
    return complaint_out(request, selectors.complaint_get(user=request.auth, complaint_id=complaint_id))


class IntakeIn(Schema):
    category: str = Field(..., max_length=20)
    source: str = Field("customer", max_length=20)
    source_ref: str = Field("", max_length=60)
    source_due_at: datetime | None = None
    complainant: str = Field("", max_length=40)
    complainant_phone: str = Field("", max_length=20)
    demand: str = Field("", max_length=2000)
    target_department_id: int | None = OptId
    target_user_id: int | None = OptId


class JudgeIn(Schema):
    stands: bool
    reason: str = Field(..., max_length=2000)


class ResponsibilityIn(Schema):
    department_id: int = Id
    user_id: int | None = OptId


class TextIn(Schema):
    text: str = Field(..., max_length=2000)


class ApprovalIn(Schema):
    approve: bool
    reason: str = Field("", max_length=2000)


class ExecuteIn(Schema):
    informed: str = Field(..., max_length=2000)
    feedback: str = Field("", max_length=2000)
    apply_penalty: bool = True


class CloseIn(Schema):
    summary: str = Field(..., max_length=2000)
    evaluation: str = Field("", max_length=2000)


def _done(request, c: Complaint) -> dict:
    return complaint_out(request, selectors.complaint_get(user=request.auth, complaint_id=c.pk))


@router.post("/complaints/{complaint_id}/intake", response={200: dict, **ERRORS})
def complaint_intake(request: HttpRequest, payload: IntakeIn, complaint_id: int):
    """受理: category, source (12345 / regulator with its reference and deadline), complainant,
    target, demand."""
    return _done(
        request, services.complaint_intake(by=request.auth, complaint_id=complaint_id, **payload.dict())
    )


@router.post("/complaints/{complaint_id}/judgement", response={200: dict, **ERRORS})
def complaint_judge(request: HttpRequest, payload: JudgeIn, complaint_id: int):
    return _done(
        request, services.complaint_judge(by=request.auth, complaint_id=complaint_id, **payload.dict())
    )


@router.post("/complaints/{complaint_id}/responsibility", response={200: dict, **ERRORS})
def complaint_responsibility(request: HttpRequest, payload: ResponsibilityIn, complaint_id: int):
    return _done(
        request,
        services.complaint_assign_responsibility(
            by=request.auth, complaint_id=complaint_id, **payload.dict()
        ),
    )


@router.post("/complaints/{complaint_id}/analysis", response={200: dict, **ERRORS})
def complaint_analysis(request: HttpRequest, payload: TextIn, complaint_id: int):
    return _done(
        request, services.complaint_analyse(by=request.auth, complaint_id=complaint_id, cause=payload.text)
    )


@router.post("/complaints/{complaint_id}/plan", response={200: dict, **ERRORS})
def complaint_plan(request: HttpRequest, payload: TextIn, complaint_id: int):
    return _done(
        request, services.complaint_plan(by=request.auth, complaint_id=complaint_id, plan=payload.text)
    )


@router.post("/complaints/{complaint_id}/approval", response={200: dict, **ERRORS})
def complaint_approval(request: HttpRequest, payload: ApprovalIn, complaint_id: int):
    """The responsible manager approves the plan or sends it back with a reason (followup.approve)."""
    return _done(
        request, services.complaint_approve(by=request.auth, complaint_id=complaint_id, **payload.dict())
    )


@router.post("/complaints/{complaint_id}/execution", response={200: dict, **ERRORS})
def complaint_execution(request: HttpRequest, payload: ExecuteIn, complaint_id: int):
    return _done(
        request, services.complaint_execute(by=request.auth, complaint_id=complaint_id, **payload.dict())
    )


@router.post("/complaints/{complaint_id}/summary", response={200: dict, **ERRORS})
def complaint_summary(request: HttpRequest, payload: CloseIn, complaint_id: int):
    return _done(
        request, services.complaint_close(by=request.auth, complaint_id=complaint_id, **payload.dict())
    )


# ---- return visits ------------------------------------------------------------------------------
def visit_out(request, v: ReturnVisit) -> dict:
    t = v.ticket
    return {
        "id": v.pk,
        "ticket_id": v.ticket_id,
        "number": t.number if t else None,
        "project": v.project.name if v.project_id else None,
        "reason": v.reason,
        "status": v.status,
        "finished_at": v.finished_at,
        "due_at": v.due_at,
        "assigned_to": _user(v.assigned_to),
        "attempts": v.attempts,
        "next_attempt_at": v.next_attempt_at,
        "customer": t.salutation if t else (v.project.contact_name if v.project_id else ""),
        "phone": _phone(request, t.caller_phone if t else (v.project.contact_phone if v.project_id else "")),
        "consent": v.consent,
        "answers": v.answers,
        "attitude_score": v.attitude_score,
        "ability_score": v.ability_score,
        "satisfied": v.satisfied,
        "remarks": v.remarks,
        "outcome": v.outcome,
        "linked_ticket_id": v.linked_ticket_id,
        "done_at": v.done_at,
    }


@router.get("/visits", response={200: list[dict], **ERRORS})
def visit_list(request: HttpRequest, mine: bool = True, status: str = "pending"):
    """The return-visit queue: one's own and unassigned tasks (`mine`), soonest due first (at most 200)."""
    if status and status not in ReturnVisit.Status.values:
        from kefu.core.errors import DomainError

        raise DomainError("状态无效。", field="status")
    qs = selectors.visit_queue(user=request.auth, mine=mine, status=status)
    return [visit_out(request, v) for v in qs[:200]]


@router.get("/visits/{visit_id}", response={200: dict, **ERRORS})
def visit_detail(request: HttpRequest, visit_id: int):
    v = selectors.visit_get(user=request.auth, visit_id=visit_id)
    out = visit_out(request, v)
    out["questions"] = services.questionnaire_for(v.company_id, v.reason)
    return out


class TakeIn(Schema):
    user_id: int | None = OptId


class AttemptIn(Schema):
    result: str = Field(..., max_length=20)
    note: str = Field("", max_length=200)
    next_at: datetime | None = None


class ResultIn(Schema):
    consent: bool
    answers: dict[str, Any] = Field(default_factory=dict)
    attitude_score: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    ability_score: int | None = Field(None, ge=-(2**31), le=2**31 - 1)
    satisfied: bool | None = None
    remarks: str = Field("", max_length=2000)
    dissatisfied_action: str = Field("", max_length=20)


def _visit_done(request, v: ReturnVisit) -> dict:
    return visit_out(request, selectors.visit_get(user=request.auth, visit_id=v.pk))


@router.post("/visits/{visit_id}/take", response={200: dict, **ERRORS})
def visit_take(request: HttpRequest, payload: TakeIn, visit_id: int):
    return _visit_done(
        request, services.visit_take(by=request.auth, visit_id=visit_id, user_id=payload.user_id)
    )


@router.post("/visits/{visit_id}/dial", response={200: dict, **ERRORS})
def visit_dial(request: HttpRequest, visit_id: int):
    """Click-to-call through telephony's CTI adapter (in calling hours, C19): the agent's seat rings,
    then the customer is dialled. Returns the PBX call id that links the call record to the visit."""
    vc = services.visit_dial(by=request.auth, visit_id=visit_id)
    return {"visit_id": visit_id, "call_ref": vc.call_ref, "at": vc.at}


@router.post("/visits/{visit_id}/attempts", response={200: dict, **ERRORS})
def visit_attempt(request: HttpRequest, payload: AttemptIn, visit_id: int):
    """A call without the visit done: no_answer, busy, wrong_number, inconvenient (with `next_at`)."""
    return _visit_done(
        request, services.visit_record_attempt(by=request.auth, visit_id=visit_id, **payload.dict())
    )


@router.post("/visits/{visit_id}/result", response={200: dict, **ERRORS})
def visit_result(request: HttpRequest, payload: ResultIn, visit_id: int):
    """The visit made: consent, answers, scores 1–10 (C16), satisfied; `dissatisfied_action`
    `reopen` or `complaint`."""
    return _visit_done(
        request, services.visit_record_result(by=request.auth, visit_id=visit_id, **payload.dict())
    )


# ---- knowledge base -----------------------------------------------------------------------------
def article_out(a: Article) -> dict:
    return {
        "id": a.pk,
        "category": a.category,
        "title": a.title,
        "body": a.body,
        "version": a.version,
        "updated_at": a.updated_at,
    }


@router.get("/kb/articles", response={200: list[dict], **ERRORS})
def kb_search(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    category: str = Query("", max_length=20),
    limit: int = Query(10, ge=1, le=50),
):
    """Approved answers matching every word of `q`, for the desk as the agent types (P3)."""
    return [
        article_out(a) for a in selectors.kb_search(user=request.auth, q=q, category=category, limit=limit)
    ]


@router.get("/kb/articles/{article_id}", response={200: dict, **ERRORS})
def kb_article(request: HttpRequest, article_id: int):
    return article_out(selectors.article_get(user=request.auth, article_id=article_id))


class ProposeIn(Schema):
    category: str = Field(..., max_length=20)
    title: str = Field(..., max_length=120)
    body: str = Field(..., max_length=10000)
    keywords: str = Field("", max_length=200)
    article_id: int | None = OptId


def version_out(v: ArticleVersion) -> dict:
    return {
        "id": v.pk,
        "article_id": v.article_id,
        "number": v.number,
        "title": v.title,
        "status": v.status,
        "proposed_by": _user(v.proposed_by),
        "decision_note": v.decision_note,
    }


@router.post("/kb/proposals", response={201: dict, **ERRORS})
def kb_propose(request: HttpRequest, payload: ProposeIn):
    """Propose a new article or a change; it reaches the desk after a supervisor's approval."""
    return 201, version_out(services.kb_propose(by=request.auth, **payload.dict()))


@router.get("/kb/proposals", response={200: list[dict], **ERRORS})
def kb_pending(request: HttpRequest):
    return [version_out(v) for v in selectors.kb_pending(user=request.auth)[:200]]


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=200)


@router.post("/kb/proposals/{version_id}/decision", response={200: dict, **ERRORS})
def kb_decide(request: HttpRequest, payload: DecisionIn, version_id: int):
    return version_out(services.kb_decide(by=request.auth, version_id=version_id, **payload.dict()))


# ---- consultations ------------------------------------------------------------------------------
class ReferIn(Schema):
    surname: str = Field(..., max_length=10)
    title: str = Field("", max_length=2)
    phone: str = Field(..., max_length=20)
    question: str = Field(..., max_length=2000)
    department_id: int = Id


@router.post("/consultations", response={201: dict, **ERRORS})
def consultation_refer(request: HttpRequest, payload: ReferIn):
    """P3: a question the agent cannot answer, recorded with name and phone and routed to the expert
    department; its answer is due within C14 (the consultation's answer clock)."""
    from kefu.followups.services.consultations import consultation_refer as refer

    t = refer(by=request.auth, **payload.dict())
    return 201, {"ticket_id": t.pk, "number": t.number, "assigned_department_id": t.assigned_department_id}


# ---- surveys ------------------------------------------------------------------------------------
class QuestionnaireIn(Schema):
    name: str = Field(..., max_length=100)
    reason: str = Field("", max_length=20)
    questions: list[dict[str, Any]] = Field(..., max_length=50)


@router.post("/questionnaires", response={201: dict, **ERRORS})
def questionnaire_create(request: HttpRequest, payload: QuestionnaireIn):
    q = services.questionnaire_create(by=request.auth, **payload.dict())
    return 201, {"id": q.pk, "name": q.name, "reason": q.reason, "questions": q.questions}


class CampaignIn(Schema):
    name: str = Field(..., max_length=100)
    questionnaire_id: int = Id
    sample_size: int = Field(..., ge=-(2**31), le=2**31 - 1)
    categories: list[str] = Field(default_factory=list, max_length=20)
    districts: list[str] = Field(default_factory=list, max_length=50)
    seed: str = Field("", max_length=40)


def campaign_out(c: Campaign) -> dict:
    return {
        "id": c.pk,
        "name": c.name,
        "questionnaire_id": c.questionnaire_id,
        "sample_size": c.sample_size,
        "categories": c.categories,
        "districts": c.districts,
        "created_at": c.created_at,
    }


@router.post("/surveys", response={201: dict, **ERRORS})
def campaign_create(request: HttpRequest, payload: CampaignIn):
    return 201, campaign_out(services.campaign_create(by=request.auth, **payload.dict()))


@router.get("/surveys/{campaign_id}", response={200: dict, **ERRORS})
def campaign_stats(request: HttpRequest, campaign_id: int):
    """Statistics: mean with 95 % CI, distribution, by district / category, trend by month."""
    c = selectors.campaign_get(user=request.auth, campaign_id=campaign_id)
    return {**campaign_out(c), "stats": services.campaign_stats(c)}


@router.get("/surveys/{campaign_id}/export.xlsx", response={200: None, **ERRORS})
def campaign_export(request: HttpRequest, campaign_id: int):
    """机密 (survey analyses, S4): delivered at once through kefu.exports, watermarked and logged (S3)."""
    c = selectors.campaign_get(user=request.auth, campaign_id=campaign_id)
    return delivery_response(
        export_direct(by=request.auth, kind="followups.survey", params={"campaign_id": [str(c.pk)]})
    )


class AnswersIn(Schema):
    answers: dict[str, Any]


@router.post("/surveys/responses/{response_id}", response={200: dict, **ERRORS})
def survey_phone(request: HttpRequest, payload: AnswersIn, response_id: int):
    r = services.survey_answer_phone(by=request.auth, response_id=response_id, answers=payload.answers)
    return {"id": r.pk, "answered_at": r.answered_at, "channel": r.channel}


@router.post("/surveys/link/{token}", response={200: dict, **ERRORS}, auth=None)
def survey_link(request: HttpRequest, payload: AnswersIn, token: str):
    """The customer's own answers through their link (no login; the token is used once)."""
    r = services.survey_answer_link(token=token, answers=payload.answers)
    return {"answered_at": r.answered_at}


# ---- indicators ---------------------------------------------------------------------------------
@router.get("/indicators", response={200: list[dict], **ERRORS})
def indicators(
    request: HttpRequest, year: int = Query(..., ge=2000, le=2100), month: int = Query(..., ge=1, le=12)
):
    """K13, K15, K16, K17 inputs of the user's company for the month, with the records (report.view)."""
    return [
        {
            "k": i.k,
            "numerator": i.numerator,
            "denominator": i.denominator,
            "value": i.value,
            "records": i.records,
        }
        for i in selectors.indicator_inputs(user=request.auth, year=year, month=month)
    ]
