"""A planned stop from plan to close (P13, C1, C2): the affected list frozen, proof per household
that the 48-hour notice was delivered, callers recognised, restoration timed; the backwards C1
clock met, breached and restarted; delivery receipts twice, late and unknown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from kefu.core.errors import DomainError, Forbidden, NotFound
from kefu.outages import services, sms
from kefu.outages.models import AffectedPremise, Notice, OutageCall
from kefu.outages.selectors import outages_for_caller
from kefu.outages.states import OutageState
from kefu.sla.models import Clock, ClockKind

START = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)  # 08:00 Asia/Shanghai
END = START + timedelta(hours=8)


def c1(outage):
    return list(
        Clock.objects.filter(
            subject_type="outages.outage", subject_id=str(outage.pk), clock_kind=ClockKind.NOTICE_LEAD
        ).order_by("id")
    )


def c2(outage):
    return (
        Clock.objects.filter(subject_type="outages.outage", subject_id=str(outage.pk))
        .exclude(clock_kind=ClockKind.NOTICE_LEAD)
        .get()
    )


def plan(dispatcher, manager, *, zones=("A",)):
    o = services.outage_create(
        by=dispatcher,
        kind="planned",
        reason="管道改造",
        area="幸福小区",
        planned_start=START,
        planned_end=END,
    )
    n = services.outage_set_affected(
        by=dispatcher, outage_id=o.pk, method="zone", selection={"zones": list(zones)}
    )
    services.outage_approve(by=manager, outage_id=o.pk)
    return o, n


def receipts_for(outage, when):
    mids = Notice.objects.filter(outage=outage, channel="sms", purpose="advance").values_list(
        "message_id", flat=True
    )
    return [sms.Receipt(m, True, "delivered", when) for m in mids]


@pytest.fixture
def no_autodeliver(settings, monkeypatch):
    """The console gateway delivers at once; these tests post the receipts themselves."""
    from kefu.outages.sms import ConsoleGateway

    def send(self, messages):
        return [sms.SendResult(m.ref, f"m{m.ref}", True) for m in messages]

    monkeypatch.setattr(ConsoleGateway, "send", send)


@pytest.mark.django_db(transaction=True)
def test_planned_stop_from_plan_to_close(
    dispatcher_x, manager_x, technician_x, agent_x, agent_y, households, commitments, no_autodeliver
):
    with time_machine.travel(START - timedelta(days=4), tick=False):
        o, n = plan(dispatcher_x, manager_x)
        assert n == 5
        (clock,) = c1(o)
        assert clock.state == "running" and clock.due_at == START - timedelta(hours=48)  # counts backwards
        # special care / hospitals first: nobody here but the list is ordered by priority
        counts = services.outage_notify(by=dispatcher_x, outage_id=o.pk)
        assert counts == {"round": 1, "households": 5, "sms": 4, "posted": 2, "voice": 1}
        o.refresh_from_db()
        assert o.state == OutageState.NOTIFIED and o.frozen_count == 5 and len(o.frozen_hash) == 64
        with pytest.raises(DomainError):  # the frozen list never changes
            services.outage_set_affected(
                by=dispatcher_x, outage_id=o.pk, method="zone", selection={"zones": ["B"]}
            )
    with time_machine.travel(START - timedelta(hours=60), tick=False):
        r = services.receipts_record(
            gateway_name="console", receipts=receipts_for(o, START - timedelta(hours=60))
        )
        assert r["delivered"] == 4
        again = services.receipts_record(
            gateway_name="console", receipts=receipts_for(o, START - timedelta(hours=60))
        )
        assert again["duplicates"] == 4 and again["delivered"] == 0
        unknown = services.receipts_record(
            gateway_name="console", receipts=[sms.Receipt("nope", True, "delivered", START)]
        )
        assert unknown["unknown"] == 1
        assert c1(o)[0].state == "running"  # 张三 has no mobile: building 1's notice is not posted yet
        b1 = Notice.objects.get(outage=o, channel="posted", building_key="幸福小区/1")
        services.notice_mark_posted(by=technician_x, notice_id=b1.pk)
        o.refresh_from_db()
        assert o.notices_complete_at == START - timedelta(hours=60)
        assert c1(o)[0].state == "met"
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        services.outage_start(by=dispatcher_x, outage_id=o.pk, at=START)
        assert c2(o).state == "running" and c2(o).due_at == START + timedelta(hours=24)
        # the agent's desk recognises the caller, one click links the call
        张一 = households[0]
        (hit,) = outages_for_caller(user=agent_x, customer_id=张一.pk)
        assert hit.number == o.number
        assert outages_for_caller(user=agent_y, customer_id=张一.pk) == []
        call = services.outage_link_call(by=agent_x, outage_id=o.pk, customer_id=张一.pk)
        assert "已告知" in call.ticket.content
        with pytest.raises(NotFound):
            services.outage_link_call(by=agent_y, outage_id=o.pk)
    with time_machine.travel(START + timedelta(hours=6), tick=False):
        with pytest.raises(DomainError):  # a notice before restoring first
            services.outage_restore_step(by=dispatcher_x, outage_id=o.pk, buildings=["幸福小区/1"])
        services.outage_restore_notice(by=dispatcher_x, outage_id=o.pk)
        services.outage_restore_step(
            by=dispatcher_x, outage_id=o.pk, buildings=["幸福小区/1"], needs_ignition=3
        )
    with time_machine.travel(START + timedelta(hours=7), tick=False):
        services.outage_restore_step(by=dispatcher_x, outage_id=o.pk)
        o.refresh_from_db()
        assert o.state == OutageState.RESTORED and o.restored_at == START + timedelta(hours=7)
        assert c2(o).state == "met"
        assert services.outage_answer_calls(by=dispatcher_x, outage_id=o.pk) == 1
        call = OutageCall.objects.select_related("ticket").get(pk=call.pk)
        assert call.ticket.state == "closed" and call.answered_at is not None
        services.outage_close(by=dispatcher_x, outage_id=o.pk)
    assert AffectedPremise.objects.filter(outage=o, restored_step__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_c1_breached_when_notices_arrive_late_and_restarted_by_a_new_start(
    dispatcher_x, manager_x, technician_x, households, commitments, no_autodeliver
):
    with time_machine.travel(START - timedelta(days=3), tick=False):
        o, _n = plan(dispatcher_x, manager_x)
        services.outage_notify(by=dispatcher_x, outage_id=o.pk)
    late = START - timedelta(hours=30)
    with time_machine.travel(late, tick=False):
        from kefu.sla.services import clock_mark_breached

        assert clock_mark_breached(clock_id=c1(o)[0].pk, now=late)
        services.receipts_record(gateway_name="console", receipts=receipts_for(o, late))
        for b in Notice.objects.filter(outage=o, channel="posted"):
            services.notice_mark_posted(by=technician_x, notice_id=b.pk)
        assert c1(o)[0].state == "met_after_breach"
        # the stop moves two days later: C1 restarts, a second round of notices goes out
        services.outage_reschedule(
            by=dispatcher_x,
            outage_id=o.pk,
            planned_start=START + timedelta(days=2),
            planned_end=END + timedelta(days=2),
        )
        clocks = c1(o)
        assert [c.state for c in clocks] == ["met_after_breach", "running"]
        assert clocks[1].due_at == START + timedelta(days=2) - timedelta(hours=48)
        o.refresh_from_db()
        assert o.notice_round == 2 and o.notices_complete_at is None
        assert Notice.objects.filter(outage=o, round=2, channel="sms").count() == 4
        services.receipts_record(
            gateway_name="console",
            receipts=[
                sms.Receipt(m, True, "delivered", late)
                for m in Notice.objects.filter(outage=o, round=2, channel="sms").values_list(
                    "message_id", flat=True
                )
            ],
        )
        for b in Notice.objects.filter(outage=o, round=2, channel="posted"):
            services.notice_mark_posted(by=technician_x, notice_id=b.pk)
        assert c1(o)[1].state == "met"


@pytest.mark.django_db
def test_restoration_guard_quiet_hours_and_roles(dispatcher_x, manager_x, agent_x, households):
    night = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 23:00 Asia/Shanghai
    with time_machine.travel(night - timedelta(hours=10), tick=False):
        o = services.outage_create(
            by=dispatcher_x,
            kind="emergency",
            reason="管道破损抢修",
            planned_start=night - timedelta(hours=10),
            planned_end=night,
        )
        services.outage_set_affected(
            by=dispatcher_x, outage_id=o.pk, method="address", selection={"buildings": ["幸福小区/2"]}
        )
        with pytest.raises(Forbidden):
            services.outage_start(by=agent_x, outage_id=o.pk)
        services.outage_start(by=dispatcher_x, outage_id=o.pk)
    with time_machine.travel(night, tick=False):
        services.outage_restore_notice(by=dispatcher_x, outage_id=o.pk)
        with pytest.raises(DomainError) as exc:
            services.outage_restore_step(by=dispatcher_x, outage_id=o.pk)
        assert exc.value.code == "quiet_hours"
        services.outage_restore_step(by=dispatcher_x, outage_id=o.pk, override_reason="医院用气，经理同意")
    # emergencies get no C1/C2 clocks
    assert not Clock.objects.filter(subject_type="outages.outage", subject_id=str(o.pk)).exists()


@pytest.mark.django_db
def test_priority_customers_listed_first(dispatcher_x, households):
    from kefu.outages.selectors import affected_list

    o = services.outage_create(
        by=dispatcher_x, kind="planned", reason="检修", planned_start=START, planned_end=END
    )
    services.outage_set_affected(
        by=dispatcher_x, outage_id=o.pk, method="zone", selection={"zones": ["A", "B"]}
    )
    first = affected_list(o)[0]
    assert first.customer.name == "市第一医院" and first.priority_reason == "hospital"
