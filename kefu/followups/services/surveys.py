"""Satisfaction surveys (P16): questionnaires, campaigns sampling customers by category and district,
answers by phone or through a link, statistics (mean with 95 % confidence interval, distribution,
breakdown by district and category, trend by month). The Excel export: kefu.followups.exports."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.core.errors import DomainError, NotFound
from kefu.customers.models import Customer
from kefu.followups import rules
from kefu.followups.models import Campaign, Questionnaire, Reason, SurveyResponse
from kefu.followups.services.common import FOLLOWUP_APPROVE, require, require_company, text

MAX_SAMPLE = 5000


def questionnaire_create(*, by, name: str, questions: list, reason: str = "") -> Questionnaire:
    """A questionnaire (1–10 scores, Likert 1–5, choices, text) for surveys or for the return visits
    of one kind of work (`reason`)."""
    cid = require_company(by)
    require(by, FOLLOWUP_APPROVE, _("只有主管或经理可以编制问卷。"))
    name = text(name, field="name", label=_("问卷名称"), limit=100)
    if reason and reason not in Reason.values:
        raise DomainError(_("回访类型无效。"), field="reason")
    problem = rules.check_questions(questions)
    if problem:
        raise DomainError(
            _(
                "问卷的问题有误（%(p)s）：每题须有唯一的 key、题目和类型"
                " score/likert/choice/text，选择题须有选项。"
            )
            % {"p": problem},
            field="questions",
        )
    return Questionnaire.objects.create(company_id=cid, name=name, reason=reason, questions=questions)


def _rank(seed: str, pk: int) -> bytes:
    return hashlib.sha256(f"{seed}:{pk}".encode()).digest()


def campaign_create(
    *,
    by,
    name: str,
    questionnaire_id: int,
    sample_size: int,
    categories: list[str] | None = None,
    districts: list[str] | None = None,
    seed: str = "",
) -> Campaign:
    """A survey of `sample_size` active customers drawn at random (deterministic for the seed) from the
    chosen categories and districts; each gets a response row with its own link token."""
    cid = require_company(by)
    require(by, FOLLOWUP_APPROVE, _("只有主管或经理可以发起满意度调查。"))
    name = text(name, field="name", label=_("调查名称"), limit=100)
    q = Questionnaire.objects.filter(company_id=cid, pk=questionnaire_id).first()
    if q is None:
        raise DomainError(_("没有找到该问卷。"), field="questionnaire_id")
    if (
        isinstance(sample_size, bool)
        or not isinstance(sample_size, int)
        or not 1 <= sample_size <= MAX_SAMPLE
    ):
        raise DomainError(_("样本量须在 1 到 %(n)d 之间。") % {"n": MAX_SAMPLE}, field="sample_size")
    categories = [c for c in (categories or []) if isinstance(c, str) and c][:20]
    districts = [d for d in (districts or []) if isinstance(d, str) and d][:50]
    seed = text(seed, field="seed", label=_("抽样种子"), required=False, limit=40) or secrets.token_hex(4)
    pool = Customer.objects.filter(company_id=cid, status=Customer.Status.ACTIVE)
    if categories:
        pool = pool.filter(category__code__in=categories)
    if districts:
        pool = pool.filter(premise__district__in=districts)
    rows = list(pool.values_list("pk", "premise__district", "category__code"))
    rows.sort(key=lambda r: _rank(seed, r[0]))
    with transaction.atomic():
        campaign = Campaign.objects.create(
            company_id=cid,
            name=name,
            questionnaire=q,
            categories=categories,
            districts=districts,
            sample_size=sample_size,
            seed=seed,
            created_by=by,
        )
        SurveyResponse.objects.bulk_create(
            SurveyResponse(
                company_id=cid,
                campaign=campaign,
                customer_id=pk,
                district=d or "",
                category=c or "",
                token=secrets.token_urlsafe(18),
            )
            for pk, d, c in rows[:sample_size]
        )
    return campaign


def _check_answers(q: Questionnaire, answers) -> dict:
    if not isinstance(answers, dict) or not answers:
        raise DomainError(_("请填写答案。"), field="answers")
    questions = {x["key"]: x for x in q.questions}
    for key, value in answers.items():
        if key not in questions:
            raise DomainError(_("问卷没有问题“%(k)s”。") % {"k": str(key)[:20]}, field="answers")
        if rules.check_answer(questions[key], value):
            raise DomainError(
                _("问题“%(t)s”的答案无效（%(w)s）。")
                % {"t": questions[key]["text"], "w": rules.check_answer(questions[key], value)},
                field="answers",
            )
    return answers


def survey_answer_phone(*, by, response_id: int, answers: dict) -> SurveyResponse:
    """Answers taken by an agent on the phone."""
    cid = require_company(by)
    require(by, Perm.TICKET_CREATE)
    with transaction.atomic():
        r = (
            SurveyResponse.objects.select_for_update(of=("self",))
            .select_related("campaign__questionnaire")
            .filter(company_id=cid, pk=response_id)
            .first()
        )
        if r is None:
            raise NotFound(_("没有找到该答卷。"), code="not_found")
        if r.answered_at:
            raise DomainError(_("该客户已答卷。"), code="answered")
        r.answers = _check_answers(r.campaign.questionnaire, answers)
        r.channel, r.answered_at, r.answered_by = SurveyResponse.Channel.PHONE, timezone.now(), by
        r.save(update_fields=["answers", "channel", "answered_at", "answered_by"])
    return r


def survey_answer_link(*, token: str, answers: dict) -> SurveyResponse:
    """Answers the customer gives through their link (no login; the token is the key, used once)."""
    with transaction.atomic():
        r = (
            SurveyResponse.objects.select_for_update(of=("self",))
            .select_related("campaign__questionnaire")
            .filter(token=str(token)[:40])
            .first()
        )
        if r is None:
            raise NotFound(_("链接无效。"), code="not_found")
        if r.answered_at:
            raise DomainError(_("您已经提交过答卷，谢谢！"), code="answered")
        r.answers = _check_answers(r.campaign.questionnaire, answers)
        r.channel, r.answered_at = SurveyResponse.Channel.LINK, timezone.now()
        r.save(update_fields=["answers", "channel", "answered_at"])
    return r


def campaign_stats(campaign: Campaign) -> dict:
    """Per question: n, mean with 95 % CI and distribution (scores, Likert), counts (choices); the
    mean of each numeric question by district and category; by month; the response rate."""
    rows = list(
        campaign.responses.filter(answered_at__isnull=False).values(
            "answers", "district", "category", "answered_at"
        )
    )
    total = campaign.responses.count()
    out = {
        "sampled": total,
        "answered": len(rows),
        "rate": (len(rows) / total) if total else None,
        "questions": [],
    }
    for q in campaign.questionnaire.questions:
        key, kind = q["key"], q["type"]
        values = [r["answers"].get(key) for r in rows if r["answers"].get(key) not in (None, "")]
        item = {"key": key, "text": q["text"], "type": kind, "n": len(values)}
        if kind in ("score", "likert"):
            ci = rules.mean_ci([float(v) for v in values])
            item.update(mean=ci.mean, low=ci.low, high=ci.high)
            top = 10 if kind == "score" else 5
            item["distribution"] = {str(i): values.count(i) for i in range(1, top + 1)}
            for dim in ("district", "category"):
                groups: dict[str, list[float]] = {}
                for r in rows:
                    v = r["answers"].get(key)
                    if isinstance(v, int):
                        groups.setdefault(r[dim] or "-", []).append(float(v))
                item[f"by_{dim}"] = {g: rules.mean_ci(vs).__dict__ for g, vs in sorted(groups.items())}
            months: dict[str, list[float]] = {}
            for r in rows:
                v = r["answers"].get(key)
                if isinstance(v, int):
                    months.setdefault(timezone.localtime(r["answered_at"]).strftime("%Y-%m"), []).append(
                        float(v)
                    )
            item["trend"] = {m: rules.mean_ci(vs).mean for m, vs in sorted(months.items())}
        elif kind == "choice":
            item["distribution"] = {c: values.count(c) for c in q.get("choices", [])}
        out["questions"].append(item)
    return out
