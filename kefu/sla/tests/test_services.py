"""Commitment sets, presets, overrides and clocks through the real services (C17, Time rules)."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.accounts.models import AuditEvent
from kefu.core.errors import Conflict, DomainError, Forbidden
from kefu.sla import services
from kefu.sla.codes import Event
from kefu.sla.models import CalendarOverride, Clock
from kefu.sla.presets import PRESETS
from kefu.sla.selectors import (
    calendar_for_company,
    clocks_due,
    commitment_set_in_force,
    commitments_matching,
)
from kefu.sla.states import ClockState

SH = ZoneInfo("Asia/Shanghai")


def L(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


class TestPresets:
    @pytest.mark.parametrize("code", sorted(PRESETS))
    def test_every_preset_loads_with_a_seed_clause_for_each_value(self, company_x, manager_x, code):
        row = services.commitment_set_from_preset(company=company_x, year=2026, preset=code, by=manager_x)
        commitments = list(row.commitments.all())
        assert len(commitments) == len(PRESETS[code].commitments) >= 5
        for c in commitments:
            assert c.source.startswith(("000 ", "002 ", "004 ")), c.code
            assert c.spec_id.startswith("C")
            c.full_clean()
            if c.is_timed:
                assert c.limit.value == c.limit_value
        assert not row.is_published and row.version == 1

    def test_laizhou_values(self, laizhou_set):
        by_code = {c.code: c for c in laizhou_set.commitments.all()}
        assert (by_code["emergency_on_site"].limit_value, by_code["emergency_on_site"].limit_unit) == (
            40,
            "minutes",
        )
        assert (by_code["repair_on_site"].limit_value, by_code["repair_on_site"].limit_unit) == (
            1,
            "working_days",
        )
        assert (by_code["installation_on_site"].limit_value, by_code["installation_on_site"].limit_unit) == (
            2,
            "working_days",
        )
        assert (by_code["outage_notice"].limit_value, by_code["outage_notice"].limit_unit) == (48, "hours")
        assert by_code["phone_answer"].limit_unit == "rings" and not by_code["phone_answer"].is_timed

    def test_taian_values(self, company_x, manager_x):
        row = services.commitment_set_from_preset(
            company=company_x, year=2026, preset="taian-antai", by=manager_x
        )
        by_code = {c.code: c for c in row.commitments.all()}
        assert (
            by_code["pipeline_fault_general"].limit_value == 4
            and by_code["pipeline_fault_major"].limit_value == 24
        )
        assert by_code["complaint_reply"].limit_value == 72
        assert (by_code["consultation_answer"].limit_value, by_code["consultation_answer"].limit_unit) == (
            2,
            "working_days",
        )

    def test_unknown_preset(self, company_x, manager_x):
        with pytest.raises(DomainError):
            services.commitment_set_from_preset(company=company_x, year=2026, preset="nope", by=manager_x)

    def test_matching_by_kind_and_severity(self, company_x, manager_x):
        row = services.commitment_set_from_preset(
            company=company_x, year=2026, preset="taian-antai", by=manager_x
        )
        codes = {
            c.code
            for c in commitments_matching(row, kind="emergency", sub_kind="pipe_damage", severity="major")
        }
        assert codes == {"pipeline_fault_major"}
        codes = {
            c.code for c in commitments_matching(row, kind="repair", sub_kind="meter", channel="hotline")
        }
        assert codes == {"equipment_fault_handled", "equipment_fault_repaired", "call_resolved"}
        codes = {
            c.code
            for c in commitments_matching(
                row, start_event=Event.TICKET_RECEIVED, kind="repair", sub_kind="meter", channel="hotline"
            )
        }
        assert codes == {"equipment_fault_handled", "equipment_fault_repaired"}


class TestCloneAndPublish:
    def test_clone_for_a_new_year_then_publish(self, laizhou_set, manager_x):
        services.commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=L(2026, 1, 1))
        new = services.commitment_set_clone(source=laizhou_set, year=2027, by=manager_x)
        assert (new.year, new.version, new.is_published, new.cloned_from_id) == (
            2027,
            1,
            False,
            laizhou_set.pk,
        )
        assert new.commitments.count() == laizhou_set.commitments.count()
        again = services.commitment_set_clone(source=laizhou_set, year=2026, by=manager_x)
        assert again.version == 2
        assert AuditEvent.objects.filter(action=services.SET_CLONED).count() == 2

    def test_publish_twice_conflicts(self, laizhou_set, manager_x):
        services.commitment_set_publish(commitment_set=laizhou_set, by=manager_x)
        with pytest.raises(Conflict):
            services.commitment_set_publish(commitment_set=laizhou_set, by=manager_x)

    def test_agent_cannot_clone_or_publish(self, laizhou_set, agent_x):
        with pytest.raises(Forbidden):
            services.commitment_set_clone(source=laizhou_set, year=2027, by=agent_x)
        with pytest.raises(Forbidden):
            services.commitment_set_publish(commitment_set=laizhou_set, by=agent_x)

    def test_other_company_admin_cannot_publish(self, laizhou_set, manager_y):
        with pytest.raises(Forbidden):
            services.commitment_set_publish(commitment_set=laizhou_set, by=manager_y)

    def test_version_in_force_when_received(self, laizhou_set, manager_x, company_x):
        services.commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=L(2026, 1, 1))
        v2 = services.commitment_set_clone(source=laizhou_set, year=2026, by=manager_x)
        services.commitment_set_publish(commitment_set=v2, by=manager_x, at=L(2026, 6, 1))
        assert commitment_set_in_force(company_x, L(2026, 3, 1)) == laizhou_set
        assert commitment_set_in_force(company_x, L(2026, 7, 1)) == v2
        assert commitment_set_in_force(company_x, L(2025, 7, 1)) is None


class TestCalendarOverrides:
    def test_2027_fallback_then_override(self, company_x, manager_x, caplog):
        from kefu.sla import engine

        limit = engine.Limit(1, engine.WORKING_DAYS)
        cal = calendar_for_company(company_x)
        with caplog.at_level(logging.WARNING, logger="kefu.sla.calendar"):
            assert engine.due_at(L(2026, 12, 31, 10), limit, cal) == L(2027, 1, 2)
        assert "2027" in caplog.text
        assert cal.day_info(date(2027, 1, 1)).source == "fallback"
        services.calendar_override_create(
            by=manager_x, day=date(2027, 1, 1), is_workday=False, name="元旦", note="国办通知"
        )
        cal = calendar_for_company(company_x)
        assert cal.day_info(date(2027, 1, 1)) == (False, "元旦", "override")
        assert engine.due_at(L(2026, 12, 31, 10), limit, cal) == L(2027, 1, 5)
        assert AuditEvent.objects.filter(action=services.OVERRIDE_CREATED).exists()

    def test_override_is_per_company(self, company_x, company_y, manager_x):
        services.calendar_override_create(
            by=manager_x, day=date(2026, 3, 6), is_workday=False, name="公司假日"
        )
        assert not calendar_for_company(company_x).is_workday(date(2026, 3, 6))
        assert calendar_for_company(company_y).is_workday(date(2026, 3, 6))

    def test_company_row_wins_over_all_companies_row(self, company_x, company_y, manager_x):
        CalendarOverride.objects.create(
            company=None, date=date(2027, 2, 6), is_workday=True, name="春节调休上班"
        )
        services.calendar_override_create(
            by=manager_x, day=date(2027, 2, 6), is_workday=False, name="本公司休息"
        )
        assert calendar_for_company(company_x).day_info(date(2027, 2, 6)) == (False, "本公司休息", "override")
        assert calendar_for_company(company_y).day_info(date(2027, 2, 6)) == (
            True,
            "春节调休上班",
            "override",
        )

    def test_duplicate_conflicts_and_delete_is_audited(self, manager_x, agent_x):
        row = services.calendar_override_create(by=manager_x, day=date(2027, 1, 1), is_workday=False)
        with pytest.raises(Conflict):
            services.calendar_override_create(by=manager_x, day=date(2027, 1, 1), is_workday=False)
        with pytest.raises(Forbidden):
            services.calendar_override_delete(by=agent_x, override_id=row.pk)
        services.calendar_override_delete(by=manager_x, override_id=row.pk)
        assert not CalendarOverride.objects.exists()
        assert AuditEvent.objects.filter(action=services.OVERRIDE_DELETED, object_id=str(row.pk)).exists()

    def test_other_company_cannot_delete(self, manager_x, manager_y):
        from kefu.core.errors import NotFound

        row = services.calendar_override_create(by=manager_x, day=date(2027, 1, 1), is_workday=False)
        with pytest.raises(NotFound):
            services.calendar_override_delete(by=manager_y, override_id=row.pk)

    def test_entered_year_stops_the_warning(self, company_x, manager_x):
        assert calendar_for_company(company_x).is_fallback_year(2027)
        services.calendar_year_enter(
            by=manager_x, year=2027, notice="国务院办公厅关于2027年部分节假日安排的通知"
        )
        assert not calendar_for_company(company_x).is_fallback_year(2027)


class TestClocks:
    def _commitment(self, s, code):
        return s.commitments.get(code=code)

    def test_wall_clock_start_pause_resume_stop(self, company_x, laizhou_set, supervisor_x):
        c = self._commitment(laizhou_set, "appliance_repair")  # C12: 24 h
        clock = services.clock_start(
            company=company_x,
            subject_type="tickets.workorder",
            subject_id="1",
            commitment=c,
            started_at=L(2026, 10, 1, 9),
        )
        assert clock.due_at == L(2026, 10, 2, 9) and clock.warn_at == L(2026, 10, 2, 3)
        assert clock.commitment_version == laizhou_set.version and not clock.fallback_calendar
        clock = services.clock_pause(
            clock=clock,
            by=supervisor_x,
            reason="customer_requested_time",
            at=L(2026, 10, 1, 10),
            note="客户改约",
        )
        assert clock.state == ClockState.PAUSED and clock.due_at is None
        clock = services.clock_resume(clock=clock, by=supervisor_x, at=L(2026, 10, 1, 13))
        assert clock.due_at == L(2026, 10, 2, 12) and clock.paused_total == timedelta(hours=3)
        clock = services.clock_stop(clock=clock, at=L(2026, 10, 2, 11))
        assert clock.state == ClockState.MET

    def test_working_day_clock_with_pause_and_late_stop(self, company_x, laizhou_set, supervisor_x):
        c = self._commitment(laizhou_set, "repair_on_site")  # C10: 1 working day
        clock = services.clock_start(
            company=company_x,
            subject_type="tickets.workorder",
            subject_id="2",
            commitment=c,
            started_at=L(2026, 9, 30, 10),
        )
        assert clock.due_at == L(2026, 10, 9)
        clock = services.clock_pause(
            clock=clock, by=supervisor_x, reason="customer_unreachable", at=L(2026, 10, 8, 10)
        )
        clock = services.clock_resume(clock=clock, by=supervisor_x, at=L(2026, 10, 8, 12))
        assert clock.due_at == L(2026, 10, 9, 2)
        clock = services.clock_stop(clock=clock, at=L(2026, 10, 9, 8))
        assert clock.state == ClockState.MET_AFTER_BREACH and clock.breached_at == L(2026, 10, 9, 2)

    def test_close_of_business_uses_department_hours(self, company_x, laizhou_set, manager_x):
        c = self._commitment(laizhou_set, "repair_on_site")
        c.ends_at_close_of_business = True
        c.save()
        services.business_hours_set(
            by=manager_x, company=company_x, opens_at=time(8, 30), closes_at=time(17, 30)
        )
        clock = services.clock_start(
            company=company_x,
            subject_type="tickets.workorder",
            subject_id="3",
            commitment=c,
            started_at=L(2026, 2, 27, 10),
        )
        assert clock.due_at == L(2026, 2, 28, 17, 30)  # the make-up Saturday, at close

    def test_fallback_flag_on_2027_clock(self, company_x, laizhou_set):
        c = self._commitment(laizhou_set, "installation_on_site")
        clock = services.clock_start(
            company=company_x,
            subject_type="tickets.workorder",
            subject_id="4",
            commitment=c,
            started_at=L(2026, 12, 31, 10),
        )
        assert clock.fallback_calendar

    def test_pause_needs_an_accepted_reason_and_the_permission(
        self, company_x, laizhou_set, supervisor_x, agent_x
    ):
        c = self._commitment(laizhou_set, "emergency_on_site")  # accepts no pause
        clock = services.clock_start(
            company=company_x,
            subject_type="tickets.workorder",
            subject_id="5",
            commitment=c,
            started_at=L(2026, 10, 1, 9),
        )
        with pytest.raises(DomainError):
            services.clock_pause(
                clock=clock, by=supervisor_x, reason="customer_unreachable", at=L(2026, 10, 1, 9, 5)
            )
        with pytest.raises(Forbidden):
            services.clock_pause(
                clock=clock, by=agent_x, reason="customer_unreachable", at=L(2026, 10, 1, 9, 5)
            )

    def test_start_is_idempotent_and_rings_do_not_start(self, company_x, laizhou_set):
        c = self._commitment(laizhou_set, "emergency_on_site")
        a = services.clock_start(
            company=company_x, subject_type="t", subject_id="6", commitment=c, started_at=L(2026, 5, 1)
        )
        b = services.clock_start(
            company=company_x, subject_type="t", subject_id="6", commitment=c, started_at=L(2026, 5, 1)
        )
        assert a.pk == b.pk
        with pytest.raises(DomainError):
            services.clock_start(
                company=company_x,
                subject_type="t",
                subject_id="6",
                commitment=self._commitment(laizhou_set, "phone_answer"),
                started_at=L(2026, 5, 1),
            )

    def test_clocks_due_and_single_claim(self, company_x, laizhou_set):
        c = self._commitment(laizhou_set, "emergency_on_site")  # 40 min, warn at 30 min
        with time_machine.travel(L(2026, 10, 1, 9), tick=False):
            clocks = [
                services.clock_start(
                    company=company_x,
                    subject_type="t",
                    subject_id=str(i),
                    commitment=c,
                    started_at=L(2026, 10, 1, 9, i * 10),
                )
                for i in range(3)
            ]
        now = L(
            2026, 10, 1, 9, 45
        )  # clock 0 due 9:40 (breached), clock 1 warn 9:40 (warn), clock 2 warn 9:50
        due = clocks_due(now)
        assert {x.pk for x in due.breach} == {clocks[0].pk}
        assert {x.pk for x in due.warn} == {clocks[0].pk, clocks[1].pk}
        assert services.clock_mark_breached(clock_id=clocks[0].pk, now=now)
        assert not services.clock_mark_breached(clock_id=clocks[0].pk, now=now)  # a second worker loses
        assert Clock.objects.get(pk=clocks[0].pk).state == ClockState.BREACHED
        assert {x.pk for x in clocks_due(now).escalate} == {clocks[0].pk}


class TestClockGuards:
    def test_no_pause_after_due_and_no_second_stop(self, company_x, laizhou_set, supervisor_x):
        c = laizhou_set.commitments.get(code="appliance_repair")
        clock = services.clock_start(
            company=company_x, subject_type="t", subject_id="9", commitment=c, started_at=L(2026, 10, 1, 9)
        )
        with pytest.raises(Conflict):
            services.clock_pause(
                clock=clock, by=supervisor_x, reason="customer_unreachable", at=L(2026, 10, 2, 10)
            )
        services.clock_stop(clock=clock, at=L(2026, 10, 1, 12))
        with pytest.raises(Conflict):
            services.clock_stop(clock=clock, at=L(2026, 10, 1, 13))

    def test_paused_clock_is_not_swept(self, company_x, laizhou_set, supervisor_x):
        c = laizhou_set.commitments.get(code="appliance_repair")
        clock = services.clock_start(
            company=company_x, subject_type="t", subject_id="10", commitment=c, started_at=L(2026, 10, 1, 9)
        )
        services.clock_pause(
            clock=clock, by=supervisor_x, reason="customer_unreachable", at=L(2026, 10, 1, 10)
        )
        due = clocks_due(L(2026, 10, 5))
        assert not due.warn.exists() and not due.breach.exists()


def test_clocks_on_event_starts_and_stops_by_commitment(company_x, laizhou_set, manager_x):
    """A repair work order (C10, 004 附表): received starts the on-site clock; arrival stops it."""
    services.commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=L(2026, 1, 1))
    attrs = {"kind": "repair", "sub_kind": "meter", "channel": "hotline", "severity": "general"}
    started, stopped = services.clocks_on_event(
        company=company_x,
        subject_type="tickets.workorder",
        subject_id="77",
        event=Event.TICKET_RECEIVED,
        at=L(2026, 4, 30, 9),
        commitment_set=commitment_set_in_force(company_x, L(2026, 4, 30, 9)),
        attrs=attrs,
    )
    assert [c.commitment.code for c in started] == ["repair_on_site"] and stopped == []
    assert started[0].due_at == L(2026, 5, 7)  # Labour Day skipped
    started, stopped = services.clocks_on_event(
        company=company_x,
        subject_type="tickets.workorder",
        subject_id="77",
        event=Event.TICKET_ARRIVED,
        at=L(2026, 5, 6, 15),
        commitment_set=laizhou_set,
        attrs=attrs,
    )
    assert started == [] and [c.state for c in stopped] == [ClockState.MET]


@pytest.mark.parametrize(
    "kind, events",
    [
        ("repair", [(Event.TICKET_RECEIVED, (2026, 4, 30, 9))]),
        # A work order created already resolved, or found late: received, then the resolved events.
        (
            "suggestion",
            [
                (Event.TICKET_RECEIVED, (2026, 4, 30, 9)),
                (Event.TICKET_RESPONDED, (2026, 5, 8, 10)),
                (Event.TICKET_REPLIED, (2026, 5, 8, 10)),
                (Event.TICKET_RESOLVED, (2026, 5, 8, 10)),
            ],
        ),
        # A counter transaction (3 minutes, C15 target; its own start and end events, never the work
        # order's), done after 5: met after breach.
        (
            "consultation",
            [
                (Event.COUNTER_STARTED, (2026, 4, 29, 17)),
                (Event.COUNTER_ENDED, (2026, 4, 29, 17, 5)),
            ],
        ),
    ],
)
def test_new_subject_clocks_equal_one_event_at_a_time(company_x, laizhou_set, manager_x, kind, events):
    """`clocks_start_new_subject` (the create path, one INSERT) makes the same clocks, with the same
    states and times, as `clocks_on_event` called once per event."""
    the_set = services.commitment_set_publish(commitment_set=laizhou_set, by=manager_x, at=L(2026, 1, 1))
    channel = "counter" if kind == "consultation" else "hotline"
    attrs = {"kind": kind, "sub_kind": "", "channel": channel, "severity": "general", "customer_category": ""}
    timed = [(e, L(*at)) for e, at in events]
    services.clocks_start_new_subject(
        company=company_x,
        subject_type="t",
        subject_id="bulk",
        commitment_set=the_set,
        events=timed,
        attrs=attrs,
    )
    for event, at in timed:
        services.clocks_on_event(
            company=company_x,
            subject_type="t",
            subject_id="one",
            event=event,
            at=at,
            commitment_set=the_set,
            attrs=attrs,
        )

    def shape(subject_id: str) -> list[tuple]:
        return sorted(
            (
                c.commitment.code,
                c.state,
                c.started_at,
                c.due_at,
                c.warn_at,
                c.escalate_at,
                c.met_at,
                c.breached_at,
            )
            for c in Clock.objects.filter(subject_type="t", subject_id=subject_id)
        )

    assert shape("bulk") == shape("one")
    assert shape("bulk"), "the preset has clocks for this kind"
    if kind == "consultation":
        assert [row[1] for row in shape("bulk")] == [ClockState.MET_AFTER_BREACH]
