"""Writes of the sla app: commitment sets (C17), calendar overrides (SPEC Time rules), business
hours, and the generic clock lifecycle (start, pause, resume, stop) that the tickets app calls."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import audit_record
from kefu.accounts.models import Company
from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_can_write, assert_perm
from kefu.core.errors import Conflict, DomainError, NotFound
from kefu.sla import engine
from kefu.sla.calendar import WorkCalendar
from kefu.sla.models import (
    BusinessHours,
    CalendarOverride,
    CalendarYear,
    Clock,
    ClockKind,
    ClockPause,
    Commitment,
    CommitmentSet,
    PauseReason,
)
from kefu.sla.presets import PRESETS
from kefu.sla.selectors import calendar_for_company
from kefu.sla.states import FINAL_STATES, ClockState, assert_transition

logger = logging.getLogger("kefu.sla")

# Audit action names of this app (the auditor filters by prefix).
SET_CREATED = "sla.set_created"
SET_CLONED = "sla.set_cloned"
SET_PUBLISHED = "sla.set_published"
OVERRIDE_CREATED = "sla.calendar_override_created"
OVERRIDE_DELETED = "sla.calendar_override_deleted"
CALENDAR_YEAR_ENTERED = "sla.calendar_year_entered"
BUSINESS_HOURS_SET = "sla.business_hours_set"
CLOCK_PAUSED = "sla.clock_paused"
CLOCK_RESUMED = "sla.clock_resumed"

#: Minutes after the breach before a breached clock goes on to the manager level when the
#: commitment leaves `escalate_after` empty (P9). Settings may override it.
DEFAULT_ESCALATE_AFTER_MINUTES = 120


def escalate_after_minutes(commitment: Commitment) -> int:
    """The commitment's own escalation delay, else the installation default (P9)."""
    if commitment.escalate_after is not None:
        return commitment.escalate_after
    return int(getattr(settings, "KEFU_SLA_ESCALATE_AFTER_MINUTES", DEFAULT_ESCALATE_AFTER_MINUTES))


_COPY_FIELDS = (
    "spec_id",
    "code",
    "name",
    "ticket_kind",
    "ticket_sub_kind",
    "customer_category",
    "severity",
    "channel",
    "clock_kind",
    "start_event",
    "stop_event",
    "limit_value",
    "limit_unit",
    "ends_at_close_of_business",
    "pause_reasons",
    "warn_at_percent",
    "escalate_after",
    "source",
    "note",
    "sort_order",
)


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise DomainError(_("年度无效。"), field="year")


def commitment_set_from_preset(*, company, year: int, preset: str, by) -> CommitmentSet:
    """Create an unpublished commitment set of `company` for `year` from a preset (C17)."""
    spec = PRESETS.get(preset)
    if spec is None:
        raise DomainError(_("未知的预置方案：%(p)s") % {"p": preset}, field="preset")
    _check_year(year)
    if by is not None:
        assert_perm(by, Perm.MASTER_DATA)
        assert_can_write(by, company.pk)
    with transaction.atomic():
        Company.objects.select_for_update().filter(pk=company.pk).first()
        last = CommitmentSet.objects.filter(company=company, year=year).aggregate(v=Max("version"))["v"]
        version = (last or 0) + 1
        row = CommitmentSet.objects.create(
            company=company, year=year, name=spec.name, version=version, preset_code=spec.code, created_by=by
        )
        Commitment.objects.bulk_create(
            [
                Commitment(
                    commitment_set=row,
                    sort_order=i * 10,
                    pause_reasons=[str(r) for r in c.pause_reasons],
                    **{
                        k: getattr(c, k)
                        for k in _COPY_FIELDS
                        if k not in ("pause_reasons", "sort_order", "warn_at_percent", "escalate_after")
                    },
                )
                for i, c in enumerate(spec.commitments)
            ]
        )
        audit_record(action=SET_CREATED, obj=row, actor=by, detail={"preset": preset, "year": year})
    return row


