"""Writes of the workforce app (W1, W2, W3, W4, W5). Each service checks the rules (rules.py), writes, records
the change and schedules its notifications after the commit."""

from __future__ import annotations

import calendar as pycal
import secrets
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm, Role, role_allows
from kefu.accounts.scoping import assert_can_write, assert_perm
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.notify.services import notification_send
from kefu.sla.selectors import calendar_for_company
from kefu.workforce import rules, solver
from kefu.workforce.models import (
    Assignment,
    DutyStamp,
    Handover,
    LeaveRequest,
    Penalty,
    PenaltyRule,
    Punch,
    Roster,
    RosterChange,
    ShiftPattern,
    Skill,
    StaffingNeed,
    SwapRequest,
    Violation,
    WorkerProfile,
)
from kefu.workforce.states import (
    HANDOVER_MOVES,
    OPEN_REQUEST,
    REQUEST_MOVES,
    HandoverStatus,
    PenaltyStatus,
    RequestStatus,
    RosterStatus,
)


# --- helpers ------------------------------------------------------------------------------------
def _tz(company) -> ZoneInfo:
    return ZoneInfo(getattr(company, "time_zone", None) or "Asia/Shanghai")


def _notify_later(recipient, *, kind: str, title: str, key: str, url: str = "") -> None:
    if recipient is None:
        return
    transaction.on_commit(
        lambda: notification_send(recipient=recipient, kind=kind, title=title, dedupe_key=key, url=url)
    )


def month_days(month: date) -> list[date]:
    first = month.replace(day=1)
    return [first + timedelta(days=i) for i in range(pycal.monthrange(first.year, first.month)[1])]


def month_facts(company, month: date) -> tuple[list[date], frozenset[date], int]:
    """The days of the month, its public holidays and its standard hours (working days × 8) from
    kefu/sla's calendar (official holidays, make-up working days, the company's overrides)."""
    cal = calendar_for_company(company, years=[month.year])
    days = month_days(month)
    holidays = frozenset(d for d in days if is_public_holiday(cal, d))
    standard = sum(1 for d in days if cal.is_workday(d)) * rules.MAX_DAILY_HOURS
    return days, holidays, standard


def is_public_holiday(cal, d: date) -> bool:
    info = cal.day_info(d)
    return not info.is_workday and bool(info.name)


def is_team_head_of(user, team_id: int | None) -> bool:
    """The team head (班长) of a team, or a supervisor/manager of the company (above the team head)."""
    if not role_allows(user, Perm.ROSTER_MANAGE):
        return False
    return user.role != Role.TEAM_LEAD or user.team_id == team_id


def team_head(team_id: int | None):
    if team_id is None:
        return None
    return User.objects.filter(team_id=team_id, role=Role.TEAM_LEAD, is_active=True).order_by("pk").first()


def _profile(user) -> WorkerProfile:
    profile = WorkerProfile.objects.filter(user=user, is_active=True).first()
    if profile is None:
        raise DomainError(
            _("%(u)s 没有排班档案（班组、工种、等级）。") % {"u": user.display_name}, code="no_profile"
        )
    return profile


def _fact(a: Assignment) -> rules.ShiftFact:
    return rules.ShiftFact(
        day=a.day,
        start_at=a.start_at,
        end_at=a.end_at,
        hours=a.pattern.hours,
        is_night=a.pattern.is_night,
        is_holiday_duty=a.is_holiday_duty,
        from_swap=a.source == Assignment.Source.SWAP,
        exemption=a.pattern.exemption_reason,
    )


# --- master data --------------------------------------------------------------------------------
def profile_set(*, user, team, job: str, level: int = 1) -> WorkerProfile:
    """Put a person on a team's rosters with their job and level."""
    profile, _created = WorkerProfile.objects.update_or_create(
        user=user, defaults={"company_id": user.company_id, "team": team, "job": job, "level": level}
    )
    return profile


def pattern_create(
    *,
    team,
    code: str,
    name: str,
    start,
    hours: int = 8,
    is_night: bool = False,
    exemption_reason: str = "",
    needs: dict[str, int] | None = None,
    order: int = 0,
) -> ShiftPattern:
    """A shift pattern of a team with its minimum staffing per job (W1)."""
    if not 1 <= hours <= 24:
        raise DomainError(_("班次时长须在 1 到 24 小时之间。"), field="hours")
    problem = rules.shift_hours_problem(hours=hours, exemption=exemption_reason)
    if problem:
        raise rules.RuleBroken(problem, field="exemption_reason", code="shift_hours")
    pattern = ShiftPattern.objects.create(
        company_id=team.company_id,
        team=team,
        code=code,
        name=name,
        start=start,
        hours=hours,
        is_night=is_night,
        exemption_reason=exemption_reason,
        order=order,
    )
    for skill, minimum in (needs or {}).items():
        StaffingNeed.objects.create(pattern=pattern, skill=skill, minimum=minimum)
    return pattern


