"""Complaint handling (P4, seed 004 第五条; 000 15.4): eight steps, each one a service that checks
who may do it and whether the step may come now (kefu.followups.states), writes the change and an
append-only ComplaintStepRecord with who and when, and schedules the clock sync (C6 stages)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Department, User
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError, Forbidden, NotFound
from kefu.followups import rules
from kefu.followups.models import Complaint, ComplaintStepRecord, PenaltyRule
from kefu.followups.services.common import FOLLOWUP_APPROVE, require_company, text
from kefu.followups.states import ComplaintStep, can_move
from kefu.tickets.models import Ticket

S = ComplaintStep
REPEAT_WINDOW = timedelta(days=90)


def _sync_on_commit(complaint_id: int) -> None:
    from kefu.followups.clocks import complaint_clocks_sync

    transaction.on_commit(lambda: complaint_clocks_sync(complaint_id))


def _touch(c: Complaint, fields: list[str], *, clocks: bool = False) -> None:
    c.updated_at = timezone.now()
    fields = [*fields, "updated_at"]
    if clocks:
        c.clocks_behind = True
        fields.append("clocks_behind")
    c.save(update_fields=fields)
    if clocks:
        _sync_on_commit(c.pk)


def _record(c: Complaint, step: str, by, *, action=ComplaintStepRecord.Action.DONE, note="", data=None):
    return ComplaintStepRecord.objects.create(
        company_id=c.company_id, complaint=c, step=step, action=action, by=by, note=note, data=data or {}
    )


def _detect_repeat(c: Complaint) -> Complaint | None:
    """A complaint by the same customer (or phone) about the same matter (category, and the same
    staff member when named) within 90 days: the earliest such complaint."""
    t = c.ticket
    who = Q()
    if t.customer_id:
        who |= Q(ticket__customer_id=t.customer_id)
    if t.caller_phone:
        who |= Q(ticket__caller_phone=t.caller_phone)
    if not who:
        return None
    qs = Complaint.objects.filter(
        who,
        company_id=c.company_id,
        received_at__gte=c.received_at - REPEAT_WINDOW,
        received_at__lt=c.received_at,
        category=c.category,
    )
    if c.target_user_id:
        qs = qs.filter(Q(target_user_id=c.target_user_id) | Q(target_user__isnull=True))
    first = qs.order_by("received_at", "id").first()
    return (first.repeat_of or first) if first else None


def complaint_open(*, ticket_id: int) -> Complaint | None:
    """The complaint record of a complaint work order (step 受理 from the work order's caller, time
    and content); idempotent — the listener of TicketCreated / TicketKindChanged and the sweep."""
    ticket = Ticket.objects.select_related("kind").filter(pk=ticket_id).first()
    if ticket is None or ticket.kind.code != "complaint" or ticket.state == "cancelled":
        return None
    with transaction.atomic():
        c, created = Complaint.objects.get_or_create(
            ticket=ticket,
            defaults={
                "company_id": ticket.company_id,
                "received_at": ticket.received_at,
                "complainant": ticket.salutation,
                "complainant_phone": ticket.caller_phone,
                "demand": ticket.content,
            },
        )
        if created:
            c.repeat_of = _detect_repeat(c)
            if c.repeat_of:
                c.save(update_fields=["repeat_of"])
            _record(c, S.RECEIVED, ticket.created_by, note=ticket.content[:500])
            _sync_on_commit(c.pk)
    return c


def _lock(complaint_id: int, by) -> Complaint:
    from kefu.followups.selectors import complaints_visible_to

    require_company(by)
    if not complaints_visible_to(by).filter(pk=complaint_id).exists():
        raise NotFound(_("没有找到该投诉，或您无权查看。"), code="not_found")
    return Complaint.objects.select_for_update(of=("self",)).select_related("ticket").get(pk=complaint_id)


def may_handle(user, c: Complaint) -> bool:
    """Who works a complaint: the work order's owner or assignee, a dispatcher / lead (ticket.dispatch),
    the responsible person, or an approver."""
    from kefu.tickets.services.common import is_handler

    if not role_allows(user, Perm.TICKET_WORK) and not role_allows(user, FOLLOWUP_APPROVE):
        return False
    return (
        is_handler(user, c.ticket)
        or (c.responsible_user_id is not None and c.responsible_user_id == user.pk)
        or role_allows(user, FOLLOWUP_APPROVE)
    )


def may_approve(user, c: Complaint) -> bool:
    """The responsible manager approves (P4): followup.approve, and of the responsible department when
    the approver belongs to a department — never the responsible person themself."""
    if not role_allows(user, FOLLOWUP_APPROVE) or user.pk == c.responsible_user_id:
        return False
    dept = c.responsible_department_id
    return dept is None or user.department_id in (None, dept)


def _step(by, complaint_id: int, target: str) -> Complaint:
    c = _lock(complaint_id, by)
    if not may_handle(by, c):
        raise Forbidden(_("只有工单负责人、承办人、责任人或主管经理可以处理该投诉。"), code="not_handler")
    if not can_move(c.step, target):
        raise DomainError(
            _("投诉处于“%(a)s”环节，不能进行“%(b)s”。") % {"a": S(c.step).label, "b": S(target).label},
            code="illegal_step",
        )
    return c


def _colleague(by, user_id, field: str) -> User | None:
    if user_id in (None, ""):
        return None
    u = (
        User.objects.filter(pk=user_id, company_id=by.company_id).first()
        if isinstance(user_id, int)
        else None
    )
    if u is None:
        raise DomainError(_("本公司没有该员工。"), field=field)
    return u


def _department(by, dept_id, field: str) -> Department | None:
    if dept_id in (None, ""):
        return None
    d = (
        Department.objects.filter(pk=dept_id, company_id=by.company_id).first()
        if isinstance(dept_id, int)
        else None
    )
    if d is None:
        raise DomainError(_("本公司没有该部门。"), field=field)
    return d


def complaint_intake(
    *,
    by,
    complaint_id: int,
    category: str,
    source: str = Complaint.Source.CUSTOMER,
    source_ref: str = "",
    source_due_at: datetime | None = None,
    complainant: str = "",
    complainant_phone: str = "",
    demand: str = "",
    target_department_id: int | None = None,
    target_user_id: int | None = None,
) -> Complaint:
    """受理 details: category, source (12345 / regulator with its reference and deadline), who
    complains, about whom, what they want. Allowed until the execution; checks repeats again."""
    if category not in Complaint.Category.values:
        raise DomainError(_("投诉类别无效。"), field="category")
    if source not in Complaint.Source.values:
        raise DomainError(_("投诉来源无效。"), field="source")
    source_ref = text(source_ref, field="source_ref", label=_("转办编号"), required=False, limit=60)
    if source in (Complaint.Source.HOTLINE_12345, Complaint.Source.REGULATOR) and not source_ref:
        raise DomainError(_("政府热线或主管部门转办的投诉须填写转办编号。"), field="source_ref")
    if source_due_at is not None and timezone.is_naive(source_due_at):
        raise DomainError(_("转办时限须带时区。"), field="source_due_at")
    with transaction.atomic():
        c = _lock(complaint_id, by)
        if not may_handle(by, c):
            raise Forbidden(_("只有工单负责人、承办人、责任人或主管经理可以处理该投诉。"), code="not_handler")
        if c.step in (S.EXECUTED, S.CLOSED):
            raise DomainError(_("投诉已执行，受理信息不能再修改。"), code="illegal_step")
        c.category, c.source, c.source_ref, c.source_due_at = category, source, source_ref, source_due_at
        c.complainant = text(
            complainant or c.complainant, field="complainant", label=_("投诉人"), required=False, limit=40
        )
        c.complainant_phone = text(
            complainant_phone or c.complainant_phone,
            field="complainant_phone",
            label=_("投诉人电话"),
            required=False,
            limit=20,
        )
        c.demand = text(demand or c.demand, field="demand", label=_("投诉诉求"))
        c.target_department = _department(by, target_department_id, "target_department_id")
        c.target_user = _colleague(by, target_user_id, "target_user_id")
        c.repeat_of = _detect_repeat(c)
        _touch(
            c,
            [
                "category",
                "source",
                "source_ref",
                "source_due_at",
                "complainant",
                "complainant_phone",
                "demand",
                "target_department",
                "target_user",
                "repeat_of",
            ],
        )
        _record(
            c,
            S.RECEIVED,
            by,
            action=ComplaintStepRecord.Action.UPDATED,
            note=c.demand[:500],
            data={
                "category": category,
                "source": source,
                "source_ref": source_ref,
                "target_user_id": c.target_user_id,
                "target_department_id": c.target_department_id,
            },
        )
    return c


def complaint_judge(*, by, complaint_id: int, stands: bool, reason: str) -> Complaint:
    """判定: does the complaint stand? The replies recorded from now on answer it (C6)."""
    if not isinstance(stands, bool):
        raise DomainError(_("请选择投诉是否成立。"), field="stands")
    reason = text(reason, field="reason", label=_("判定理由"))
    with transaction.atomic():
        c = _step(by, complaint_id, S.JUDGED)
        c.step, c.stands, c.judgement_reason, c.judged_at = S.JUDGED, stands, reason, timezone.now()
        _touch(c, ["step", "stands", "judgement_reason", "judged_at"])
        _record(c, S.JUDGED, by, note=reason, data={"stands": stands})
    return c


def complaint_assign_responsibility(
    *, by, complaint_id: int, department_id: int, user_id: int | None = None
) -> Complaint:
    """责任: the responsible department and person (only for a complaint that stands)."""
    with transaction.atomic():
        c = _step(by, complaint_id, S.RESPONSIBILITY)
        c.responsible_department = _department(by, department_id, "department_id")
        if c.responsible_department is None:
            raise DomainError(_("请选择责任部门。"), field="department_id")
        c.responsible_user = _colleague(by, user_id, "user_id")
        c.step = S.RESPONSIBILITY
        _touch(c, ["step", "responsible_department", "responsible_user"])
        _record(
            c,
            S.RESPONSIBILITY,
            by,
            data={"department_id": c.responsible_department_id, "user_id": c.responsible_user_id},
        )
    return c


def complaint_analyse(*, by, complaint_id: int, cause: str) -> Complaint:
    """原因分析."""
    cause = text(cause, field="cause", label=_("原因分析"))
    with transaction.atomic():
        c = _step(by, complaint_id, S.ANALYSED)
        c.step, c.cause = S.ANALYSED, cause
        _touch(c, ["step", "cause"])
        _record(c, S.ANALYSED, by, note=cause)
    return c


def complaint_plan(*, by, complaint_id: int, plan: str) -> Complaint:
    """处理方案: proposed, then waits for the responsible manager's approval."""
    plan = text(plan, field="plan", label=_("处理方案"))
    with transaction.atomic():
        c = _step(by, complaint_id, S.PLANNED)
        c.step, c.plan = S.PLANNED, plan
        _touch(c, ["step", "plan"])
        _record(c, S.PLANNED, by, note=plan)
    return c


