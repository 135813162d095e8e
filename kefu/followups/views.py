"""Follow-up pages: complaints with their steps and clocks, the return-visit queue and the scripted
visit screen, the knowledge base (search as you type, proposals, approvals), consultations routed to
an expert department, surveys (statistics, Excel export, the customer's link) and the K13/K15–K17
inputs. Views parse, call one service or selector, render; refusals become messages."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import Department, User
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError, Forbidden
from kefu.exports.web import export_response
from kefu.followups import selectors, services
from kefu.followups.models import (
    Article,
    Campaign,
    Complaint,
    Questionnaire,
    ReturnVisit,
    SurveyResponse,
    VisitAttempt,
)
from kefu.followups.services.common import FOLLOWUP_APPROVE
from kefu.followups.states import ComplaintStep, next_steps


def _refused(request, exc: DomainError) -> HttpResponse:
    return render(request, "followups/refused.html", {"message": exc.message}, status=exc.status)


def _int(value) -> int | None:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**31 else None


def _score(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return -1  # refused by the service with its message


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = parse_datetime(value)
    if dt is not None and timezone.is_naive(dt):
        dt = timezone.make_aware(dt, timezone.get_current_timezone())
    return dt


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    ctx = {
        "visits_pending": selectors.visit_queue(user=user).count()
        if role_allows(user, Perm.TICKET_WORK)
        else 0,
        "complaints_open": selectors.complaints_visible_to(user).exclude(step=ComplaintStep.CLOSED).count(),
        "kb_pending": selectors.kb_pending(user=user).count() if getattr(user, "company_id", None) else 0,
        "can_report": role_allows(user, Perm.REPORT_VIEW),
    }
    return render(request, "followups/index.html", ctx)


# ---- complaints ---------------------------------------------------------------------------------
@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    step = request.GET.get("step", "")[:20]
    rows = selectors.complaint_list(user=request.user, step=step)[:200]
    return render(
        request, "followups/complaints.html", {"rows": rows, "steps": ComplaintStep.choices, "step": step}
    )


@login_required
def staff_complaints(request: HttpRequest, user_id: int) -> HttpResponse:
    try:
        rows = selectors.complaints_against(user=request.user, staff_id=user_id)[:200]
    except DomainError as exc:
        return _refused(request, exc)
    staff = User.objects.filter(pk=user_id, company_id=request.user.company_id).first()
    if staff is None:
        raise Http404
    return render(
        request, "followups/complaints.html", {"rows": rows, "staff": staff, "steps": ComplaintStep.choices}
    )


@login_required
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    try:
        c = selectors.complaint_get(user=request.user, complaint_id=complaint_id)
    except DomainError as exc:
        return _refused(request, exc)
    company_id = request.user.company_id
    ctx = {
        "c": c,
        "steps": c.steps.select_related("by"),
        "next": next_steps(c.step, stands=c.stands),
        "may_handle": services.may_handle(request.user, c),
        "may_approve": services.may_approve(request.user, c),
        "departments": Department.objects.filter(company_id=company_id).order_by("name"),
        "staff": User.objects.filter(company_id=company_id, is_active=True).order_by("username"),
        "categories": Complaint.Category.choices,
        "sources": Complaint.Source.choices,
        "penalty": services.complaints.penalty_suggestion(c),
    }
    return render(request, "followups/complaint.html", ctx)


@login_required
@require_POST
def complaint_act(request: HttpRequest, complaint_id: int, action: str) -> HttpResponse:
    p, by = request.POST, request.user
    calls = {
        "intake": lambda: services.complaint_intake(
            by=by,
            complaint_id=complaint_id,
            category=p.get("category", ""),
            source=p.get("source", "customer"),
            source_ref=p.get("source_ref", ""),
            source_due_at=_when(p.get("source_due_at")),
            complainant=p.get("complainant", ""),
            complainant_phone=p.get("complainant_phone", ""),
            demand=p.get("demand", ""),
            target_department_id=_int(p.get("target_department_id")),
            target_user_id=_int(p.get("target_user_id")),
        ),
        "judged": lambda: services.complaint_judge(
            by=by, complaint_id=complaint_id, stands=p.get("stands") == "yes", reason=p.get("text", "")
        ),
        "responsibility": lambda: services.complaint_assign_responsibility(
            by=by,
            complaint_id=complaint_id,
            department_id=_int(p.get("department_id")),
            user_id=_int(p.get("user_id")),
        ),
        "analysed": lambda: services.complaint_analyse(
            by=by, complaint_id=complaint_id, cause=p.get("text", "")
        ),
        "planned": lambda: services.complaint_plan(by=by, complaint_id=complaint_id, plan=p.get("text", "")),
        "approved": lambda: services.complaint_approve(
            by=by, complaint_id=complaint_id, approve=p.get("approve") == "yes", reason=p.get("text", "")
        ),
        "executed": lambda: services.complaint_execute(
            by=by,
            complaint_id=complaint_id,
            informed=p.get("text", ""),
            feedback=p.get("feedback", ""),
            apply_penalty=p.get("apply_penalty") == "on",
        ),
        "closed": lambda: services.complaint_close(
            by=by, complaint_id=complaint_id, summary=p.get("text", ""), evaluation=p.get("evaluation", "")
        ),
    }
    if action not in calls:
        raise Http404
    try:
        calls[action]()
        messages.success(request, _("已记录。"))
    except DomainError as exc:
        if exc.status == 404:
            return _refused(request, exc)
        messages.error(request, exc.message)
    return redirect("followups:complaint", complaint_id=complaint_id)


# ---- return visits ------------------------------------------------------------------------------
@login_required
def visit_queue(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("all") != "1"
    status = request.GET.get("status", ReturnVisit.Status.PENDING)
    if status not in ReturnVisit.Status.values:
        status = ReturnVisit.Status.PENDING
    rows = selectors.visit_queue(user=request.user, mine=mine, status=status)[:200]
    return render(
        request,
        "followups/visits.html",
        {
            "rows": rows,
            "mine": mine,
            "status": status,
            "statuses": ReturnVisit.Status.choices,
            "now": timezone.now(),
        },
    )


@login_required
def visit_detail(request: HttpRequest, visit_id: int) -> HttpResponse:
    from kefu.telephony.selectors import cti_connected

    try:
        v = selectors.visit_get(user=request.user, visit_id=visit_id)
    except DomainError as exc:
        return _refused(request, exc)
    from kefu.customers.privacy import can_view_unmasked, show_phone

    phone = v.ticket.caller_phone if v.ticket_id else (v.project.contact_phone if v.project_id else "")
    ctx = {
        "v": v,
        "company": request.user.company,
        "questions": services.questionnaire_for(v.company_id, v.reason),
        "attempts": v.attempt_log.select_related("by"),
        "results": [c for c in VisitAttempt.Result.choices if c[0] != "reached"],
        "phone": show_phone(phone, unmasked=can_view_unmasked(request.user)),
        "scores": range(1, 11),
        "can_dial": cti_connected() and bool(phone) and v.status == "pending",
        "calls": selectors.visit_calls(visit=v),
    }
    return render(request, "followups/visit.html", ctx)


@login_required
@require_POST
def visit_act(request: HttpRequest, visit_id: int, action: str) -> HttpResponse:
    p, by = request.POST, request.user
    try:
        if action == "take":
            services.visit_take(by=by, visit_id=visit_id)
        elif action == "dial":
            services.visit_dial(by=by, visit_id=visit_id)
            messages.success(request, _("正在外呼：请接起您的话机，接通后系统自动拨打客户。"))
            return redirect("followups:visit", visit_id=visit_id)
        elif action == "attempt":
            services.visit_record_attempt(
                by=by,
                visit_id=visit_id,
                result=p.get("result", ""),
                note=p.get("note", ""),
                next_at=_when(p.get("next_at")),
            )
        elif action == "result":
            v = selectors.visit_get(user=by, visit_id=visit_id)
            answers = {}
            for q in services.questionnaire_for(v.company_id, v.reason):
                raw = p.get(f"q_{q['key']}", "")
                if raw:
                    answers[q["key"]] = _score(raw) if q["type"] in ("score", "likert") else raw
            services.visit_record_result(
                by=by,
                visit_id=visit_id,
                consent=p.get("consent") == "yes",
                answers=answers,
                attitude_score=_score(p.get("attitude_score")),
                ability_score=_score(p.get("ability_score")),
                satisfied={"yes": True, "no": False}.get(p.get("satisfied", "")),
                remarks=p.get("remarks", ""),
                dissatisfied_action=p.get("dissatisfied_action", ""),
            )
        else:
            raise Http404
        messages.success(request, _("已记录。"))
    except DomainError as exc:
        if exc.status == 404:
            return _refused(request, exc)
        messages.error(request, exc.message)
    return redirect("followups:visit", visit_id=visit_id)


# ---- knowledge base -----------------------------------------------------------------------------
@login_required
def kb(request: HttpRequest) -> HttpResponse:
    if not getattr(request.user, "company_id", None):
        return _refused(request, Forbidden(_("您的账号不属于任何公司。")))
    q = request.GET.get("q", "")[:100]
    ctx = {
        "q": q,
        "rows": selectors.kb_search(
            user=request.user, q=q, category=request.GET.get("category", "")[:20], limit=20
        ),
        "categories": Article.Category.choices,
        "pending": selectors.kb_pending(user=request.user)
        if role_allows(request.user, FOLLOWUP_APPROVE)
        else [],
        "departments": Department.objects.filter(company_id=request.user.company_id).order_by("name"),
    }
    return render(request, "followups/kb.html", ctx)


@login_required
def kb_search(request: HttpRequest) -> HttpResponse:
    """The desk's as-you-type fragment (htmx)."""
    if not getattr(request.user, "company_id", None):
        return HttpResponse(status=403)
    rows = selectors.kb_search(user=request.user, q=request.GET.get("q", "")[:100], limit=10)
    return render(request, "followups/_kb_results.html", {"rows": rows})


