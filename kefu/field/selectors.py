"""Reads of the field: the dispatch board, crews ranked for a job, the technician's day, the
exception list, the fee list handed to finance, appointments' slots, and the per-company, per-month
records the indicators K6–K12 read (kpi reads other apps only through selectors)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import readable_company_ids
from kefu.core.errors import NotFound
from kefu.customers.privacy import assigned_data_view, show_address, show_name, show_phone
from kefu.field import rules
from kefu.field.models import (
    Appointment,
    AppointmentSlot,
    Crew,
    DutyEntry,
    FieldJob,
    JobEvent,
    JobLine,
    Page,
    Technician,
)
from kefu.field.states import BUSY_STATES, FINAL_STATES, OPEN_STATES, AppointmentState, Duty, JobState, Review
from kefu.sla.models import Clock
from kefu.sla.states import ClockState

BOARD_JOB_ROWS = 100  # rows shown in the table (most urgent first); the map and the counts cover all


def jobs_visible_to(user):
    """Field jobs a user may see: dispatch / review roles every job of their company; a technician
    only the jobs of their crews or assigned to them (S2)."""
    companies = readable_company_ids(user)
    qs = FieldJob.objects.filter(company_id__in=companies)
    if (
        role_allows(user, Perm.FIELD_DISPATCH)
        or role_allows(user, Perm.FIELD_REVIEW)
        or role_allows(user, Perm.TICKET_VIEW_ALL)
    ):
        return qs
    if role_allows(user, Perm.FIELD_WORK):
        tech = Technician.objects.filter(user_id=user.pk).first()
        if tech is None:
            return qs.none()
        return qs.filter(Q(technician=tech) | Q(crew__members=tech)).distinct()
    return qs.none()


def job_get(*, user, job_id) -> FieldJob:
    try:
        return (
            jobs_visible_to(user)
            .select_related(
                "ticket", "ticket__kind", "crew", "technician__user", "premise", "customer", "appointment"
            )
            .get(pk=int(job_id))
        )
    except (FieldJob.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("没有找到该派工单，或您无权查看。"), code="not_found") from None


def job_is_open_for(user, job: FieldJob) -> bool:
    from kefu.field.services import is_assigned

    return job.state in OPEN_STATES and is_assigned(user, job)


def job_contact(*, user, job: FieldJob, unmasked: bool) -> dict:
    """Name, phone and address of a job, masked unless `unmasked` is asked and allowed: the assigned
    technician of an open job (logged, kefu.customers.privacy.assigned_data_view), or a role that may
    see personal data in full (logged)."""
    room = job.premise.room if job.premise_id else ""
    if unmasked:
        assigned_data_view(
            user=user,
            obj=job.ticket,
            fields=["contact_name", "contact_phone", "address"],
            assigned=job_is_open_for(user, job),
            reference=job.number,
        )
    return {
        "contact_name": show_name(job.contact_name, unmasked=unmasked),
        "contact_phone": show_phone(job.contact_phone, unmasked=unmasked),
        "address": show_address(job.address, room, unmasked=unmasked),
        "unmasked": unmasked,
    }


# ---- crews and the board -------------------------------------------------------------------------
@dataclass
class CrewRow:
    id: int
    name: str
    team: str
    duty: str
    state: str  # free / en_route / on_site / busy / off
    lat: float | None
    lng: float | None
    position_at: datetime | None
    skills: frozenset
    busy_until: datetime | None
    job_number: str = ""


CREW_STATE_LABELS = {
    "free": "空闲",
    "en_route": "在途",
    "on_site": "在现场",
    "busy": "已派工",
    "off": "休息",
}


def crews_duty(
    company_id: int, crew_users: dict[int, list[int]], *, at: datetime, schedule: dict[int, str] | None = None
) -> dict[int, str]:
    """Each crew's duty at `at` (C8: whom to page, whom to rank). The published roster of kefu.workforce
    decides where it has data; the field's own duty schedule (DutyEntry, 值班表) is the fallback:

    - a member of the crew is on a published shift at `at` (`kefu.workforce.selectors.on_duty`) →
      on duty;
    - else, when the roster has published shifts for a member on that day (so it knows the crew's
      day) → the schedule's "on call" stands (on call is not a shift), anything else is off;
    - else (the roster has no data for the crew's members that day) → the duty schedule's entry, or off.

    `crew_users` maps crew id → its members' user ids; `schedule` the day's duty-schedule entries
    when the caller read them already. Two or three queries whatever the number of crews."""
    from kefu.workforce.models import Assignment
    from kefu.workforce.selectors import on_duty

    day = timezone.localdate(at)
    if schedule is None:
        schedule = dict(
            DutyEntry.objects.filter(company_id=company_id, day=day).values_list("crew_id", "status")
        )
    all_users = {u for users in crew_users.values() for u in users}
    on_shift = {u.pk for u in on_duty(company_id, at)} & all_users
    rostered = (
        set(
            Assignment.objects.filter(
                company_id=company_id, published=True, day=day, user_id__in=list(all_users)
            ).values_list("user_id", flat=True)
        )
        if all_users
        else set()
    )
    out = {}
    for crew_id, users in crew_users.items():
        entry = schedule.get(crew_id, Duty.OFF)
        if on_shift.intersection(users):
            out[crew_id] = Duty.ON_DUTY
        elif rostered.intersection(users):
            out[crew_id] = Duty.ON_CALL if entry == Duty.ON_CALL else Duty.OFF
        else:
            out[crew_id] = entry
    return out


def roster_shifts(company_id: int, crews, days) -> dict[tuple[int, date], list[str]]:
    """The published roster shifts of the crews' members per crew and day ("08:00–20:00 王五"), for
    the duty page: where a cell has shifts the roster decides that day's duty (crews_duty)."""
    from kefu.workforce.models import Assignment

    crew_of = defaultdict(list)
    for crew_id, user_id in Crew.members.through.objects.filter(
        crew_id__in=[c.pk for c in crews]
    ).values_list("crew_id", "technician__user_id"):
        crew_of[user_id].append(crew_id)
    out: dict[tuple[int, date], list[str]] = defaultdict(list)
    for a in (
        Assignment.objects.filter(
            company_id=company_id, published=True, day__in=list(days), user_id__in=list(crew_of)
        )
        .select_related("user")
        .order_by("start_at")
    ):
        label = "%s–%s %s" % (
            timezone.localtime(a.start_at).strftime("%H:%M"),
            timezone.localtime(a.end_at).strftime("%H:%M"),
            a.user.get_full_name() or a.user.username,
        )
        for crew_id in crew_of[a.user_id]:
            out[(crew_id, a.day)].append(label)
    return dict(out)


def crew_rows(company_id: int, *, now: datetime) -> list[CrewRow]:
    """Every active crew with its duty now (`crews_duty`: the roster, else the duty schedule), its
    state from its current job, its latest member position and skills (a fixed number of queries
    whatever the number of crews)."""
    # One query for the crews and their members (a LEFT JOIN: a crew without members is kept).
    crews: dict[int, dict] = {}
    members = defaultdict(list)
    schedule: dict[int, str] = {}
    today = DutyEntry.objects.filter(crew=OuterRef("pk"), day=timezone.localdate(now)).values("status")[:1]
    for cid, name, team, scheduled, user_id, lat, lng, position_at, skills in (
        Crew.objects.filter(company_id=company_id, is_active=True)
        .annotate(scheduled=Subquery(today))
        .values_list(
            "id",
            "name",
            "team__name",
            "scheduled",
            "members__user_id",
            "members__lat",
            "members__lng",
            "members__position_at",
            "members__skills",
        )
    ):
        crews.setdefault(cid, {"id": cid, "name": name, "team__name": team})
        if scheduled:
            schedule[cid] = scheduled
        if user_id is not None:
            members[cid].append(
                {"user_id": user_id, "lat": lat, "lng": lng, "position_at": position_at, "skills": skills}
            )
    crews = list(crews.values())
    duty = crews_duty(
        company_id,
        {c["id"]: [m["user_id"] for m in members.get(c["id"], [])] for c in crews},
        at=now,
        schedule=schedule,
    )
    # One row per crew (its busy jobs aggregated), not one per job: a crew's state is its busiest job's.
    current = {
        r["crew_id"]: r
        for r in FieldJob.objects.filter(
            company_id=company_id, state__in=list(BUSY_STATES), crew__isnull=False
        )
        .values("crew_id")
        .annotate(
            on_site=Count("id", filter=Q(state__in=[JobState.ON_SITE, JobState.HANDLED])),
            en_route=Count("id", filter=Q(state=JobState.EN_ROUTE)),
            number=Max("number"),
            arrived_at=Max("arrived_at"),
            dispatched_at=Max("dispatched_at"),
        )
    }
    out = []
    for c in crews:
        ms = members.get(c["id"], [])
        positioned = [m for m in ms if m["position_at"] is not None]
        last = max(positioned, key=lambda m: m["position_at"]) if positioned else None
        skills = frozenset(s for m in ms for s in (m["skills"] or []))
        d = duty.get(c["id"], Duty.OFF)
        job = current.get(c["id"])
        busy_until = None
        if d == Duty.OFF:
            state = "off"
        elif job is None:
            state = "free"
        else:
            state = "on_site" if job["on_site"] else "en_route" if job["en_route"] else "busy"
            start = job["arrived_at"] or job["dispatched_at"] or now
            busy_until = max(start + timedelta(hours=1), now + timedelta(minutes=15))
        out.append(
            CrewRow(
                id=c["id"],
                name=c["name"],
                team=c["team__name"],
                duty=d,
                state=state,
                lat=last["lat"] if last else None,
                lng=last["lng"] if last else None,
                position_at=last["position_at"] if last else None,
                skills=skills,
                busy_until=busy_until,
                job_number=job["number"] if job else "",
            )
        )
    return out


def rank_for_job(
    *,
    job: FieldJob,
    now: datetime,
    crews: list[CrewRow] | None = None,
    speeds: dict | None = None,
    limit: int | None = None,
) -> list[rules.Candidate]:
    """Candidate crews for a job, best first, with the reason in words (C8)."""
    from kefu.field.services import settings_for

    crews = crews if crews is not None else crew_rows(job.company_id, now=now)
    premise = job.premise
    lat = premise.lat if premise is not None else None
    lng = premise.lng if premise is not None else None
    states = [
        rules.CrewState(c.id, c.name, c.skills, c.duty, c.lat, c.lng, c.position_at, c.busy_until)
        for c in crews
    ]
    return rules.rank_crews(
        states,
        lat=lat,
        lng=lng,
        skill=job.skill,
        now=now,
        local_hour=timezone.localtime(now).hour,
        speeds=speeds if speeds is not None else settings_for(job.company_id).speeds_kmh,
        limit=limit,
        tz=timezone.get_current_timezone(),
    )


@dataclass
class Board:
    jobs: list[dict]
    crews: list[CrewRow]
    counts: dict[str, int]
    total_open: int
    points: list[dict]  # map: jobs and crews with a position
    pages: list[dict]  # unacknowledged emergency pages (sound on the board)
    exceptions: int
    now: datetime


def board(*, user, now: datetime | None = None) -> Board:
    """The dispatch board of the user's company: open jobs by urgency and time left, crews by state,
    positions for the map, pages not yet acknowledged, the number of exceptions waiting."""
    now = now or timezone.now()
    company_id = user.company_id
    open_jobs = FieldJob.objects.filter(company_id=company_id, state__in=list(OPEN_STATES))
    # Two reads of the open jobs: every one narrow (state for the counts, the map's position), and
    # only the table's rows in full (masked addresses cost time).
    counts = {s: 0 for s in OPEN_STATES}
    points = []
    for state, lat, lng, number, urgent in open_jobs.values_list(
        "state", "premise__lat", "premise__lng", "number", "is_emergency"
    ):
        counts[state] = counts.get(state, 0) + 1
        if lat is not None:
            points.append({"kind": "job", "lat": lat, "lng": lng, "label": number, "urgent": urgent})
    rows = list(
        open_jobs.order_by("-is_emergency", "due_at", "created_at").values(
            "id",
            "number",
            "state",
            "is_emergency",
            "is_care_visit",
            "due_at",
            "address",
            "crew__name",
            "premise__room",
            "ticket__kind__name",
        )[:BOARD_JOB_ROWS]
    )
    for r in rows:
        r["address"] = show_address(r["address"], r["premise__room"] or "")
        r["minutes_left"] = int((r["due_at"] - now).total_seconds() // 60) if r["due_at"] else None
    crews = crew_rows(company_id, now=now)
    order = {"free": 0, "en_route": 1, "on_site": 2, "busy": 3, "off": 4}
    crews.sort(key=lambda c: (order[c.state], c.name))
    points += [
        {"kind": "crew", "lat": c.lat, "lng": c.lng, "label": c.name, "urgent": False}
        for c in crews
        if c.lat is not None
    ]
    pages = list(
        Page.objects.filter(
            company_id=company_id, acknowledged_at__isnull=True, job__state__in=list(OPEN_STATES)
        ).values("id", "job__number", "crew__name", "sent_at")[:20]
    )
    exceptions = JobEvent.objects.filter(company_id=company_id, review=Review.PENDING).count()
    return Board(rows, crews, counts, sum(counts.values()), points, pages, exceptions, now)


def map_layout(points: list[dict], *, width: int = 600, height: int = 400, pad: int = 20) -> list[dict]:
    """Positions on a plain plane (no tiles): an equirectangular projection fitted to the points."""
    if not points:
        return []
    lats = [p["lat"] for p in points]
    lngs = [p["lng"] for p in points]
    lat0, lat1, lng0, lng1 = min(lats), max(lats), min(lngs), max(lngs)
    span = max(lat1 - lat0, lng1 - lng0, 1e-4)
    out = []
    for p in points:
        x = pad + (p["lng"] - lng0) / span * (width - 2 * pad)
        y = height - pad - (p["lat"] - lat0) / span * (height - 2 * pad)
        xi, yi = round(x), round(y)
        out.append({**p, "x": xi, "y": yi, "x0": xi - 5, "y0": yi - 5, "ty": yi - 8})
    return out


def map_svg_items(points: list[dict], *, width: int = 600, height: int = 400, pad: int = 20) -> str:
    """The map's shapes as SVG markup (built here, not in a template loop: 2,000 jobs per refresh),
    projected like map_layout in one pass without intermediate rows."""
    from html import escape  # the standard library's: a fifth of django's cost per call

    from django.utils.safestring import mark_safe

    if not points:
        return mark_safe("")
    lat0 = min(p["lat"] for p in points)
    lat1 = max(p["lat"] for p in points)
    lng0 = min(p["lng"] for p in points)
    lng1 = max(p["lng"] for p in points)
    span = max(lat1 - lat0, lng1 - lng0, 1e-4)
    kx, ky = (width - 2 * pad) / span, (height - 2 * pad) / span
    bottom = height - pad
    parts = []
    for p in points:
        x = round(pad + (p["lng"] - lng0) * kx)
        y = round(bottom - (p["lat"] - lat0) * ky)
        label = escape(str(p["label"]))
        if p["kind"] == "job":
            cls, r = ("job urgent", 7) if p["urgent"] else ("job", 5)
            parts.append(f'<circle cx="{x}" cy="{y}" r="{r}" class="{cls}"><title>{label}</title></circle>')
        else:
            parts.append(
                f'<rect x="{x - 5}" y="{y - 5}" width="10" height="10" class="crew">'
                f"<title>{label}</title></rect>"
                f'<text x="{x}" y="{y - 8}" class="crew-label">{label}</text>'
            )
    return mark_safe("".join(parts))  # noqa: S308 (every label escaped above)


# ---- the technician's day ----------------------------------------------------------------------
def technician_day(*, user, now: datetime | None = None) -> list[FieldJob]:
    """Today's open jobs of the technician (their own and their crews'), emergencies first, then by
    deadline."""
    now = now or timezone.now()
    tech = Technician.objects.filter(user_id=user.pk).first()
    if tech is None:
        return []
    return list(
        FieldJob.objects.filter(Q(technician=tech) | Q(crew__members=tech), state__in=list(OPEN_STATES))
        .exclude(state=JobState.PENDING_APPROVAL)
        .select_related("ticket", "ticket__kind", "premise", "appointment")
        .distinct()
        .order_by("-is_emergency", "due_at", "created_at")[:100]
    )


def navigation_url(job: FieldJob) -> str:
    """A navigation link: geo: URI with the premise's coordinates, else the address as a query."""
    p = job.premise
    if p is not None and p.lat is not None:
        return f"geo:{p.lat},{p.lng}"
    from urllib.parse import quote

    return f"geo:0,0?q={quote(job.address)}"


# ---- exceptions, fees --------------------------------------------------------------------------
def exceptions_pending(*, user):
    """Arrivals waiting for a supervisor's judgement (C8), oldest first."""
    return (
        JobEvent.objects.filter(company_id__in=readable_company_ids(user), review=Review.PENDING)
        .select_related("job", "job__ticket", "actor")
        .order_by("server_at")
    )


def fees_by_technician(*, company_id: int, day: date) -> list[dict]:
    """The daily list handed to finance: per technician, the fees (services) and the parts used,
    summed, with the jobs' receipt numbers."""
    rows = (
        JobLine.objects.filter(company_id=company_id, day=day)
        .values("technician_id", "technician__user__full_name", "technician__user__username", "item__kind")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("technician__user__username")
    )
    out: dict = {}
    for r in rows:
        t = out.setdefault(
            r["technician_id"],
            {
                "technician": r["technician__user__full_name"] or r["technician__user__username"] or "",
                "fees": Decimal("0"),
                "parts": Decimal("0"),
                "receipts": [],
            },
        )
        key = "fees" if r["item__kind"] == "service" else "parts"
        t[key] = (t[key] + Decimal(str(r["total"] or 0))).quantize(Decimal("0.01"))
    receipts = (
        JobLine.objects.filter(company_id=company_id, day=day, item__kind="service")
        .values_list("technician_id", "job__receipt_no")
        .distinct()
    )
    for tech_id, receipt in receipts:
        if tech_id in out and receipt:
            out[tech_id]["receipts"].append(receipt)
    return list(out.values())


def slots_open(*, company_id: int, team_id: int | None, since: datetime, days: int = 7) -> list[dict]:
    """Slots from `since` for `days`, with the places left."""
    qs = AppointmentSlot.objects.filter(
        company_id=company_id, starts_at__gte=since, starts_at__lt=since + timedelta(days=days)
    )
    if team_id:
        qs = qs.filter(team_id=team_id)
    rows = qs.annotate(
        taken=Count("appointments", filter=~Q(appointments__state=AppointmentState.CANCELLED))
    ).values("id", "team_id", "team__name", "starts_at", "ends_at", "capacity", "taken")
    today = timezone.localdate(since)
    return [
        {
            **r,
            "left": r["capacity"] - r["taken"],
            "phrase": rules.window_phrase(
                timezone.localtime(r["starts_at"]), timezone.localtime(r["ends_at"]), today=today
            ),
        }
        for r in rows
    ]


# ---- indicators K6–K12: the records per company and month --------------------------------------
def _month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(date(year, month, 1), time.min), tz)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, timezone.make_aware(datetime.combine(nxt, time.min), tz)


def _onsite_clocks(ticket_ids) -> dict[int, Clock]:
    """The on-site clock (stopped by `ticket.arrived`, C8–C12) of each work order: the live one,
    else the last cancelled one (a kind change cancels and restarts)."""
    out: dict[int, Clock] = {}
    rows = Clock.objects.filter(
        subject_type="tickets.workorder",
        subject_id__in=[str(i) for i in ticket_ids],
        commitment__stop_event="ticket.arrived",
    ).order_by("started_at", "id")
    for clock in rows:
        tid = int(clock.subject_id)
        if tid not in out or out[tid].state == ClockState.CANCELLED or clock.state != ClockState.CANCELLED:
            out[tid] = clock
    return out


def onsite_outcome(clock: Clock | None, *, now: datetime) -> str:
    """How the indicators (kefu/kpi/inputs.py `deadline_of`) count a work order's on-site clock — the
    one truth for K6–K12: `met` (stopped in time), `late` (breached, met after the breach — an
    exception accepted after the sweep marked the clock breached included —, or running past its
    due time), `excluded` (cancelled: not measured), `pending` (running before its due time, or
    paused), `` (no on-site clock)."""
    if clock is None:
        return ""
    if clock.state == ClockState.MET:
        return "met"
    if clock.state in (ClockState.BREACHED, ClockState.MET_AFTER_BREACH):
        return "late"
    if clock.state == ClockState.CANCELLED:
        return "excluded"
    if clock.state == ClockState.RUNNING and clock.due_at is not None and clock.due_at < now:
        return "late"
    return "pending"


def month_records(*, company_id: int, year: int, month: int) -> dict[str, list[dict]]:
    """Everything the indicators K6–K12 count for one company and month, with the records behind
    each figure: field jobs created in the month (kind, emergency, received, due, the first *countable*
    arrival — an arrival without an exception or an accepted one; a rejected or pending one does not
    count —, handled / resolved times, out-of-scope), every arrival with its evidence and review, and
    the appointments whose window starts in the month (state, told in advance, installable).

    Whether a job's arrival was in time is the verdict of its work order's on-site clock
    (`on_site_outcome`, `arrived_within_due` True / False / None), exactly as the indicators count
    it (kefu/kpi/inputs.py): an exception accepted after the clock was marked breached is late here
    too, although its recorded time may be before the due time."""
    start, end = _month_bounds(year, month)
    jobs = list(
        FieldJob.objects.filter(company_id=company_id, created_at__gte=start, created_at__lt=end).values(
            "id",
            "number",
            "ticket_id",
            "ticket__number",
            "ticket__kind__code",
            "ticket__received_at",
            "is_emergency",
            "is_care_visit",
            "state",
            "due_at",
            "finished_at",
            "out_of_scope_reason",
        )
    )
    ids = [j["id"] for j in jobs]
    events = list(
        JobEvent.objects.filter(job_id__in=ids)
        .order_by("at", "id")
        .values(
            "id",
            "job_id",
            "kind",
            "at",
            "server_at",
            "device_at",
            "offline",
            "source",
            "distance_m",
            "accuracy_m",
            "flags",
            "review",
            "review_reason",
        )
    )
    first: dict[int, dict] = {}
    for e in events:
        if e["review"] in (Review.NONE, Review.ACCEPTED):
            first.setdefault((e["job_id"], e["kind"]), e)
    clocks = _onsite_clocks({j["ticket_id"] for j in jobs})
    now = timezone.now()
    for j in jobs:
        arrival = first.get((j["id"], "arrived"))
        handled = first.get((j["id"], "handled")) or first.get((j["id"], "resolved"))
        resolved = first.get((j["id"], "resolved"))
        j["arrived_at"] = arrival["at"] if arrival else None
        j["handled_at"] = handled["at"] if handled else None
        j["resolved_at"] = resolved["at"] if resolved else None
        clock = clocks.get(j["ticket_id"])
        outcome = onsite_outcome(clock, now=now)
        j["on_site_clock_id"] = clock.pk if clock else None
        j["on_site_clock_state"] = clock.state if clock else ""
        j["on_site_due_at"] = clock.due_at if clock else None
        j["on_site_outcome"] = outcome
        j["arrived_within_due"] = {"met": True, "late": False}.get(outcome)
    appointments = list(
        Appointment.objects.filter(
            company_id=company_id, window_start__gte=start, window_start__lt=end
        ).values(
            "id",
            "ticket_id",
            "ticket__kind__code",
            "window_start",
            "window_end",
            "state",
            "booked_at",
            "tell_customer_by",
            "customer_told_at",
            "installable",
            "installable_reason",
        )
    )
    return {
        "jobs": jobs,
        "arrivals": [e for e in events if e["kind"] == "arrived"],
        "events": events,
        "appointments": appointments,
    }


JOB_STATE_LABELS = dict(JobState.choices)
FINAL = FINAL_STATES
