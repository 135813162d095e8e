"""Telephony writes: call events in (API, adapters, CDR import), agent states, hotline outages (K5),
the screen pop (P2), chats (C18), transcripts and recordings.

`call_events_ingest` is the one door for call events: idempotent by event id, tolerant of order
and duplicates (a call's columns are recomputed from all its stored events), and it refuses an
event that names another company's hotline, an unknown call, or times that make a duration negative
— each refusal kept in `RejectedEvent`, logged and audited.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from urllib.parse import urlencode

from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditEvent
from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError, NotFound
from kefu.core.events import publish
from kefu.telephony import rules
from kefu.telephony.facts import CallAnswered, TranscriptAvailable
from kefu.telephony.models import (
    AgentProfile,
    AgentStateChange,
    Call,
    CallEvent,
    CallInterval,
    CallOffer,
    CallTicket,
    CallTransfer,
    ChatMessage,
    ChatSession,
    Hotline,
    HotlineOutage,
    RejectedEvent,
    Transcript,
)
from kefu.telephony.states import (
    AgentState,
    CallStatus,
    ChatSender,
    ChatStatus,
    NotReadyReason,
    OutageCause,
    StateSource,
    TranscriptSource,
)

log = logging.getLogger(__name__)

AGENT_KINDS = frozenset({"agent.state"})
LINK_KINDS = frozenset({"hotline.down", "hotline.up", "pbx.link_lost", "pbx.link_restored"})
KINDS = rules.CALL_KINDS | AGENT_KINDS | LINK_KINDS
#: An event may not claim a time further ahead than this (clock skew between PBX and kefu).
FUTURE_SLACK = timedelta(minutes=5)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (event id, message)


@dataclass
class _In:
    event_id: str
    kind: str
    at: datetime
    call_id: str
    data: dict


_HEAD = frozenset({"event_id", "type", "kind", "at", "call_id"})


def _as_in(raw: dict) -> _In:
    data = {
        k: (v if isinstance(v, (str, int, float, bool)) else str(v))
        for k, v in raw.items()
        if k not in _HEAD and v is not None and v != ""
    }
    return _In(
        event_id=str(raw.get("event_id") or ""),
        kind=str(raw.get("type") or raw.get("kind") or ""),
        at=raw.get("at"),
        call_id=str(raw.get("call_id") or ""),
        data=data,
    )


def _hotlines(company) -> dict[str, Hotline]:
    return {h.number: h for h in Hotline.objects.filter(company=company)}


def call_events_ingest(*, by, events: list[dict], source: str = "api") -> IngestResult:
    """Store call, agent and link events of `by`'s company and bring every touched call up to date
    (item 1). Idempotent by `event_id`; out-of-order and duplicated events give the same calls.
    Refused events are listed in the result with their message (and kept in RejectedEvent)."""
    assert_perm(by, Perm.TELEPHONY_FEED)
    company = by.company
    if company is None:
        raise DomainError(_("此账号不属于任何公司，不能接入交换机事件。"))
    now = timezone.now()
    result = IngestResult()
    lines = _hotlines(company)
    batch: list[_In] = []
    seen: set[str] = set()
    for raw in events:
        ev = _as_in(raw)
        message = _check_event(ev, company, lines, now)
        if message:
            _reject(company, ev, message, result)
            continue
        if ev.event_id in seen:
            result.duplicates += 1
            continue
        seen.add(ev.event_id)
        batch.append(ev)
    if not batch:
        return result
    with transaction.atomic():
        known = set(
            CallEvent.objects.filter(company=company, event_id__in=[e.event_id for e in batch]).values_list(
                "event_id", flat=True
            )
        )
        fresh = [e for e in batch if e.event_id not in known]
        result.duplicates += len(batch) - len(fresh)
        by_call: dict[str, list[_In]] = defaultdict(list)
        others: list[_In] = []
        for e in fresh:
            (by_call[e.call_id] if e.kind in rules.CALL_KINDS else others).append(e)
        stored: list[_In] = []
        if by_call:
            stored += _apply_calls(company, lines, by_call, result, now)
        for e in sorted(others, key=lambda e: e.at):
            message = _apply_other(company, lines, e, now)
            if message:
                _reject(company, e, message, result)
            else:
                stored.append(e)
        ops = connection.ops
        at_db, js = ops.adapt_datetimefield_value, ops.adapt_json_value
        src, received = source[:20], at_db(now)
        _insert(
            CallEvent,
            ("company_id", "event_id", "call_id", "kind", "at", "data", "source", "received_at"),
            [
                (company.pk, e.event_id, e.call_id, e.kind, at_db(e.at), js(e.data, None), src, received)
                for e in stored
            ],
            ignore_conflicts=True,
        )
        result.accepted += len(stored)
    return result


#: psycopg caches the parsing of a statement only up to this length (psycopg._queries
#: MAX_CACHED_STATEMENT_LENGTH); a longer one is re-parsed on every execution, which cost more than
#: the insert itself (profiled: 15 ms per 500-row INSERT of calls). Statements are kept under it.
_CACHED_SQL = 4096


def _multi_insert_sql(table: str, cols: list[str], rows: int, tail: str = "") -> str:
    row = f"({', '.join(['%s'] * len(cols))})"
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([row] * rows)}{tail}"


def _chunk_rows(table: str, cols: list[str], tail: str) -> int:
    """The most rows per INSERT whose statement stays under _CACHED_SQL (at least 1, at most 64)."""
    k = 64
    while k > 1 and len(_multi_insert_sql(table, cols, k, tail)) > _CACHED_SQL:
        k -= 1
    return k


def _insert(model, columns: tuple[str, ...], rows: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """Many rows in multi-row INSERTs of a fixed size, without building a model instance per row: the
    ingest's hot path (a batch of 600 events is ~1,000 rows; the ORM's per-instance work was most of
    its time, then psycopg's parsing of uncached long statements). Values are adapted by the caller
    with the connection's own adapters (datetimes, JSON)."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table, cols = qn(model._meta.db_table), [qn(c) for c in columns]
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    k = _chunk_rows(table, cols, tail)
    with connection.cursor() as cursor:
        for i in range(0, len(rows), k):
            chunk = rows[i : i + k]
            cursor.execute(_multi_insert_sql(table, cols, len(chunk), tail), [v for r in chunk for v in r])