def commitment_set_clone(*, source: CommitmentSet, year: int, by) -> CommitmentSet:
    """Copy a set into a new, unpublished version for `year` (administrators then edit it, C17)."""
    _check_year(year)
    assert_perm(by, Perm.MASTER_DATA)
    assert_can_write(by, source.company_id)
    with transaction.atomic():
        # Lock the company row: two administrators cloning at once get consecutive versions.
        Company.objects.select_for_update().filter(pk=source.company_id).first()
        last = CommitmentSet.objects.filter(company_id=source.company_id, year=year).aggregate(
            v=Max("version")
        )["v"]
        version = (last or 0) + 1
        row = CommitmentSet.objects.create(
            company_id=source.company_id,
            year=year,
            name=source.name,
            version=version,
            cloned_from=source,
            preset_code=source.preset_code,
            created_by=by,
        )
        Commitment.objects.bulk_create(
            [
                Commitment(commitment_set=row, **{k: getattr(c, k) for k in _COPY_FIELDS})
                for c in source.commitments.all()
            ]
        )
        audit_record(
            action=SET_CLONED, obj=row, actor=by, detail={"from": source.pk, "year": year, "version": version}
        )
    return row


def commitment_set_publish(
    *, commitment_set: CommitmentSet, by=None, at: datetime | None = None
) -> CommitmentSet:
    """Publish a set (C17): from then on it is in force for work orders received in its year, and
    it can no longer be edited (changes go into a new cloned version).

    `by=None` is an operator's command (`kefu sla-preset --publish`, the demo): no user to check
    permissions against; the audit row names the command channel and no publisher is recorded."""
    if by is not None:
        assert_perm(by, Perm.MASTER_DATA)
        assert_can_write(by, commitment_set.company_id)
    with transaction.atomic():
        row = CommitmentSet.objects.select_for_update().get(pk=commitment_set.pk)
        if row.is_published:
            raise Conflict(_("该方案已发布。"), code="already_published")
        if not row.commitments.exists():
            raise DomainError(_("方案中没有服务承诺，不能发布。"))
        row.is_published = True
        row.published_at = at or timezone.now()
        row.published_by = by
        row.save(update_fields=["is_published", "published_at", "published_by"])
        audit_record(
            action=SET_PUBLISHED, obj=row, actor=by, detail={"version": row.version, "year": row.year}
        )
    return row


def calendar_override_create(
    *, by, day: date, is_workday: bool, name: str = "", note: str = "", all_companies: bool = False
) -> CalendarOverride:
    """Enter one day (e.g. from next year's State Council notice) for the user's company, or for
    all companies (superusers only). Audited (SPEC Time rules)."""
    assert_perm(by, Perm.CALENDAR_EDIT)
    if all_companies and not by.is_superuser:
        raise DomainError(_("只有超级管理员可以录入适用于所有公司的日历。"), code="permission_denied")
    company_id = None if all_companies else by.company_id
    if company_id is None and not all_companies:
        raise DomainError(_("您的账号不属于任何公司。"))
    if not 2004 <= day.year <= 2100:
        raise DomainError(_("日期超出支持范围（2004–2100）。"), field="date")
    if CalendarOverride.objects.filter(company_id=company_id, date=day).exists():
        raise Conflict(_("该日期已有调整记录，请先删除。"), code="exists", field="date")
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = CalendarOverride.objects.create(
                    company_id=company_id,
                    date=day,
                    is_workday=is_workday,
                    name=name.strip()[:60],
                    note=note.strip()[:200],
                    created_by=by,
                )
        except IntegrityError:  # a concurrent entry of the same day
            raise Conflict(_("该日期已有调整记录，请先删除。"), code="exists", field="date") from None
        audit_record(
            action=OVERRIDE_CREATED,
            obj=row,
            actor=by,
            company=row.company or by.company,
            detail={
                "date": day.isoformat(),
                "is_workday": is_workday,
                "name": row.name,
                "all_companies": all_companies,
            },
        )
    return row


def calendar_override_delete(*, by, override_id: int) -> None:
    """Remove an override (the official or fallback answer applies again). Audited."""
    assert_perm(by, Perm.CALENDAR_EDIT)
    row = CalendarOverride.objects.filter(pk=override_id).first()
    if row is None or (row.company_id is not None and row.company_id != by.company_id):
        raise NotFound(_("未找到该日历调整。"))
    if row.company_id is None and not by.is_superuser:
        raise DomainError(_("只有超级管理员可以删除适用于所有公司的日历。"), code="permission_denied")
    detail = {"date": row.date.isoformat(), "is_workday": row.is_workday, "name": row.name}
    with transaction.atomic():
        audit_record(
            action=OVERRIDE_DELETED,
            actor=by,
            company=row.company or by.company,
            object_type="sla.calendaroverride",
            object_id=str(row.pk),
            object_repr=str(row),
            detail=detail,
        )
        row.delete()


