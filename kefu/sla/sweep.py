"""The clock sweep (issue 4 §4; C1–C20, P9): warnings, breaches and escalation, exactly once.

One sweep, run every minute by the worker (`kefu.sla.tasks`) or once by `kefu sla-sweep`:

1. **breach** — running clocks past their due time become `breached` (and clocks another path
   marked breached but nobody was told about): the supervisor(s) of the work order's department
   (else of the company) are notified; escalation level 1.
2. **escalate** — breached clocks at level 1 whose `escalate_at` (due + the commitment's
   `escalate_after`) has passed: the manager(s) are notified; level 2 (P9, level by level).
3. **warn** — running clocks whose `warn_at` (75 % of the limit by default) has passed and that
   are not yet due: the owner (and the assignee) and the team lead(s) are warned.
4. **attach** — open work orders without clocks (the process died between their commit and the
   creation hook) get them now.

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
from functools import lru_cache
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.sla.attach import SUBJECT_TYPE, ticket_clocks_attach, tickets_without_clocks
from kefu.sla.models import Clock
from kefu.sla.states import ClockState

logger = logging.getLogger("kefu.sla")

DEFAULT_BATCH = 500
ATTACH_LOOKBACK = timedelta(days=7)
ATTACH_GRACE = timedelta(minutes=1)

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
    batches: int = 0
    fallback_clocks: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# ---- who is told -------------------------------------------------------------------------------
class Recipients:
    """Looks up and caches the people to notify for a sweep (owner, team lead, supervisor, manager).

    Work-order facts come from kefu.tickets (one query per batch); people from kefu.accounts,
    cached per team / department / company for the whole sweep."""

    def __init__(self) -> None:
        self._users: dict[int, object] = {}
        self._by_role: dict[tuple, list] = {}

    def tickets(self, ids: Iterable[str]) -> dict[str, dict]:
        from kefu.tickets.models import Ticket

        pks = [int(i) for i in ids if str(i).isdigit()]
        if not pks:
            return {}
        rows = Ticket.objects.filter(pk__in=pks).values(
            "id", "number", "owner_id", "assigned_to_id", "assigned_team_id", "assigned_department_id",
            "owner__team_id", "owner__department_id",
        )
        return {str(r["id"]): r for r in rows}

    def users(self, ids: Iterable[int | None]) -> list:
        from kefu.accounts.models import User

        want = [i for i in ids if i is not None]
        missing = [i for i in want if i not in self._users]
        if missing:
            for u in User.objects.filter(pk__in=missing, is_active=True):
                self._users[u.pk] = u
        seen, out = set(), []
        for i in want:
            u = self._users.get(i)
            if u is not None and u.pk not in seen:
                seen.add(u.pk)
                out.append(u)
        return out

    def by_role(self, company_id: int, role: str, *, team_id=None, department_id=None) -> list:
        """Active users of `role` in the team, else the department, else the whole company."""
        from kefu.accounts.models import User

        key = (company_id, role, team_id, department_id)
        if key not in self._by_role:
            base = User.objects.filter(company_id=company_id, role=role, is_active=True).order_by("id")
            found: list = []
            if team_id is not None:
                found = list(base.filter(team_id=team_id))
            if not found and department_id is not None:
                found = list(base.filter(department_id=department_id))
            if not found:
                found = list(base)
            self._by_role[key] = found
        return self._by_role[key]


_URL_PLACEHOLDER = 987654321


@lru_cache(maxsize=1)
def _ticket_url_template() -> str:
    try:
        return reverse("tickets:detail", args=[_URL_PLACEHOLDER])
    except NoReverseMatch:
        return ""


def _ticket_url(ticket_id: str) -> str:
    """The work order's page (reversed once per process, not once per notification)."""
    template = _ticket_url_template()
    if not template or not str(ticket_id).isdigit():
        return ""
    return template.replace(str(_URL_PLACEHOLDER), str(int(ticket_id)))


