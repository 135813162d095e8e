"""quality pages (L1, L2, L3, L4, L5): transcripts with highlighted hits, rules with their
examples, the sampling
queue, the scoring form, appeals and the monthly report (with CSV export, audited). Thin: each
view asks a selector or calls one service."""

from __future__ import annotations

import json
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.refusals import refused_with_message
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError
from kefu.exports.web import export_response
from kefu.quality import selectors, services
from kefu.quality.models import EvalStatus, Rule, ScoringItem, Source


def _reviewer(request) -> None:
    if not role_allows(request.user, Perm.QUALITY_REVIEW):
        raise PermissionDenied


@login_required
def transcripts(request: HttpRequest) -> HttpResponse:
    """Checked calls, chats and replies (an agent sees their own), worst first when asked."""
    qs = selectors.transcripts_visible_to(request.user).select_related("agent")
    source = request.GET.get("source", "")
    if source in Source.values:
        qs = qs.filter(source=source)
    if request.GET.get("hits") == "1":
        qs = qs.filter(hit_count__gt=0)
    return render(
        request,
        "quality/transcripts.html",
        {
            "rows": qs[:200],
            "sources": Source.choices,
            "source": source,
            "hits": request.GET.get("hits") == "1",
            "reviewer": selectors.is_reviewer(request.user),
        },
    )


@login_required
def transcript_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A transcript with its hits highlighted at their place, and its findings."""
    try:
        tr = selectors.transcript_get(request.user, pk)
    except DomainError:
        raise Http404 from None
    turns, general = selectors.highlighted_turns(tr)
    evaluation = tr.evaluations.first()
    return render(
        request,
        "quality/transcript.html",
        {
            "tr": tr,
            "turns": turns,
            "general": general,
            "findings": tr.findings.select_related("rule"),
            "evaluation": evaluation,
            "reviewer": selectors.is_reviewer(request.user),
        },
    )


@login_required
@require_POST
def transcript_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    try:
        if action == "recheck":
            services.transcript_recheck(by=request.user, transcript_id=pk)
            messages.success(request, _("已按现行规则重新质检。"))
        elif action == "evaluate":
            ev = services.evaluation_open(by=request.user, transcript_id=pk)
            return redirect("quality:evaluation", pk=ev.pk)
        else:
            raise Http404
    except DomainError as exc:
        refused_with_message(request, exc)
    return redirect("quality:transcript", pk=pk)


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    """The company's language rules with their clause and their examples' precision and recall."""
    _reviewer(request)
    if not Rule.objects.filter(company=request.user.company).exists():
        services.quality_seed(company=request.user.company)
    rows = []
    for r in selectors.rules_of(request.user):
        try:
            m = services.rule_metrics(r)
        except Exception:  # an invalid stored rule is shown, not fatal
            m = None
        rows.append((r, m))
    tried = None
    text = request.GET.get("text", "")[:5000]
    if text:
        from kefu.quality import engine

        book, _r = services._rulebook(
            request.user.company_id,
            request.GET.get("source", "call") if request.GET.get("source") in Source.values else "call",
        )
        tried = engine.evaluate(
            book,
            engine.Transcript(
                (engine.Turn("agent", text),),
                company=request.user.company.short_name,
                surname=request.GET.get("surname", "")[:10],
            ),
        )
    return render(
        request,
        "quality/rules.html",
        {"rows": rows, "text": text, "tried": tried, "can_manage": services.can_manage(request.user)},
    )


@login_required
def rule_edit(request: HttpRequest, code: str = "") -> HttpResponse:
    """Edit (or create) a rule: its definition and labelled examples as JSON; saving runs the
    examples and shows precision and recall."""
    _reviewer(request)
    rule = Rule.objects.filter(company=request.user.company, code=code).first() if code else None
    if code and rule is None:
        raise Http404
    metrics = services.rule_metrics(rule) if rule else None
    form = {
        "code": rule.code if rule else "",
        "name": rule.name if rule else "",
        "clause": rule.clause if rule else "",
        "severity": rule.severity if rule else "minor",
        "weight": rule.weight if rule else 5,
        "spec": json.dumps(
            rule.spec if rule else {"kind": "forbidden", "any": []}, ensure_ascii=False, indent=1
        ),
        "examples": json.dumps(rule.examples if rule else [], ensure_ascii=False, indent=1),
        "sources": rule.sources if rule else ["call", "chat", "reply"],
        "active": rule.active if rule else True,
    }
    error = None
    if request.method == "POST":
        if not services.can_manage(request.user):
            raise PermissionDenied
        p = request.POST
        form.update({k: p.get(k, "") for k in ("code", "name", "clause", "severity", "spec", "examples")})
        form["sources"] = p.getlist("sources")
        form["active"] = p.get("active") == "on"
        try:
            try:
                spec = json.loads(form["spec"] or "{}")
                examples = json.loads(form["examples"] or "[]")
            except json.JSONDecodeError as exc:
                raise DomainError(_("JSON 格式有误：%(e)s") % {"e": exc}, field="spec") from None
            try:
                weight = int(p.get("weight", "5"))
            except ValueError:
                raise DomainError(_("扣分应为整数。"), field="weight") from None
            form["weight"] = weight
            saved, metrics = services.rule_save(
                by=request.user,
                code=form["code"] or code,
                name=form["name"],
                clause=form["clause"],
                severity=form["severity"],
                weight=weight,
                spec=spec,
                examples=examples,
                sources=form["sources"],
                active=form["active"],
            )
            messages.success(request, _("规则已保存为第 %(v)s 版。") % {"v": saved.version})
            return redirect("quality:rule", code=saved.code)
        except DomainError as exc:
            error = exc.message
    versions = rule.versions.select_related("by")[:20] if rule else []
    return render(
        request,
        "quality/rule_edit.html",
        {
            "rule": rule,
            "form": form,
            "metrics": metrics,
            "error": error,
            "versions": versions,
            "sources": Source.choices,
            "can_manage": services.can_manage(request.user),
        },
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The sampling queue: this week's drawn calls waiting for an inspector; drawing the sample."""
    _reviewer(request)
    if request.method == "POST":
        try:
            made = services.sampling_draw(by=request.user, week=timezone.localdate())
            messages.success(request, _("已抽取 %(n)s 条。") % {"n": len(made)})
        except DomainError as exc:
            refused_with_message(request, exc)
        return redirect("quality:queue")
    return render(request, "quality/queue.html", {"rows": selectors.queue_for(request.user)[:200]})