def calendar_year_enter(*, by, year: int, notice: str = "") -> CalendarYear:
    """Declare that a year's official calendar has been entered in full (as overrides) for the
    user's company: its days stop showing the fallback warning."""
    assert_perm(by, Perm.CALENDAR_EDIT)
    _check_year(year)
    row, created = CalendarYear.objects.get_or_create(
        company_id=by.company_id, year=year, defaults={"notice": notice[:200], "created_by": by}
    )
    if not created:
        raise Conflict(_("该年度已标记为已录入。"), code="exists")
    audit_record(
        action=CALENDAR_YEAR_ENTERED,
        obj=row,
        actor=by,
        company=by.company,
        detail={"year": year, "notice": notice},
    )
    return row


def business_hours_set(*, by, company, department=None, opens_at: time, closes_at: time) -> BusinessHours:
    """Set a department's (or the company's default) business hours (Civil Code art. 203)."""
    assert_perm(by, Perm.MASTER_DATA)
    assert_can_write(by, company.pk)
    if not opens_at < closes_at:
        raise DomainError(_("营业开始时间必须早于结束时间。"), field="closes_at")
    if department is not None and department.company_id != company.pk:
        raise DomainError(_("部门不属于该公司。"), field="department")
    with transaction.atomic():
        row, _created = BusinessHours.objects.update_or_create(
            company=company, department=department, defaults={"opens_at": opens_at, "closes_at": closes_at}
        )
        audit_record(
            action=BUSINESS_HOURS_SET,
            obj=row,
            actor=by,
            company=company,
            detail={
                "department": getattr(department, "pk", None),
                "opens": str(opens_at),
                "closes": str(closes_at),
            },
        )
    return row


# ---- clocks (generic subject; the tickets app attaches them to work orders) -------------------
def _recompute(clock: Clock, pauses: list[ClockPause], cal: WorkCalendar | None = None) -> None:
    """Due and warning times from the snapshot limit, the company calendar and closed pauses.
    `cal` is the company calendar when the caller already has it (one load for many clocks)."""
    start = clock.started_at
    limit = clock.limit
    bh = clock.business_hours
    if clock.clock_kind == ClockKind.NOTICE_LEAD:
        # C1 counts backwards: started_at is the event the notice must precede (the planned start
        # of an outage); due = started_at − limit, warned when the warn share of the lead is left.
        clock.due_at = engine.lead_deadline(start, limit)
        lead = start - clock.due_at
        clock.warn_at = clock.due_at - lead * (100 - clock.commitment.warn_at_percent) / 100
        clock.escalate_at = clock.due_at + timedelta(minutes=escalate_after_minutes(clock.commitment))
        clock.fallback_calendar = False
        return
    # Wall-clock limits never consult the calendar: skip loading overrides for them.
    if cal is None:
        cal = calendar_for_company(clock.company, () if limit.is_wall_clock else None)
    ps = [p.as_engine() for p in pauses if p.ended_at is not None]
    clock.due_at = engine.due_at(start, limit, cal, bh, ps)
    clock.warn_at = engine.warn_at(start, limit, cal, clock.commitment.warn_at_percent, bh, ps)
    clock.escalate_at = clock.due_at + timedelta(minutes=escalate_after_minutes(clock.commitment))
    clock.fallback_calendar = (not limit.is_wall_clock) and cal.has_fallback(
        start.astimezone(cal.tz).date(), clock.due_at.astimezone(cal.tz).date()
    )
    if clock.fallback_calendar:
        logger.warning("clock %s counts on a fallback calendar (no official data)", clock.pk or "(new)")


def clock_start(
    *,
    company,
    subject_type: str,
    subject_id: str,
    commitment: Commitment,
    started_at: datetime,
    department=None,
) -> Clock:
    """Start the clock of `commitment` on a subject (a work order) at `started_at`.

    The limit is snapshot on the clock; business hours are the department's when the commitment
    ends at the close of business. Idempotent: an open clock of the same commitment is returned."""
    if not commitment.is_timed:
        raise DomainError(_("该承诺不计时（%(u)s）。") % {"u": commitment.get_limit_unit_display()})
    if commitment.commitment_set.company_id != getattr(company, "pk", company):
        raise DomainError(_("服务承诺不属于该公司。"))
    from kefu.sla.selectors import business_hours_for

    with transaction.atomic():
        existing = Clock.objects.filter(
            subject_type=subject_type,
            subject_id=str(subject_id),
            commitment=commitment,
            state__in=[ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED],
        ).first()
        if existing is not None:
            return existing
        bh = business_hours_for(company, department) if commitment.ends_at_close_of_business else None
        clock = _new_clock(
            company=company,
            subject_type=subject_type,
            subject_id=subject_id,
            commitment=commitment,
            version=commitment.commitment_set.version,
            started_at=started_at,
            bh=bh,
        )
        clock.save()
    return clock