def _insert_calls(calls: list[Call]) -> None:
    """INSERT … RETURNING id for a batch's new calls (PostgreSQL, and SQLite ≥ 3.35), the values taken
    straight from the instances (the ORM's bulk_create spent more time compiling than inserting), in
    statements short enough for psycopg to cache their parsing."""
    from django.db.models import DateTimeField

    fields = [f for f in Call._meta.concrete_fields if not f.primary_key]
    at_db = connection.ops.adapt_datetimefield_value
    qn = connection.ops.quote_name
    table, cols = qn(Call._meta.db_table), [qn(f.column) for f in fields]
    tail = f" RETURNING {qn('id')}"
    k = _chunk_rows(table, cols, tail)
    for i in range(0, len(calls), k):
        chunk = calls[i : i + k]
        params = [
            at_db(v) if isinstance(f, DateTimeField) else v
            for c in chunk
            for f in fields
            for v in (getattr(c, f.attname),)
        ]
        with connection.cursor() as cursor:
            cursor.execute(_multi_insert_sql(table, cols, len(chunk), tail), params)
            ids = [r[0] for r in cursor.fetchall()]
        for c, pk in zip(chunk, ids, strict=True):
            c.pk = pk
            c._state.adding, c._state.db = False, connection.alias


def _check_event(ev: _In, company, lines: dict[str, Hotline], now: datetime) -> str:
    if not ev.event_id or len(ev.event_id) > 120:
        return _("缺少事件标识 event_id（或超过 120 个字符）。")
    if ev.kind not in KINDS:
        return _("未知的事件类型：%(k)s") % {"k": ev.kind[:40]}
    if not isinstance(ev.at, datetime) or timezone.is_naive(ev.at):
        return _("事件时间必须带时区。")
    if ev.at > now + FUTURE_SLACK:
        return _("事件时间在未来：%(t)s") % {"t": ev.at.isoformat()}
    if ev.kind in rules.CALL_KINDS and not ev.call_id:
        return _("通话事件缺少通话标识 call_id。")
    if len(ev.call_id) > 80:
        return _("通话标识超过 80 个字符。")
    number = ev.data.get("hotline")
    if number and number not in lines:
        if Hotline.objects.filter(number=number).exclude(company=company).exists():
            return _("热线号码 %(n)s 不属于本公司。") % {"n": number}
        return _("未登记的热线号码：%(n)s") % {"n": number}
    for key in ("duration_ms", "ring_ms", "wait_ms"):
        if key in ev.data:
            try:
                if float(ev.data[key]) < 0:
                    return _("时长不能为负数：%(k)s") % {"k": key}
            except ValueError:
                return _("时长必须是数字：%(k)s") % {"k": key}
    return ""


def _reject(company, ev: _In, message: str, result: IngestResult) -> None:
    result.rejected.append((ev.event_id, message))
    log.warning("telephony event %s refused: %s", ev.event_id, message)
    data = {
        "type": ev.kind,
        "call_id": ev.call_id,
        "at": ev.at.isoformat() if isinstance(ev.at, datetime) else str(ev.at),
        **ev.data,
    }
    RejectedEvent.objects.create(company=company, event_id=ev.event_id[:120], reason=message[:300], data=data)
    audit_record(
        action=Action.CALL_EVENT_REJECTED,
        result=AuditEvent.Result.DENIED,
        company=company,
        object_type="telephony.callevent",
        object_id=ev.event_id[:64],
        object_repr=ev.call_id[:200],
        detail={"reason": message},
    )


def _stories_input(rows) -> list[rules.Ev]:
    return [rules.Ev(kind=r.kind, at=r.at, data=r.data, event_id=r.event_id) for r in rows]


