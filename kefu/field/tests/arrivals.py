"""Test helper for any app's tests: record an arrival on site the way the product does (C8–C12) —
a field job on the work order, a crew dispatched, the technician's phone reporting 到达 with a GPS
position — so that the work order's on-site clocks stop on the recorded fact, never on a state.

    from kefu.field.tests.arrivals import arrival_record
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        arrival_record(ticket)

The dispatcher, technician and crew are made once per company (usernames `arr_disp_<company>`,
`arr_tech_<company>`). The call must run where the on-commit callbacks execute (the listener of
FieldArrived emits `ticket.arrived`).
"""

from __future__ import annotations

import uuid


def _field_people(company):
    from kefu.accounts.models import Team, User
    from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
    from kefu.field.models import Crew, Technician

    tech = Technician.objects.filter(company=company, user__username=f"arr_tech_{company.pk}").first()
    dispatcher = User.objects.filter(username=f"arr_disp_{company.pk}").first()
    if tech is not None and dispatcher is not None:
        return dispatcher, tech, Crew.objects.get(company=company, name=f"到达测试组{company.pk}")
    team = Team.objects.filter(department__company=company, name="到达测试班").first()
    if team is None:
        dept = DepartmentFactory(company=company, code=f"arr{company.pk}", name="到达测试部门")
        team = TeamFactory(department=dept, name="到达测试班")
    dispatcher = UserFactory(
        company=company,
        role="dispatcher",
        username=f"arr_disp_{company.pk}",
        department=team.department,
        team=team,
    )
    user = UserFactory(
        company=company,
        role="technician",
        username=f"arr_tech_{company.pk}",
        department=team.department,
        team=team,
    )
    tech = Technician.objects.create(
        company=company, user=user, skills=["emergency", "repair", "install", "inspection", "appliance"]
    )
    crew = Crew.objects.create(company=company, team=team, name=f"到达测试组{company.pk}", leader=tech)
    crew.members.set([tech])
    return dispatcher, tech, crew


def arrival_record(ticket):
    """A countable arrival (GPS at the premise's coordinates when it has them, 5 m accuracy) on the
    work order's open field job, or on a new one; returns the JobEvent. Time is the caller's (travel)."""
    from kefu.field.models import FieldJob
    from kefu.field.services import EventInput, job_create, job_dispatch, job_event_record
    from kefu.field.states import OPEN_STATES

    dispatcher, tech, crew = _field_people(ticket.company)
    job = FieldJob.objects.filter(ticket_id=ticket.pk, state__in=list(OPEN_STATES)).first()
    if job is None:
        job = job_create(by=dispatcher, ticket_id=ticket.pk)
    if job.state in ("new", "pending_approval"):
        if job.state == "pending_approval":
            from kefu.field.services import job_approve

            job_approve(by=dispatcher, job_id=job.pk)
        job_dispatch(by=dispatcher, job_id=job.pk, crew_id=crew.pk)
    premise = job.premise
    lat, lng = (
        (premise.lat, premise.lng) if premise is not None and premise.lat is not None else (36.2, 117.1)
    )
    event, _created = job_event_record(
        by=tech.user,
        job_id=job.pk,
        data=EventInput(kind="arrived", client_id=uuid.uuid4().hex, lat=lat, lng=lng, accuracy=5),
    )
    return event
