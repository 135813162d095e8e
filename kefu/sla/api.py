"""sla endpoints (issue 4 §6): commitment sets (read; clone and publish for administrators), the
calendar (is this a working day; add N working days) and calendar overrides (administrators).

Every error is a 4xx JSON body with a Chinese message (kefu.core.errors); all data is scoped to the
user's company (S2).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from kefu.accounts.models import Department
from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError, NotFound
from kefu.sla import engine, selectors, services
from kefu.sla.models import BusinessHours, CalendarOverride, PauseReason
from kefu.sla.schemas import (
    AddWorkingDaysOut,
    BusinessHoursIn,
    BusinessHoursOut,
    ClockOut,
    CloneIn,
    CommitmentSetDetailOut,
    CommitmentSetOut,
    DayOut,
    FromPresetIn,
    OverrideIn,
    OverrideOut,
    PauseIn,
)
from kefu.sla.states import clock_display
from kefu.sla.subjects import adapter_for_segment

router = Router(tags=["sla"])

MAX_WORKING_DAYS = 366


def fallback_warning(year: int) -> str:
    return _("%(y)s 年尚无官方节假日数据，暂按周一至周五为工作日计算，请管理员录入国务院通知。") % {"y": year}


def _company(request):
    return request.user.company


def _parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DomainError(_("日期格式应为 YYYY-MM-DD。"), field=field) from None


def _parse_start(value: str) -> datetime | date:
    """A date (YYYY-MM-DD) or an ISO datetime; naive datetimes are read in the company's zone."""
    if value and len(value) == 10:
        return _parse_date(value, "start")
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise DomainError(_("开始时间格式应为 YYYY-MM-DD 或 ISO 8601 时间。"), field="start") from None


@router.get("/sets", response=list[CommitmentSetOut], summary="服务承诺方案列表")
def list_sets(request, year: int | None = None):
    qs = selectors.commitment_sets_visible(request.user)
    if year is not None:
        qs = qs.filter(year=year)
    return list(qs)


@router.get("/sets/{int:set_id}", response=CommitmentSetDetailOut, summary="服务承诺方案及其承诺")
def get_set(request, set_id: int):
    row = selectors.commitment_set_get(request.user, set_id)
    out = CommitmentSetOut.from_orm(row).dict()
    out["commitments"] = list(row.commitments.all())
    return out


@router.post("/sets/from-preset", response={201: CommitmentSetOut}, summary="从预置方案创建（未发布）")
def create_from_preset(request, payload: FromPresetIn):
    assert_perm(request.user, Perm.MASTER_DATA)
    row = services.commitment_set_from_preset(
        company=_company(request), year=payload.year, preset=payload.preset, by=request.user
    )
    return Status(201, row)


@router.post(
    "/sets/{int:set_id}/clone", response={201: CommitmentSetOut}, summary="复制为新年度的新版本（未发布）"
)
def clone_set(request, set_id: int, payload: CloneIn):
    assert_perm(request.user, Perm.MASTER_DATA)
    source = selectors.commitment_set_get(request.user, set_id)
    return Status(201, services.commitment_set_clone(source=source, year=payload.year, by=request.user))


@router.post("/sets/{int:set_id}/publish", response=CommitmentSetOut, summary="发布方案")
def publish_set(request, set_id: int):
    assert_perm(request.user, Perm.MASTER_DATA)
    row = selectors.commitment_set_get(request.user, set_id)
    return services.commitment_set_publish(commitment_set=row, by=request.user)


@router.get("/calendar/day", response=DayOut, summary="某日是否工作日及其来源")
def calendar_day(request, date: str):
    d = _parse_date(date, "date")
    if not 2004 <= d.year <= 2100:
        raise DomainError(_("日期超出支持范围（2004–2100）。"), field="date")
    cal = selectors.calendar_for_company(_company(request), [d.year])
    info = cal.day_info(d)
    return DayOut(
        date=d,
        is_workday=info.is_workday,
        name=info.name,
        source=info.source,
        fallback=info.fallback,
        warning=fallback_warning(d.year) if info.fallback else None,
    )


@router.get(
    "/calendar/add-working-days",
    response=AddWorkingDaysOut,
    summary="加 N 个工作日（民法典第二百零一至二百零三条）",
)
def add_working_days(request, start: str, days: int, close_of_business: bool = False):
    if not 1 <= days <= MAX_WORKING_DAYS:
        raise DomainError(_("工作日数应在 1 到 %(n)s 之间。") % {"n": MAX_WORKING_DAYS}, field="days")
    company = _company(request)
    cal = selectors.calendar_for_company(company)
    parsed = _parse_start(start)
    if isinstance(parsed, datetime):
        start_dt = parsed if parsed.tzinfo else parsed.replace(tzinfo=cal.tz)
    else:
        # A bare date: the period starts during that day, which is therefore not counted (art. 201).
        start_dt = datetime.combine(parsed, time(12), tzinfo=cal.tz)
    if not 2004 <= start_dt.astimezone(cal.tz).year <= 2099:
        raise DomainError(_("日期超出支持范围（2004–2099）。"), field="start")
    bh = (
        selectors.business_hours_for(company, getattr(request.user, "department", None))
        if close_of_business
        else None
    )
    due = engine.due_at(start_dt, engine.Limit(days, engine.WORKING_DAYS), cal, bh)
    local_due = due.astimezone(cal.tz)
    last = (
        local_due.date()
        if bh is not None or local_due.time() != time(0)
        else date.fromordinal(local_due.toordinal() - 1)
    )
    years = cal.fallback_years(start_dt.astimezone(cal.tz).date(), last)
    return AddWorkingDaysOut(
        start=start,
        days=days,
        last_working_day=last,
        due_at=due,
        business_hours=f"{bh.opens:%H:%M}–{bh.closes:%H:%M}" if bh else None,
        fallback=bool(years),
        warning=fallback_warning(years[0]) if years else None,
    )