def _apply_calls(company, lines, by_call: dict[str, list[_In]], result: IngestResult, now) -> list[_In]:
    calls = {
        c.call_id: c
        for c in Call.objects.select_for_update().filter(company=company, call_id__in=list(by_call))
    }
    old: dict[str, list[rules.Ev]] = defaultdict(list)
    for row in CallEvent.objects.filter(company=company, call_id__in=list(by_call)).only(
        "event_id", "kind", "at", "data", "call_id"
    ):
        old[row.call_id].append(rules.Ev(row.kind, row.at, row.data, row.event_id))
    agents = _agent_users(company)
    profiles = {p.user_id: p for p in AgentProfile.objects.filter(company=company)}
    by_pk = {h.pk: h for h in lines.values()}
    stored: list[_In] = []
    done: list[tuple[Call, bool, bool, rules.CallStory]] = []
    deltas: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0] * len(INTERVAL_COLUMNS))
    for call_id, new in by_call.items():
        call = calls.get(call_id)
        number = next((e.data["hotline"] for e in new if e.data.get("hotline")), None)
        if call is not None:
            hotline = by_pk.get(call.hotline_id) or call.hotline
        else:
            hotline = lines.get(number) if number else None
        if hotline is None:
            for e in new:
                _reject(company, e, _("未知通话：%(c)s（首个事件须带热线号码）") % {"c": call_id}, result)
            continue
        accepted = list(old[call_id])
        candidates = [rules.Ev(e.kind, e.at, e.data, e.event_id) for e in new]
        try:
            story = rules.call_story(
                accepted + candidates, cycle_ms=hotline.ring_cycle_ms, answer_rings=hotline.answer_rings
            )
            ok = new
        except rules.BadEvent:
            ok, story = [], None
            for e, cand in sorted(zip(new, candidates, strict=True), key=lambda p: p[0].at):
                try:
                    story = rules.call_story(
                        accepted + [cand], cycle_ms=hotline.ring_cycle_ms, answer_rings=hotline.answer_rings
                    )
                except rules.BadEvent as exc:
                    _reject(company, e, _("时间顺序不可能（时长为负）：%(m)s") % {"m": str(exc)}, result)
                else:
                    accepted.append(cand)
                    ok.append(e)
        if not ok or story is None:
            continue
        stored += ok
        existed = call is not None
        was_answered = existed and call.answered_at is not None
        if call is None:
            call = Call(company=company, call_id=call_id)
        else:
            _interval_add(deltas, call, by_pk.get(call.hotline_id) or hotline, -1)
        _fill_call(call, hotline, story, agents)
        _interval_add(deltas, call, hotline, +1)
        done.append((call, existed, was_answered, story))
    if done:
        _save_calls(company, done, agents, profiles)
        _intervals_apply(company.pk, deltas)
    return stored


# ------------------------------------------------------------------------- pre-aggregated intervals

#: The interval of the pre-aggregated counts (CallInterval) and of the Erlang C staffing.
INTERVAL = timedelta(minutes=30)
INTERVAL_COLUMNS = (
    "calls", "offered", "answered", "within_rings", "with_rings", "abandoned", "short_abandoned",
    "talked", "talk_ms",
)  # fmt: skip
_WAITING = frozenset({CallStatus.IVR, CallStatus.QUEUED, CallStatus.RINGING})


def interval_start(at: datetime) -> datetime:
    """The UTC half-hour an instant falls in (UTC-aligned: a Shanghai day is 48 whole intervals)."""
    u = at.astimezone(dt_timezone.utc)
    return u.replace(minute=u.minute - u.minute % 30, second=0, microsecond=0)


def interval_contribution(
    *, status: str, answered: bool, within_rings, rings, wait_ms, talk_ms, short_ms: int
) -> tuple[int, ...]:
    """What one call adds to its interval's counts, in INTERVAL_COLUMNS order (the same filters the
    wallboard and call_figures apply to the calls: offered = no longer waiting; a short abandon waited
    less than the hotline's threshold)."""
    abandoned = status == CallStatus.ABANDONED
    talked = answered and talk_ms is not None
    return (
        1,
        int(status not in _WAITING),
        int(answered),
        int(within_rings is True),
        int(answered and rings is not None),
        int(abandoned),
        int(abandoned and wait_ms is not None and wait_ms < short_ms),
        int(talked),
        talk_ms if talked else 0,
    )


def _interval_add(deltas, call: Call, hotline: Hotline, sign: int) -> None:
    vec = interval_contribution(
        status=call.status,
        answered=call.answered_at is not None,
        within_rings=call.within_rings,
        rings=call.rings,
        wait_ms=call.wait_ms,
        talk_ms=call.talk_ms,
        short_ms=hotline.short_abandon_ms,
    )
    acc = deltas[(hotline.pk, interval_start(call.started_at))]
    for i, v in enumerate(vec):
        acc[i] += sign * v


def _intervals_apply(company_id: int, deltas) -> None:
    """Add the batch's changes to the interval rows in one upsert (`x = x + excluded.x`, PostgreSQL
    and SQLite alike). Keys are sorted so two concurrent batches lock the rows in the same order."""
    rows = [
        (company_id, hotline_id, connection.ops.adapt_datetimefield_value(start), *vec)
        for (hotline_id, start), vec in sorted(deltas.items())
        if any(vec)
    ]
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(CallInterval._meta.db_table)
    cols = ("company_id", "hotline_id", "start", *INTERVAL_COLUMNS)
    sets = ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in INTERVAL_COLUMNS)
    sql = (
        f"INSERT INTO {table} ({', '.join(qn(c) for c in cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
        f"ON CONFLICT ({qn('hotline_id')}, {qn('start')}) DO UPDATE SET {sets}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def call_intervals_rebuild(*, company, hotline: Hotline | None = None) -> int:
    """Recompute a company's interval counts (or one hotline's) from its calls (after a bulk load, a
    restore, or a change of a hotline's short-abandon threshold). Returns the interval rows written."""
    with transaction.atomic():
        lines = {h.pk: h for h in Hotline.objects.select_for_update().filter(company=company)}
        scope = {"company": company} if hotline is None else {"company": company, "hotline": hotline}
        CallInterval.objects.filter(**scope).delete()
        acc: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0] * len(INTERVAL_COLUMNS))
        rows = Call.objects.filter(**scope).values_list(
            "hotline_id", "started_at", "status", "answered_at", "within_rings", "rings", "wait_ms", "talk_ms"
        )
        for hotline_id, started, status, answered_at, within, rings, wait_ms, talk_ms in rows.iterator(
            chunk_size=5000
        ):
            vec = interval_contribution(
                status=status,
                answered=answered_at is not None,
                within_rings=within,
                rings=rings,
                wait_ms=wait_ms,
                talk_ms=talk_ms,
                short_ms=lines[hotline_id].short_abandon_ms,
            )
            a = acc[(hotline_id, interval_start(started))]
            for i, v in enumerate(vec):
                a[i] += v
        CallInterval.objects.bulk_create(
            [
                CallInterval(
                    company_id=company.pk,
                    hotline_id=h,
                    start=start,
                    **dict(zip(INTERVAL_COLUMNS, v, strict=True)),
                )
                for (h, start), v in acc.items()
            ],
            batch_size=2000,
        )
    return len(acc)