# --- W1 rosters ---------------------------------------------------------------------------------
def _check_month(month: date) -> None:
    today = timezone.localdate()
    if not (today.year - 1 <= month.year <= today.year + 1):
        raise DomainError(_("只能编排去年到明年之间的排班。"), field="month", code="month_range")


def _roster_for_write(*, team, month: date, by) -> Roster:
    assert_can_write(by, team.company_id)
    _check_month(month)
    if not is_team_head_of(by, team.pk):
        raise Forbidden(_("只有本班组班长或主管、经理可以编排排班。"), code="permission_denied")
    roster, _created = Roster.objects.get_or_create(
        team=team, month=month.replace(day=1), defaults={"company_id": team.company_id}
    )
    return roster


@transaction.atomic
def roster_propose(
    *,
    team,
    month: date,
    by,
    time_limit: float | None = None,
    demand: Mapping[tuple[date, int], int] | None = None,
) -> Roster:
    """Generate a draft roster for a team's month with the solver (W1): minimum staffing and the
    labour-law hard limits; approved leave is respected. Replaces an earlier draft's assignments.
    `demand` (hotline agents per half-hour from the call forecast, erlang.demand_from) is covered as
    far as the hard rules allow; the half-hours left short are recorded in the proposal's note."""
    roster = _roster_for_write(team=team, month=month, by=by)
    roster = Roster.objects.select_for_update().get(pk=roster.pk)
    if roster.status == RosterStatus.PUBLISHED:
        raise Conflict(_("排班表已发布，请手工调整。"), code="published")
    company = team.company
    days, holidays, standard = month_facts(company, roster.month)
    patterns = list(ShiftPattern.objects.filter(team=team).prefetch_related("needs"))
    if not patterns:
        raise DomainError(_("该班组还没有班次，请先设置班次和最少在岗人数。"), code="no_patterns")
    profiles = list(WorkerProfile.objects.filter(team=team, is_active=True).select_related("user"))
    leave = LeaveRequest.objects.filter(
        user__in=[p.user for p in profiles],
        status=RequestStatus.APPROVED,
        first_day__lte=days[-1],
        last_day__gte=days[0],
    )
    off: dict[int, set[date]] = {}
    for lr in leave:
        d = lr.first_day
        while d <= lr.last_day:
            off.setdefault(lr.user_id, set()).add(d)
            d += timedelta(days=1)
    people = [solver.Person(p.user_id, p.job, frozenset(off.get(p.user_id, ()))) for p in profiles]
    pats = [
        solver.Pattern(p.pk, p.start.hour * 60 + p.start.minute, p.hours, p.exemption_reason)
        for p in patterns
    ]
    needs = {(p.pk, n.skill): n.minimum for p in patterns for n in p.needs.all()}
    result = solver.propose(
        people=people,
        patterns=pats,
        days=days,
        needs=needs,
        standard_hours=standard,
        holidays=holidays,
        demand=demand,
        demand_job=Skill.HOTLINE,
        time_limit=time_limit or settings.KEFU_ROSTER_SOLVER_SECONDS,
    )
    if not result.feasible:
        raise DomainError(
            _("无法在劳动法限制和最少在岗人数下排出本月班表（%(s)s）：请增加人员或降低最少在岗人数。")
            % {"s": result.status},
            code="infeasible",
        )
    roster.assignments.all().delete()
    _write_assignments(
        roster, result.shifts, {p.pk: p for p in patterns}, {p.user_id: p for p in profiles}, holidays
    )
    roster.solver_note = f"{result.note}; {result.seconds}s"[:300]
    roster.save(update_fields=["solver_note"])
    RosterChange.objects.create(
        roster=roster,
        by=by,
        kind="proposal",
        detail=_("自动排班：%(n)s 个班次，用时 %(s)s 秒") % {"n": len(result.shifts), "s": result.seconds}
        + (
            _("；按话务预测（Erlang C）安排热线坐席，%(k)s 个半小时人次未能满足") % {"k": result.demand_short}
            if demand
            else ""
        ),
    )
    return roster


def _write_assignments(roster, shifts, patterns, profiles, holidays) -> None:
    tz = _tz(roster.company)
    rows = []
    for user_id, day, pattern_id in shifts:
        pat = patterns[pattern_id]
        start_at, end_at = solver.local_span(day, pat.start.hour * 60 + pat.start.minute, pat.hours, tz)
        rows.append(
            Assignment(
                company_id=roster.company_id,
                roster=roster,
                user_id=user_id,
                day=day,
                pattern=pat,
                skill=profiles[user_id].job,
                start_at=start_at,
                end_at=end_at,
                is_holiday_duty=day in holidays,
                published=roster.status == RosterStatus.PUBLISHED,
            )
        )
    Assignment.objects.bulk_create(rows, batch_size=1000)


