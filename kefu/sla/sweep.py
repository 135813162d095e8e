"""The clock sweep (issue 4 §4; C1–C20, P9): warnings, breaches and escalation, exactly once.

One sweep, run every minute by the worker (`kefu.sla.tasks`) or once by `kefu sla-sweep`:

1. **breach** — running clocks past their due time become `breached` (and clocks another path
   marked breached but nobody was told about): the supervisor(s) of the subject's department
   (else of the company; the subject's adapter says which, kefu.sla.subjects) are notified; escalation level 1.
2. **escalate** — breached clocks at level 1 whose `escalate_at` (due + the commitment's
   `escalate_after`) has passed: the manager(s) are notified; level 2 (P9, level by level).
3. **warn** — running clocks whose `warn_at` (75 % of the limit by default) has passed and that
   are not yet due: the subject's own people (a work order's owner and assignee) and the team
   lead(s) are warned.
4. **catch up** — every subject type's catch-up (kefu.sla.subjects): e.g. open work orders without
   clocks (the process died between their commit and the creation listener) get them now, and
   clocks a lost state / reply / kind listener left behind are brought up to the work order's facts.

Exactly once, nothing lost: every phase takes its rows in batches, each batch in its own
transaction which (a) claims the rows — `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so a
second worker takes other rows; SQLite's IMMEDIATE transactions run one writer at a time —, (b)
writes the notifications (`notification_send`, unique per recipient and dedupe key
`clock:{id}:warn|breach|escalate:2`, so even a duplicated attempt is one row), and (c) moves the
clocks on with a conditional UPDATE. A worker killed mid-batch rolls the whole batch back — no
notification without its mark, no mark without its notifications — and the next sweep redoes it.
Only ids and a few columns are held in memory, one batch at a time.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.selectors import active_users, escalation_recipients
from kefu.sla.models import Clock
from kefu.sla.states import ClockState
from kefu.sla.subjects import SubjectInfo, subject_adapter, subject_adapters

logger = logging.getLogger("kefu.sla")

DEFAULT_BATCH = 500

# Escalation levels (kefu.accounts.selectors.escalation_levels, P9): who is told at each phase.
WARN_LEVEL, BREACH_LEVEL, ESCALATE_LEVEL = 0, 1, 2

# Notification kinds of this app (the notification centre shows them; the board counts them).
KIND_WARN = "sla.warning"
KIND_BREACH = "sla.breach"
KIND_ESCALATE = "sla.escalation"

_COLUMNS = (
    "id",
    "company_id",
    "subject_type",
    "subject_id",
    "due_at",
    "fallback_calendar",
    "commitment__name",
    "commitment__spec_id",
)


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    notifications: int = 0
    attached: int = 0
    repaired: int = 0
    batches: int = 0
    fallback_clocks: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# ---- who is told -------------------------------------------------------------------------------
class Recipients:
    """Looks up and caches the people to notify for a sweep: the subjects' own people and labels
    from their adapters (kefu.sla.subjects, one query per batch and subject type), and the team
    lead / supervisor / manager from kefu.accounts (cached per team / department / company for the
    whole sweep)."""

    def __init__(self) -> None:
        self._users: dict[int, object] = {}
        self._by_level: dict[tuple, list] = {}

    def subjects(self, rows: list[dict]) -> dict[tuple[str, str], SubjectInfo]:
        """SubjectInfo per (subject_type, subject_id) of a batch's rows (unknown types are left out)."""
        by_type: dict[str, list[str]] = {}
        for r in rows:
            by_type.setdefault(r["subject_type"], []).append(str(r["subject_id"]))
        out: dict[tuple[str, str], SubjectInfo] = {}
        for subject_type, ids in by_type.items():
            adapter = subject_adapter(subject_type)
            if adapter is None:
                continue
            for sid, info in adapter.describe(ids).items():
                out[(subject_type, str(sid))] = info
        return out

    def users(self, ids: Iterable[int | None]) -> list:
        want = [i for i in ids if i is not None]
        missing = [i for i in want if i not in self._users]
        if missing:
            for u in active_users(missing):
                self._users[u.pk] = u
        seen, out = set(), []
        for i in want:
            u = self._users.get(i)
            if u is not None and u.pk not in seen:
                seen.add(u.pk)
                out.append(u)
        return out

    def at_level(self, company_id: int, level: int, *, team_id=None, department_id=None) -> list:
        """The people at escalation `level` (kefu.accounts.selectors.escalation_levels) of the team,
        else the department, else the whole company."""
        key = (company_id, level, team_id, department_id)
        if key not in self._by_level:
            self._by_level[key] = escalation_recipients(
                company_id, level, team_id=team_id, department_id=department_id
            )
        return self._by_level[key]