def _agent_users(company) -> dict[str, int]:
    return dict(AgentProfile.objects.filter(company=company).values_list("pbx_agent", "user_id"))


CALL_FIELDS = (
    "hotline", "linked_id", "caller_number", "queue", "direction", "ivr_path", "status", "started_at",
    "queued_at", "first_ring_at", "answered_at", "answered_by", "answered_agent", "ended_at", "hangup_by",
    "abandon_reason", "wait_ms", "rings", "within_rings", "talk_ms", "transfers", "recording_ref",
)  # fmt: skip


def _fill_call(call: Call, hotline, s: rules.CallStory, agents: dict[str, int]) -> None:
    call.hotline = hotline
    call.linked_id = s.linked_id[:80]
    call.caller_number = s.caller[:40]
    call.queue = s.queue[:60]
    call.direction = s.direction if s.direction in ("in", "out") else "in"
    call.ivr_path = ">".join(s.ivr_path)[:200]
    call.status = s.status
    call.started_at, call.queued_at, call.first_ring_at = s.started_at, s.queued_at, s.first_ring_at
    call.answered_at, call.answered_by_id = s.answered_at, agents.get(s.answered_agent)
    call.answered_agent = s.answered_agent[:60]
    call.ended_at = s.ended_at
    call.hangup_by = s.hangup_by if s.hangup_by in ("customer", "agent", "system") else ""
    call.abandon_reason = s.abandon_reason
    call.wait_ms, call.rings, call.within_rings, call.talk_ms = s.wait_ms, s.rings, s.within_rings, s.talk_ms
    call.transfers = len(s.transfers)
    call.recording_ref = s.recording[:300]


def _save_calls(company, done: list[tuple[Call, bool, bool, rules.CallStory]], agents, profiles) -> None:
    """Write the touched calls of one batch in a few statements: new calls in one INSERT, changed
    ones in one UPDATE, their offers and transfers replaced, each agent's state moved once."""
    new = [c for c, existed, _w, _s in done if not existed]
    old = [c for c, existed, _w, _s in done if existed]
    if new:
        _insert_calls(new)
    if old:
        Call.objects.bulk_update(old, CALL_FIELDS)
        CallOffer.objects.filter(call__in=old).delete()
        CallTransfer.objects.filter(call__in=old).delete()
    offers, transfers = [], []
    latest: dict[int, tuple[datetime, str]] = {}
    for call, _existed, was_answered, s in done:
        offers += [
            CallOffer(
                call=call, company=company, agent=o.agent[:60], user_id=agents.get(o.agent),
                ring_start=o.ring_start, ring_end=o.ring_end, result=o.result, ring_ms=o.ring_ms,
            )
            for o in s.offers
        ]  # fmt: skip
        transfers += [
            CallTransfer(call=call, at=at, from_agent=a[:60], to=t[:60]) for at, a, t in s.transfers
        ]
        if call.answered_by_id:  # without a PBX feed of agent states: on the call, then wrap-up
            at, state = (
                (s.ended_at, AgentState.WRAP_UP) if s.ended_at else (s.answered_at, AgentState.ON_CALL)
            )
            if call.answered_by_id not in latest or latest[call.answered_by_id][0] < at:
                latest[call.answered_by_id] = (at, state)
        if call.answered_at is not None and not was_answered:
            publish(CallAnswered(call_id=call.pk, company_id=company.pk, user_id=call.answered_by_id))
    at_db = connection.ops.adapt_datetimefield_value
    _insert(
        CallOffer,
        ("call_id", "company_id", "agent", "user_id", "ring_start", "ring_end", "result", "ring_ms"),
        [
            (
                o.call.pk,
                company.pk,
                o.agent,
                o.user_id,
                at_db(o.ring_start),
                at_db(o.ring_end),
                o.result,
                o.ring_ms,
            )
            for o in offers
        ],
    )
    if transfers:
        CallTransfer.objects.bulk_create(transfers)
    for user_id, (at, state) in latest.items():
        if (profile := profiles.get(user_id)) is not None:
            _state_move(profile, state, "", at, StateSource.PBX)


# ------------------------------------------------------------------------------ agent states