def roster_check(roster: Roster) -> tuple[list, dict[int, list[str]]]:
    """(staffing shortfalls, labour-law problems by user id) of a roster — shown before publishing."""
    days, _holidays, standard = month_facts(roster.company, roster.month)
    assignments = list(roster.assignments.select_related("pattern"))
    counts: dict = {}
    per_user: dict[int, list] = {}
    for a in assignments:
        counts[(a.day, a.pattern_id, a.skill)] = counts.get((a.day, a.pattern_id, a.skill), 0) + 1
        per_user.setdefault(a.user_id, []).append(_fact(a))
    needs = {
        (n.pattern_id, n.skill): n.minimum
        for n in StaffingNeed.objects.filter(pattern__team_id=roster.team_id)
    }
    shortfalls = rules.staffing_shortfalls(counts=counts, needs=needs, days=days)
    problems = {
        uid: p
        for uid, shifts in per_user.items()
        if (p := rules.person_month_problems(shifts=shifts, days=days, standard_hours=standard))
    }
    return shortfalls, problems


def _duty_changed(company_id: int) -> None:
    """The company's published shifts changed: new DutyStamp (other processes' `on_duty` caches
    reload within selectors.DUTY_RECHECK_S) and this process's cache forgotten now and at commit."""
    from kefu.workforce.selectors import duty_cache_forget

    DutyStamp.objects.update_or_create(
        company_id=company_id, defaults={"stamp": secrets.token_hex(8), "changed_at": timezone.now()}
    )
    duty_cache_forget()
    transaction.on_commit(duty_cache_forget)


@transaction.atomic
def roster_publish(*, roster: Roster, by) -> Roster:
    """The team head publishes the roster (W1): refused while a shift is under its minimum staffing
    or a person's month breaks a labour-law limit. The team is notified."""
    roster = Roster.objects.select_for_update().get(pk=roster.pk)
    _roster_for_write(team=roster.team, month=roster.month, by=by)
    if roster.status == RosterStatus.PUBLISHED:
        raise Conflict(_("排班表已发布。"), code="published")
    shortfalls, problems = roster_check(roster)
    if shortfalls:
        day, _pid, skill, have, need = shortfalls[0]
        raise rules.RuleBroken(
            _("最少在岗人数不足：%(d)s 有 %(n)s 个班次缺人（如 %(skill)s 需 %(need)s 人，仅 %(have)s 人）。")
            % {"d": day.isoformat(), "n": len(shortfalls), "skill": skill, "need": need, "have": have},
            code="understaffed",
        )
    if problems:
        raise rules.RuleBroken(next(iter(problems.values()))[0], code="labour_law")
    roster.status = RosterStatus.PUBLISHED
    roster.published_at = timezone.now()
    roster.published_by = by
    roster.save(update_fields=["status", "published_at", "published_by"])
    roster.assignments.update(published=True)
    _duty_changed(roster.company_id)
    RosterChange.objects.create(roster=roster, by=by, kind="publish", detail=_("发布排班表"))
    for uid in set(roster.assignments.values_list("user_id", flat=True)):
        _notify_later(
            User(pk=uid, company_id=roster.company_id),
            kind="workforce.roster",
            title=_("%(m)s 排班表已发布") % {"m": roster.month.strftime("%Y-%m")},
            key=f"roster:{roster.pk}:published",
            url="/workforce/",
        )
    return roster


@transaction.atomic
def assignment_set(
    *, roster: Roster, user, day: date, pattern: ShiftPattern | None, by, reason: str = ""
) -> None:
    """Change one person's shift of one day by hand (W1, after the proposal); `pattern=None` makes it
    a rest day. The person's month must still keep the labour-law limits; the change is kept."""
    roster = Roster.objects.select_for_update().get(pk=roster.pk)
    _roster_for_write(team=roster.team, month=roster.month, by=by)
    if day.replace(day=1) != roster.month:
        raise DomainError(_("日期不在该排班表的月份内。"), field="day")
    if pattern is not None and pattern.team_id != roster.team_id:
        raise DomainError(_("该班次不属于本班组。"), field="pattern")
    profile = _profile(user)
    if profile.team_id != roster.team_id:
        raise DomainError(_("该员工不属于本班组。"), field="user")
    old = Assignment.objects.filter(roster=roster, user=user, day=day).select_related("pattern").first()
    if old:
        old.delete()
    if roster.status == RosterStatus.PUBLISHED:
        _duty_changed(roster.company_id)
    if pattern is not None:
        days, holidays, standard = month_facts(roster.company, roster.month)
        _write_assignments(
            roster, [(user.pk, day, pattern.pk)], {pattern.pk: pattern}, {user.pk: profile}, holidays
        )
        new = Assignment.objects.get(roster=roster, user=user, day=day)
        new.source = Assignment.Source.HAND
        new.save(update_fields=["source"])
        shifts = [
            _fact(a) for a in Assignment.objects.filter(roster=roster, user=user).select_related("pattern")
        ]
        problems = rules.person_month_problems(shifts=shifts, days=days, standard_hours=standard)
        if problems:
            raise rules.RuleBroken(problems[0], code="labour_law")
    RosterChange.objects.create(
        roster=roster,
        by=by,
        kind="edit",
        detail=(
            f"{user.display_name} {day.isoformat()}: {old.pattern.code if old else '休'} → "
            f"{pattern.code if pattern else '休'} {reason}"
        )[:400],
    )
    if roster.status == RosterStatus.PUBLISHED:
        _notify_later(
            user,
            kind="workforce.roster",
            title=_("您 %(d)s 的班次已调整") % {"d": day.isoformat()},
            key=f"roster:{roster.pk}:edit:{user.pk}:{day}:{timezone.now().timestamp()}",
            url="/workforce/",
        )