def _new_clock(
    *,
    company,
    subject_type: str,
    subject_id: str,
    commitment: Commitment,
    version: int,
    started_at: datetime,
    bh: engine.BusinessHours | None,
    cal: WorkCalendar | None = None,
) -> Clock:
    """An unsaved running clock with the limit snapshot and its due, warning and escalation times."""
    clock = Clock(
        company=company,
        subject_type=subject_type,
        subject_id=str(subject_id),
        commitment=commitment,
        commitment_version=version,
        clock_kind=commitment.clock_kind,
        limit_value=commitment.limit_value,
        limit_unit=commitment.limit_unit,
        business_opens_at=bh.opens if bh else None,
        business_closes_at=bh.closes if bh else None,
        started_at=started_at,
    )
    _recompute(clock, [], cal)
    return clock


def clock_pause(*, clock: Clock, by, reason: str, at: datetime, note: str = "") -> Clock:
    """Pause a running clock for a reason its commitment accepts; who, when, why recorded."""
    assert_perm(by, Perm.SLA_PAUSE)
    return clock_pause_on_fact(clock=clock, by=by, reason=reason, at=at, note=note)


def clock_pause_on_fact(*, clock: Clock, by, reason: str, at: datetime, note: str = "") -> Clock:
    """Pause a running clock because its subject's app recorded a fact that pauses it (a work order
    put on hold for an accepted reason, C4 "除和客户另有约定外"): that app's own rules decided who
    may record the fact; the commitment's accepted reasons still decide whether this clock pauses.
    Who, when and why are recorded (ClockPause) and audited like a pause through the API."""
    assert_can_write(by, clock.company_id)
    if reason not in PauseReason.values or reason not in (clock.commitment.pause_reasons or []):
        raise DomainError(_("该承诺不接受此暂停原因。"), field="reason")
    with transaction.atomic():
        c = Clock.objects.select_for_update().get(pk=clock.pk)
        if c.state != ClockState.RUNNING:
            raise Conflict(_("只有计时中的计时可以暂停。"), code="bad_state")
        if at < c.started_at:
            raise DomainError(_("暂停时间不能早于开始时间。"), field="at")
        if c.due_at is not None and at > c.due_at:
            raise Conflict(_("计时已超时，不能再暂停。"), code="breached")
        assert_transition(c.state, ClockState.PAUSED)
        ClockPause.objects.create(clock=c, started_at=at, reason=reason, by=by, note=note[:200])
        c.state, c.paused_at, c.due_at, c.warn_at, c.escalate_at = ClockState.PAUSED, at, None, None, None
        c.save(update_fields=["state", "paused_at", "due_at", "warn_at", "escalate_at"])
        audit_record(
            action=CLOCK_PAUSED,
            obj=c,
            actor=by,
            detail={"reason": reason, "at": at.isoformat(), "note": note},
        )
    return c


def clock_resume(*, clock: Clock, by, at: datetime) -> Clock:
    """Resume a paused clock: the due time moves by the pause's working length (engine)."""
    assert_perm(by, Perm.SLA_PAUSE)
    return clock_resume_on_fact(clock=clock, by=by, at=at)