def _state_move(
    profile: AgentProfile, state: str, reason: str, at: datetime, source: str, queues: str | None = None
) -> bool:
    """Move an agent to `state` at `at` unless a later change is already recorded (events out of order)."""
    if at < profile.since:
        AgentStateChange.objects.create(
            company_id=profile.company_id, agent=profile, state=state, reason=reason, at=at, source=source
        )
        return False
    if profile.state == state and profile.reason == reason and queues is None:
        return False
    before = profile.state
    profile.state, profile.reason, profile.since, profile.source = state, reason, at, source
    if queues is not None:
        profile.queues = queues[:200]
    profile.save(update_fields=["state", "reason", "since", "source", "queues"])
    AgentStateChange.objects.create(
        company_id=profile.company_id, agent=profile, state=state, reason=reason, at=at, source=source
    )
    if AgentState.LOGGED_OUT in (before, state) or queues is not None:  # staffing changes only at log in/out
        _staffing_check(profile.company_id, at)
    return True


def agent_state_set(*, by, state: str, reason: str = "", at: datetime | None = None) -> AgentProfile:
    """kefu's own toggle (item 4), for sites whose PBX sends no agent states: the agent sets
    ready / not ready (with a reason) / logged out. The seat is made on first use."""
    if state not in AgentState.values:
        raise DomainError(_("未知的坐席状态：%(s)s") % {"s": state}, field="state")
    if state == AgentState.NOT_READY and reason not in NotReadyReason.values:
        raise DomainError(_("请选择未就绪原因。"), field="reason")
    if by.company_id is None:
        raise DomainError(_("此账号不属于任何公司。"))
    with transaction.atomic():
        profile = _profile_for(by)
        _state_move(
            profile,
            state,
            reason if state == AgentState.NOT_READY else "",
            at or timezone.now(),
            StateSource.KEFU,
        )
    return profile


def _profile_for(user) -> AgentProfile:
    profile = AgentProfile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        profile, _created = AgentProfile.objects.get_or_create(
            user=user,
            defaults={"company_id": user.company_id, "pbx_agent": user.employee_no or user.username},
        )
    return profile


def agent_profile_set(*, by, user, pbx_agent: str) -> AgentProfile:
    """Link a person to the agent id the PBX uses (extension or agent number)."""
    assert_perm(by, Perm.TELEPHONY_FEED)
    if user.company_id != by.company_id:
        raise NotFound(_("未找到。"))
    pbx_agent = pbx_agent.strip()[:60]
    if not pbx_agent:
        raise DomainError(_("请填写交换机坐席号。"), field="pbx_agent")
    try:
        with transaction.atomic():
            profile, _c = AgentProfile.objects.update_or_create(
                user=user, defaults={"company_id": user.company_id, "pbx_agent": pbx_agent}
            )
    except IntegrityError as exc:
        raise DomainError(_("坐席号 %(a)s 已被占用。") % {"a": pbx_agent}, field="pbx_agent") from exc
    return profile


def _apply_other(company, lines: dict[str, Hotline], e: _In, now) -> str:
    if e.kind == "agent.state":
        agent = e.data.get("agent", "")
        state = e.data.get("state", "")
        if state not in AgentState.values:
            return _("未知的坐席状态：%(s)s") % {"s": state[:20]}
        profile = AgentProfile.objects.select_for_update().filter(company=company, pbx_agent=agent).first()
        if profile is None:
            return _("未登记的坐席号：%(a)s") % {"a": agent[:60]}
        _state_move(
            profile, state, e.data.get("reason", "")[:20], e.at, StateSource.PBX, e.data.get("queues")
        )
        return ""
    number = e.data.get("hotline")
    targets = [lines[number]] if number else [h for h in lines.values() if h.is_emergency]
    if not targets:
        return _("本公司没有登记抢险热线。")
    cause = e.data.get("cause") or (
        OutageCause.PBX_LINK_LOST if e.kind.startswith("pbx.") else OutageCause.TRUNK_DOWN
    )
    if cause not in OutageCause.values or cause == OutageCause.MANUAL:
        return _("未知的中断原因：%(c)s") % {"c": cause[:20]}
    for h in targets:
        if e.kind in ("hotline.down", "pbx.link_lost"):
            _outage_open(h, cause, e.at)
        else:
            _outage_close(h, cause, e.at)
    return ""


def _outage_open(hotline: Hotline, cause: str, at: datetime, note: str = "") -> None:
    if not HotlineOutage.objects.filter(hotline=hotline, cause=cause, ended_at__isnull=True).exists():
        HotlineOutage.objects.create(
            company_id=hotline.company_id, hotline=hotline, cause=cause, started_at=at, note=note
        )


def _outage_close(hotline: Hotline, cause: str, at: datetime) -> None:
    for o in HotlineOutage.objects.filter(hotline=hotline, cause=cause, ended_at__isnull=True):
        o.ended_at = max(at, o.started_at)
        o.save(update_fields=["ended_at"])


def _staffing_check(company_id: int, at: datetime) -> None:
    """C8: an emergency hotline with nobody logged in to its queue is out of service (K5)."""
    for h in Hotline.objects.filter(company_id=company_id, is_emergency=True):
        staffed = [
            p
            for p in AgentProfile.objects.filter(company_id=company_id).exclude(state=AgentState.LOGGED_OUT)
            if not h.queue or not p.queues or h.queue in [q.strip() for q in p.queues.split(",")]
        ]
        if staffed:
            _outage_close(h, OutageCause.NO_AGENT, at)
        else:
            _outage_open(h, OutageCause.NO_AGENT, at)


