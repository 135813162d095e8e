"""Reads of household safety inspections: coverage of the year's programme (C5) by district,
community and category with a projected finish date; the inspector's households for today with
contact data unmasked only for them (S2, logged); the hazards ledger and the no-access ledger
(P14); and the inputs of indicators K4 and K12 for kpi (which imports only selectors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from kefu.customers.models import Customer, Phone
from kefu.customers.privacy import assigned_data_view, show_address, show_name, show_phone
from kefu.field.services import technician_of
from kefu.inspections import rules
from kefu.inspections.models import Batch, CoverageCount, Hazard, LedgerEntry, Programme, Visit
from kefu.inspections.services import local_today, tz_of
from kefu.inspections.states import (
    INSPECTED,
    OPEN_HAZARD,
    SERVED,
    EntryStatus,
    LedgerKind,
    Outcome,
)

GROUPS = {"community": "community", "district": "district", "category": "category"}


@dataclass(frozen=True)
class CoverageRow:
    key: str
    target: int  # rows owed (cancelled ones excluded)
    served: int  # visited with an outcome (nobody home included, K4)
    inspected: int  # inspected inside (C5 done)
    hazards: int
    projected_finish: date | None

    @property
    def share(self) -> float:
        return round(100.0 * self.served / self.target, 1) if self.target else 0.0


def coverage(
    *, company_id: int, year: int, by: str = "community", today: date | None = None
) -> list[CoverageRow]:
    """Coverage of the year's household programme against its target (C5), by community, district
    or category, with the date each group finishes at its pace so far. Sums the kept counts
    (`CoverageCount`, a few rows per community) rather than counting the ledger's rows."""
    prog = Programme.objects.filter(company_id=company_id, year=year).select_related("company").first()
    if prog is None:
        return []
    col = GROUPS.get(by, "community")
    kept = CoverageCount.objects.filter(programme=prog)
    rows = _tally(kept, col, lambda only: Coalesce(Sum("n", filter=only), 0))
    return _coverage_rows(rows, col, year=year, today=today or local_today(prog.company))


def coverage_counted(
    *, company_id: int, year: int, by: str = "community", today: date | None = None
) -> list[CoverageRow]:
    """The same coverage (C5) counted row by row over the ledger: what the kept counts must equal
    (the tests hold them to it; an operator can compare the two)."""
    prog = Programme.objects.filter(company_id=company_id, year=year).select_related("company").first()
    if prog is None:
        return []
    col = GROUPS.get(by, "community")
    ledger_rows = LedgerEntry.objects.filter(programme=prog, kind=LedgerKind.HOUSEHOLD)
    rows = _tally(ledger_rows, col, lambda only: Count("id", filter=only))
    return _coverage_rows(rows, col, year=year, today=today or local_today(prog.company))


def _tally(qs, col: str, measure) -> list[dict]:
    """Owed (cancelled excluded), served (nobody home included, as K4 counts), inspected inside
    and with hazards, per group (C5); `measure(filter)` counts ledger rows or sums kept counts."""
    return list(
        qs.exclude(status=EntryStatus.CANCELLED)
        .values(col)
        .annotate(
            target=measure(None),
            served=measure(Q(status__in=list(SERVED))),
            inspected=measure(Q(status__in=list(INSPECTED))),
            hazards=measure(Q(status=EntryStatus.HAZARD)),
        )
        .order_by(col)
    )


def _coverage_rows(rows: list[dict], col: str, *, year: int, today: date) -> list[CoverageRow]:
    start = date(year, 1, 1)
    return [
        CoverageRow(
            key=r[col] or "—",
            target=r["target"],
            served=r["served"],
            inspected=r["inspected"],
            hazards=r["hazards"],
            projected_finish=rules.projected_finish(
                year_start=start, today=today, done=r["served"], target=r["target"]
            ),
        )
        for r in rows
    ]


def coverage_total(rows: list[CoverageRow], *, year: int, today: date) -> CoverageRow:
    t = sum(r.target for r in rows)
    s = sum(r.served for r in rows)
    return CoverageRow(
        key="合计",
        target=t,
        served=s,
        inspected=sum(r.inspected for r in rows),
        hazards=sum(r.hazards for r in rows),
        projected_finish=rules.projected_finish(year_start=date(year, 1, 1), today=today, done=s, target=t),
    )


