"""Pure telephony maths: rings, a call's story from its events, out-of-service minutes and chat timing.

No database and no clock in here (ARCHITECTURE.md): the services and selectors pass the events,
the hotline's settings and `now`. Tested with tables of cases and hypothesis.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kefu.telephony.states import AbandonReason, CallStatus, ChatSender, HangupBy, OfferResult

# ------------------------------------------------------------------------------------------- rings


def rings_for(ring_ms: int, cycle_ms: int) -> int:
    """The number of rings the caller heard before the answer (C13, K14).

    Ring k begins at (k − 1) × cycle (China: 1 s on, 4 s off, a ring every 5 s), so an answer at
    `ring_ms` milliseconds has heard ceil(ring_ms / cycle) rings — at least one. An answer exactly
    on a cycle boundary (15.000 s with a 5 s cycle) comes before the next ring begins: 3 rings.
    """
    if ring_ms < 0:
        raise ValueError("negative ring time")
    if cycle_ms <= 0:
        raise ValueError("ring cycle must be positive")
    return max(1, math.ceil(ring_ms / cycle_ms))


def ms_between(a: datetime, b: datetime) -> int:
    """Milliseconds from a to b (b ≥ a expected; negative when not)."""
    return int(round((b - a) / timedelta(milliseconds=1)))


# ------------------------------------------------------------------------------- a call's story

#: Order of kinds that share one timestamp: a call starts before it is queued, offered, answered …
KIND_ORDER = {
    "call.started": 0,
    "call.ivr": 1,
    "call.queued": 2,
    "call.offered": 3,
    "call.offer_ended": 4,
    "call.answered": 5,
    "call.transferred": 6,
    "call.recording": 7,
    "call.abandoned": 8,
    "call.ended": 9,
}
CALL_KINDS = frozenset(KIND_ORDER)


class BadEvent(ValueError):
    """An event that makes the call's story impossible (a negative duration)."""


@dataclass
class Ev:
    kind: str
    at: datetime
    data: dict
    event_id: str = ""


@dataclass
class OfferStory:
    agent: str
    ring_start: datetime
    ring_end: datetime | None = None
    result: str = OfferResult.RINGING

    @property
    def ring_ms(self) -> int | None:
        return ms_between(self.ring_start, self.ring_end) if self.ring_end else None


@dataclass
class CallStory:
    """What a call's events say, whatever order they came in."""

    started_at: datetime
    caller: str = ""
    linked_id: str = ""
    direction: str = "in"
    queue: str = ""
    ivr_path: list[str] = field(default_factory=list)
    queued_at: datetime | None = None
    first_ring_at: datetime | None = None
    answered_at: datetime | None = None
    answered_agent: str = ""
    ended_at: datetime | None = None
    hangup_by: str = ""
    abandon_reason: str = ""
    recording: str = ""
    offers: list[OfferStory] = field(default_factory=list)
    transfers: list[tuple[datetime, str, str]] = field(default_factory=list)
    status: str = CallStatus.IVR
    wait_ms: int | None = None
    ring_ms: int | None = None
    rings: int | None = None
    within_rings: bool | None = None
    talk_ms: int | None = None
    no_rings: bool = False  # the source records no ring times (a CDR import): rings unknown, K14 fallback


def _sorted(events: Iterable[Ev]) -> list[Ev]:
    return sorted(events, key=lambda e: (e.at, KIND_ORDER.get(e.kind, 99), e.event_id))


