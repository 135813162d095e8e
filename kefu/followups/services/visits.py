"""Return visits (P6, C12, C14, C16, C19, C20): tasks made from finished work, calls only in calling
hours with a retry plan, the scripted result with the 1–10 scores, and what a dissatisfied customer
chooses (reopen the work order, or a linked complaint)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm, role_allows
from kefu.core.bulk import bulk_insert
from kefu.core.errors import DomainError, Forbidden
from kefu.followups import rules
from kefu.followups.models import (
    Complaint,
    Project,
    Questionnaire,
    Reason,
    ReturnVisit,
    VisitAttempt,
    VisitCall,
    VisitDecision,
)
from kefu.followups.services.common import require_company, text
from kefu.sla.codes import Event as ClockEvent
from kefu.sla.selectors import calendar_for_company
from kefu.tickets.models import Ticket, TicketLink

log = logging.getLogger(__name__)
FINISHED_STATES = ("resolved", "closed")


def _hours(policy) -> rules.CallingHours:
    return rules.CallingHours(
        policy.calling_opens, policy.calling_closes, policy.rest_starts, policy.rest_ends
    )


def _tz(company) -> str:
    return getattr(company, "time_zone", None) or "Asia/Shanghai"


def _due(company, policy, reason: str, finished_at: datetime, cal=None) -> datetime:
    cal = cal or calendar_for_company(company)
    return rules.visit_due(
        reason,
        finished_at,
        hours=_hours(policy),
        tz=_tz(company),
        window_hours=policy.visit_window_hours,
        complaint_hours=policy.complaint_visit_hours,
        consultation_working_days=policy.consultation_visit_working_days,
        is_workday=cal.is_workday,
    )


def _sync_on_commit(visit_id: int) -> None:
    from kefu.followups.clocks import visit_clocks_sync

    transaction.on_commit(lambda: visit_clocks_sync(visit_id))


# ---- creating the tasks -------------------------------------------------------------------------
def visits_for_finished(
    ticket_ids: list[int], *, now: datetime | None = None, finished_at: dict[int, datetime] | None = None
) -> int:
    """Decide, once per finished work order, whether it gets a return visit (100 % of installs,
    repairs, appliance jobs; consultations drawn by the sample, C14) and create the tasks with their
    due times and clocks — in bulk (the listener passes one id, the sweep and the benchmark many:
    one read, one COPY of decisions, one of visits, one multi-row insert of clocks per chunk).
    `finished_at` (ticket id → time) names work finished on site (the field app's 修复, C12/C19)
    whose work order need not be resolved yet; any other id must be resolved or closed.
    Returns the number of visits created."""
    from kefu.followups.clocks import visits_start_clocks_bulk
    from kefu.followups.selectors import policy_for

    finished_at = finished_at or {}
    qs = Ticket.objects.filter(pk__in=ticket_ids).exclude(
        pk__in=VisitDecision.objects.filter(ticket_id__in=ticket_ids).values("ticket_id")
    )
    if finished_at:
        qs = qs.filter(Q(state__in=FINISHED_STATES) | Q(pk__in=list(finished_at))).exclude(state="cancelled")
    else:
        qs = qs.filter(state__in=FINISHED_STATES)
    rows = list(
        qs.values_list(
            "id",
            "company_id",
            "kind__code",
            "sub_kind__code",
            "resolved_at",
            "closed_at",
            "received_at",
            "customer__category__code",
            "severity",
            "channel",
        )
    )
    if not rows:
        return 0
    from kefu.accounts.models import Company

    companies = Company.objects.in_bulk({r[1] for r in rows})
    policies: dict[tuple[int, int, int], object] = {}
    calendars: dict[int, object] = {}
    decisions, visits, attrs = [], [], []
    now = now or timezone.now()
    created_events = [ClockEvent.RETURN_VISIT_CREATED]
    for tid, cid, kind, sub_kind, resolved_at, closed_at, received_at, category, severity, channel in rows:
        reason = rules.visit_reason(kind, sub_kind or "")
        if reason is None:
            continue
        company = companies[cid]
        finished = finished_at.get(tid) or resolved_at or closed_at or received_at
        key = (cid, finished.year, finished.month)
        if key not in policies:
            policies[key] = policy_for(company, finished)
        policy = policies[key]
        sampled = reason != Reason.CONSULTATION or rules.is_sampled(
            policy.sample_seed, tid, policy.consultation_sample_percent
        )
        decisions.append(
            {"company_id": cid, "ticket_id": tid, "reason": reason, "sampled": sampled, "decided_at": now}
        )
        if sampled:
            if cid not in calendars:  # (setdefault would load it for every row)
                calendars[cid] = calendar_for_company(company)
            visits.append(
                {
                    "company_id": cid,
                    "ticket_id": tid,
                    "reason": reason,
                    "finished_at": finished,
                    "due_at": _due(company, policy, reason, finished, calendars[cid]),
                    "created_at": now,
                    "updated_at": now,
                    "clock_events": created_events,
                    "clocks_behind": False,
                }
            )
            attrs.append(
                {
                    "kind": kind,
                    "sub_kind": sub_kind or "",
                    "customer_category": category or "",
                    "severity": severity or "",
                    "channel": channel or "",
                }
            )
    try:
        with transaction.atomic():
            bulk_insert(VisitDecision, decisions)
            ids = bulk_insert(ReturnVisit, visits, with_ids=True)
            visits_start_clocks_bulk(
                [
                    (pk, companies[v["company_id"]], v["finished_at"])
                    for pk, v in zip(ids, visits, strict=True)
                ],
                attrs,
            )
    except IntegrityError:  # a listener and the sweep raced: decide one at a time
        if len(ticket_ids) == 1:
            return 0
        return sum(
            visits_for_finished(
                [tid], now=now, finished_at={tid: finished_at[tid]} if tid in finished_at else None
            )
            for tid in ticket_ids
        )
    return len(visits)


def visit_create_for_complaint(c: Complaint) -> ReturnVisit | None:
    """The complaint's return visit, made when the customer has been informed (002: within 24 h)."""
    from kefu.followups.selectors import policy_for

    if c.informed_at is None:
        return None
    policy = policy_for(c.company, c.received_at)
    v, created = ReturnVisit.objects.get_or_create(
        ticket_id=c.ticket_id,
        reason=Reason.COMPLAINT,
        defaults={
            "company_id": c.company_id,
            "finished_at": c.informed_at,
            "due_at": _due(c.company, policy, Reason.COMPLAINT, c.informed_at),
        },
    )
    if created:
        _sync_on_commit(v.pk)
    return v


def project_visits_schedule(*, company, today: date, horizon_days: int = 7) -> int:
    """C20: the visits of handed-over projects — monthly in the first year, quarterly after — due
    within `horizon_days` of `today` and not made yet (idempotent per project and date)."""
    from kefu.followups.selectors import policy_for

    made = 0
    policy = policy_for(company)
    tz = rules.ZoneInfo(_tz(company))
    for p in Project.objects.filter(company=company, is_active=True):
        for d in rules.project_visit_dates(p.handed_over_on, today + timedelta(days=horizon_days)):
            if d < today - timedelta(days=31):
                continue
            start = datetime.combine(d, policy.calling_opens, tz)
            due = datetime.combine(d, policy.calling_closes, tz)
            _, created = ReturnVisit.objects.get_or_create(
                project=p,
                due_at=due,
                defaults={"company": company, "reason": Reason.PROJECT, "finished_at": start},
            )
            made += created
    return made


# ---- calling -------------------------------------------------------------------------------------
def _lock(visit_id: int, by) -> ReturnVisit:
    from kefu.followups.selectors import visits_visible_to

    require_company(by)
    if not role_allows(by, Perm.TICKET_WORK):
        raise Forbidden(_("您的角色不能做回访。"), code="permission_denied")
    if not visits_visible_to(by).filter(pk=visit_id).exists():
        from kefu.core.errors import NotFound

        raise NotFound(_("没有找到该回访，或您无权查看。"), code="not_found")
    v = (
        ReturnVisit.objects.select_for_update(of=("self",))
        .select_related("company", "ticket")
        .get(pk=visit_id)
    )
    if v.status != ReturnVisit.Status.PENDING:
        raise DomainError(_("该回访已结束（%(s)s）。") % {"s": v.get_status_display()}, code="visit_closed")
    if v.assigned_to_id and v.assigned_to_id != by.pk and not role_allows(by, Perm.TICKET_DISPATCH):
        raise Forbidden(_("该回访已分给 %(n)s。") % {"n": v.assigned_to.display_name}, code="not_assignee")
    return v


def _assert_calling_hours(v: ReturnVisit, now: datetime) -> None:
    from kefu.followups.selectors import policy_for

    policy = policy_for(v.company, v.finished_at)
    if not rules.in_calling_hours(now, _hours(policy), _tz(v.company)):
        raise DomainError(
            _("现在不是回访时间（%(a)s–%(b)s，午休除外），不得在客户休息时间打扰（C19）。")
            % {"a": f"{policy.calling_opens:%H:%M}", "b": f"{policy.calling_closes:%H:%M}"},
            code="outside_calling_hours",
        )


def visit_dial(*, by, visit_id: int) -> VisitCall:
    """Click-to-call from the visit screen (P6): only in calling hours (C19), by the agent who may
    make the visit; telephony's CTI adapter rings the agent's seat and dials the customer. The PBX
    call id is kept on a `VisitCall`, so the call record made from the PBX's events links back to
    this visit. The attempt's result is still recorded by the agent (`visit_record_attempt`)."""
    from kefu.telephony.services import call_originate

    with transaction.atomic():
        v = _lock(visit_id, by)
        _assert_calling_hours(v, timezone.now())
        phone = (v.ticket.caller_phone if v.ticket_id else "") or (
            v.project.contact_phone if v.project_id else ""
        )
        if not phone:
            raise DomainError(_("该回访没有客户电话。"), code="no_phone")
        call_ref = call_originate(by=by, number=phone, ref=f"visit:{v.pk}")
        if v.assigned_to_id is None:
            v.assigned_to = by
            v.save(update_fields=["assigned_to"])
        return VisitCall.objects.create(company_id=v.company_id, visit=v, call_ref=call_ref, by=by)


def visit_take(*, by, visit_id: int, user_id: int | None = None) -> ReturnVisit:
    """Take a task into one's own queue, or (ticket.dispatch) give it to a colleague."""
    with transaction.atomic():
        v = _lock(visit_id, by)
        target = by
        if user_id is not None and user_id != by.pk:
            if not role_allows(by, Perm.TICKET_DISPATCH):
                raise Forbidden(_("只有调度、班长、主管可以分派回访。"), code="permission_denied")
            target = User.objects.filter(pk=user_id, company_id=by.company_id, is_active=True).first()
            if target is None:
                raise DomainError(_("本公司没有该员工。"), field="user_id")
        v.assigned_to = target
        v.updated_at = timezone.now()
        v.save(update_fields=["assigned_to", "updated_at"])
    return v


FAILED = {VisitAttempt.Result.NO_ANSWER, VisitAttempt.Result.BUSY}


def visit_record_attempt(
    *, by, visit_id: int, result: str, note: str = "", next_at: datetime | None = None
) -> ReturnVisit:
    """One call that did not get the visit done: no answer / busy (retried `retry_minutes` later in
    calling hours; after `max_attempts` the task ends "unreachable"), wrong number (unreachable at
    once), or the customer finds it inconvenient (不方便: a polite end and the time they chose)."""
    from kefu.followups.selectors import policy_for

    if result not in VisitAttempt.Result.values or result == VisitAttempt.Result.REACHED:
        raise DomainError(_("拨打结果无效。"), field="result")
    note = text(note, field="note", label=_("说明"), required=False, limit=200)
    now = timezone.now()
    with transaction.atomic():
        v = _lock(visit_id, by)
        _assert_calling_hours(v, now)
        policy = policy_for(v.company, v.finished_at)
        hours = _hours(policy)
        v.attempts += 1
        if result == VisitAttempt.Result.INCONVENIENT:
            if next_at is None or timezone.is_naive(next_at) or next_at <= now:
                raise DomainError(_("请填写客户方便的回访时间（晚于现在）。"), field="next_at")
            v.next_attempt_at = rules.next_calling_instant(next_at, hours, _tz(v.company))
        elif result == VisitAttempt.Result.WRONG_NUMBER or v.attempts >= policy.max_attempts:
            v.status, v.done_at, v.done_by, v.next_attempt_at = ReturnVisit.Status.UNREACHABLE, now, by, None
            v.clocks_behind = True
        else:
            v.next_attempt_at = rules.next_attempt_at(
                now, retry_minutes=policy.retry_minutes, hours=hours, tz=_tz(v.company)
            )
        if v.assigned_to_id is None:
            v.assigned_to = by
        v.updated_at = now
        v.save()
        VisitAttempt.objects.create(
            company_id=v.company_id,
            visit=v,
            by=by,
            result=result,
            note=note,
            next_at=v.next_attempt_at,
            at=now,
        )
        if v.ticket_id:
            from kefu.tickets import events as timeline

            timeline.comment(
                v.ticket,
                by,
                text=_("回访拨打：%(r)s %(n)s") % {"r": VisitAttempt.Result(result).label, "n": note},
            )
        if v.status == ReturnVisit.Status.UNREACHABLE:
            _sync_on_commit(v.pk)
            _complaint_behind(v)
    return v


def questionnaire_for(company_id: int, reason: str) -> list[dict]:
    """The questions of a visit of this kind of work: the company's questionnaire for the reason, else
    the standard two scores (C16) and a remark."""
    q = Questionnaire.objects.filter(company_id=company_id, reason=reason).order_by("-id").first()
    if q is not None:
        return q.questions
    return [
        {
            "key": "resolved",
            "text": _("您反映的问题是否已经解决？"),
            "type": "choice",
            "choices": [_("已解决"), _("未解决")],
        },
        {
            "key": "on_time",
            "text": _("工作人员是否按约定时间上门/答复？"),
            "type": "choice",
            "choices": [_("是"), _("否")],
        },
    ]


DISSATISFIED_ACTIONS = ("", "reopen", "complaint")


def _score(value, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise DomainError(_("评分须为 1 到 10 的整数。"), field=field)
    return value


def visit_record_result(
    *,
    by,
    visit_id: int,
    consent: bool,
    answers: dict | None = None,
    attitude_score: int | None = None,
    ability_score: int | None = None,
    satisfied: bool | None = None,
    remarks: str = "",
    dissatisfied_action: str = "",
) -> ReturnVisit:
    """The visit made (P6): consent (a customer who declines is thanked and the visit ends), the
    questionnaire of that kind of work, the 1–10 scores for service attitude and professional
    ability (C16, K15, K16), remarks. A dissatisfied customer chooses: reopen the work order
    (a closed one gets a follow-up work order) or a linked complaint. The result is written on the
    work order's timeline and stops the visit clock."""
    if not isinstance(consent, bool):
        raise DomainError(_("请选择客户是否同意回访。"), field="consent")
    attitude_score = _score(attitude_score, "attitude_score")
    ability_score = _score(ability_score, "ability_score")
    remarks = text(remarks, field="remarks", label=_("备注"), required=False)
    if dissatisfied_action not in DISSATISFIED_ACTIONS:
        raise DomainError(_("不满意的处理方式无效。"), field="dissatisfied_action")
    answers = answers or {}
    if not isinstance(answers, dict):
        raise DomainError(_("问卷答案格式有误。"), field="answers")
    now = timezone.now()
    with transaction.atomic():
        v = _lock(visit_id, by)
        _assert_calling_hours(v, now)
        if consent:
            if satisfied is None or not isinstance(satisfied, bool):
                raise DomainError(_("请选择客户是否满意。"), field="satisfied")
            if attitude_score is None or ability_score is None:
                raise DomainError(_("请填写服务态度和专业能力评分（1–10）。"), field="attitude_score")
            questions = {q["key"]: q for q in questionnaire_for(v.company_id, v.reason)}
            for key, value in answers.items():
                if key not in questions:
                    raise DomainError(_("问卷没有问题“%(k)s”。") % {"k": str(key)[:20]}, field="answers")
                if rules.check_answer(questions[key], value):
                    raise DomainError(
                        _("问题“%(t)s”的答案无效。") % {"t": questions[key]["text"]}, field="answers"
                    )
            outcome = ReturnVisit.Outcome.SATISFIED if satisfied else ReturnVisit.Outcome.DISSATISFIED
        else:
            satisfied, attitude_score, ability_score, answers = None, None, None, {}
            outcome = ReturnVisit.Outcome.DECLINED
        v.consent, v.answers, v.satisfied, v.remarks = consent, answers, satisfied, remarks
        v.attitude_score, v.ability_score = attitude_score, ability_score
        v.status, v.done_at, v.done_by, v.next_attempt_at = ReturnVisit.Status.DONE, now, by, None
        if v.assigned_to_id is None:
            v.assigned_to = by
        if satisfied is False and dissatisfied_action:
            outcome, v.linked_ticket = _dissatisfied(v, by, dissatisfied_action, remarks)
        v.outcome = outcome
        v.attempts += 1
        v.clocks_behind = True
        v.updated_at = now
        v.save()
        VisitAttempt.objects.create(
            company_id=v.company_id, visit=v, by=by, result=VisitAttempt.Result.REACHED, at=now
        )
        if v.ticket_id:
            from kefu.tickets import events as timeline

            line = _("回访完成：%(o)s；服务态度 %(a)s 分，专业能力 %(b)s 分。%(r)s") % {
                "o": ReturnVisit.Outcome(outcome).label,
                "a": attitude_score or "-",
                "b": ability_score or "-",
                "r": remarks,
            }
            timeline.comment(v.ticket, by, text=line)
        _sync_on_commit(v.pk)
        _complaint_behind(v)
    return v


def _complaint_behind(v: ReturnVisit) -> None:
    """The complaint's own "return visit" stage stops with its visit (002: 24 h)."""
    if v.reason != Reason.COMPLAINT or not v.ticket_id:
        return
    from kefu.followups.clocks import complaint_clocks_sync

    cid = Complaint.objects.filter(ticket_id=v.ticket_id).values_list("pk", flat=True).first()
    if cid:
        Complaint.objects.filter(pk=cid).update(clocks_behind=True, updated_at=timezone.now())
        transaction.on_commit(lambda: complaint_clocks_sync(cid))


def _dissatisfied(v: ReturnVisit, by, action: str, remarks: str):
    from kefu.tickets.services import ticket_create, ticket_transition

    t = v.ticket
    if t is None:
        raise DomainError(_("工程回访没有工单可重新打开，请转投诉。"), field="dissatisfied_action")
    content = remarks or _("回访不满意（工单 %(n)s）") % {"n": t.number}
    if action == "reopen" and t.state == "resolved":
        ticket_transition(
            ticket_id=t.pk,
            by=by,
            to="reopened",
            version=t.version,
            reason=_("回访不满意：%(r)s") % {"r": content},
        )
        return ReturnVisit.Outcome.REOPENED, None
    kind = "complaint" if action == "complaint" else t.kind.code
    if not t.caller_surname or not t.caller_phone:
        raise DomainError(_("工单没有客户姓氏和电话，不能新建关联工单。"), field="dissatisfied_action")
    created = ticket_create(
        by=by,
        kind=kind,
        content=content,
        customer_id=t.customer_id,
        premise_id=t.premise_id,
        caller_surname=t.caller_surname,
        caller_title=t.caller_title,
        caller_phone=t.caller_phone,
        address=t.address,
        on_duplicate="create",
        link_to_id=t.pk,
        link_kind=TicketLink.Kind.FOLLOW_UP_OF,
        sub_kind=t.sub_kind.code if (kind == t.kind.code and t.sub_kind_id) else None,
    ).ticket
    return (ReturnVisit.Outcome.COMPLAINT if action == "complaint" else ReturnVisit.Outcome.REOPENED), created


def visit_record_customer_rating(
    *, by, visit_id: int, attitude_score: int, ability_score: int, remarks: str = "", via: str = "portal"
) -> ReturnVisit:
    """The customer rated the finished work in writing (网上营业厅 / 微信) and was satisfied:
    the pending return visit is made by the customer's own answer, so its 1–10 scores count in K15 and
    K16 (C16) and its clock stops. Calling hours (C19) do not apply: nobody is called, the customer
    chose the moment. A dissatisfied customer is never recorded here: the visit stays for a person to
    call (P6). `by` is the channel's account that carries the customer's answer."""
    attitude_score = _score(attitude_score, "attitude_score")
    ability_score = _score(ability_score, "ability_score")
    if attitude_score is None or ability_score is None:
        raise DomainError(_("请填写服务态度和专业能力评分（1–10）。"), field="attitude_score")
    remarks = text(remarks, field="remarks", label=_("备注"), required=False)
    now = timezone.now()
    with transaction.atomic():
        v = (
            ReturnVisit.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .filter(pk=visit_id, company_id=require_company(by))
            .first()
        )
        if v is None:
            from kefu.core.errors import NotFound

            raise NotFound(_("没有找到该回访，或您无权查看。"), code="not_found")
        if v.status != ReturnVisit.Status.PENDING:
            raise DomainError(
                _("该回访已结束（%(s)s）。") % {"s": v.get_status_display()}, code="visit_closed"
            )
        v.consent, v.satisfied, v.outcome = True, True, ReturnVisit.Outcome.SATISFIED
        v.attitude_score, v.ability_score = attitude_score, ability_score
        v.answers = {"via": via}
        v.remarks = remarks
        v.status, v.done_at, v.done_by, v.next_attempt_at = ReturnVisit.Status.DONE, now, by, None
        v.attempts += 1
        v.clocks_behind = True
        v.updated_at = now
        v.save()
        VisitAttempt.objects.create(
            company_id=v.company_id,
            visit=v,
            by=by,
            result=VisitAttempt.Result.REACHED,
            at=now,
            note=_("客户自助评价（%(v)s）") % {"v": via},
        )
        if v.ticket_id:
            from kefu.tickets import events as timeline

            timeline.comment(
                v.ticket,
                by,
                text=_("回访完成（客户自助评价）：满意；服务态度 %(a)s 分，专业能力 %(b)s 分。%(r)s")
                % {"a": attitude_score, "b": ability_score, "r": remarks},
            )
        _sync_on_commit(v.pk)
        _complaint_behind(v)
    return v
