"""Reads of the outages app: visibility (S2), the network graph, who is affected where (the desk
banner, P2), the public page, and the indicator inputs of K1–K3 per company and month."""

from __future__ import annotations

import calendar
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm, role_allows
from kefu.accounts.scoping import readable_company_ids
from kefu.core.errors import NotFound
from kefu.outages import network, rules
from kefu.outages.models import (
    AffectedPremise,
    NetworkEdge,
    NetworkImport,
    NetworkNode,
    NetworkPremise,
    Outage,
    OutageSettings,
    RestorationStep,
)
from kefu.outages.states import LIVE_STATES, OutageKind, OutageState

_C2 = timedelta(hours=24)  # 004 附表 恢复燃气供应 24小时内（紧急事故除外）


def may_view(user) -> bool:
    return (
        role_allows(user, Perm.CUSTOMER_VIEW)
        or role_allows(user, Perm.OUTAGE_PLAN)
        or role_allows(user, Perm.REPORT_VIEW)
    )


def outages_visible(user) -> QuerySet[Outage]:
    """Interruptions of the companies the user reads (S2); none for a role without a view right."""
    if not may_view(user):
        return Outage.objects.none()
    return Outage.objects.filter(company_id__in=readable_company_ids(user))


def outage_get(*, user, outage_id: int) -> Outage:
    o = (
        outages_visible(user)
        .select_related("company", "created_by", "approved_by")
        .filter(pk=outage_id)
        .first()
    )
    if o is None:
        raise NotFound(_("没有找到该停气单，或您无权查看。"), code="not_found")
    return o


def outage_list(*, user, state: str = "", limit: int = 200) -> list[Outage]:
    qs = outages_visible(user).annotate(calls_count=Count("calls", distinct=True))
    if state:
        qs = qs.filter(state=state)
    return list(qs.order_by("-planned_start")[:limit])


def affected_list(outage: Outage, limit: int = 500) -> list[AffectedPremise]:
    """The affected households, priorities first (care, hospitals, schools, heating, commercial)."""
    return list(
        AffectedPremise.objects.filter(outage=outage)
        .select_related("premise", "customer", "restored_step")
        .order_by("priority", "building_key", "premise__unit", "premise__room")[:limit]
    )


def affected_summary(outage: Outage) -> dict:
    qs = AffectedPremise.objects.filter(outage=outage)
    rows = qs.values("priority_reason").annotate(n=Count("id"))
    by_reason = {r["priority_reason"]: r["n"] for r in rows}
    return {
        "total": sum(by_reason.values()),
        "priority": {rules.PRIORITY_LABELS.get(k, k): v for k, v in by_reason.items() if k},
        "buildings": qs.exclude(building_key="").values("building_key").distinct().count(),
        "restored": qs.filter(restored_step__isnull=False).count(),
    }


# ---- the network -------------------------------------------------------------------------------------
_cache: dict[int, tuple[tuple, network.Network]] = {}
_cache_lock = threading.Lock()


def network_cache_clear(company_id: int) -> None:
    with _cache_lock:
        _cache.pop(company_id, None)


def company_network(company_id: int) -> network.Network:
    """The company's pipe network as a graph, loaded once per import (cached by the last import's id)."""
    # keyed by the last good import's id and time: ids can come back after a rollback (tests)
    last = NetworkImport.objects.filter(company_id=company_id, ok=True).order_by("-id").values_list(
        "id", "at"
    ).first() or (0, None)
    with _cache_lock:
        hit = _cache.get(company_id)
        if hit is not None and hit[0] == last:
            return hit[1]
    nodes = list(
        NetworkNode.objects.filter(company_id=company_id).values_list("id", "ext_id", "kind", "lon", "lat")
    )
    ext = {pk: e for pk, e, _k, _x, _y in nodes}
    edges = NetworkEdge.objects.filter(company_id=company_id).values_list("ext_id", "a_id", "b_id")
    premises = NetworkPremise.objects.filter(node__company_id=company_id).values_list("node_id", "premise_id")
    net = network.Network.build(
        ((e, k) for _pk, e, k, _x, _y in nodes),
        ((eid, ext[a], ext[b]) for eid, a, b in edges.iterator(chunk_size=5000)),
        ((ext[n], p) for n, p in premises.iterator(chunk_size=5000)),
        coords={e: (x, y) for _pk, e, _k, x, y in nodes if x is not None and y is not None},
    )
    with _cache_lock:
        _cache[company_id] = (last, net)
    return net