def call_story(events: Sequence[Ev], *, cycle_ms: int, answer_rings: int) -> CallStory:
    """Replay a call's events in time order and derive its columns. Duplicates must already be
    removed (by event id). Raises BadEvent when the times cannot be true (an answer before the
    call started, an end before the answer, a ring that ends before it starts)."""
    evs = _sorted(events)
    if not evs:
        raise BadEvent("no events")
    starts = [e for e in evs if e.kind == "call.started"]
    start = starts[0].at if starts else evs[0].at
    if starts and evs[0].at < start:
        raise BadEvent(f"{evs[0].kind} at {evs[0].at.isoformat()} is before the call started")
    s = CallStory(started_at=start)
    open_offers: dict[str, OfferStory] = {}
    for e in evs:
        d = e.data
        if e.kind == "call.started":
            s.caller = s.caller or d.get("caller", "")
            s.linked_id = s.linked_id or d.get("linked_id", "")
            s.direction = d.get("direction") or s.direction
            if d.get("queue"):
                s.queue = d["queue"]
            s.no_rings = s.no_rings or bool(d.get("no_rings"))
        elif e.kind == "call.ivr":
            if d.get("node"):
                s.ivr_path.append(str(d["node"]))
        elif e.kind == "call.queued":
            s.queued_at = s.queued_at or e.at
            s.queue = d.get("queue") or s.queue
            s.status = CallStatus.QUEUED if s.answered_at is None else s.status
        elif e.kind == "call.offered":
            agent = d.get("agent", "")
            o = OfferStory(agent=agent, ring_start=e.at)
            s.offers.append(o)
            open_offers[agent] = o
            s.first_ring_at = s.first_ring_at or e.at
            if s.answered_at is None:
                s.status = CallStatus.RINGING
        elif e.kind == "call.offer_ended":
            o = open_offers.pop(d.get("agent", ""), None)
            if o is not None:
                o.ring_end, o.result = e.at, d.get("result") or OfferResult.NO_ANSWER
            if s.answered_at is None and not open_offers:
                s.status = CallStatus.QUEUED
        elif e.kind == "call.answered":
            agent = d.get("agent", "")
            o = open_offers.pop(agent, None)
            if o is None:  # the PBX sent no ring for this agent: a zero-length offer
                o = OfferStory(agent=agent, ring_start=e.at)
                s.offers.append(o)
                s.first_ring_at = s.first_ring_at or e.at
            o.ring_end, o.result = e.at, OfferResult.ANSWERED
            if s.answered_at is None:  # the first answer counts (C13); a transfer's answer is an offer
                s.answered_at, s.answered_agent = e.at, agent
            s.status = CallStatus.CONNECTED
        elif e.kind == "call.transferred":
            s.transfers.append((e.at, d.get("agent", ""), d.get("to", "")))
        elif e.kind == "call.recording":
            s.recording = d.get("ref", "") or s.recording
        elif e.kind in ("call.abandoned", "call.ended"):
            if s.ended_at is None:
                s.ended_at = e.at
            if e.kind == "call.abandoned" or s.answered_at is None:
                s.abandon_reason = s.abandon_reason or d.get("reason") or _abandon_reason(s)
            if d.get("hangup_by"):
                s.hangup_by = d["hangup_by"]
            for o in open_offers.values():
                o.ring_end, o.result = e.at, OfferResult.CANCELLED
            open_offers.clear()
    _check(s)
    _derive(s, cycle_ms=cycle_ms, answer_rings=answer_rings)
    return s


def _abandon_reason(s: CallStory) -> str:
    if s.first_ring_at is not None:
        return AbandonReason.RINGING
    if s.queued_at is not None:
        return AbandonReason.IN_QUEUE
    return AbandonReason.IN_IVR


#: No call lasts longer than this: an event further from the call's start is a wrong id or clock.
MAX_CALL = timedelta(hours=24)
MAX_RINGS = 32767


def _check(s: CallStory) -> None:
    last = max([s.started_at, s.ended_at or s.started_at] + [o.ring_end or o.ring_start for o in s.offers])
    if last - s.started_at > MAX_CALL:
        raise BadEvent("the call would last more than 24 hours")
    for o in s.offers:
        if o.ring_end is not None and o.ring_end < o.ring_start:
            raise BadEvent("a ring ends before it starts")
    if s.answered_at and s.ended_at and s.ended_at < s.answered_at:
        raise BadEvent("the call ends before it was answered")