# --- W1 hand-over -------------------------------------------------------------------------------
def handover_record(
    *,
    leaver,
    successor,
    equipment_state: str,
    difficult_cases: str = "",
    work_orders: str = "",
    staff_changes: str = "",
) -> Handover:
    """The leaver writes the hand-over log (W1, 交接日志：设备情况、疑难问题、人员调班情况)."""
    if leaver.pk == successor.pk or successor.company_id != leaver.company_id or not successor.is_active:
        raise DomainError(_("接班人须是本公司的另一位在岗员工。"), field="successor")
    if not equipment_state.strip():
        raise DomainError(_("请填写设备情况。"), field="equipment_state")
    team_id = leaver.team_id or successor.team_id
    if team_id is None:
        raise DomainError(_("交班人不属于任何班组。"), field="leaver")
    row = Handover.objects.create(
        company_id=leaver.company_id,
        team_id=team_id,
        leaver=leaver,
        successor=successor,
        equipment_state=equipment_state,
        difficult_cases=difficult_cases,
        work_orders=work_orders[:300],
        staff_changes=staff_changes,
    )
    _notify_later(
        successor,
        kind="workforce.handover",
        title=_("%(u)s 请您确认交接班") % {"u": leaver.display_name},
        key=f"handover:{row.pk}",
        url="/workforce/handovers/",
    )
    return row


def _handover_move(handover: Handover, to: str) -> Handover:
    row = Handover.objects.select_for_update().get(pk=handover.pk)
    if to not in HANDOVER_MOVES[HandoverStatus(row.status)]:
        if to == HandoverStatus.SIGNED_OFF:
            raise rules.RuleBroken(
                _("交接班制度第四条：“接班人未到机台，交班人不得离台”——接班人确认后才能交班完成。"),
                code="handover_order",
            )
        raise Conflict(_("交接班当前状态不允许此操作。"), code="state")
    return row


@transaction.atomic
def handover_confirm(*, handover: Handover, by) -> Handover:
    """The successor confirms the hand-over (only the named successor)."""
    if by.pk != handover.successor_id:
        raise Forbidden(_("只有接班人可以确认。"), code="not_successor")
    row = _handover_move(handover, HandoverStatus.CONFIRMED)
    row.status, row.confirmed_at = HandoverStatus.CONFIRMED, timezone.now()
    row.save(update_fields=["status", "confirmed_at"])
    _notify_later(
        row.leaver,
        kind="workforce.handover",
        title=_("接班人已确认，可以交班"),
        key=f"handover:{row.pk}:ok",
        url="/workforce/handovers/",
    )
    return row


@transaction.atomic
def handover_sign_off(*, handover: Handover, by) -> Handover:
    """The leaver signs off — only after the successor confirmed (接班人未到机台，交班人不得离台)."""
    if by.pk != handover.leaver_id:
        raise Forbidden(_("只有交班人可以交班完成。"), code="not_leaver")
    row = _handover_move(handover, HandoverStatus.SIGNED_OFF)
    row.status, row.signed_off_at = HandoverStatus.SIGNED_OFF, timezone.now()
    row.save(update_fields=["status", "signed_off_at"])
    return row


# --- W2 leave -----------------------------------------------------------------------------------
def _shifts_between(user, first: date, last: date):
    return list(
        Assignment.objects.filter(user=user, published=True, day__gte=first, day__lte=last)
        .select_related("pattern")
        .order_by("start_at")
    )