def outage_record(
    *, by, hotline_id: int, started_at: datetime, ended_at: datetime | None, note: str
) -> HotlineOutage:
    """A period out of service entered by hand (K5): e.g. the trunk was cut and the PBX said nothing."""
    assert_perm(by, Perm.TELEPHONY_FEED)
    hotline = Hotline.objects.filter(company_id=by.company_id, pk=hotline_id).first()
    if hotline is None:
        raise NotFound(_("未找到该热线。"))
    if timezone.is_naive(started_at) or (ended_at is not None and timezone.is_naive(ended_at)):
        raise DomainError(_("时间必须带时区。"))
    if ended_at is not None and ended_at <= started_at:
        raise DomainError(_("结束时间必须晚于开始时间。"), field="ended_at")
    if started_at > timezone.now():
        raise DomainError(_("开始时间不能在未来。"), field="started_at")
    if not note.strip():
        raise DomainError(_("请说明中断原因。"), field="note")
    o = HotlineOutage.objects.create(
        company_id=by.company_id,
        hotline=hotline,
        cause=OutageCause.MANUAL,
        started_at=started_at,
        ended_at=ended_at,
        note=note.strip()[:300],
        recorded_by=by,
    )
    audit_record(action=Action.CREATED, obj=o, actor=by, detail={"hotline": hotline.number, "note": o.note})
    return o


# ------------------------------------------------------------------------------ screen pop (P2)


def desk_url(call: Call) -> str:
    """The agent desk of the tickets app with the caller already looked up (its ?phone= lookup),
    the contact's start and the call to link the work orders to."""
    params = {"phone": call.caller_number, "call": call.pk}
    if call.answered_at:
        params["started"] = call.answered_at.isoformat()
    return f"{reverse('tickets:desk')}?{urlencode(params)}"


def screen_pop_take(*, user, now: datetime | None = None) -> Call | None:
    """The call this agent answered and has not yet been shown (answered in the last two minutes,
    still connected); marks it shown so the desk opens once. The agent's browser asks every second."""
    now = now or timezone.now()
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .filter(
                answered_by=user,
                popped_at__isnull=True,
                ended_at__isnull=True,
                answered_at__gte=now - timedelta(minutes=2),
            )
            .order_by("-answered_at")
            .first()
        )
        if call is not None:
            call.popped_at = now
            call.save(update_fields=["popped_at"])
    return call


def call_link_ticket(*, user, call_id: int, ticket_id: int) -> bool:
    """Record that a work order was made during a call (P2). Called by the tickets app (which sits
    above telephony) when its desk saves a work order opened by a screen pop. Only the agent who
    answered the call, in its company, links to it; anything else is ignored (False)."""
    call = Call.objects.filter(pk=call_id, company_id=user.company_id).first()
    if call is None or (call.answered_by_id not in (None, user.pk)):
        return False
    CallTicket.objects.get_or_create(call=call, ticket_id=ticket_id)
    return True


# ------------------------------------------------------------------------------ recordings (item 8)


def recording_play(*, user, call_id: int) -> Call:
    """A recording may be played by the roles that need it (quality, leads); every play is logged."""
    assert_perm(user, Perm.RECORDING_PLAY)
    call = Call.objects.filter(pk=call_id, company_id=user.company_id).first()
    if call is None or not call.recording_ref:
        raise NotFound(_("未找到该通话的录音。"))
    audit_record(
        action=Action.RECORDING_PLAYED, obj=call, actor=user, detail={"recording": call.recording_ref}
    )
    return call


# ------------------------------------------------------------------------------ transcripts


def _no_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    if isinstance(value, dict):
        return {_no_nul(str(k)): _no_nul(v) for k, v in value.items()}
    return value


def transcript_store(
    *, by, text: str, source: str, call_id: str = "", chat_id: int | None = None, segments=None
) -> Transcript:
    """Store the text of a call (PBX or ASR adapter) or of a chat, and publish TranscriptAvailable
    for the service-language checks."""
    if source not in TranscriptSource.values:
        raise DomainError(_("未知的转写来源：%(s)s") % {"s": source}, field="source")
    if not text.strip():
        raise DomainError(_("转写内容为空。"), field="text")
    call = chat = None
    if call_id:
        assert_perm(by, Perm.TELEPHONY_FEED)
        call = Call.objects.filter(company_id=by.company_id, call_id=call_id).first()
        if call is None:
            raise NotFound(_("未知通话：%(c)s") % {"c": call_id})
    elif chat_id:
        chat = ChatSession.objects.filter(company_id=by.company_id, pk=chat_id).first()
        if chat is None:
            raise NotFound(_("未找到该会话。"))
    else:
        raise DomainError(_("请指明通话或会话。"))
    segments = _no_nul(segments or [])  # PostgreSQL refuses NUL in text and JSON
    with transaction.atomic():
        t = Transcript.objects.create(
            company_id=by.company_id,
            call=call,
            chat=chat,
            source=source,
            text=text.replace("\x00", ""),
            segments=segments,
        )
        publish(
            TranscriptAvailable(
                transcript_id=t.pk,
                company_id=t.company_id,
                call_id=call.pk if call else None,
                chat_id=chat.pk if chat else None,
            )
        )
    return t


# ------------------------------------------------------------------------------ chat (C18)


def chat_start(
    *, company, contact: str = "", bot: bool = False, at: datetime | None = None, external_id: str = ""
) -> ChatSession:
    """A customer arrives in the chat (no login). With a bot in front, a person is not yet due:
    the clock starts at the hand-off (chat_handoff)."""
    at = at or timezone.now()
    if external_id:
        existing = ChatSession.objects.filter(company=company, external_id=external_id[:120]).first()
        if existing is not None:
            return existing
    return ChatSession.objects.create(
        company=company,
        token=secrets.token_urlsafe(24),
        contact=contact.strip()[:40],
        external_id=external_id[:120],
        status=ChatStatus.BOT if bot else ChatStatus.WAITING,
        arrived_at=at,
        human_starts=[] if bot else [at.isoformat()],
    )