def complaint_approve(*, by, complaint_id: int, approve: bool, reason: str = "") -> Complaint:
    """审批: the responsible manager approves the plan, or sends it back with a reason (back to
    原因分析: a new plan is needed)."""
    if not isinstance(approve, bool):
        raise DomainError(_("请选择批准或退回。"), field="approve")
    reason = text(reason, field="reason", label=_("退回理由"), required=not approve)
    with transaction.atomic():
        c = _lock(complaint_id, by)
        if not may_approve(by, c):
            raise Forbidden(
                _("只有责任部门的主管或经理可以审批处理方案（责任人本人不能审批）。"), code="not_approver"
            )
        if c.step != S.PLANNED:
            raise DomainError(_("投诉没有待审批的处理方案。"), code="illegal_step")
        if approve:
            c.step, c.approved_by, c.approved_at = S.APPROVED, by, timezone.now()
            _touch(c, ["step", "approved_by", "approved_at"])
            _record(c, S.APPROVED, by, action=ComplaintStepRecord.Action.APPROVED, note=reason)
        else:
            c.step = S.ANALYSED
            _touch(c, ["step"])
            _record(c, S.PLANNED, by, action=ComplaintStepRecord.Action.SENT_BACK, note=reason)
    return c


def penalty_suggestion(c: Complaint):
    """W5: the penalty the company's rules give the responsible person for this upheld complaint
    (the n-th within the rule's window), or None."""
    person = c.responsible_user_id or c.target_user_id
    rules_rows = list(
        PenaltyRule.objects.filter(company_id=c.company_id).values_list(
            "nth", "amount", "manager_multiplier", "dismissal", "name", "window_days"
        )
    )
    if not person or not rules_rows or not c.stands:
        return None
    window = max(r[5] for r in rules_rows)
    nth = Complaint.objects.filter(
        Q(responsible_user_id=person) | Q(responsible_user__isnull=True, target_user_id=person),
        company_id=c.company_id,
        stands=True,
        received_at__gte=c.received_at - timedelta(days=window),
        received_at__lte=c.received_at,
    ).count()
    return rules.penalty_for(max(nth, 1), [r[:5] for r in rules_rows])