def clock_resume_on_fact(*, clock: Clock, by, at: datetime) -> Clock:
    """Resume a paused clock because its subject's app recorded the fact that ends the pause (a
    held work order taken up again); audited like a resume through the API."""
    assert_can_write(by, clock.company_id)
    with transaction.atomic():
        c = Clock.objects.select_for_update().select_related("commitment", "company").get(pk=clock.pk)
        if c.state != ClockState.PAUSED:
            raise Conflict(_("该计时未暂停。"), code="bad_state")
        pause = c.pauses.filter(ended_at__isnull=True).first()
        if pause is None or at < pause.started_at:
            raise DomainError(_("恢复时间不能早于暂停时间。"), field="at")
        assert_transition(c.state, ClockState.RUNNING)
        pause.ended_at, pause.ended_by = at, by
        pause.save(update_fields=["ended_at", "ended_by"])
        pauses = list(c.pauses.all())
        _recompute(c, pauses)
        cal = calendar_for_company(c.company, () if c.limit.is_wall_clock else None)
        kind = c.limit_unit
        c.paused_total = engine.elapsed(c.started_at, at, kind, cal, (), c.business_hours) - engine.elapsed(
            c.started_at, at, kind, cal, [p.as_engine() for p in pauses], c.business_hours
        )
        c.state, c.paused_at = ClockState.RUNNING, None
        c.save(
            update_fields=[
                "state",
                "paused_at",
                "due_at",
                "warn_at",
                "escalate_at",
                "paused_total",
                "fallback_calendar",
            ]
        )
        audit_record(
            action=CLOCK_RESUMED,
            obj=c,
            actor=by,
            detail={"at": at.isoformat(), "due_at": c.due_at.isoformat()},
        )
    return c


def clock_stop(*, clock: Clock, at: datetime) -> Clock:
    """The stop event happened at `at`: met, or met after breach. An open pause ends."""
    with transaction.atomic():
        c = Clock.objects.select_for_update().get(pk=clock.pk)
        if c.state in FINAL_STATES:
            raise Conflict(_("计时已停止。"), code="bad_state")
        if at < c.started_at and c.clock_kind != ClockKind.NOTICE_LEAD:  # a notice precedes its event
            raise DomainError(_("停止时间不能早于开始时间。"), field="at")
        for p in c.pauses.filter(ended_at__isnull=True):
            p.ended_at = max(at, p.started_at)
            p.save(update_fields=["ended_at"])
        _mark_met(c, at)
        c.save(update_fields=["state", "met_at", "paused_at", "breached_at"])
    return c


def _mark_met(c: Clock, at: datetime) -> None:
    """The stop event at `at` on an open clock: met, or met after breach when it came after the
    due time (a running clock past due is first marked breached at its due time)."""
    if c.state == ClockState.BREACHED or (
        c.state == ClockState.RUNNING and c.due_at is not None and at > c.due_at
    ):
        new = ClockState.MET_AFTER_BREACH
        if c.state == ClockState.RUNNING:
            c.breached_at = c.due_at
            c.state = ClockState.BREACHED
    else:
        new = ClockState.MET
    assert_transition(c.state, new)
    c.state, c.met_at, c.paused_at = new, at, None


def clock_cancel(*, clock: Clock, at: datetime) -> Clock:
    """The work order was reclassified or cancelled: the clock is not measured any more
    . An open pause ends; a final clock cannot be cancelled."""
    with transaction.atomic():
        c = Clock.objects.select_for_update().get(pk=clock.pk)
        assert_transition(c.state, ClockState.CANCELLED)
        for p in c.pauses.filter(ended_at__isnull=True):
            p.ended_at = max(at, p.started_at)
            p.save(update_fields=["ended_at"])
        c.state, c.cancelled_at, c.paused_at = ClockState.CANCELLED, at, None
        c.save(update_fields=["state", "cancelled_at", "paused_at"])
    return c


def clock_mark_breached(*, clock_id: int, now: datetime) -> bool:
    """Mark one running clock breached if it is past due (the worker's claim: a conditional
    UPDATE, so two workers never both win). Returns True when this call made the change."""
    return bool(
        Clock.objects.filter(pk=clock_id, state=ClockState.RUNNING, due_at__lt=now).update(
            state=ClockState.BREACHED, breached_at=now
        )
    )


def clocks_on_event(
    *,
    company,
    subject_type: str,
    subject_id: str,
    event: str,
    at: datetime,
    commitment_set: CommitmentSet | None,
    attrs: dict[str, str] | None = None,
    department=None,
) -> tuple[list[Clock], list[Clock]]:
    """One call for the app that owns the subject (the tickets app on create and on each
    transition): stop the subject's open clocks whose stop event is `event`, then start the
    clocks of the commitments in `commitment_set` (the set in force when the work order was
    received) that apply to `attrs` (kind, sub_kind, customer_category, severity, channel) and
    start on `event`. Returns (started, stopped)."""
    from kefu.sla.selectors import commitments_matching

    stopped = []
    open_clocks = Clock.objects.filter(
        subject_type=subject_type,
        subject_id=str(subject_id),
        state__in=[ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED],
        commitment__stop_event=event,
    )
    for clock in open_clocks:
        stopped.append(clock_stop(clock=clock, at=at))
    started = []
    if commitment_set is not None:
        for commitment in commitments_matching(commitment_set, start_event=event, **(attrs or {})):
            started.append(
                clock_start(
                    company=company,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    commitment=commitment,
                    started_at=at,
                    department=department,
                )
            )
    return started, stopped