def _starts(session: ChatSession) -> list[datetime]:
    return [datetime.fromisoformat(s) for s in session.human_starts]


def _retime(session: ChatSession) -> None:
    msgs = list(session.messages.values_list("sender", "at"))
    timing = rules.chat_timing(msgs, _starts(session))
    cap = 2_147_483_647  # a database integer: a chat fed with absurd times must not overflow it
    session.greeting_ms = min(timing.greeting_ms, cap) if timing.greeting_ms is not None else None
    session.answers = len(timing.answer_ms)
    session.answers_late = sum(1 for a in timing.answer_ms if a > 20000)
    session.worst_answer_ms = min(max(timing.answer_ms), cap) if timing.answer_ms else None
    session.save(
        update_fields=[
            "greeting_ms",
            "answers",
            "answers_late",
            "worst_answer_ms",
            "status",
            "agent",
            "human_starts",
            "closed_at",
        ]
    )


def chat_post(
    *,
    session: ChatSession,
    sender: str,
    text: str,
    by=None,
    at: datetime | None = None,
    external_id: str = "",
) -> ChatMessage:
    """Add a message and recompute the chat's C18 figures (greeting, answers)."""
    text = (text or "").strip()
    if not text:
        raise DomainError(_("消息不能为空。"), field="text")
    if len(text) > 2000:
        raise DomainError(_("消息不能超过 2000 字。"), field="text")
    if sender not in ChatSender.values:
        raise DomainError(_("未知的发送方。"), field="sender")
    at = at or timezone.now()
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        if session.status == ChatStatus.CLOSED:
            if sender != ChatSender.CUSTOMER:
                raise DomainError(_("会话已结束。"))
            session.status, session.closed_at = ChatStatus.WAITING, None  # the customer reopens it
            session.human_starts = [*session.human_starts, at.isoformat()]
        if external_id and session.messages.filter(external_id=external_id[:120]).exists():
            return session.messages.get(external_id=external_id[:120])
        if sender == ChatSender.AGENT:
            if by is None or by.company_id != session.company_id:
                raise NotFound(_("未找到该会话。"))
            if not session.human_starts:  # a person takes over from the bot without a hand-off event
                session.human_starts = [at.isoformat()]
            session.agent, session.status = by, ChatStatus.ACTIVE
        m = ChatMessage.objects.create(
            session=session,
            sender=sender,
            author=by if sender == ChatSender.AGENT else None,
            text=text,
            at=at,
            external_id=external_id[:120],
        )
        _retime(session)
    return m


def chat_handoff(*, session: ChatSession, at: datetime | None = None) -> ChatSession:
    """The bot hands the customer to a person: the greeting clock (15 s) starts now (C18)."""
    at = at or timezone.now()
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        if session.status == ChatStatus.BOT:
            session.status = ChatStatus.WAITING
            session.human_starts = [*session.human_starts, at.isoformat()]
            _retime(session)
    return session


def chat_close(*, session: ChatSession, by=None, at: datetime | None = None) -> ChatSession:
    """End the chat and store its transcript for quality checks."""
    at = at or timezone.now()
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        if session.status == ChatStatus.CLOSED:
            return session
        session.status, session.closed_at = ChatStatus.CLOSED, at
        _retime(session)
        lines = [f"[{m.at.isoformat()}] {m.get_sender_display()}: {m.text}" for m in session.messages.all()]
        if lines:
            t = Transcript.objects.create(
                company_id=session.company_id,
                chat=session,
                source=TranscriptSource.CHAT,
                text="\n".join(lines),
                segments=[
                    {"speaker": m.sender, "at": m.at.isoformat(), "text": m.text}
                    for m in session.messages.all()
                ],
            )
            publish(TranscriptAvailable(transcript_id=t.pk, company_id=t.company_id, chat_id=session.pk))
    return session


# ------------------------------------------------------------------------------ click-to-call


def call_originate(*, by, number: str, ref: str = "") -> str:
    """Click-to-call (点击外呼): ask the PBX, through the CTI adapter (adapters/cti.py), to ring the
    agent's own seat and then dial `number`. Returns the call id kefu chose and gave the PBX: the
    call's events, when the PBX reports them, make the Call of that id (direction `out`), which
    the caller of this service links to its own record (a return visit, `ref`). Audited.
    Refused when no PBX is connected, the agent has no seat, or the PBX refuses."""
    from kefu.telephony.adapters.cti import CtiError, originator

    number = "".join(ch for ch in (number or "") if ch.isdigit() or ch in "+-")
    if not 3 <= len(number) <= 20:
        raise DomainError(_("电话号码无效。"), field="number")
    adapter = originator()
    if adapter is None:
        raise DomainError(_("尚未连接交换机，不能点击外呼。"), code="cti_not_connected")
    profile = AgentProfile.objects.filter(user=by, company_id=by.company_id).first()
    if profile is None or not profile.pbx_agent:
        raise DomainError(_("您还没有坐席号，请管理员在坐席设置中登记。"), code="no_seat")
    extension = profile.pbx_agent.split("/")[-1].split("@")[0]
    call_id = f"kefu-{secrets.token_hex(8)}"
    hotline = Hotline.objects.filter(company_id=by.company_id).order_by("id").first()
    try:
        adapter.originate(
            call_id=call_id, extension=extension, number=number, caller_id=hotline.number if hotline else ""
        )
    except CtiError as e:
        log.warning("click-to-call of %s refused by the PBX: %s", by.pk, e)
        raise DomainError(_("交换机未能发起外呼：%(e)s") % {"e": str(e)[:100]}, code="cti_failed") from e
    audit_record(
        action="telephony.originate",
        obj=by,
        actor=by,
        detail={"call_id": call_id, "ref": ref[:60], "number": number[-4:]},
    )
    return call_id