def complaint_execute(
    *, by, complaint_id: int, informed: str, feedback: str = "", apply_penalty: bool = True
) -> Complaint:
    """执行: the penalty under the company's rules (W5), the customer informed (recorded as a reply on
    the work order: after the judgement, it answers the complaint, C6) and their feedback; the
    complaint's return visit is created (due in 24 h of calling time)."""
    from kefu.followups.services.visits import visit_create_for_complaint
    from kefu.tickets.services import ticket_reply

    informed = text(informed, field="informed", label=_("告知客户的内容"))
    feedback = text(feedback, field="feedback", label=_("客户反馈"), required=False)
    with transaction.atomic():
        c = _step(by, complaint_id, S.EXECUTED)
        if c.stands and c.step != S.APPROVED:
            raise DomainError(_("处理方案尚未批准。"), code="illegal_step")
        penalty = penalty_suggestion(c) if apply_penalty else None
        if penalty is not None:
            c.penalty_amount = penalty.amount
            c.penalty_note = (
                _("%(r)s：%(a)s 元；管理人员连带 %(m)s 元%(d)s")
                % {
                    "r": penalty.rule,
                    "a": penalty.amount,
                    "m": penalty.manager_amount,
                    "d": _("；解除劳动合同") if penalty.dismissal else "",
                }
            )[:200]
        record = _workforce_penalty(c) if apply_penalty else None
        event = ticket_reply(ticket_id=c.ticket_id, by=by, text=informed)
        c.step, c.informed_at, c.feedback = S.EXECUTED, event.at, feedback
        if c.answered_at is None and c.judged_at is not None and event.at >= c.judged_at:
            c.answered_at = event.at
        if c.promised_at is None:
            c.promised_at = event.at
        _touch(
            c,
            [
                "step",
                "informed_at",
                "feedback",
                "penalty_amount",
                "penalty_note",
                "answered_at",
                "promised_at",
            ],
            clocks=True,
        )
        _record(
            c,
            S.EXECUTED,
            by,
            note=informed,
            data={
                "feedback": feedback,
                "penalty": str(c.penalty_amount or Decimal(0)),
                "workforce_penalty": record.pk if record is not None else None,
            },
        )
        visit_create_for_complaint(c)
    return c