def _label(row: dict, ticket: dict | None) -> str:
    number = ticket["number"] if ticket else f"{row['subject_type']}#{row['subject_id']}"
    return _("工单 %(n)s「%(c)s %(name)s」") % {
        "n": number,
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
    tickets = rc.tickets(r["subject_id"] for r in rows if r["subject_type"] == SUBJECT_TYPE)
    out = Outbox()
    for r in rows:
        t = tickets.get(str(r["subject_id"])) if r["subject_type"] == SUBJECT_TYPE else None
        people = []
        if t is not None:
            people = rc.users([t["owner_id"], t["assigned_to_id"]])
            team = t["assigned_team_id"] or t["owner__team_id"]
            dept = t["assigned_department_id"] or t["owner__department_id"]
            people += rc.by_role(r["company_id"], "team_lead", team_id=team, department_id=dept)
        else:
            people = rc.by_role(r["company_id"], "team_lead")
        title = _("%(t)s 将于 %(d)s 到期") % {"t": _label(r, t), "d": _local(r["due_at"])}
        body = _("请在到期前处理，超时将通知主管。")
        for p in _unique(people):
            out.add(
                p, kind=KIND_WARN, title=title, key=f"clock:{r['id']}:warn", body=body,
                url=_ticket_url(r["subject_id"]) if t else "", level="warning",
            )
    return out.flush()


def _escalation_targets(r: dict, t: dict | None, rc: Recipients, role: str) -> list:
    dept = (t["assigned_department_id"] or t["owner__department_id"]) if t else None
    return rc.by_role(r["company_id"], role, department_id=dept)


def _notify_breach(rows: list[dict], rc: Recipients) -> int:
    tickets = rc.tickets(r["subject_id"] for r in rows if r["subject_type"] == SUBJECT_TYPE)
    out = Outbox()
    for r in rows:
        t = tickets.get(str(r["subject_id"])) if r["subject_type"] == SUBJECT_TYPE else None
        title = _("%(t)s 已超时（应于 %(d)s 前完成）") % {"t": _label(r, t), "d": _local(r["due_at"])}
        body = _("超时已升级至主管；未处理将继续升级至经理。")
        for p in _unique(_escalation_targets(r, t, rc, "supervisor")):
            out.add(
                p, kind=KIND_BREACH, title=title, key=f"clock:{r['id']}:breach", body=body,
                url=_ticket_url(r["subject_id"]) if t else "", level="alert",
            )
    return out.flush()


def _notify_escalate(rows: list[dict], rc: Recipients) -> int:
    tickets = rc.tickets(r["subject_id"] for r in rows if r["subject_type"] == SUBJECT_TYPE)
    out = Outbox()
    for r in rows:
        t = tickets.get(str(r["subject_id"])) if r["subject_type"] == SUBJECT_TYPE else None
        title = _("%(t)s 超时未处理，已升级至经理") % {"t": _label(r, t)}
        body = _("应于 %(d)s 前完成，主管已于超时时收到通知。") % {"d": _local(r["due_at"])}
        for p in _unique(_escalation_targets(r, t, rc, "manager")):
            out.add(
                p, kind=KIND_ESCALATE, title=title, key=f"clock:{r['id']}:escalate:2", body=body,
                url=_ticket_url(r["subject_id"]) if t else "", level="alert",
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
        mark=lambda ids: Clock.objects.filter(pk__in=ids, state=ClockState.BREACHED, escalation_level=0).update(
            escalation_level=1
        ),
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

    # 4. work orders whose creation hook was lost
    if attach and (deadline is None or _time.monotonic() < deadline):
        lookback = timedelta(days=int(getattr(settings, "KEFU_SLA_ATTACH_LOOKBACK_DAYS", ATTACH_LOOKBACK.days)))
        for ticket_id in tickets_without_clocks(now=now, lookback=lookback, grace=ATTACH_GRACE, limit=batch_size):
            try:
                if ticket_clocks_attach(ticket_id, by_sweep=True) is not None:
                    result.attached += 1
            except Exception as exc:  # one bad work order must not stop the sweep
                logger.exception("attaching clocks to work order %s failed", ticket_id)
                result.errors.append(f"attach {ticket_id}: {exc}")

    result.seconds = round(_time.monotonic() - started, 3)
    if result.warned or result.breached or result.escalated or result.attached:
        logger.info("sla sweep: %s", result.as_dict())
    return result