def _label(row: dict, info: SubjectInfo | None) -> str:
    subject = info.label if info else f"{row['subject_type']}#{row['subject_id']}"
    return _("%(subject)s「%(c)s %(name)s」") % {
        "subject": subject,
        "c": row["commitment__spec_id"],
        "name": row["commitment__name"],
    }


def _local(dt: datetime | None) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


# ---- the phases --------------------------------------------------------------------------------
def _claim(qs: QuerySet[Clock], batch: int, order: str) -> list[dict]:
    """The next batch of rows, locked for this transaction (other workers skip them)."""
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs.order_by(order).values(*_COLUMNS)[:batch])


def _run_phase(
    *,
    name: str,
    eligible: Callable[[], QuerySet[Clock]],
    order: str,
    mark: Callable[[list[int]], int],
    won: Callable[[list[int]], QuerySet[Clock]],
    notify: Callable[[list[dict], Recipients], int],
    recipients: Recipients,
    batch: int,
    result: SweepResult,
    deadline: float | None,
    on_batch: Callable[[], None] | None,
) -> int:
    """Claim, mark and notify batch after batch, each batch in its own transaction."""
    done = 0
    while deadline is None or _time.monotonic() <= deadline:
        with transaction.atomic():
            rows = _claim(eligible(), batch, order)
            if not rows:
                break
            ids = [r["id"] for r in rows]
            if mark(ids) != len(ids):
                # Some rows were moved by another path in between (possible only without row
                # locks): tell only about the rows this transaction moved.
                mine = set(won(ids).values_list("id", flat=True))
                rows = [r for r in rows if r["id"] in mine]
            result.notifications += notify(rows, recipients)
            for r in rows:
                if r["fallback_calendar"]:
                    result.fallback_clocks += 1
                    logger.warning(
                        "clock %s (%s) counts on a fallback calendar: no official holiday data", r["id"], name
                    )
            if on_batch is not None:
                on_batch()
        result.batches += 1
        done += len(rows)
    return done