def ledger(*, company_id: int, year: int, status: str = "", community: str = "", limit: int = 200):
    """The due ledger (household rows), filtered by status and community."""
    qs = LedgerEntry.objects.filter(company_id=company_id, programme__year=year, kind=LedgerKind.HOUSEHOLD)
    if status:
        qs = qs.filter(status=status)
    if community:
        qs = qs.filter(community=community)
    return qs.select_related("customer", "customer__premise", "batch").order_by(
        "community", "building", "id"
    )[:limit]


def no_access_ledger(*, company_id: int, year: int, limit: int = 200):
    """Households not reached (P14): rows with nobody-home visits and not inspected since, with the
    ladder's next step."""
    return (
        LedgerEntry.objects.filter(
            company_id=company_id, programme__year=year, kind=LedgerKind.HOUSEHOLD, no_access_visits__gt=0
        )
        .exclude(status__in=[EntryStatus.INSPECTED, EntryStatus.HAZARD, EntryStatus.CANCELLED])
        .select_related("customer", "customer__premise")
        .order_by("-no_access_visits", "community", "id")[:limit]
    )


def hazards_open(*, company_id: int, limit: int = 300):
    """The open-hazard ledger (P14): open and awaiting re-check, overdue first, with the person
    responsible and the escalation."""
    return (
        Hazard.objects.filter(company_id=company_id, state__in=OPEN_HAZARD)
        .select_related(
            "type", "customer", "customer__premise", "responsible", "escalated_to", "emergency_ticket"
        )
        .order_by("deadline", "id")[:limit]
    )


def batches(*, company_id: int, year: int):
    return (
        Batch.objects.filter(company_id=company_id, programme__year=year)
        .select_related("inspector__user")
        .annotate(households=Count("entries"))
        .order_by("-first_day", "-id")
    )


# ---- the inspector's day and privacy (S2) -----------------------------------------------------------
def todays_batches(user, today: date) -> list[Batch]:
    tech = technician_of(user)
    if tech is None:
        return []
    return list(Batch.objects.filter(inspector=tech, first_day__lte=today, last_day__gte=today))


def inspector_day(*, user, now: datetime | None = None) -> list[LedgerEntry]:
    """Today's households of the inspector: the rows of their batches whose days include today, by
    building and room (the phone's list)."""
    today = local_today(user.company, now)
    ids = [b.pk for b in todays_batches(user, today)]
    if not ids:
        return []
    return list(
        LedgerEntry.objects.filter(batch_id__in=ids, kind=LedgerKind.HOUSEHOLD)
        .exclude(status=EntryStatus.CANCELLED)
        .select_related("customer", "customer__premise", "batch")
        .order_by("community", "building", "customer__premise__unit", "customer__premise__room", "id")
    )


def is_todays_household(user, entry: LedgerEntry, now: datetime | None = None) -> bool:
    """The entry is in a batch of this inspector whose days include today (local time)."""
    tech = technician_of(user)
    if tech is None or not entry.batch_id or entry.batch.inspector_id != tech.pk:
        return False
    today = local_today(user.company, now)
    return entry.batch.first_day <= today <= entry.batch.last_day


def entry_contact(*, user, entry: LedgerEntry, unmasked: bool, now: datetime | None = None) -> dict:
    """Name, address and phone of a household: masked, or — asked for — in full for a role with
    `customer.view_unmasked`, or for the inspector of a batch whose days include today (S2: the
    grant `field.view_assigned` as the field app's; every full view and refusal is in the audit log)."""
    cust: Customer = entry.customer
    address = cust.premise.address if cust.premise_id else ""
    room = cust.premise.room if cust.premise_id else ""
    phone = (
        Phone.objects.filter(customer=cust)
        .order_by("-is_primary", "id")
        .values_list("number", flat=True)
        .first()
    )
    if unmasked:
        assigned_data_view(
            user=user,
            obj=cust,
            fields=["name", "address", "phone"],
            assigned=is_todays_household(user, entry, now),
            reference=f"安检批次{entry.batch_id or '-'}/台账{entry.pk}",
        )
    return {
        "name": show_name(cust.name, unmasked=unmasked),
        "address": show_address(address, room, unmasked=unmasked),
        "phone": show_phone(phone or "", unmasked=unmasked),
        "unmasked": unmasked,
    }