def network_summary(company_id: int) -> dict:
    kinds = dict(
        NetworkNode.objects.filter(company_id=company_id).values_list("kind").annotate(n=Count("id"))
    )
    return {
        "nodes": sum(kinds.values()),
        "by_kind": kinds,
        "edges": NetworkEdge.objects.filter(company_id=company_id).count(),
        "valves": sorted(
            NetworkNode.objects.filter(company_id=company_id, kind="valve").values_list("ext_id", flat=True)[
                :2000
            ]
        ),
        "last_import": NetworkImport.objects.filter(company_id=company_id).order_by("-id").first(),
    }


# ---- callers (P2) -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CallerOutage:
    outage_id: int
    number: str
    state: str
    since: datetime
    until: datetime
    reason: str


def outages_for_premise(*, company_ids: list[int], premise_id: int | None) -> list[CallerOutage]:
    """Live interruptions (approved, notified or started, not restored) that include the premise —
    the desk says "该地址在停气范围内" for them."""
    if not premise_id:
        return []
    rows = (
        AffectedPremise.objects.filter(
            premise_id=premise_id,
            outage__company_id__in=company_ids,
            outage__state__in=list(LIVE_STATES),
            restored_step__isnull=True,
        )
        .select_related("outage")
        .order_by("outage__planned_start")
    )
    return [
        CallerOutage(
            a.outage_id,
            a.outage.number,
            a.outage.state,
            a.outage.actual_start or a.outage.planned_start,
            a.outage.planned_end,
            a.outage.reason,
        )
        for a in rows
    ]


def outages_for_caller(
    *, user, customer_id: int | None = None, premise_id: int | None = None
) -> list[CallerOutage]:
    from kefu.customers.models import Customer

    ids = readable_company_ids(user) if may_view(user) else []
    if not ids:
        return []
    if premise_id is None and customer_id:
        premise_id = (
            Customer.objects.filter(pk=customer_id, company_id__in=ids)
            .values_list("premise_id", flat=True)
            .first()
        )
    return outages_for_premise(company_ids=ids, premise_id=premise_id)


# ---- the public page ---------------------------------------------------------------------------------
def public_outages(company) -> list[dict]:
    """Current and planned interruptions by community (no personal data), when the operator
    switched the public page on."""
    conf = OutageSettings.objects.filter(company=company).first()
    if conf is None or not conf.public_page:
        return []
    out = []
    for o in Outage.objects.filter(company=company, state__in=list(LIVE_STATES)).order_by("planned_start"):
        communities = sorted(
            {
                c
                for c in AffectedPremise.objects.filter(outage=o)
                .values_list("premise__community", flat=True)
                .distinct()
                if c
            }
        )
        out.append({"outage": o, "communities": communities})
    return out


# ---- indicator inputs (K1–K3) ---------------------------------------------------------------------------
@dataclass
class InterruptionInput:
    outage_id: int
    number: str
    kind: str
    a: int  # Aₙ households affected
    t_hours: float  # Tₙ within the month (household-weighted: Σ steps / Aₙ)
    a_t: float  # Aₙ·Tₙ in household-hours, exact per restoration step
    notice_due: datetime | None
    notices_complete_at: datetime | None
    notice_in_time: bool | None  # planned only (C1)
    restore_limit_hours: float
    restored_at: datetime | None
    restored_in_time: bool | None  # planned only (C2)


@dataclass
class MonthInputs:
    company_id: int
    year: int
    month: int
    days: int  # B
    active_customers: int  # N
    interruptions: list[InterruptionInput] = field(default_factory=list)

    @property
    def a_t_sum(self) -> float:
        return sum(i.a_t for i in self.interruptions)

    @property
    def k1(self) -> float | None:
        return rules.k1_value(self.a_t_sum, self.active_customers, self.days)

    @property
    def k2(self) -> tuple[int, int]:
        """(planned interruptions whose notices were all in time, planned interruptions)."""
        planned = [i for i in self.interruptions if i.notice_in_time is not None]
        return sum(1 for i in planned if i.notice_in_time), len(planned)

    @property
    def k3(self) -> tuple[int, int]:
        """(planned interruptions restored within the limit, planned interruptions restored or due)."""
        planned = [i for i in self.interruptions if i.restored_in_time is not None]
        return sum(1 for i in planned if i.restored_in_time), len(planned)


