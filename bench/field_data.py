"""Data of the field benchmarks: the benchmark company of bench/tickets_data.py with `crews` crews
of one technician each (positions around the city, on duty today) and `jobs` open field jobs on its
work orders (premises with coordinates; 10 % emergencies; a mix of new, dispatched, en route and on
site), bulk-inserted once and reused."""

from __future__ import annotations

import random
from datetime import timedelta

from bench.tickets_data import ensure_company, fill

CITY = (36.195, 117.120)


def ensure_field(*, jobs: int, crews: int, seed: int = 1, log=None):
    """Returns (company, dispatcher, technicians, crews)."""
    from django.utils import timezone

    from kefu.accounts.models import Team, User
    from kefu.customers.models import Premise
    from kefu.field.models import Crew, DutyEntry, FieldJob, Technician
    from kefu.field.states import OPEN_STATES
    from kefu.tickets.models import Ticket

    rnd = random.Random(seed)
    company, agents, dept = ensure_company()
    team, _ = Team.objects.get_or_create(company=company, department=dept, name="抢险基准班")
    dispatcher, created = User.objects.get_or_create(
        username="bench-field-dispatcher", defaults=dict(company=company, role="dispatcher", department=dept)
    )
    have = Crew.objects.filter(company=company).count()
    now = timezone.now()
    if have < crews:
        users = []
        for i in range(have, crews):
            u = User(
                company=company,
                username=f"bench-field-tech{i}",
                role="technician",
                department=dept,
                team=team,
            )
            u.set_unusable_password()
            users.append(u)
        users = User.objects.bulk_create(users)
        techs = Technician.objects.bulk_create(
            [
                Technician(
                    company=company,
                    user=u,
                    skills=["emergency", "repair"] if i % 2 else ["repair", "install"],
                    lat=CITY[0] + rnd.uniform(-0.08, 0.08),
                    lng=CITY[1] + rnd.uniform(-0.1, 0.1),
                    accuracy_m=10,
                    position_at=now,
                )
                for i, u in enumerate(users)
            ]
        )
        new_crews = Crew.objects.bulk_create(
            [
                Crew(company=company, team=team, name=f"基准{have + i}组", leader=t)
                for i, t in enumerate(techs)
            ]
        )
        Crew.members.through.objects.bulk_create(
            [
                Crew.members.through(crew_id=c.pk, technician_id=t.pk)
                for c, t in zip(new_crews, techs, strict=False)
            ]
        )
    all_crews = list(
        Crew.objects.filter(company=company).select_related("leader__user").order_by("pk")[:crews]
    )
    today = timezone.localdate()
    DutyEntry.objects.bulk_create(
        [
            DutyEntry(company=company, crew=c, day=today, status="on_duty" if i % 10 else "on_call")
            for i, c in enumerate(all_crews)
        ],
        ignore_conflicts=True,
    )
    open_now = FieldJob.objects.filter(company=company, state__in=list(OPEN_STATES)).count()
    if open_now < jobs:
        need = jobs - open_now
        fill(company, agents, Ticket.objects.filter(company=company).count() + need, log=log)
        tickets = list(
            Ticket.objects.filter(company=company, field_jobs__isnull=True)
            .order_by("-pk")
            .values_list("pk", "number", "address")[:need]
        )
        premises = Premise.objects.bulk_create(
            [
                Premise(
                    company=company,
                    address=a or "幸福小区",
                    room="501",
                    lat=CITY[0] + rnd.uniform(-0.08, 0.08),
                    lng=CITY[1] + rnd.uniform(-0.1, 0.1),
                )
                for _pk, _n, a in tickets
            ]
        )
        states = ["new", "dispatched", "en_route", "on_site"]
        rows = []
        for i, ((pk, number, address), premise) in enumerate(zip(tickets, premises, strict=False)):
            state = states[i % 4]
            crew = all_crews[i % len(all_crews)] if state != "new" else None
            rows.append(
                FieldJob(
                    company=company,
                    ticket_id=pk,
                    number=f"{number}-P1",
                    state=state,
                    is_emergency=i % 10 == 0,
                    skill="emergency" if i % 10 == 0 else "repair",
                    premise=premise,
                    address=address or "",
                    contact_phone="13800138000",
                    crew=crew,
                    technician=crew.leader if crew else None,
                    due_at=now + timedelta(minutes=rnd.randint(-60, 600)),
                    created_by=dispatcher,
                    dispatched_at=now if crew else None,
                    customer_code="123456",
                )
            )
        FieldJob.objects.bulk_create(rows, batch_size=1000)
    from django.db import connection

    with connection.cursor() as cur:  # fresh statistics, as autovacuum would have them after a day
        for table in (
            "field_fieldjob",
            "field_crew",
            "field_technician",
            "field_dutyentry",
            "customers_premise",
        ):
            cur.execute(f"ANALYZE {table}")
    return company, dispatcher, all_crews