class Outbox:
    """The notifications of one batch, written together at the end of the batch (still inside its
    transaction) with `kefu.notify.services.notification_send_many`: one INSERT … ON CONFLICT DO
    NOTHING per batch, unique per (recipient, dedupe key), so nothing is ever sent twice."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, recipient, *, kind: str, title: str, key: str, body: str, url: str, level: str) -> None:
        self.items.append(
            dict(recipient=recipient, kind=kind, title=title, dedupe_key=key, body=body, url=url, level=level)
        )

    def flush(self) -> int:
        from kefu.notify import services as notify

        items, self.items = self.items, []
        return notify.notification_send_many(items)


def _notify_warn(rows: list[dict], rc: Recipients) -> int:
    subjects = rc.subjects(rows)
    out = Outbox()
    for r in rows:
        info = subjects.get((r["subject_type"], str(r["subject_id"])))
        if info is not None:
            people = rc.users(info.warn_user_ids)
            people += rc.at_level(
                r["company_id"], WARN_LEVEL, team_id=info.team_id, department_id=info.department_id
            )
        else:
            people = rc.at_level(r["company_id"], WARN_LEVEL)
        title = _("%(t)s 将于 %(d)s 到期") % {"t": _label(r, info), "d": _local(r["due_at"])}
        body = _("请在到期前处理，超时将通知主管。")
        for p in _unique(people):
            out.add(
                p,
                kind=KIND_WARN,
                title=title,
                key=f"clock:{r['id']}:warn",
                body=body,
                url=info.url if info else "",
                level="warning",
            )
    return out.flush()


def _escalation_targets(r: dict, info: SubjectInfo | None, rc: Recipients, level: int) -> list:
    return rc.at_level(r["company_id"], level, department_id=info.department_id if info else None)


def _notify_breach(rows: list[dict], rc: Recipients) -> int:
    subjects = rc.subjects(rows)
    out = Outbox()
    for r in rows:
        info = subjects.get((r["subject_type"], str(r["subject_id"])))
        title = _("%(t)s 已超时（应于 %(d)s 前完成）") % {"t": _label(r, info), "d": _local(r["due_at"])}
        body = _("超时已升级至主管；未处理将继续升级至经理。")
        for p in _unique(_escalation_targets(r, info, rc, BREACH_LEVEL)):
            out.add(
                p,
                kind=KIND_BREACH,
                title=title,
                key=f"clock:{r['id']}:breach",
                body=body,
                url=info.url if info else "",
                level="alert",
            )
    return out.flush()


def _notify_escalate(rows: list[dict], rc: Recipients) -> int:
    subjects = rc.subjects(rows)
    out = Outbox()
    for r in rows:
        info = subjects.get((r["subject_type"], str(r["subject_id"])))
        title = _("%(t)s 超时未处理，已升级至经理") % {"t": _label(r, info)}
        body = _("应于 %(d)s 前完成，主管已于超时时收到通知。") % {"d": _local(r["due_at"])}
        for p in _unique(_escalation_targets(r, info, rc, ESCALATE_LEVEL)):
            out.add(
                p,
                kind=KIND_ESCALATE,
                title=title,
                key=f"clock:{r['id']}:escalate:2",
                body=body,
                url=info.url if info else "",
                level="alert",
            )
    return out.flush()


def _unique(people: list) -> list:
    seen, out = set(), []
    for p in people:
        if p.pk not in seen:
            seen.add(p.pk)
            out.append(p)
    return out


def sweep(
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
    attach: bool = True,
    time_budget: float | None = None,
    on_batch: Callable[[], None] | None = None,
) -> SweepResult:
    """One sweep over every company's clocks at `now` (see the module docstring). `time_budget`
    (seconds) stops starting new batches after that long; the rest waits for the next sweep."""
    now = now or timezone.now()
    started = _time.monotonic()
    deadline = started + time_budget if time_budget else None
    result = SweepResult()
    rc = Recipients()
    base = Clock.objects.all()
    common = dict(recipients=rc, batch=batch_size, result=result, deadline=deadline, on_batch=on_batch)

    # 1. breach (running past due) and tell the supervisors (level 0 → 1); then the clocks that
    #    another path marked breached without telling anyone. Two phases: each is one index range.
    result.breached = _run_phase(
        name="breach",
        eligible=lambda: base.filter(state=ClockState.RUNNING, due_at__lt=now),
        order="due_at",
        mark=lambda ids: Clock.objects.filter(pk__in=ids, state=ClockState.RUNNING, due_at__lt=now).update(
            state=ClockState.BREACHED, breached_at=now, escalation_level=1
        ),
        won=lambda ids: Clock.objects.filter(pk__in=ids, state=ClockState.BREACHED, breached_at=now),
        notify=_notify_breach,
        **common,
    )
    result.breached += _run_phase(
        name="breach",
        eligible=lambda: base.filter(state=ClockState.BREACHED, escalation_level=0),
        order="escalate_at",
        mark=lambda ids: Clock.objects.filter(
            pk__in=ids, state=ClockState.BREACHED, escalation_level=0
        ).update(escalation_level=1),
        won=lambda ids: Clock.objects.none(),
        notify=_notify_breach,
        **common,
    )

    # 2. escalate to the managers (level 1 → 2) once escalate_at has passed (P9)
    result.escalated = _run_phase(
        name="escalate",
        eligible=lambda: base.filter(state=ClockState.BREACHED, escalation_level=1, escalate_at__lte=now),
        order="escalate_at",
        mark=lambda ids: Clock.objects.filter(
            pk__in=ids, state=ClockState.BREACHED, escalation_level=1, escalate_at__lte=now
        ).update(escalation_level=2),
        won=lambda ids: Clock.objects.none(),
        notify=_notify_escalate,
        **common,
    )

    # 3. warn the owner and the team lead at warn_at (75 %), if not yet due
    result.warned = _run_phase(
        name="warn",
        eligible=lambda: base.filter(
            state=ClockState.RUNNING, warn_at__lte=now, warned_at__isnull=True, due_at__gte=now
        ),
        order="warn_at",
        mark=lambda ids: Clock.objects.filter(
            pk__in=ids, state=ClockState.RUNNING, warned_at__isnull=True
        ).update(warned_at=now),
        won=lambda ids: Clock.objects.filter(pk__in=ids, warned_at=now),
        notify=_notify_warn,
        **common,
    )

    # 4. subjects whose event listener was lost: every subject type's catch-up (kefu.sla.subjects)
    if attach:
        for adapter in subject_adapters():
            if deadline is not None and _time.monotonic() >= deadline:
                break
            try:
                done = adapter.catch_up(now=now, limit=batch_size)
            except Exception as exc:  # one subject type's failure must not stop the sweep
                logger.exception("catch-up of %s failed", adapter.subject_type)
                result.errors.append(f"catch-up {adapter.subject_type}: {exc}")
                continue
            result.attached += done.attached
            result.repaired += done.repaired
            result.errors.extend(done.errors)

    result.seconds = round(_time.monotonic() - started, 3)
    if result.warned or result.breached or result.escalated or result.attached or result.repaired:
        logger.info("sla sweep: %s", result.as_dict())
    return result
