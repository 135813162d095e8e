"""Demo data of the field for `kefu demo` (step 40): technicians with skills and positions around
the city, three crews with today's duty, the catalogue and price list, appointment slots, premise
coordinates, and field jobs on the demo's open work orders — dispatched, en route, on site, one
arrival entered by the dispatcher waiting on the exception list — all through the real services."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from kefu.accounts.models import Team, User
from kefu.accounts.roles import Role
from kefu.core.errors import DomainError
from kefu.customers.models import Premise
from kefu.field import services
from kefu.field.models import Crew, FieldJob, Technician
from kefu.field.states import OPEN_STATES
from kefu.tickets.models import Ticket
from kefu.tickets.states import OPEN_STATES as TICKET_OPEN

CITY = (36.195, 117.120)  # 泰安 city centre
EXTRA = (("tech_li", "李师傅"), ("tech_zhao", "赵师傅"), ("tech_qian", "钱师傅"), ("tech_sun", "孙师傅"))
CATALOGUE = (
    ("part", "P001", "灶具点火针", "个", "12.50"),
    ("part", "P002", "燃气软管(1.5米)", "根", "35.00"),
    ("part", "P003", "IC卡表电池", "节", "8.00"),
    ("service", "S001", "上门维修费", "次", "30.00"),
    ("service", "S002", "燃气具安装费", "台", "80.00"),
)


def _near(rng: random.Random, km: float = 6) -> tuple[float, float]:
    return CITY[0] + rng.uniform(-km, km) / 111, CITY[1] + rng.uniform(-km, km) / 90


def build_demo_field(company, *, seed: int = 7) -> int:
    """Build the field demo of `company` (idempotent enough: skips when crews exist). Returns the
    number of field jobs made."""
    if Crew.objects.filter(company=company).exists():
        return 0
    rng = random.Random(seed)
    dispatcher = User.objects.filter(company=company, role=Role.DISPATCHER, is_active=True).first()
    if dispatcher is None:
        return 0
    teams = {t.name: t for t in Team.objects.filter(company=company)}
    users = list(User.objects.filter(company=company, role=Role.TECHNICIAN, is_active=True)[:1])
    repair_dept = teams.get("维修一班").department if "维修一班" in teams else None
    for username, name in EXTRA:
        u = User.objects.filter(username=username).first()
        if u is None:
            u = User(
                username=username,
                full_name=name,
                company=company,
                role=Role.TECHNICIAN,
                department=repair_dept,
            )
            u.set_unusable_password()
            u.save()
        users.append(u)
    skills = [
        ["repair", "install", "appliance", "emergency"],
        ["repair", "inspection"],
        ["emergency", "repair"],
        ["emergency", "repair"],
        ["install", "appliance", "inspection"],
    ]
    techs = []
    now = timezone.now()
    for u, sk in zip(users, skills, strict=False):
        t = services.technician_register(by=dispatcher, user_id=u.pk, skills=sk)
        lat, lng = _near(rng)
        Technician.objects.filter(pk=t.pk).update(
            lat=lat, lng=lng, accuracy_m=rng.randint(5, 40), position_at=now
        )
        techs.append(t)
    crews = [
        services.crew_create(
            by=dispatcher,
            team_id=teams["维修一班"].pk,
            name="维修A组",
            member_ids=[techs[0].pk, techs[1].pk],
            vehicle="鲁J·A1234",
        ),
        services.crew_create(
            by=dispatcher,
            team_id=teams["抢险一班"].pk,
            name="抢险B组",
            member_ids=[techs[2].pk, techs[3].pk],
            vehicle="鲁J·Q0119",
        ),
        services.crew_create(
            by=dispatcher, team_id=teams["维修二班"].pk, name="安装C组", member_ids=[techs[4].pk]
        ),
    ]
    today = timezone.localdate()
    for d in range(7):
        for i, crew in enumerate(crews):
            status = "on_duty" if (d + i) % 4 else "on_call"
            services.duty_set(by=dispatcher, crew_id=crew.pk, day=today + timedelta(days=d), status=status)
    for kind, code, name, unit, price in CATALOGUE:
        services.catalogue_item_create(by=dispatcher, kind=kind, code=code, name=name, unit=unit, price=price)
    for day in range(1, 4):
        for start in (9, 14):
            starts = timezone.make_aware(datetime.combine(today + timedelta(days=day), time(start)))
            services.slot_create(
                by=dispatcher,
                team_id=teams["维修一班"].pk,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                capacity=4,
            )
    premises = list(
        Premise.objects.filter(company=company, lat__isnull=True).values_list("pk", flat=True)[:400]
    )
    for pk in premises:
        lat, lng = _near(rng, 8)
        Premise.objects.filter(pk=pk).update(lat=lat, lng=lng)
    made = 0
    tickets = Ticket.objects.filter(
        company=company,
        state__in=list(TICKET_OPEN),
        kind__code__in=["repair", "emergency", "installation", "appliance"],
    ).order_by("-received_at")[:12]
    for n, ticket in enumerate(tickets):
        try:
            job = FieldJob.objects.filter(
                ticket=ticket, state__in=list(OPEN_STATES)
            ).first() or services.job_create(by=dispatcher, ticket_id=ticket.pk)
            made += 1
            if n % 4 == 3:
                continue  # left for the dispatcher on the board
            crew = crews[1] if job.is_emergency else crews[n % 2 * 2]
            services.job_dispatch(by=dispatcher, job_id=job.pk, crew_id=crew.pk)
            tech_user = crew.leader.user
            if n % 4 >= 1:
                services.job_event_record(
                    by=tech_user,
                    job_id=job.pk,
                    data=services.EventInput(kind="departed", client_id=f"demo-{job.pk}-d"),
                )
            if n % 4 == 2:
                p = job.premise
                if p is not None and p.lat is not None:
                    data = services.EventInput(
                        kind="arrived",
                        client_id=f"demo-{job.pk}-a",
                        lat=p.lat + 0.0002,
                        lng=p.lng,
                        accuracy=12,
                    )
                    services.job_event_record(by=tech_user, job_id=job.pk, data=data)
                else:
                    data = services.EventInput(
                        kind="arrived",
                        client_id=f"demo-{job.pk}-a",
                        source="dispatcher",
                        reason="班长电话报到（演示）",
                    )
                    services.job_event_record(by=dispatcher, job_id=job.pk, data=data)
        except DomainError:
            continue
    return made


def demo_step(run) -> None:
    """`kefu demo`, step 40 (kefu.core.demo)."""
    made = build_demo_field(run.company, seed=run.options.get("seed", 7))
    run.summary.append(f"派工单 {made} 张")