# ------------------------------------------------------------------------------ hotline configuration

#: Limits of a hotline's settings (C13 rings, service level, short abandons): a typo must not turn
#: every answer into 40 rings or every abandon into a short one.
HOTLINE_LIMITS = {
    "ring_cycle_ms": (1000, 20000),
    "answer_rings": (1, 10),
    "short_abandon_ms": (0, 60000),
    "service_level_ms": (1000, 600000),
}


def _hotline_errors(*, company_id: int, pk: int | None, values: dict) -> dict[str, str]:
    import re

    errors: dict[str, str] = {}
    number = values["number"]
    if not number:
        errors["number"] = _("请填写热线号码。")
    elif not re.fullmatch(r"[0-9][0-9-]{2,29}", number):
        errors["number"] = _("热线号码只能由数字和“-”组成（3–30 位），例如 96777 或 0535-2218888。")
    else:
        clash = Hotline.objects.filter(number=number).exclude(pk=pk).first()
        if clash is not None:
            errors["number"] = (
                _("号码 %(n)s 已登记为本公司的“%(h)s”。") % {"n": number, "h": clash.name}
                if clash.company_id == company_id
                else _("号码 %(n)s 已被其他公司登记，请核对。") % {"n": number}
            )
    if not values["name"]:
        errors["name"] = _("请填写热线名称。")
    if values["is_emergency"] and not values["queue"]:
        errors["queue"] = _("抢险热线须填写交换机队列名：没有坐席登录该队列时记为热线中断（C8、K5）。")
    labels = {
        "ring_cycle_ms": _("振铃周期须在 %(lo)s–%(hi)s 毫秒之间（中国振铃节奏一声 5000 毫秒）。"),
        "answer_rings": _("接听目标须在 %(lo)s–%(hi)s 声之间（C13：3 声）。"),
        "short_abandon_ms": _("短时放弃须在 %(lo)s–%(hi)s 毫秒之间。"),
        "service_level_ms": _("服务水平时限须在 %(lo)s–%(hi)s 毫秒之间。"),
    }
    for key, (lo, hi) in HOTLINE_LIMITS.items():
        v = values[key]
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            errors[key] = labels[key] % {"lo": lo, "hi": hi}
    return errors


class HotlineInvalid(DomainError):
    """A hotline form with one or more wrong fields: `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        first = next(iter(errors))
        super().__init__(errors[first], field=first)
        self.errors = errors


def hotline_save(
    *,
    by,
    hotline_id: int | None = None,
    number: str,
    name: str,
    queue: str = "",
    is_emergency: bool = False,
    ring_cycle_ms: int = 5000,
    answer_rings: int = 3,
    short_abandon_ms: int = 5000,
    service_level_ms: int = 20000,
) -> Hotline:
    """Create or change a hotline of `by`'s company (C8 emergency line, C13 ring cycle and target,
    abandon and service-level thresholds). Every field is checked (HotlineInvalid lists them all);
    the change is audited; a new short-abandon threshold recounts the hotline's half-hours."""
    assert_perm(by, Perm.TELEPHONY_CONFIGURE)
    if by.company_id is None:
        raise DomainError(_("此账号不属于任何公司。"))
    values = {
        "number": (number or "").strip(),
        "name": (name or "").strip()[:60],
        "queue": (queue or "").strip()[:60],
        "is_emergency": bool(is_emergency),
        "ring_cycle_ms": ring_cycle_ms,
        "answer_rings": answer_rings,
        "short_abandon_ms": short_abandon_ms,
        "service_level_ms": service_level_ms,
    }
    with transaction.atomic():
        if hotline_id is None:
            hotline, before = Hotline(company_id=by.company_id), None
        else:
            hotline = (
                Hotline.objects.select_for_update().filter(pk=hotline_id, company_id=by.company_id).first()
            )
            if hotline is None:
                raise NotFound(_("未找到该热线。"))
            before = {k: getattr(hotline, k) for k in values}
        errors = _hotline_errors(company_id=by.company_id, pk=hotline_id, values=values)
        if errors:
            raise HotlineInvalid(errors)
        for k, v in values.items():
            setattr(hotline, k, v)
        try:
            with transaction.atomic():
                hotline.save()
        except IntegrityError as exc:  # two people saved the same number at once
            raise HotlineInvalid({"number": _("号码 %(n)s 已被登记。") % {"n": values["number"]}}) from exc
        changed = {k: [before[k], v] for k, v in values.items() if before and before[k] != v}
        audit_record(
            action=Action.CREATED if before is None else Action.UPDATED,
            obj=hotline,
            actor=by,
            detail=values if before is None else {"changed": changed},
        )
        if "short_abandon_ms" in changed:
            call_intervals_rebuild(company=hotline.company, hotline=hotline)
    return hotline