def clocks_start_new_subject(
    *,
    company,
    subject_type: str,
    subject_id: str,
    commitment_set: CommitmentSet,
    events: Sequence[tuple[str, datetime]],
    attrs: dict[str, str] | None = None,
    department=None,
) -> list[Clock]:
    """The clocks of a subject that has none yet (a new work order), for its events in order —
    the same clocks as `clocks_on_event` called once per event — computed in memory with one
    calendar load and written in one INSERT (the work-order create path)."""
    from kefu.sla.selectors import business_hours_for, commitments_matching

    made: list[Clock] = []
    open_by_commitment: dict[int, Clock] = {}
    cal: WorkCalendar | None = None
    hours: list[engine.BusinessHours | None] = []
    for event, at in events:
        for cid, clock in list(open_by_commitment.items()):
            if clock.commitment.stop_event == event:
                _mark_met(clock, at)
                del open_by_commitment[cid]
        for commitment in commitments_matching(commitment_set, start_event=event, **(attrs or {})):
            if commitment.pk in open_by_commitment:
                continue
            if cal is None:
                cal = calendar_for_company(company)
            if commitment.ends_at_close_of_business and not hours:
                hours.append(business_hours_for(company, department))
            clock = _new_clock(
                company=company,
                subject_type=subject_type,
                subject_id=subject_id,
                commitment=commitment,
                version=commitment_set.version,
                started_at=at,
                bh=hours[0] if commitment.ends_at_close_of_business else None,
                cal=cal,
            )
            open_by_commitment[commitment.pk] = clock
            made.append(clock)
    Clock.objects.bulk_create(made)
    return made


COMMITMENT_UPDATED = "sla.commitment_updated"

#: What an administrator may change on a commitment of an unpublished set (C17).
EDITABLE_FIELDS = (
    "name",
    "ticket_kind",
    "ticket_sub_kind",
    "customer_category",
    "severity",
    "channel",
    "limit_value",
    "limit_unit",
    "ends_at_close_of_business",
    "pause_reasons",
    "warn_at_percent",
    "escalate_after",
    "note",
)


def commitment_update(*, by, commitment: Commitment, changes: dict) -> Commitment:
    """Change the limits and filters of a commitment of an unpublished set (C17). Published sets
    are read-only: clone them into a new version first. Validated like the model; audited."""
    from django.core.exceptions import ValidationError

    assert_perm(by, Perm.MASTER_DATA)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("不能修改这些字段：%(f)s") % {"f": "、".join(sorted(unknown))})
    with transaction.atomic():
        the_set = CommitmentSet.objects.select_for_update().get(pk=commitment.commitment_set_id)
        assert_can_write(by, the_set.company_id)
        if the_set.is_published:
            raise Conflict(_("已发布的方案不能修改，请先复制为新版本。"), code="published")
        row = Commitment.objects.select_for_update().get(pk=commitment.pk)
        before = {k: getattr(row, k) for k in changes}
        for k, v in changes.items():
            setattr(row, k, v)
        if row.limit_value < 1:
            raise DomainError(_("时限必须大于 0。"), field="limit_value")
        if not 1 <= row.warn_at_percent <= 100:
            raise DomainError(_("预警比例应在 1 到 100 之间。"), field="warn_at_percent")
        try:
            row.clean()
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages)) from None
        row.save(update_fields=list(changes))
        audit_record(
            action=COMMITMENT_UPDATED,
            obj=row,
            actor=by,
            company=the_set.company,
            detail={
                "set": the_set.pk,
                "changes": {
                    k: [str(before[k]), str(getattr(row, k))] for k in changes if before[k] != getattr(row, k)
                },
            },
        )
    return row


# ---- calendar: ranges, edits and the State Council notice (SPEC Time rules) --------------------
OVERRIDE_UPDATED = "sla.calendar_override_updated"
MAX_RANGE_DAYS = 31


