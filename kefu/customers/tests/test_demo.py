"""The demo city and the operator commands (`kefu demo`, `kefu import-customers`)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from kefu.accounts.models import Company, User
from kefu.accounts.roles import Role
from kefu.customers.demo import MAIN_CODE, SECOND_CODE, build_demo
from kefu.customers.models import CareRegistration, Customer, CustomerStatusChange, Meter, Phone
from kefu.customers.tests.test_import import LINES, write_csv


def people(code: str) -> list[tuple[str, str]]:
    return list(
        Customer.objects.filter(company__code=code).order_by("account_no").values_list("account_no", "name")
    )


@pytest.mark.django_db
def test_same_seed_same_city_and_other_seed_differs():
    build_demo(customers=400, seed=7)
    first = people(MAIN_CODE)
    assert len(first) == 400
    build_demo(customers=400, seed=7, reset=True)
    assert people(MAIN_CODE) == first
    build_demo(customers=400, seed=8, reset=True)
    assert people(MAIN_CODE) != first


@pytest.mark.django_db
def test_demo_creates_every_role_and_a_second_company():
    result = build_demo(customers=1000, seed=1)
    main = Company.objects.get(code=MAIN_CODE)
    roles = set(User.objects.filter(company=main).values_list("role", flat=True))
    assert roles == set(Role.values)
    for role in Role.values:
        user = User.objects.get(username=role)
        assert user.check_password(settings.KEFU_DEMO_PASSWORD) and user.employee_no
        assert user.is_staff == (role == Role.ADMIN)
    assert {login[0] for login in result.logins} >= set(Role.values)
    second = Company.objects.get(code=SECOND_CODE)
    assert 0 < Customer.objects.filter(company=second).count() < 100
    assert not set(people(MAIN_CODE)) & set(people(SECOND_CODE))


@pytest.mark.django_db
def test_demo_city_is_realistic():
    build_demo(customers=2000, seed=3)
    qs = Customer.objects.filter(company__code=MAIN_CODE)
    residential = qs.filter(category__code="resident").count()
    assert 0.92 < residential / 2000 < 0.98
    assert qs.exclude(category__code="resident").values("category").distinct().count() >= 3
    assert Phone.objects.filter(customer__in=qs, is_primary=True).count() == 2000
    assert Phone.objects.filter(customer__in=qs, kind="landline", number__startswith="0538").exists()
    assert set(Meter.objects.filter(customer__in=qs).values_list("kind", flat=True)) == {
        "ic_card",
        "smart",
        "mechanical",
    }
    care = CareRegistration.objects.filter(customer__in=qs)
    assert 10 < care.count() < 80 and not care.filter(consent_by="").exists()
    closed = qs.filter(status="closed")
    assert closed.exists() and not closed.filter(closed_on=None).exists()
    assert CustomerStatusChange.objects.filter(customer__in=closed, status="closed").count() == closed.count()
    assert qs.filter(status="suspended").exclude(suspended_on=None).exists()
    homes = qs.filter(category__code="resident")
    assert (
        homes.exclude(premise__community="").exclude(premise__unit="").exclude(premise__room="").count()
        == residential
    )


@pytest.mark.django_db
def test_demo_command_if_empty_prints_logins_and_builds_nothing():
    call_command("demo", customers=100, seed=2, stdout=StringIO())
    before = Customer.objects.count()
    out = StringIO()
    call_command("demo", customers=100, seed=9, if_empty=True, stdout=out)
    text = out.getvalue()
    assert Customer.objects.count() == before
    assert "http://127.0.0.1:8000/" in text and "supervisor" in text and settings.KEFU_DEMO_PASSWORD in text
    assert "TOTP" in text


@pytest.mark.django_db
def test_demo_rerun_is_idempotent():
    build_demo(customers=300, seed=4)
    counts = (Customer.objects.count(), Phone.objects.count(), Meter.objects.count())
    result = build_demo(customers=300, seed=4)
    assert (result.counts.created, result.counts.unchanged) == (0, 300)
    assert (Customer.objects.count(), Phone.objects.count(), Meter.objects.count()) == counts


def test_import_command_reports_errors_with_exit_code(company_x, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [LINES[0], LINES[0]])
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_customers", str(path), company="x", no_progress=True, stdout=out)
    assert exc.value.returncode == 1
    assert "第 3 行  [户号]" in out.getvalue() and "未写入任何数据" in out.getvalue()
    assert Customer.objects.count() == 0


def test_import_command_dry_run_and_real(company_x, tmp_path):
    path = write_csv(tmp_path / "good.csv", LINES)
    out = StringIO()
    call_command("import_customers", str(path), company="x", dry_run=True, no_progress=True, stdout=out)
    assert "试运行通过" in out.getvalue() and Customer.objects.count() == 0
    out = StringIO()
    call_command("import_customers", str(path), company="x", no_progress=True, stdout=out)
    assert "新增 3 户" in out.getvalue() and Customer.objects.count() == 3


def test_import_command_unknown_company(company_x, tmp_path):
    with pytest.raises(CommandError, match="没有代码为 nope 的公司"):
        call_command(
            "import_customers", str(write_csv(tmp_path / "g.csv", LINES)), company="nope", stdout=StringIO()
        )


@pytest.mark.django_db
def test_demo_command_publishes_this_years_commitments():
    """Work orders taken in the demo get clocks at once (C17: the year's set is published)."""
    from django.utils import timezone

    from kefu.sla.models import CommitmentSet

    call_command("demo", customers=20, no_progress=True, stdout=StringIO())
    the_set = CommitmentSet.objects.get(company__code=MAIN_CODE, year=timezone.localdate().year)
    assert the_set.published_at is not None and the_set.commitments.exists()


@pytest.mark.django_db(transaction=True)  # the clocks attach when the demo's transaction commits
def test_demo_command_makes_a_few_days_of_work_orders_with_clocks():
    """The demo's hotline has work orders in every stage: answered on the call, assigned,
    in progress, resolved, closed, handed over, a leak reported three times and linked; clocks on
    time and breached; the sweep's notices. The demo tells the truth: each work order was taken at
    its time (its number carries its day, nothing is a backdated entry), clocks stopped and breached
    at realistic times, each kind went to the team that does the work, one repair is on hold with
    its clocks paused (C4), the commitments are named after the company's preset."""
    from collections import Counter
    from datetime import timedelta

    from django.utils import timezone

    from kefu.accounts.models import AuditEvent
    from kefu.notify.models import Notification
    from kefu.sla.models import Clock
    from kefu.tickets.models import HandOver, Ticket, TicketLink

    out = StringIO()
    call_command("demo", customers=50, no_progress=True, stdout=out)
    company = Company.objects.get(code=MAIN_CODE)
    tickets = Ticket.objects.filter(company=company)
    states = Counter(tickets.values_list("state", flat=True))
    assert {"new", "assigned", "in_progress", "resolved", "closed"} <= set(states)
    assert tickets.filter(resolved_at_first_contact=True).count() >= 3
    assert HandOver.objects.filter(ticket__company=company, status="pending").count() == 1
    assert TicketLink.objects.filter(company=company, kind=TicketLink.Kind.CHILD_OF).count() == 2
    clocks = Counter(Clock.objects.filter(company=company).values_list("state", flat=True))
    assert clocks["running"] and clocks["met"] and clocks["breached"]
    assert Notification.objects.filter(kind="sla.breach").exists()
    assert not AuditEvent.objects.filter(object_type="tickets.ticket", detail__backdated=True).exists()
    for t in tickets:
        assert t.number[2:10] == timezone.localtime(t.received_at).strftime("%Y%m%d"), t.number
        assert t.created_at == t.received_at and not t.backdate_reason
    assert tickets.filter(received_at__lt=timezone.now() - timedelta(days=3)).exists()
    # Clocks stopped when the work was done, not when the demo ran.
    met = Clock.objects.filter(company=company, state="met", met_at__lt=timezone.now() - timedelta(hours=12))
    assert met.exists()
    for c in Clock.objects.filter(company=company, state="breached"):
        assert c.breached_at - c.due_at <= timedelta(minutes=2)
    assert Clock.objects.filter(company=company, state="paused").exists()
    # Each kind to the team that does the work.
    for t in tickets.exclude(assigned_department=None).select_related("kind", "assigned_department"):
        expected = {"repair": "repair", "emergency": "emergency", "inspection_appointment": "inspection"}
        if t.kind.code in expected:
            assert t.assigned_department.code == expected[t.kind.code], t.number
    from kefu.sla.models import CommitmentSet
    from kefu.sla.presets import PRESETS

    for s in CommitmentSet.objects.filter(company__code__in=[MAIN_CODE, SECOND_CODE]):
        assert s.name == PRESETS[s.preset_code].name and s.preset_code == "taian-antai"
    assert CommitmentSet.objects.filter(company__code=SECOND_CODE).exists()
    # The customer card's billing facts come from a (demo) delivery of the billing system.
    from kefu.customers.models import BillingSnapshot

    snaps = BillingSnapshot.objects.filter(company=company)
    assert snaps.count() == Customer.objects.filter(company=company).count()
    assert snaps.filter(arrears__gt=0).exists() and snaps.exclude(last_purchase_at=None).exists()
    assert all(s.updated_at < timezone.now() for s in snaps)
    # The tickets step reports the work orders it made; later steps (inspections' hazards, the
    # counter, the portal) add their own, so the company may hold more by the end.
    made = int(re.search(r"工单 (\d+) 张", out.getvalue()).group(1))
    assert 20 <= made <= tickets.count()
    call_command("demo", customers=50, no_progress=True, stdout=StringIO())  # again: no second set
    assert Ticket.objects.filter(company=company).count() == tickets.count()