@router.get("/overrides", response=list[OverrideOut], summary="日历调整列表（主管、管理员）")
def list_overrides(request, year: int | None = None):
    from django.db.models import Q

    assert_perm(request.user, Perm.CALENDAR_EDIT)
    qs = CalendarOverride.objects.filter(Q(company__isnull=True) | Q(company_id=request.user.company_id))
    if year is not None:
        if not 1 <= year <= 9999:  # date__year outside the calendar fails in the database driver
            raise DomainError(_("年份应在 1 到 9999 之间。"), field="year")
        qs = qs.filter(date__year=year)
    return list(qs.order_by("date"))


@router.post("/overrides", response={201: OverrideOut}, summary="录入日历调整（主管、管理员）")
def create_override(request, payload: OverrideIn):
    row = services.calendar_override_create(
        by=request.user,
        day=payload.date,
        is_workday=payload.is_workday,
        name=payload.name,
        note=payload.note,
        all_companies=payload.all_companies,
    )
    return Status(201, row)


@router.delete("/overrides/{int:override_id}", response={204: None}, summary="删除日历调整（主管、管理员）")
def delete_override(request, override_id: int):
    services.calendar_override_delete(by=request.user, override_id=override_id)
    return Status(204, None)


@router.get("/business-hours", response=list[BusinessHoursOut], summary="营业时间（民法典第二百零三条）")
def list_business_hours(request):
    return list(BusinessHours.objects.filter(company_id=request.user.company_id).order_by("department_id"))


@router.put("/business-hours", response=BusinessHoursOut, summary="设置部门或公司默认营业时间（管理员）")
def set_business_hours(request, payload: BusinessHoursIn):
    assert_perm(request.user, Perm.MASTER_DATA)
    department = None
    if payload.department_id is not None:
        department = Department.objects.filter(
            pk=payload.department_id, company_id=request.user.company_id
        ).first()
        if department is None:
            raise NotFound(_("未找到该部门。"))
    return services.business_hours_set(
        by=request.user,
        company=_company(request),
        department=department,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
    )


# ---- clocks of a subject, e.g. a work order (issue 4 §6) -------------------------------------------------------
def clock_out(clock, now) -> dict:
    """A clock as the API and the pages show it (display state computed at `now`)."""
    return {
        "id": clock.pk,
        "subject_type": clock.subject_type,
        "subject_id": clock.subject_id,
        "commitment_id": clock.commitment_id,
        "spec_id": clock.commitment.spec_id,
        "name": clock.commitment.name,
        "clock_kind": clock.clock_kind,
        "commitment_version": clock.commitment_version,
        "limit_value": clock.limit_value,
        "limit_unit": clock.limit_unit,
        "state": clock.state,
        "display": clock_display(state=clock.state, due_at=clock.due_at, warn_at=clock.warn_at, now=now),
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "met_at": clock.met_at,
        "breached_at": clock.breached_at,
        "paused_at": clock.paused_at,
        "escalation_level": clock.escalation_level,
        "fallback_calendar": clock.fallback_calendar,
        "accepted_pause_reasons": list(clock.commitment.pause_reasons or []),
        "pauses": [
            {
                "started_at": p.started_at,
                "ended_at": p.ended_at,
                "reason": p.reason,
                "reason_label": str(PauseReason(p.reason).label)
                if p.reason in PauseReason.values
                else p.reason,
                "by": p.by.display_name,
                "ended_by": p.ended_by.display_name if p.ended_by_id else None,
                "note": p.note,
            }
            for p in clock.pauses.all()
        ],
    }


def _clock_id(clock_id: int) -> int:
    if not 1 <= clock_id <= 2**62:
        raise NotFound(_("未找到该计时，或您无权查看。"))
    return clock_id


@router.get("/{segment}/{int:subject_id}/clocks", response=list[ClockOut], summary="对象（如工单）的承诺计时")
def subject_clocks(request, segment: str, subject_id: int):
    """The clocks of one subject, e.g. GET /api/v1/sla/tickets/{id}/clocks for a work order: the
    segment is the subject type's (kefu.sla.subjects), visibility is the subject's own (S2)."""
    adapter = adapter_for_segment(segment)
    if adapter is None or not 1 <= subject_id <= 2**62:
        raise NotFound(_("未找到该计时，或您无权查看。"))
    now = timezone.now()
    return [
        clock_out(c, now)
        for c in selectors.subject_clocks_for_user(request.user, adapter.subject_type, subject_id)
    ]


@router.post("/clocks/{int:clock_id}/pause", response=ClockOut, summary="暂停计时（须为承诺认可的原因）")
def pause_clock(request, clock_id: int, payload: PauseIn):
    clock = selectors.clock_for_user(request.user, _clock_id(clock_id))
    if len(payload.note) > 200:
        raise DomainError(_("说明不能超过 200 字。"), field="note")
    services.clock_pause(
        clock=clock, by=request.user, reason=payload.reason, at=timezone.now(), note=payload.note.strip()
    )
    return clock_out(selectors.clock_for_user(request.user, clock_id), timezone.now())


@router.post("/clocks/{int:clock_id}/resume", response=ClockOut, summary="恢复计时")
def resume_clock(request, clock_id: int):
    clock = selectors.clock_for_user(request.user, _clock_id(clock_id))
    services.clock_resume(clock=clock, by=request.user, at=timezone.now())
    return clock_out(selectors.clock_for_user(request.user, clock_id), timezone.now())