# ---- indicator inputs (K4, K12) --------------------------------------------------------------------
@dataclass(frozen=True)
class K4Inputs:
    """Inputs of K4 入户安全检查 (C5): the households served in the period, nobody-home visits
    included (shown apart in `nobody_home`), and the period's active households."""

    served: list[str]
    nobody_home: list[str]
    active_households: int


def k4_inputs(*, company_id: int, start: datetime, end: datetime) -> K4Inputs:
    """K4 inputs for [start, end) (C5; 000 §16.4 "含上门无人情况"). A household is served when it
    had any household-inspection visit in the period (completed, nobody home, refused, vacant, not
    in use); its ref is the account number. `nobody_home` lists the served households whose every
    visit in the period found nobody home. Active households: customers open before `end` and not
    closed or suspended before `start` (those still active, or who left during the period)."""
    visits = Visit.objects.filter(
        company_id=company_id, at__gte=start, at__lt=end, entry__kind=LedgerKind.HOUSEHOLD
    ).values_list("entry__customer__account_no", "outcome")
    seen: dict[str, bool] = {}
    for ref, outcome in visits:
        seen[ref] = seen.get(ref, True) and outcome == Outcome.NOBODY_HOME
    tz = timezone.get_current_timezone()
    start_d, end_d = start.astimezone(tz).date(), end.astimezone(tz).date()
    active = (
        Customer.objects.filter(company_id=company_id)
        .filter(Q(opened_on__isnull=True) | Q(opened_on__lt=end_d))
        .filter(
            Q(status=Customer.Status.ACTIVE)
            | Q(status=Customer.Status.CLOSED, closed_on__gte=start_d)
            | Q(status=Customer.Status.SUSPENDED, suspended_on__gte=start_d)
        )
        .count()
    )
    served = sorted(seen)
    return K4Inputs(served=served, nobody_home=[r for r in served if seen[r]], active_households=active)


def _end_of_day(d: date, tz) -> datetime:
    return datetime.combine(d, time(23, 59, 59), tzinfo=tz)


def k12_inputs(
    *, company_id: int, start: datetime, end: datetime
) -> list[tuple[str, datetime, datetime | None]]:
    """K12 inputs (C12 appliance inspection once a year, 004): for every appliance-ledger row due in
    [start, end) — due at the end of its due day, local time — its ref (`<account>/<year>-A<period>`),
    the due time and the time the appliances were inspected (None while not done). Cancelled rows
    (customer closed) are left out."""
    from kefu.accounts.models import Company

    company = Company.objects.get(pk=company_id)
    tz = tz_of(company)
    rows = (
        LedgerEntry.objects.filter(company_id=company_id, kind=LedgerKind.APPLIANCE)
        .exclude(status=EntryStatus.CANCELLED)
        .filter(
            due_on__gte=start.astimezone(tz).date() - timedelta(days=1), due_on__lte=end.astimezone(tz).date()
        )
        .values_list("customer__account_no", "programme__year", "period", "due_on", "done_at", "status")
        .order_by("due_on", "customer__account_no")
    )
    out = []
    for acct, year, period, due_on, done_at, status in rows:
        due_at = _end_of_day(due_on, tz)
        if not (start <= due_at < end):
            continue
        out.append((f"{acct}/{year}-A{period}", due_at, done_at if status in INSPECTED else None))
    return out


def community_map(*, company_id: int, rows: list[CoverageRow]) -> list[dict]:
    """The coverage map by community (no tiles: the field's plain-plane projection): one circle per
    community at the mean position of its premises with coordinates, coloured by coverage."""
    from django.db.models import Avg

    from kefu.customers.models import Premise
    from kefu.field.selectors import map_layout

    share = {r.key: r.share for r in rows}
    pts = (
        Premise.objects.filter(
            company_id=company_id, community__in=list(share), lat__isnull=False, lng__isnull=False
        )
        .values("community")
        .annotate(lat=Avg("lat"), lng=Avg("lng"))
    )
    points = [
        {
            "lat": p["lat"],
            "lng": p["lng"],
            "label": f"{p['community']} {share[p['community']]}%",
            "share": share[p["community"]],
        }
        for p in pts
    ]
    out = map_layout(points)
    for p in out:
        p["cls"] = "good" if p["share"] >= 80 else ("warn" if p["share"] >= 40 else "bad")
    return out