def calendar_overrides_enter(
    *, by, days: Sequence[tuple[date, bool, str]], note: str = ""
) -> list[CalendarOverride]:
    """Enter several days at once for the user's company — a range of holidays, or every day read
    from a State Council notice — all or nothing (Perm.CALENDAR_EDIT, audited per day).

    A day that is already entered with the same meaning is kept as it is (re-entering a confirmed
    notice changes nothing); a day entered differently is refused, named in the message."""
    assert_perm(by, Perm.CALENDAR_EDIT)
    if by.company_id is None:
        raise DomainError(_("您的账号不属于任何公司。"))
    if not days:
        raise DomainError(_("没有要录入的日期。"))
    wanted = {d: (w, n) for d, w, n in days}
    existing = {
        r.date: r for r in CalendarOverride.objects.filter(company_id=by.company_id, date__in=list(wanted))
    }
    clashes = sorted(d for d, r in existing.items() if r.is_workday != wanted[d][0])
    if clashes:
        raise Conflict(
            _("以下日期已有不同的调整，请先修改或删除：%(d)s")
            % {"d": "、".join(d.isoformat() for d in clashes[:10])},
            code="exists",
        )
    created = []
    with transaction.atomic():
        for day in sorted(wanted):
            if day in existing:
                continue
            is_workday, name = wanted[day]
            created.append(
                calendar_override_create(by=by, day=day, is_workday=is_workday, name=name, note=note)
            )
    return created


def calendar_range_days(
    *, first: date, last: date, is_workday: bool, name: str
) -> list[tuple[date, bool, str]]:
    """The days of a range as the form enters them (at most a month; pure)."""
    if last < first:
        raise DomainError(_("结束日期早于开始日期。"), field="last")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise DomainError(_("一次最多录入 %(n)d 天。") % {"n": MAX_RANGE_DAYS}, field="last")
    return [(first + timedelta(days=i), is_workday, name) for i in range((last - first).days + 1)]


def calendar_override_update(
    *, by, override_id: int, is_workday: bool, name: str, note: str
) -> CalendarOverride:
    """Change one of the company's calendar days (holiday ↔ make-up working day, name, note). Audited."""
    assert_perm(by, Perm.CALENDAR_EDIT)
    with transaction.atomic():
        row = (
            CalendarOverride.objects.select_for_update()
            .filter(pk=override_id, company_id=by.company_id)
            .first()
        )
        if row is None:
            raise NotFound(_("未找到该日历调整。"))
        before = {"is_workday": row.is_workday, "name": row.name, "note": row.note}
        row.is_workday = is_workday
        row.name = name.strip()[:60]
        row.note = note.strip()[:200]
        row.save(update_fields=["is_workday", "name", "note"])
        audit_record(
            action=OVERRIDE_UPDATED,
            obj=row,
            actor=by,
            company=by.company,
            detail={
                "date": row.date.isoformat(),
                "before": before,
                "after": {"is_workday": row.is_workday, "name": row.name, "note": row.note},
            },
        )
    return row


def clocks_start_many(
    *, company, subject_type: str, starts: Sequence[tuple[str, Commitment, datetime]]
) -> int:
    """Start many clocks at once — `(subject_id, commitment, started_at)` each — for subjects made in
    the same transaction (the daily creation of 20,000 return visits, docs/followups.md): one
    multi-row INSERT instead of a look-up and an insert per clock. A subject that already has an open
    clock of the commitment keeps it (the partial unique constraint; ON CONFLICT DO NOTHING).
    Returns the number of clocks asked for."""
    from kefu.sla.selectors import business_hours_for

    cal = calendar_for_company(company)
    bh_cache: dict[int, engine.BusinessHours | None] = {}
    rows = []
    for subject_id, commitment, started_at in starts:
        if not commitment.is_timed:
            continue
        if commitment.pk not in bh_cache:
            bh_cache[commitment.pk] = (
                business_hours_for(company, None) if commitment.ends_at_close_of_business else None
            )
        rows.append(
            _new_clock(
                company=company,
                subject_type=subject_type,
                subject_id=subject_id,
                commitment=commitment,
                version=commitment.commitment_set.version,
                started_at=started_at,
                bh=bh_cache[commitment.pk],
                cal=cal,
            )
        )
    Clock.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)