def _derive(s: CallStory, *, cycle_ms: int, answer_rings: int) -> None:
    if s.ended_at is not None:
        s.status = CallStatus.ENDED if s.answered_at else CallStatus.ABANDONED
        if s.answered_at is not None:
            s.abandon_reason = ""
        if not s.hangup_by and s.answered_at is None:
            s.hangup_by = HangupBy.CUSTOMER
    # C13 counts from the moment the call reaches the people: the queue (or the first ring when the
    # PBX has no queue; the call's start when neither was reported).
    reached = s.queued_at or s.first_ring_at or s.started_at
    if s.answered_at is not None:
        s.ring_ms = max(0, ms_between(reached, s.answered_at))
        s.wait_ms = s.ring_ms
        if not s.no_rings:
            s.rings = min(rings_for(s.ring_ms, cycle_ms), MAX_RINGS)
            s.within_rings = s.rings <= answer_rings
        if s.ended_at is not None:
            s.talk_ms = ms_between(s.answered_at, s.ended_at)
    elif s.ended_at is not None:
        s.wait_ms = max(0, ms_between(reached, s.ended_at))


# ----------------------------------------------------------------------------------- indicators


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to count."""
    return None if denominator == 0 else numerator / denominator


def k5_availability(minutes_out: float, minutes_in_month: float) -> float:
    """K5 emergency hotline: 1 − minutes out of service / minutes in the month (seed 004 第十条5)."""
    if minutes_in_month <= 0:
        raise ValueError("a month has minutes")
    return 1 - min(minutes_out, minutes_in_month) / minutes_in_month


def merged_minutes(
    periods: Iterable[tuple[datetime, datetime | None]], start: datetime, end: datetime, now: datetime
) -> float:
    """Minutes covered by the union of `periods` inside [start, end) (an open period runs to `now`).
    Overlapping causes (the PBX link lost while the trunk was down) count once."""
    clipped = []
    for a, b in periods:
        b = b or now
        a, b = max(a, start), min(b, end, max(now, start))
        if b > a:
            clipped.append((a, b))
    clipped.sort()
    total = timedelta()
    cur_a = cur_b = None
    for a, b in clipped:
        if cur_b is None or a > cur_b:
            if cur_b is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None:
        total += cur_b - cur_a
    return total / timedelta(minutes=1)


# ------------------------------------------------------------------------------------ chat (C18)


@dataclass(frozen=True)
class ChatTiming:
    greeting_ms: int | None  # first human message after the customer's arrival (or hand-off)
    answer_ms: tuple[int, ...]  # each human answer after a customer message


def chat_timing(messages: Sequence[tuple[str, datetime]], human_from: Sequence[datetime]) -> ChatTiming:
    """C18: the first human greeting ≤ 15 s after the customer arrives, every answer ≤ 20 s.

    `messages` are (sender, at) in time order; `human_from` the moments a person became due: the
    arrival (or the bot's hand-off) and every reopening. Bot and system messages are neither
    greetings nor answers. The greeting is the first agent message after the latest `human_from`
    at or before it; an answer is the first agent message after a customer message that a person
    owes an answer to (customer messages while a greeting is still owed wait for the greeting)."""
    greeting_ms = None
    answers: list[int] = []
    starts = sorted(human_from)
    owed_since: datetime | None = None  # the first unanswered customer message since the last answer
    greeting_due: datetime | None = starts[0] if starts else None
    next_start = 1
    for sender, at in messages:
        while next_start < len(starts) and starts[next_start] <= at:
            greeting_due, owed_since = starts[next_start], None
            next_start += 1
        if sender == ChatSender.CUSTOMER:
            if greeting_due is None and owed_since is None:
                owed_since = at
        elif sender == ChatSender.AGENT:
            if greeting_due is not None and at >= greeting_due:
                if greeting_ms is None:
                    greeting_ms = ms_between(greeting_due, at)
                greeting_due, owed_since = None, None
            elif owed_since is not None:
                answers.append(ms_between(owed_since, at))
                owed_since = None
    return ChatTiming(greeting_ms=greeting_ms, answer_ms=tuple(answers))