@login_required
def kb_article(request: HttpRequest, article_id: int) -> HttpResponse:
    try:
        a = selectors.article_get(user=request.user, article_id=article_id)
    except DomainError as exc:
        return _refused(request, exc)
    return render(
        request,
        "followups/kb_article.html",
        {
            "a": a,
            "versions": a.versions.select_related("proposed_by", "decided_by"),
            "categories": Article.Category.choices,
        },
    )


@login_required
@require_POST
def kb_propose(request: HttpRequest) -> HttpResponse:
    p = request.POST
    try:
        services.kb_propose(
            by=request.user,
            category=p.get("category", ""),
            title=p.get("title", ""),
            body=p.get("body", ""),
            keywords=p.get("keywords", ""),
            article_id=_int(p.get("article_id")),
        )
        messages.success(request, _("已提交，主管审核通过后生效。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("followups:kb")


@login_required
@require_POST
def kb_decide(request: HttpRequest, version_id: int, decision: str) -> HttpResponse:
    try:
        services.kb_decide(
            by=request.user,
            version_id=version_id,
            approve=decision == "approve",
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("已审核。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("followups:kb")


@login_required
@require_POST
def consultation_refer(request: HttpRequest) -> HttpResponse:
    from kefu.followups.services.consultations import consultation_refer as refer

    p = request.POST
    try:
        t = refer(
            by=request.user,
            surname=p.get("surname", ""),
            title=p.get("title", ""),
            phone=p.get("phone", ""),
            question=p.get("question", ""),
            department_id=_int(p.get("department_id")),
        )
        messages.success(
            request, _("已记录并转 %(d)s 答复（工单 %(n)s）。") % {"d": t.assigned_department, "n": t.number}
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("followups:kb")


# ---- surveys ------------------------------------------------------------------------------------
@login_required
def surveys(request: HttpRequest) -> HttpResponse:
    if not (role_allows(request.user, Perm.REPORT_VIEW) or role_allows(request.user, Perm.TICKET_VIEW_ALL)):
        return _refused(request, Forbidden(_("您的角色无权查看满意度调查。")))
    cid = request.user.company_id
    if request.method == "POST":
        p = request.POST
        try:
            if p.get("form") == "questionnaire":
                questions = []
                for i, line in enumerate(p.get("questions", "").splitlines()[:50], 1):
                    parts = [x.strip() for x in line.split("|")]
                    if parts and parts[0]:
                        q = {
                            "key": f"q{i}",
                            "text": parts[0],
                            "type": parts[1] if len(parts) > 1 else "score",
                        }
                        if q["type"] == "choice":
                            q["choices"] = [c for c in parts[2:] if c]
                        questions.append(q)
                services.questionnaire_create(
                    by=request.user, name=p.get("name", ""), questions=questions, reason=p.get("reason", "")
                )
            else:
                services.campaign_create(
                    by=request.user,
                    name=p.get("name", ""),
                    questionnaire_id=_int(p.get("questionnaire_id")),
                    sample_size=_int(p.get("sample_size")) or 0,
                    categories=[x for x in p.get("categories", "").split() if x],
                    districts=[x for x in p.get("districts", "").split() if x],
                    seed=p.get("seed", ""),
                )
            messages.success(request, _("已保存。"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("followups:surveys")
    ctx = {
        "campaigns": Campaign.objects.filter(company_id=cid)[:100],
        "questionnaires": Questionnaire.objects.filter(company_id=cid).order_by("-id")[:100],
        "may_manage": role_allows(request.user, FOLLOWUP_APPROVE),
        "reasons": ReturnVisit._meta.get_field("reason").choices,
    }
    return render(request, "followups/surveys.html", ctx)


@login_required
def survey_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    try:
        c = selectors.campaign_get(user=request.user, campaign_id=campaign_id)
    except DomainError as exc:
        return _refused(request, exc)
    pending = c.responses.filter(answered_at__isnull=True).select_related("customer")[:20]
    return render(
        request,
        "followups/survey.html",
        {
            "c": c,
            "stats": services.campaign_stats(c),
            "pending": pending,
            "can_export": role_allows(request.user, Perm.REPORT_VIEW),
        },
    )


@login_required
def survey_export(request: HttpRequest, campaign_id: int) -> HttpResponse:
    try:
        c = selectors.campaign_get(user=request.user, campaign_id=campaign_id)
    except DomainError as exc:
        return _refused(request, exc)
    # 机密 (survey analyses, S4): delivered at once through kefu.exports, watermarked and logged (S3).
    return export_response(request, kind="followups.survey", params={"campaign_id": [str(c.pk)]})


def _answers_from_post(questions, post) -> dict:
    out = {}
    for q in questions:
        raw = post.get(q["key"], "")
        if raw:
            out[q["key"]] = _score(raw) if q["type"] in ("score", "likert") else raw
    return out


@login_required
def survey_phone(request: HttpRequest, response_id: int) -> HttpResponse:
    r = (
        SurveyResponse.objects.filter(pk=response_id, company_id=request.user.company_id)
        .select_related("campaign__questionnaire")
        .first()
    )
    if r is None:
        raise Http404
    if request.method == "POST":
        try:
            services.survey_answer_phone(
                by=request.user,
                response_id=r.pk,
                answers=_answers_from_post(r.campaign.questionnaire.questions, request.POST),
            )
            messages.success(request, _("已记录。"))
            return redirect("followups:survey", campaign_id=r.campaign_id)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "followups/survey_answer.html",
        {"r": r, "questions": r.campaign.questionnaire.questions, "public": False},
    )


def survey_link(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's own questionnaire (no login; the token is used once)."""
    r = (
        SurveyResponse.objects.filter(token=token[:40])
        .select_related("campaign__questionnaire", "campaign__company")
        .first()
    )
    if r is None:
        raise Http404
    done = r.answered_at is not None
    error = ""
    if request.method == "POST" and not done:
        try:
            services.survey_answer_link(
                token=token, answers=_answers_from_post(r.campaign.questionnaire.questions, request.POST)
            )
            done = True
        except DomainError as exc:
            error = exc.message
    return render(
        request,
        "followups/survey_answer.html",
        {
            "r": r,
            "questions": r.campaign.questionnaire.questions,
            "public": True,
            "done": done,
            "error": error,
        },
    )


# ---- indicators ---------------------------------------------------------------------------------
@login_required
def indicators(request: HttpRequest) -> HttpResponse:
    today = date.today()
    year = _int(request.GET.get("year")) or today.year
    month = _int(request.GET.get("month")) or today.month
    try:
        rows = selectors.indicator_inputs(user=request.user, year=year, month=month)
    except DomainError as exc:
        return _refused(request, exc)
    return render(
        request,
        "followups/indicators.html",
        {"rows": rows, "year": year, "month": month, "months": range(1, 13)},
    )
