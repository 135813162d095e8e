"""Where each indicator's records come from (the reporting layer reads other apps only through their
selectors).

The "within the limit" indicators K2, K3 and K6–K11 are counted from the commitment clocks of the
SPEC commitment behind each: the clock already knows its limit on China's calendar, its pauses for
accepted reasons, and the recorded fact that stopped it. A record counts in the month its clock
started. The others come from the domain apps' selectors: K1 (outages), K4 and K12 (inspections),
K5 and K14 (telephony), K13 and K15–K17 (follow-ups). An indicator without a source is 无数据 with
the method "no_source" — never a figure made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from django.db.models import Case, CharField, Count, Value, When

from kefu.kpi import formulas as f
from kefu.kpi.registry import Indicator
from kefu.sla.models import Clock, ClockKind
from kefu.sla.selectors import clocks_started_between, clocks_with_ids
from kefu.sla.states import ClockState

NO_SOURCE = "no_source"
CANCELLED = "已撤销"


@dataclass(frozen=True)
class ClockSource:
    """The clocks behind an indicator: one SPEC commitment, optionally narrowed to the commitments
    of one work-order sub-kind (C12: appliance installation vs repair) or one clock kind."""

    spec_id: str
    sub_kind: str = ""
    clock_kind: str = ""


CLOCK_SOURCES: dict[str, ClockSource] = {
    "K2": ClockSource("C1"),  # notice ≥ 48 h before a planned interruption
    "K3": ClockSource("C2"),  # supply back ≤ 24 h
    "K6": ClockSource("C8", clock_kind=ClockKind.ON_SITE),  # emergency crew on site ≤ 40 min
    "K7": ClockSource("C9"),  # installation appointment
    "K8": ClockSource("C10"),  # repair appointment
    "K9": ClockSource("C11"),  # inspection appointment
    "K10": ClockSource("C12", sub_kind="install"),  # appliance installation
    "K11": ClockSource("C12", sub_kind="repair"),  # appliance repair
}


def deadline_from(
    ref: str, state: str, due_at: datetime | None, met_at: datetime | None = None
) -> f.Deadline:
    """One clock as a record of a "within the limit" indicator: a stopped clock brings its own
    verdict (met, or met after the breach), a cancelled one is excluded, an open one its due time
    (none while paused)."""
    if state == ClockState.MET:
        return f.Deadline(ref, due_at, met_at, verdict=f.Outcome.MET)
    if state in (ClockState.MET_AFTER_BREACH, ClockState.BREACHED):
        return f.Deadline(ref, due_at, met_at, verdict=f.Outcome.MISSED)
    if state == ClockState.CANCELLED:
        return f.Deadline(ref, due_at, excluded=CANCELLED)
    return f.Deadline(ref, due_at if state == ClockState.RUNNING else None)


def deadline_of(clock: Clock) -> f.Deadline:
    """`deadline_from` for a Clock row."""
    return deadline_from(str(clock.pk), clock.state, clock.due_at, clock.met_at)


def outcome_in_database(as_of: datetime) -> Case:
    """`deadline_from` followed by `formulas.deadline_outcome`, as one SQL expression over a clock
    row, so that millions of clocks are counted where they are stored (kefu/kpi/tests/test_inputs.py
    proves the two agree on every clock state, due time and `as_of`)."""
    return Case(
        When(state=ClockState.MET, then=Value(f.Outcome.MET.value)),
        When(
            state__in=(ClockState.MET_AFTER_BREACH, ClockState.BREACHED), then=Value(f.Outcome.MISSED.value)
        ),
        When(state=ClockState.CANCELLED, then=Value(f.Outcome.EXCLUDED.value)),
        When(state=ClockState.RUNNING, due_at__lte=as_of, then=Value(f.Outcome.MISSED.value)),
        default=Value(f.Outcome.PENDING.value),
        output_field=CharField(),
    )


def source_figure(company_id: int, code: str, month: f.Month, *, as_of: datetime) -> f.Figure:
    """A clock-counted indicator (K2, K3, K6–K11) for one company and month: the outcomes counted
    by the database, the clock ids behind each read only when opened (in the clocks' start order)."""
    source = CLOCK_SOURCES[code]
    clocks = clocks_started_between(
        company_id,
        spec_id=source.spec_id,
        start=month.start,
        end=month.end,
        clock_kind=source.clock_kind,
        sub_kind=source.sub_kind,
    ).annotate(outcome=outcome_in_database(as_of))
    counts = dict(clocks.order_by().values("outcome").annotate(n=Count("pk")).values_list("outcome", "n"))

    def load() -> dict[str, list[str]]:
        refs: dict[str, list[str]] = {o.value: [] for o in f.Outcome}
        rows = clocks.order_by("started_at", "pk").values_list("outcome", "pk")
        for outcome, pk in rows.iterator(chunk_size=5000):
            refs[outcome].append(str(pk))
        return refs

    return f.counted_within(code, counts, f.LazyRecords(counts, load))


def clocks_by_ids(company_id: int, refs) -> list[Clock]:
    """The company's clocks behind a figure's record references (clock ids)."""
    return list(clocks_with_ids(company_id, [int(r) for r in refs if str(r).isdigit()]))


# ---- the domain apps' selectors: outages K1, inspections K4 K12, follow-ups K13 K15–K17, telephony K5 K14


def _k1(company, month: f.Month, as_of: datetime) -> f.Figure:
    """Every household's hours without gas in the month, one interval per restoration step of each
    interruption (planned and emergency), over the month's active customers."""
    from kefu.outages.selectors import active_customers_in_month, k1_losses

    losses = k1_losses(company_id=company.pk, start=month.start, end=month.end)
    return f.continuous_supply(
        [f.Interval(x.ref, x.start, x.end, x.households) for x in losses],
        active_customers=active_customers_in_month(company.pk, month.year, month.month),
        month=month,
        as_of=as_of,
    )


def _k4(company, month: f.Month, as_of: datetime) -> f.Figure:
    """K4 counts the year so far: households served from 1 January to the month's end (or now)."""
    from kefu.inspections.selectors import k4_inputs

    year_start = f.Month(month.year, 1, month.tz).start
    x = k4_inputs(company_id=company.pk, start=year_start, end=min(month.end, as_of))
    return f.household_inspection(x.served, active_households=x.active_households, nobody_home=x.nobody_home)


def _k12(company, month: f.Month, as_of: datetime) -> f.Figure:
    """K12 百尊安检服务 (C12: appliances inspected once a year): the appliance-ledger rows of the
    inspections programme due in the month, each with the time the appliances were inspected."""
    from kefu.inspections.selectors import k12_inputs

    rows = k12_inputs(company_id=company.pk, start=month.start, end=month.end)
    return f.within_limit("K12", [f.Deadline(ref, due, done) for ref, due, done in rows], as_of=as_of)


def _k13(company, month: f.Month, as_of: datetime) -> f.Figure:
    from kefu.followups.selectors import k13_inputs

    rows = k13_inputs(company, month.year, month.month).records
    return f.return_visits([(r["ticket"], bool(r["visit_id"])) for r in rows])


def _scores(code: str):
    def score(company, month: f.Month, as_of: datetime) -> f.Figure:
        from kefu.followups import selectors

        inputs = selectors.k15_inputs if code == "K15" else selectors.k16_inputs
        rows = inputs(company, month.year, month.month).records
        return f.mean_score(code, [(r["ticket"] or str(r["visit_id"]), r["score"]) for r in rows])

    return score


def _k17(company, month: f.Month, as_of: datetime) -> f.Figure:
    """Complaints and suggestions received in the month, answered within 2 working days (the
    follow-ups app decides what answers them: the reply after a complaint's judgement)."""
    from kefu.followups.selectors import k17_inputs

    rows = k17_inputs(company, month.year, month.month).records
    return f.within_limit(
        "K17", [f.Deadline(r["ticket"], r["due_at"], r["answered_at"]) for r in rows], as_of=as_of
    )


def _k14(company, month: f.Month, as_of: datetime) -> f.Figure:
    from kefu.telephony.selectors import k14_calls

    calls = k14_calls(company=company, year=month.year, month=month.month).values_list("pk", "rings")
    return f.service_phone([(str(pk), rings) for pk, rings in calls])


def _k5(company, month: f.Month, as_of: datetime) -> f.Figure:
    """The hotline counts as tracked for the month when kefu received its call events (any call of
    the month) or an out-of-service period was recorded."""
    from kefu.telephony.selectors import k5_periods, k14_calls

    periods = list(k5_periods(company=company, year=month.year, month=month.month))
    tracked = bool(periods) or k14_calls(company=company, year=month.year, month=month.month).exists()
    outages = [f.Interval(str(p.pk), p.started_at, p.ended_at) for p in periods]
    return f.hotline_availability(outages, month=month, as_of=as_of, tracked=tracked)


DOMAIN_SOURCES = {
    "K1": _k1,
    "K4": _k4,
    "K12": _k12,
    "K5": _k5,
    "K13": _k13,
    "K14": _k14,
    "K15": _scores("K15"),
    "K16": _scores("K16"),
    "K17": _k17,
}


def compute(company_id: int, indicator: Indicator, month: f.Month, *, as_of: datetime) -> f.Figure:
    """The indicator's figure for one company and month, taken at `as_of`."""
    if indicator.code in CLOCK_SOURCES:
        return source_figure(company_id, indicator.code, month, as_of=as_of)
    if indicator.code in DOMAIN_SOURCES:
        from kefu.accounts.models import Company

        company = Company.objects.get(pk=company_id)
        return DOMAIN_SOURCES[indicator.code](company, month, as_of)
    return f.Figure(indicator.code, None, Fraction(0), Fraction(0), method=NO_SOURCE)