def active_customers_in_month(company_id: int, year: int, month: int) -> int:
    """N: customers active at some time in the month, from the status history (a customer is
    counted when opened on or before the month's last day and either was active at the month's
    start — the latest status change before it says so, or none exists — or became active during
    it; a customer without any change up to the month's end counts by its current status). One
    counting query: the database does the work at millions of customers."""
    from datetime import date

    from django.db.models import Exists, OuterRef, Subquery

    from kefu.customers.models import Customer, CustomerStatusChange

    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    changes = CustomerStatusChange.objects.filter(customer=OuterRef("pk"))
    active = Customer.Status.ACTIVE
    return (
        Customer.objects.filter(company_id=company_id)
        .filter(Q(opened_on__isnull=True) | Q(opened_on__lte=last))
        .annotate(
            has_history=Exists(changes.filter(effective_on__lte=last)),
            at_start=Subquery(
                changes.filter(effective_on__lt=first).order_by("-effective_on", "-id").values("status")[:1]
            ),
            became_active=Exists(
                changes.filter(effective_on__gte=first, effective_on__lte=last, status=active)
            ),
        )
        .filter(
            Q(has_history=False, status=active)
            | Q(has_history=True) & (Q(at_start__isnull=True) | Q(at_start=active) | Q(became_active=True))
        )
        .count()
    )


def k_inputs(*, company, year: int, month: int) -> MonthInputs:
    """The inputs of K1–K3 for a company and month, with the records behind each figure: every
    interruption overlapping the month with Aₙ and Tₙ split at the month's bounds (Σ over
    restoration steps, so a staged restoration counts each household until its own step), N, B,
    notices in time (C1) and restorations in time (C2)."""
    tz = ZoneInfo(getattr(company, "timezone", "") or "Asia/Shanghai")
    lo, hi = rules.month_bounds(year, month, tz)
    days = calendar.monthrange(year, month)[1]
    out = MonthInputs(company.pk, year, month, days, active_customers_in_month(company.pk, year, month))
    now = timezone.now()
    qs = (
        Outage.objects.filter(company=company, actual_start__isnull=False, actual_start__lt=hi)
        .filter(Q(restored_at__isnull=True) | Q(restored_at__gt=lo))
        .exclude(state=OutageState.CANCELLED)
        .order_by("actual_start")
    )
    for o in qs:
        steps = list(RestorationStep.objects.filter(outage=o).values_list("at", "households"))
        a = o.frozen_count or AffectedPremise.objects.filter(outage=o).count()
        a_t = sum(n * rules.hours_in(o.actual_start, at, lo, hi) for at, n in steps)
        left = a - sum(n for _at, n in steps)
        if left > 0:  # not yet restored: counted until now (or the month's end)
            a_t += left * rules.hours_in(o.actual_start, min(now, hi), lo, hi)
        # K2 and K3 count an interruption once, in the month it started.
        planned = o.kind == OutageKind.PLANNED and lo <= o.actual_start < hi
        due = rules.notice_due(o.planned_start) if o.kind == OutageKind.PLANNED else None
        in_time = None
        if planned:
            in_time = o.notices_complete_at is not None and o.notices_complete_at <= due
        restored_in_time = None
        if planned and (o.restored_at is not None or now > o.actual_start + _C2):
            restored_in_time = o.restored_at is not None and o.restored_at - o.actual_start <= _C2
        out.interruptions.append(
            InterruptionInput(
                o.pk,
                o.number,
                o.kind,
                a,
                (a_t / a) if a else 0.0,
                a_t,
                due,
                o.notices_complete_at,
                in_time,
                _C2.total_seconds() / 3600,
                o.restored_at,
                restored_in_time,
            )
        )
    return out


@dataclass(frozen=True)
class SupplyLoss:
    """Households without gas from an interruption's start until one restoration step (K1's Aₙ·Tₙ,
    one row per step so a staged restoration counts each household until its own step); `end` is
    None for households not yet given their gas back (or the restoration time when the outage was
    closed without a step for them)."""

    ref: str
    start: datetime
    end: datetime | None
    households: int


def k1_losses(*, company_id: int, start: datetime, end: datetime) -> list[SupplyLoss]:
    """The supply losses overlapping [start, end) of one company, planned and emergency alike (K1
    counts every interruption, 004 第十条); cancelled outages and those never begun are left out."""
    qs = (
        Outage.objects.filter(company_id=company_id, actual_start__isnull=False, actual_start__lt=end)
        .filter(Q(restored_at__isnull=True) | Q(restored_at__gt=start))
        .exclude(state=OutageState.CANCELLED)
        .prefetch_related("steps")
        .order_by("actual_start")
    )
    out: list[SupplyLoss] = []
    for o in qs:
        affected = o.frozen_count or AffectedPremise.objects.filter(outage=o).count()
        for step in sorted(o.steps.all(), key=lambda s: s.at):
            out.append(SupplyLoss(o.number, o.actual_start, step.at, step.households))
            affected -= step.households
        if affected > 0:
            out.append(SupplyLoss(o.number, o.actual_start, o.restored_at, affected))
    return out