def _workforce_penalty(c: Complaint):
    """W5: a complaint that stands against a responsible person reaches that person's penalty record
    in workforce (`penalty_from_complaint`, the company's "complaint" rule: occurrence counted in the
    rule's window, dismissal review, the liable manager; proposed for the manager's approval).
    Called in the 执行 step's transaction (followups sits above workforce); idempotent per rule,
    complaint and person. None when the complaint does not stand, names nobody, or the company has
    no such rule."""
    from kefu.workforce.services import penalty_from_complaint

    if not c.stands or not c.responsible_user_id:
        return None
    number = Ticket.objects.filter(pk=c.ticket_id).values_list("number", flat=True).first()
    return penalty_from_complaint(
        company_id=c.company_id,
        user_id=c.responsible_user_id,
        complaint_ref=number or f"complaint:{c.pk}",
        at=timezone.now(),
    )


def complaint_close(*, by, complaint_id: int, summary: str, evaluation: str = "") -> Complaint:
    """总结评价: the result delivered, the lessons recorded; the complaint is finished."""
    summary = text(summary, field="summary", label=_("总结"))
    evaluation = text(evaluation, field="evaluation", label=_("评价"), required=False)
    with transaction.atomic():
        c = _step(by, complaint_id, S.CLOSED)
        c.step, c.summary, c.evaluation, c.closed_at = S.CLOSED, summary, evaluation, timezone.now()
        _touch(c, ["step", "summary", "evaluation", "closed_at"], clocks=True)
        _record(c, S.CLOSED, by, note=summary, data={"evaluation": evaluation})
    return c


def complaint_on_reply(*, ticket_id: int, at: datetime) -> bool:
    """A reply to the customer on a complaint work order: the first one is the promise (002), the
    first after the judgement the answer (C6). Idempotent; the listener of TicketReplied."""
    with transaction.atomic():
        c = Complaint.objects.select_for_update().filter(ticket_id=ticket_id).first()
        if c is None:
            return False
        fields = []
        if c.promised_at is None:
            c.promised_at = at
            fields.append("promised_at")
        if c.answered_at is None and c.judged_at is not None and at >= c.judged_at:
            c.answered_at = at
            fields.append("answered_at")
        if fields:
            _touch(c, fields, clocks=True)
    return bool(fields)