@login_required
def evaluations(request: HttpRequest) -> HttpResponse:
    """Evaluations: an agent's own (to acknowledge or appeal); everybody's for inspectors."""
    qs = selectors.evaluations_visible_to(request.user)
    status = request.GET.get("status", "")
    if status in EvalStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "quality/evaluations.html",
        {"rows": qs[:200], "status": status, "statuses": EvalStatus.choices},
    )


@login_required
def evaluation(request: HttpRequest, pk: int) -> HttpResponse:
    """One evaluation: the scoring form (inspector), acknowledge or appeal (the agent), the decision
    (the quality lead), and its whole record."""
    try:
        ev = selectors.evaluation_get(request.user, pk)
    except DomainError:
        raise Http404 from None
    items = list(ScoringItem.objects.filter(company=ev.company, active=True))
    given = {i["code"]: i.get("points") for i in ev.items}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in ("score", "decide"):
                points = {}
                for it in items:
                    raw = request.POST.get(f"p_{it.code}", "")
                    try:
                        points[it.code] = int(raw)
                    except ValueError:
                        if action == "score" or request.POST.get("decision") == "upheld":
                            raise DomainError(
                                _("请为评分项“%(l)s”打分。") % {"l": it.label}, field="points"
                            ) from None
                if action == "score":
                    services.evaluation_score(
                        by=request.user,
                        evaluation_id=pk,
                        points=points,
                        comment=request.POST.get("comment", ""),
                    )
                else:
                    services.appeal_decide(
                        by=request.user,
                        evaluation_id=pk,
                        decision=request.POST.get("decision", ""),
                        comment=request.POST.get("decision_comment", ""),
                        points=points if request.POST.get("decision") == "upheld" else None,
                    )
            elif action == "acknowledge":
                services.evaluation_acknowledge(by=request.user, evaluation_id=pk)
            elif action == "appeal":
                services.evaluation_appeal(
                    by=request.user, evaluation_id=pk, reason=request.POST.get("reason", "")
                )
            else:
                raise DomainError(_("未知的操作。"))
            messages.success(request, _("已保存。"))
        except DomainError as exc:
            refused_with_message(request, exc)
        return redirect("quality:evaluation", pk=pk)
    turns, general = selectors.highlighted_turns(ev.transcript)
    return render(
        request,
        "quality/evaluation.html",
        {
            "ev": ev,
            "items": [(it, given.get(it.code)) for it in items],
            "turns": turns,
            "general": general,
            "events": ev.events.select_related("actor"),
            "reviewer": selectors.is_reviewer(request.user),
            "can_manage": services.can_manage(request.user),
            "is_agent": ev.agent_id == request.user.pk,
        },
    )


@login_required
def appeals(request: HttpRequest) -> HttpResponse:
    _reviewer(request)
    return render(request, "quality/appeals.html", {"rows": selectors.appeals_for(request.user)})


def _month_param(request) -> date:
    try:
        y, m = request.GET.get("month", "").split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """Per agent or team for a month: checked, scores, rules hit most, trend; CSV export (audited)."""
    _reviewer(request)
    month = _month_param(request)
    by = "team" if request.GET.get("by") == "team" else "agent"
    if request.GET.get("export") == "csv":  # 机密: watermarked and logged through kefu.exports (S3)
        return export_response(
            request, kind="quality.report", params={"month": [f"{month:%Y-%m}"], "by": [by]}
        )
    data = selectors.report(request.user, month=month, by=by)
    return render(request, "quality/report.html", {"data": data, "month": month, "by": by})
