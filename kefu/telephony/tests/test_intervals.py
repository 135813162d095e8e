"""The pre-aggregated half-hours (CallInterval) kept on ingest equal a recount from the calls, whatever
the order, batching and duplication of the events (wallboard C13 share, Erlang C inputs)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from kefu.telephony.models import CallInterval
from kefu.telephony.services import (
    INTERVAL_COLUMNS,
    call_events_ingest,
    call_intervals_rebuild,
    interval_start,
)
from kefu.telephony.tests.conftest import answered_trace, ev

pytestmark = pytest.mark.django_db


def _rows(company):
    return sorted(
        (r.hotline_id, r.start, *(getattr(r, c) for c in INTERVAL_COLUMNS))
        for r in CallInterval.objects.filter(company=company)
        if any(getattr(r, c) for c in INTERVAL_COLUMNS)
    )


def test_interval_start_is_the_utc_half_hour():
    assert interval_start(datetime(2026, 3, 10, 2, 29, 59, tzinfo=UTC)) == datetime(
        2026, 3, 10, 2, 0, tzinfo=UTC
    )
    assert interval_start(datetime(2026, 3, 10, 2, 30, tzinfo=UTC)) == datetime(
        2026, 3, 10, 2, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_kept_on_ingest_equal_a_recount(feed_x, hotline_x, seats, t0, company_x, seed):
    rnd = random.Random(seed)
    events = []
    for i in range(12):
        start = t0 + timedelta(minutes=rnd.randint(0, 90))
        if i % 4 == 3:  # abandoned in the queue, some of them short
            wait = rnd.choice([2, 30])
            events += [
                ev(f"x{i}-1", "call.started", start, f"x{i}", hotline="96777"),
                ev(f"x{i}-2", "call.queued", start, f"x{i}", queue="service"),
                ev(f"x{i}-3", "call.abandoned", start + timedelta(seconds=wait), f"x{i}", reason="in_queue"),
            ]
        else:
            trace = answered_trace(start, f"x{i}")
            if i % 3 == 0:  # answered at 20 s: beyond 3 rings
                trace[3]["at"] = start + timedelta(seconds=20)
            events += trace
    firsts = [e for e in events if e["type"] == "call.started"]  # a call is known by its first event
    rest = [e for e in events if e["type"] != "call.started"]
    rest += rnd.sample(events, 8)  # duplicates
    rnd.shuffle(rest)  # any order: an end may arrive before the answer
    events = firsts + rest
    for k in range(0, len(events), 7):
        call_events_ingest(by=feed_x, events=events[k : k + 7])
    kept = _rows(company_x)
    call_intervals_rebuild(company=company_x)
    assert kept == _rows(company_x)
    totals = [sum(r[2 + i] for r in kept) for i in range(len(INTERVAL_COLUMNS))]
    by = dict(zip(INTERVAL_COLUMNS, totals, strict=True))
    assert by["calls"] == 12 and by["abandoned"] == 3 and by["answered"] == 9
