"""Workforce endpoints (W1, W2, W3, W4, W5) under /api/v1/workforce/.

Every refusal is a 4xx with a message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from kefu.accounts.context import client_ip
from kefu.accounts.models import Team, User
from kefu.core.errors import NotFound
from kefu.workforce import selectors, services
from kefu.workforce.models import (
    Assignment,
    Handover,
    LeaveRequest,
    Penalty,
    ShiftPattern,
    Skill,
    SwapRequest,
)

router = Router(tags=["workforce"])

Id = Annotated[int, Field(ge=1, le=2**53)]
Text = Annotated[str, Field(max_length=300)]
LongText = Annotated[str, Field(max_length=4000)]


class PersonOut(Schema):
    id: int
    name: str


class ShiftOut(Schema):
    id: int
    day: date
    pattern: str
    start_at: datetime
    end_at: datetime
    skill: str
    is_holiday_duty: bool
    user: PersonOut


def _shift(a: Assignment) -> ShiftOut:
    return ShiftOut(
        id=a.pk,
        day=a.day,
        pattern=a.pattern.code,
        start_at=a.start_at,
        end_at=a.end_at,
        skill=a.skill,
        is_holiday_duty=a.is_holiday_duty,
        user=PersonOut(id=a.user_id, name=a.user.display_name),
    )


@router.get("/on-duty", response=list[PersonOut], summary="此刻（或指定时间）在岗人员，可按角色或工种筛选")
def on_duty(
    request,
    at: datetime | None = None,
    role: Annotated[str, Field(max_length=20)] = "",
    skill: Skill | None = None,
):
    when = at or timezone.now()
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    users = selectors.on_duty(request.user.company_id, when, role=role or None, skill=skill or None)
    return [PersonOut(id=u.pk, name=u.display_name) for u in users]


@router.get("/my-shifts", response=list[ShiftOut], summary="我的班次（自某日起 31 天）")
def my_shifts(request, since: date | None = None):
    start = since or timezone.localdate()
    return [_shift(a) for a in selectors.my_shifts(request.user, since=start).select_related("user")]


class RosterOut(Schema):
    id: int
    team: str
    month: date
    status: str
    solver_note: str
    shortfalls: int = 0
    shifts: list[ShiftOut] = []


def _roster_out(roster, full: bool = False) -> RosterOut:
    out = RosterOut(
        id=roster.pk,
        team=roster.team.name,
        month=roster.month,
        status=roster.status,
        solver_note=roster.solver_note,
    )
    if full:
        out.shortfalls = len(services.roster_check(roster)[0])
        out.shifts = [_shift(a) for a in roster.assignments.select_related("pattern", "user")]
    return out


@router.get("/rosters", response=list[RosterOut], summary="排班表列表")
def rosters(request):
    return [_roster_out(r) for r in selectors.rosters_visible(request.user)[:100]]


@router.get("/rosters/{roster_id}", response=RosterOut, summary="一张排班表及其全部班次")
def roster(request, roster_id: Id):
    return _roster_out(selectors.roster_get(request.user, roster_id), full=True)


class DemandIn(Schema):
    """Hotline agents wanted on duty in one half-hour (e.g. from a workforce-management tool)."""

    day: date
    minute: int = Field(..., ge=0, le=1410, multiple_of=30, description="当地时间，半小时起点距 0 点的分钟数")
    agents: int = Field(..., ge=0, le=500)


class ProposeIn(Schema):
    team: Id
    month: date
    demand: list[DemandIn] = Field(default_factory=list, max_length=31 * 48)


@router.post(
    "/rosters",
    response=RosterOut,
    summary="由求解器生成某班组某月的排班建议（草稿，可附每半小时热线坐席需求）",
)
def propose(request, payload: ProposeIn):
    team = Team.objects.filter(company_id=request.user.company_id, pk=payload.team).first()
    if team is None:
        raise NotFound(_("未找到该班组。"))
    demand = {(d.day, d.minute): d.agents for d in payload.demand} or None
    return _roster_out(
        services.roster_propose(team=team, month=payload.month, by=request.user, demand=demand), full=True
    )


@router.post("/rosters/{roster_id}/publish", response=RosterOut, summary="班长发布排班表")
def publish(request, roster_id: Id):
    row = selectors.roster_get(request.user, roster_id)
    return _roster_out(services.roster_publish(roster=row, by=request.user))


class EditIn(Schema):
    user: Id
    day: date
    pattern: Annotated[str, Field(max_length=8)] = ""
    reason: Text = ""


@router.post("/rosters/{roster_id}/edit", summary="手工调整一个人一天的班次（pattern 为空表示休息）")
def edit(request, roster_id: Id, payload: EditIn):
    row = selectors.roster_get(request.user, roster_id)
    user = User.objects.filter(company_id=row.company_id, pk=payload.user).first()
    if user is None:
        raise NotFound(_("未找到该员工。"))
    pattern = None
    if payload.pattern:
        pattern = ShiftPattern.objects.filter(team=row.team, code=payload.pattern).first()
        if pattern is None:
            raise NotFound(_("未找到该班次。"))
    services.assignment_set(
        roster=row, user=user, day=payload.day, pattern=pattern, by=request.user, reason=payload.reason
    )
    return {"ok": True}


class LeaveIn(Schema):
    kind: Literal["personal", "special", "sick", "business"]
    first_day: date
    last_day: date
    reason: Text


class RequestOut(Schema):
    id: int
    status: str


@router.post("/leave", response={201: RequestOut}, summary="申请请假（按请假制度逐条校验）")
def leave_new(request, payload: LeaveIn):
    row = services.leave_request(
        user=request.user,
        kind=payload.kind,
        first_day=payload.first_day,
        last_day=payload.last_day,
        reason=payload.reason,
    )
    return 201, RequestOut(id=row.pk, status=row.status)


class DecideIn(Schema):
    approve: bool
    note: Text = ""


@router.post(
    "/leave/{leave_id}/decide", response=RequestOut, summary="审批请假（一天以内班长，一天以上中心主任）"
)
def leave_decide(request, leave_id: Id, payload: DecideIn):
    row = services.get_or_404(LeaveRequest, request.user, leave_id)
    row = services.leave_decide(leave=row, by=request.user, approve=payload.approve, note=payload.note)
    return RequestOut(id=row.pk, status=row.status)


class SwapIn(Schema):
    give: Id
    take: Id
    reason: Text


@router.post("/swaps", response={201: RequestOut}, summary="申请换班（按换班制度逐条校验）")
def swap_new(request, payload: SwapIn):
    give = services.get_or_404(Assignment, request.user, payload.give)
    take = services.get_or_404(Assignment, request.user, payload.take)
    row = services.swap_request(requester=request.user, give=give, take=take, reason=payload.reason)
    return 201, RequestOut(id=row.pk, status=row.status)


class AnswerIn(Schema):
    accept: bool


@router.post("/swaps/{swap_id}/answer", response=RequestOut, summary="同事同意或不同意换班")
def swap_answer(request, swap_id: Id, payload: AnswerIn):
    row = services.get_or_404(SwapRequest, request.user, swap_id)
    row = services.swap_answer(swap=row, by=request.user, accept=payload.accept)
    return RequestOut(id=row.pk, status=row.status)


@router.post("/swaps/{swap_id}/decide", response=RequestOut, summary="班长审批换班（双方班长）")
def swap_decide(request, swap_id: Id, payload: DecideIn):
    row = services.get_or_404(SwapRequest, request.user, swap_id)
    row = services.swap_decide(swap=row, by=request.user, approve=payload.approve, note=payload.note)
    return RequestOut(id=row.pk, status=row.status)


class HandoverIn(Schema):
    successor: Id
    equipment_state: LongText
    difficult_cases: LongText = ""
    work_orders: Text = ""
    staff_changes: LongText = ""


@router.post("/handovers", response={201: RequestOut}, summary="交班人填写交接日志")
def handover_new(request, payload: HandoverIn):
    successor = User.objects.filter(company_id=request.user.company_id, pk=payload.successor).first()
    if successor is None:
        raise NotFound(_("未找到接班人。"))
    row = services.handover_record(
        leaver=request.user,
        successor=successor,
        equipment_state=payload.equipment_state,
        difficult_cases=payload.difficult_cases,
        work_orders=payload.work_orders,
        staff_changes=payload.staff_changes,
    )
    return 201, RequestOut(id=row.pk, status=row.status)


@router.post(
    "/handovers/{handover_id}/{action}",
    response=RequestOut,
    summary="接班确认（confirm）或交班完成（sign-off）",
)
def handover_act(request, handover_id: Id, action: Literal["confirm", "sign-off"]):
    row = services.get_or_404(Handover, request.user, handover_id)
    if action == "confirm":
        row = services.handover_confirm(handover=row, by=request.user)
    else:
        row = services.handover_sign_off(handover=row, by=request.user)
    return RequestOut(id=row.pk, status=row.status)


class PunchIn(Schema):
    kind: Literal["in", "out", "away", "back"]


class PunchOut(Schema):
    id: int
    at: datetime
    violation: str | None = None
    minutes: int | None = None


@router.post(
    "/attendance/punch",
    response={201: PunchOut},
    summary="打卡（记录来源地址；迟到或脱岗 20 分钟及以上记违纪）",
)
def punch(request, payload: PunchIn):
    row, violation = services.punch(user=request.user, kind=payload.kind, source_ip=client_ip(request))
    return 201, PunchOut(
        id=row.pk,
        at=row.at,
        violation=violation.kind if violation else None,
        minutes=violation.minutes if violation else None,
    )


class PenaltyOut(Schema):
    id: int
    user: PersonOut
    rule: str
    source_ref: str
    occurrence: int
    amount: str
    manager_amount: str
    dismissal_review: bool
    status: str


def _penalty(p: Penalty) -> PenaltyOut:
    return PenaltyOut(
        id=p.pk,
        user=PersonOut(id=p.user_id, name=p.user.display_name),
        rule=p.rule.code,
        source_ref=p.source_ref,
        occurrence=p.occurrence,
        amount=str(p.amount),
        manager_amount=str(p.manager_amount),
        dismissal_review=p.dismissal_review,
        status=p.status,
    )


@router.get("/penalties", response=list[PenaltyOut], summary="考核扣罚（经理看全部，其他人看自己的）")
def penalties(request):
    from kefu.accounts.roles import Perm, role_allows

    qs = selectors.penalties_visible(request.user)
    if not role_allows(request.user, Perm.PENALTY_APPROVE):
        qs = qs.filter(user=request.user)
    return [_penalty(p) for p in qs[:200]]


@router.post("/penalties/{penalty_id}/decide", response=PenaltyOut, summary="经理审批考核扣罚")
def penalty_decide(request, penalty_id: Id, payload: DecideIn):
    row = services.get_or_404(Penalty, request.user, penalty_id)
    return _penalty(services.penalty_decide(penalty=row, by=request.user, approve=payload.approve))