@transaction.atomic
def leave_request(
    *,
    user,
    kind: str,
    first_day: date,
    last_day: date,
    reason: str,
    certificate=None,
    now: datetime | None = None,
) -> LeaveRequest:
    """Ask for leave (W2) — every rule of 请假制度 that can be checked at asking time is checked here."""
    now = now or timezone.now()
    rules.check_leave_dates(first_day, last_day)
    today = now.astimezone(_tz(user.company)).date()
    if not (today - timedelta(days=60) <= first_day <= today + timedelta(days=400)):
        raise DomainError(_("请假日期须在前 60 天到后 400 天之间。"), field="first_day", code="leave_range")
    if not reason.strip():
        raise DomainError(_("请填写事由。"), field="reason")
    company = user.company
    tz = _tz(company)
    shifts = _shifts_between(user, first_day, last_day)
    rules.check_no_leave_on_swapped_shift(_fact(a) for a in shifts)
    rules.check_leave_in_advance(
        kind=kind, requested_at=now, first_shift_start=shifts[0].start_at if shifts else None
    )
    local = now.astimezone(tz)
    rules.check_night_shift_leave(
        requested_local=local, night_days=[a.day for a in shifts if a.pattern.is_night]
    )
    cal = calendar_for_company(company, years={first_day.year, last_day.year})
    holidays = [
        d
        for d in (first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1))
        if is_public_holiday(cal, d)
    ]
    rules.check_holiday_leave(requested_day=local.date(), holidays=holidays)
    row = LeaveRequest.objects.create(
        company_id=user.company_id,
        user=user,
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        reason=reason[:300],
        requested_at=now,
    )
    if certificate:
        row.certificate.save(certificate.name, certificate, save=True)
    approver = None if rules.leave_needs_centre_head(row.days) else team_head(user.team_id)
    approver = (
        approver or User.objects.filter(company_id=user.company_id, role=Role.MANAGER, is_active=True).first()
    )
    _notify_later(
        approver,
        kind="workforce.leave",
        title=_("%(u)s 申请请假 %(n)s 天") % {"u": user.display_name, "n": row.days},
        key=f"leave:{row.pk}",
        url="/workforce/requests/",
    )
    return row


@transaction.atomic
def leave_attach_certificate(*, leave: LeaveRequest, by, certificate) -> LeaveRequest:
    if by.pk != leave.user_id:
        raise Forbidden(_("只能为自己的申请上传证明。"), code="not_owner")
    leave.certificate.save(certificate.name, certificate, save=True)
    return leave


@transaction.atomic
def leave_decide(*, leave: LeaveRequest, by, approve: bool, note: str = "") -> LeaveRequest:
    """Approve or refuse leave (W2): the approver the rule names (≤ 1 day team head, more centre head);
    a sick day needs its certificate. On approval the person's shifts of those days leave the roster."""
    row = LeaveRequest.objects.select_for_update().get(pk=leave.pk)
    assert_can_write(by, row.company_id)
    if by.pk == row.user_id:
        raise Forbidden(_("不能审批自己的申请。"), code="own_request")
    rules.check_leave_authority(
        days=row.days,
        is_team_head=is_team_head_of(by, row.user.team_id),
        is_centre_head=role_allows(by, Perm.LEAVE_APPROVE_LONG),
    )
    target = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    if target not in REQUEST_MOVES[RequestStatus(row.status)]:
        raise Conflict(_("该申请已处理。"), code="state")
    if approve:
        rules.check_sick_certificate(kind=row.kind, days=row.days, has_certificate=bool(row.certificate))
        for a in _shifts_between(row.user, row.first_day, row.last_day):
            RosterChange.objects.create(
                roster=a.roster,
                by=by,
                kind="leave",
                detail=f"{row.user.display_name} {a.day} {a.pattern.code} → {row.get_kind_display()}",
            )
            a.delete()
        _duty_changed(row.company_id)
    row.status, row.decided_by, row.decided_at, row.decision_note = target, by, timezone.now(), note[:300]
    row.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _notify_later(
        row.user,
        kind="workforce.leave",
        title=_("您的请假申请：%(s)s") % {"s": row.get_status_display()},
        key=f"leave:{row.pk}:decided",
        url="/workforce/requests/",
    )
    return row


# --- W3 swaps -----------------------------------------------------------------------------------
def _swap_days_in_month(user, month: date, exclude: int | None = None) -> list[date]:
    first, last = month.replace(day=1), month_days(month)[-1]
    qs = SwapRequest.objects.filter(
        Q(requester=user) | Q(colleague=user),
        status__in=[*OPEN_REQUEST, RequestStatus.APPROVED],
    ).filter(Q(give_day__range=(first, last)) | Q(take_day__range=(first, last)))
    if exclude:
        qs = qs.exclude(pk=exclude)
    return [d for s in qs for d in (s.give_day, s.take_day)]


def _check_swap(give: Assignment, take: Assignment, now: datetime, exclude: int | None = None) -> None:
    a, b = give.user, take.user
    pa, pb = _profile(a), _profile(b)
    rules.check_not_holiday_duty(_fact(give), _fact(take))
    rules.check_same_job_and_level(job_a=pa.job, level_a=pa.level, job_b=pb.job, level_b=pb.level)
    for who in (a, b):
        days = _swap_days_in_month(who, give.day, exclude)
        rules.check_swap_quota(swaps_this_month=len(days) // 2, who=who.display_name)
        rules.check_no_consecutive_swaps(day=give.day, other_swap_days=days, who=who.display_name)
        rules.check_no_consecutive_swaps(day=take.day, other_swap_days=days, who=who.display_name)
    # After the exchange: a takes `take`, b takes `give`; nobody works back to back (连班).
    window = (min(give.day, take.day) - timedelta(days=2), max(give.day, take.day) + timedelta(days=2))
    for who, gives, gets in ((a, give, take), (b, take, give)):
        around = [
            _fact(x)
            for x in Assignment.objects.filter(user=who, published=True, day__range=window)
            .exclude(pk=gives.pk)
            .select_related("pattern")
        ]
        rules.check_no_back_to_back(shifts=[*around, _fact(gets)], who=who.display_name)


@transaction.atomic
def swap_request(
    *, requester, give: Assignment, take: Assignment, reason: str, now: datetime | None = None
) -> SwapRequest:
    """Ask a colleague to swap (W3): `give` is the requester's shift, `take` the colleague's (还班)."""
    now = now or timezone.now()
    if give.user_id != requester.pk:
        raise Forbidden(_("只能换出自己的班次。"), code="not_owner")
    if take.user_id == requester.pk or take.company_id != give.company_id:
        raise DomainError(_("请选择本公司同事的班次。"), field="take")
    if not (give.published and take.published):
        raise DomainError(_("只能换已发布排班表中的班次。"), field="give")
    first_start = min(give.start_at, take.start_at)
    if first_start <= now:
        raise DomainError(_("班次已经开始，不能换班。"), field="give")
    if not reason.strip():
        raise DomainError(_("请填写事由。"), field="reason")
    _check_swap(give, take, now)
    row = SwapRequest.objects.create(
        company_id=give.company_id,
        requester=requester,
        colleague=take.user,
        give=give,
        take=take,
        give_day=give.day,
        take_day=take.day,
        reason=reason[:300],
        requested_at=now,
        expires_at=rules.swap_expiry(requested_at=now, first_shift_start=first_start),
    )
    _notify_later(
        take.user,
        kind="workforce.swap",
        title=_("%(u)s 请求与您换班") % {"u": requester.display_name},
        key=f"swap:{row.pk}",
        url="/workforce/requests/",
    )
    return row


def _swap_locked(swap: SwapRequest, now: datetime) -> SwapRequest:
    row = SwapRequest.objects.select_for_update().get(pk=swap.pk)
    if row.status in OPEN_REQUEST and now >= row.expires_at:
        row.status = RequestStatus.EXPIRED
        row.save(update_fields=["status"])
    return row


@transaction.atomic
def swap_answer(*, swap: SwapRequest, by, accept: bool, now: datetime | None = None) -> SwapRequest:
    """The colleague accepts or declines (W3)."""
    now = now or timezone.now()
    row = _swap_locked(swap, now)
    if by.pk != row.colleague_id:
        raise Forbidden(_("只有被请求的同事可以答复。"), code="not_colleague")
    if row.status != RequestStatus.PENDING_COLLEAGUE:
        if row.status == RequestStatus.EXPIRED:
            rules.check_swap_not_expired(now=now, expires_at=row.expires_at)
        raise Conflict(_("该申请已处理。"), code="state")
    row.status = RequestStatus.PENDING if accept else RequestStatus.REFUSED
    row.accepted_at = now if accept else None
    row.save(update_fields=["status", "accepted_at"])
    for team_id in {row.requester.team_id, row.colleague.team_id}:
        if accept:
            _notify_later(
                team_head(team_id),
                kind="workforce.swap",
                title=_("换班待您审批"),
                key=f"swap:{row.pk}:head",
                url="/workforce/requests/",
            )
    if not accept:
        _notify_later(
            row.requester,
            kind="workforce.swap",
            title=_("同事未同意换班"),
            key=f"swap:{row.pk}:no",
            url="/workforce/requests/",
        )
    return row


@transaction.atomic
def swap_decide(
    *, swap: SwapRequest, by, approve: bool, note: str = "", now: datetime | None = None
) -> SwapRequest:
    """A team head approves or refuses (换班制度二：换班必须经双方班长同意). When the heads of both teams
    have approved, the rules are checked again and the two shifts change hands on the roster."""
    now = now or timezone.now()
    row = _swap_locked(swap, now)
    assert_can_write(by, row.company_id)
    teams = {t for t in (row.requester.team_id, row.colleague.team_id) if t is not None}
    mine = [t for t in teams if is_team_head_of(by, t)]
    if not mine:
        raise Forbidden(
            _("换班制度第二条：“换班必须经双方班长同意”——您不是双方的班长。"), code="not_team_head"
        )
    if row.status != RequestStatus.PENDING:
        if row.status == RequestStatus.EXPIRED:
            rules.check_swap_not_expired(now=now, expires_at=row.expires_at)
        raise Conflict(_("该申请不在待审批状态。"), code="state")
    if not approve:
        row.status, row.decided_at, row.decision_note = RequestStatus.REFUSED, now, note[:300]
        row.save(update_fields=["status", "decided_at", "decision_note"])
    else:
        approvals = dict(row.approvals)
        for t in mine:
            approvals[str(t)] = by.pk
        row.approvals = approvals
        if rules.check_swap_approvers(teams_needed=teams, approvals=approvals):
            give, take = (
                Assignment.objects.select_for_update().select_related("pattern", "user").get(pk=pk)
                for pk in (row.give_id, row.take_id)
            )
            _check_swap(give, take, now, exclude=row.pk)
            give.user_id, take.user_id = row.colleague_id, row.requester_id
            give.source = take.source = Assignment.Source.SWAP
            give.save(update_fields=["user", "source"])
            take.save(update_fields=["user", "source"])
            _duty_changed(row.company_id)
            for a, who in ((give, row.colleague), (take, row.requester)):
                RosterChange.objects.create(
                    roster=a.roster,
                    by=by,
                    kind="swap",
                    detail=f"{a.day.isoformat()} {a.pattern.code} → {who.display_name}",
                )
            row.status, row.decided_at, row.decision_note = RequestStatus.APPROVED, now, note[:300]
        row.save(update_fields=["approvals", "status", "decided_at", "decision_note"])
    if row.status != RequestStatus.PENDING:
        for who in (row.requester, row.colleague):
            _notify_later(
                who,
                kind="workforce.swap",
                title=_("换班申请：%(s)s") % {"s": row.get_status_display()},
                key=f"swap:{row.pk}:decided",
                url="/workforce/requests/",
            )
    return row


def swaps_expire(now: datetime | None = None) -> int:
    """The sweep: open swap requests past their expiry become expired (unanswered requests expire)."""
    now = now or timezone.now()
    return SwapRequest.objects.filter(status__in=OPEN_REQUEST, expires_at__lte=now).update(
        status=RequestStatus.EXPIRED
    )


# --- W4 attendance ------------------------------------------------------------------------------
@transaction.atomic
def punch(
    *, user, kind: str, source_ip: str | None, at: datetime | None = None
) -> tuple[Punch, Violation | None]:
    """Clock in / out / away / back from the web, with the address it came from (W4). Clocking in 20
    minutes or more after the shift start, or coming back after 20 minutes or more away, records a
    violation (请假制度八)."""
    at = at or timezone.now()
    if kind not in Punch.Kind.values:
        raise DomainError(_("打卡类型无效。"), field="kind")
    shift = (
        Assignment.objects.filter(
            user=user, published=True, start_at__lte=at + timedelta(hours=2), end_at__gt=at
        )
        .order_by("start_at")
        .first()
    )
    row = Punch.objects.create(
        company_id=user.company_id, user=user, kind=kind, at=at, source_ip=source_ip, assignment=shift
    )
    violation = None
    if kind == Punch.Kind.IN and shift is not None:
        earlier = (
            Punch.objects.filter(user=user, assignment=shift, kind=Punch.Kind.IN).exclude(pk=row.pk).exists()
        )
        minutes = None if earlier else rules.late_minutes(shift_start=shift.start_at, punched_at=at)
        if minutes:
            violation = Violation.objects.create(
                company_id=user.company_id,
                user=user,
                kind=Violation.Kind.LATE,
                minutes=minutes,
                at=at,
                assignment=shift,
                rule=rules.LATE_RULE,
            )
    elif kind == Punch.Kind.BACK:
        left = Punch.objects.filter(user=user, kind=Punch.Kind.AWAY, at__lt=at).order_by("-at").first()
        minutes = rules.away_minutes(left_at=left.at, back_at=at) if left else None
        if minutes:
            violation = Violation.objects.create(
                company_id=user.company_id,
                user=user,
                kind=Violation.Kind.AWAY,
                minutes=minutes,
                at=at,
                assignment=shift,
                rule=rules.AWAY_RULE,
            )
    if violation:
        _notify_later(
            team_head(user.team_id),
            kind="workforce.violation",
            title=_("%(u)s %(k)s %(m)s 分钟")
            % {"u": user.display_name, "k": violation.get_kind_display(), "m": minutes},
            key=f"violation:{violation.pk}",
            url="/workforce/attendance/",
        )
    return row, violation


def attendance_sweep(now: datetime | None = None) -> int:
    """The sweep: a published shift that ended without a clock-in is recorded as absence (旷工), once."""
    now = now or timezone.now()
    missed = (
        Assignment.objects.filter(published=True, end_at__lte=now, end_at__gt=now - timedelta(days=3))
        .exclude(
            pk__in=Punch.objects.filter(kind=Punch.Kind.IN, assignment__isnull=False).values("assignment_id")
        )
        .exclude(pk__in=Violation.objects.filter(kind=Violation.Kind.ABSENT).values("assignment_id"))
    )
    made = 0
    for a in missed:
        try:
            with transaction.atomic():
                Violation.objects.create(
                    company_id=a.company_id,
                    user_id=a.user_id,
                    kind=Violation.Kind.ABSENT,
                    minutes=a.pattern.hours * 60,
                    at=a.start_at,
                    assignment=a,
                    rule=rules.ABSENT_RULE,
                )
                made += 1
        except IntegrityError:
            pass
    return made


# --- W5 penalties -------------------------------------------------------------------------------
PENALTY_PRESETS = {
    "complaint": dict(
        name="客户服务原因投诉（篇4：30 元，第二次翻倍，第三次开除）",
        amount=Decimal(30),
        repeat_factor=Decimal(2),
        dismissal_at=3,
        manager_factor=Decimal(0),
    ),
    "complaint-liable": dict(
        name="投诉扣罚（篇6：200 元/次，主管追责双倍）",
        amount=Decimal(200),
        repeat_factor=Decimal(2),
        dismissal_at=3,
        manager_factor=Decimal(2),
    ),
}


def penalty_rules_install(company) -> list[PenaltyRule]:
    """The seed's two penalty rules for a company (configurable afterwards in the admin)."""
    return [
        PenaltyRule.objects.get_or_create(company=company, code=code, defaults=values)[0]
        for code, values in PENALTY_PRESETS.items()
    ]


@transaction.atomic
def penalty_from_complaint(
    *,
    company_id: int,
    user_id: int,
    complaint_ref: str,
    rule_code: str = "complaint",
    at: datetime | None = None,
) -> Penalty | None:
    """W5: a complaint that stands against a person proposes a penalty by the company's rule
    (occurrence counted in the rule's window; dismissal review at the rule's count; the liable
    manager's share). Idempotent per (rule, complaint, person).

    This is the service the followups app's typed event (a complaint outcome "stands") will call:
    subscribe it in WorkforceConfig.ready() with a catch-up over complaints that stand.
    """
    at = at or timezone.now()
    rule = PenaltyRule.objects.filter(company_id=company_id, code=rule_code, is_active=True).first()
    if rule is None:
        return None
    existing = Penalty.objects.filter(rule=rule, source_ref=complaint_ref, user_id=user_id).first()
    if existing:
        return existing
    user = User.objects.get(pk=user_id, company_id=company_id)
    earlier = (
        Penalty.objects.filter(
            rule=rule, user_id=user_id, proposed_at__gte=at - timedelta(days=rule.window_days)
        )
        .exclude(status=PenaltyStatus.REJECTED)
        .count()
    )
    occurrence = earlier + 1
    amount, dismissal = rules.penalty_amount(
        amount=rule.amount,
        repeat_factor=rule.repeat_factor,
        occurrence=occurrence,
        dismissal_at=rule.dismissal_at,
    )
    manager = None
    if rule.manager_factor:
        manager = (
            team_head(user.team_id)
            or User.objects.filter(company_id=company_id, role=Role.SUPERVISOR, is_active=True).first()
        )
    row = Penalty.objects.create(
        company_id=company_id,
        user=user,
        rule=rule,
        source_ref=complaint_ref[:60],
        occurrence=occurrence,
        amount=amount,
        dismissal_review=dismissal,
        liable_manager=manager,
        manager_amount=amount * rule.manager_factor if manager else 0,
        proposed_at=at,
    )
    for m in User.objects.filter(company_id=company_id, role=Role.MANAGER, is_active=True):
        _notify_later(
            m,
            kind="workforce.penalty",
            title=_("考核扣罚待审批：%(u)s") % {"u": user.display_name},
            key=f"penalty:{row.pk}",
            url="/workforce/penalties/",
        )
    return row


@transaction.atomic
def penalty_decide(*, penalty: Penalty, by, approve: bool) -> Penalty:
    """The manager approves or rejects a proposed penalty (W5); it then stands on the person's record."""
    assert_perm(by, Perm.PENALTY_APPROVE)
    row = Penalty.objects.select_for_update().get(pk=penalty.pk)
    assert_can_write(by, row.company_id)
    if row.status != PenaltyStatus.PROPOSED:
        raise Conflict(_("该扣罚已审批。"), code="state")
    row.status = PenaltyStatus.APPROVED if approve else PenaltyStatus.REJECTED
    row.decided_by, row.decided_at = by, timezone.now()
    row.save(update_fields=["status", "decided_by", "decided_at"])
    _notify_later(
        row.user,
        kind="workforce.penalty",
        title=_("考核扣罚：%(s)s") % {"s": row.get_status_display()},
        key=f"penalty:{row.pk}:decided",
        url="/workforce/penalties/",
    )
    return row


def get_or_404(model, user, pk: int):
    from kefu.accounts.scoping import readable_company_ids

    row = model.objects.filter(pk=pk, company_id__in=readable_company_ids(user)).first()
    if row is None:
        raise NotFound(_("未找到。"))
    return row
