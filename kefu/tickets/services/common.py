"""Shared parts of the work-order services: limits, errors, numbering, locking, permissions, kinds, links."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm, Role, role_allows
from kefu.accounts.scoping import assert_perm
from kefu.core.caching import ProcessCache
from kefu.core.errors import Conflict, DomainError, Forbidden, NotFound
from kefu.tickets import events as timeline
from kefu.tickets.models import Ticket, TicketKind, TicketLink, TicketNumberCounter, TicketSubKind
from kefu.tickets.selectors import tickets_visible_to
from kefu.tickets.taxonomy import kinds_for

NUMBER_PREFIX = "GD"


MAX_TEXT = 4000


MAX_REASON = 200


BACKDATE_TOLERANCE = timedelta(minutes=10)


ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


ATTACHMENT_TYPES: dict[str, tuple[str, ...]] = {
    # extension: accepted content types
    ".jpg": ("image/jpeg",),
    ".jpeg": ("image/jpeg",),
    ".png": ("image/png",),
    ".webp": ("image/webp",),
    ".pdf": ("application/pdf",),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    ".txt": ("text/plain",),
}


_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".webp": (b"RIFF",),
    ".pdf": (b"%PDF",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}


ROLE_LEVEL: dict[str, int] = {
    Role.AGENT: 0,
    Role.CLERK: 0,
    Role.DISPATCHER: 0,
    Role.TECHNICIAN: 0,
    Role.QUALITY: 0,
    Role.TEAM_LEAD: 1,
    Role.SUPERVISOR: 2,
    Role.MANAGER: 3,
}


LEVEL_ROLES: dict[int, str] = {1: Role.TEAM_LEAD, 2: Role.SUPERVISOR, 3: Role.MANAGER}


class DuplicateFound(Conflict):
    """Open work orders of the same kind exist for this customer/premise: the caller should link."""

    def __init__(self, message: str, duplicates: list[Ticket]):
        super().__init__(message, code="duplicate")
        self.duplicates = duplicates


@dataclass(frozen=True)
class CreateResult:
    ticket: Ticket
    created: bool  # False when the idempotency key named an existing work order
    duplicates: list[Ticket] = field(default_factory=list)


def _text(
    value: str | None, *, field_name: str, label: str, required: bool = True, limit: int = MAX_TEXT
) -> str:
    text = (value or "").strip()
    if "\x00" in text:  # PostgreSQL cannot store NUL; SQLite would store it silently
        raise DomainError(_("%(label)s含有非法字符。") % {"label": label}, field=field_name)
    if required and not text:
        raise DomainError(_("请填写%(label)s。") % {"label": label}, field=field_name)
    if len(text) > limit:
        raise DomainError(
            _("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": limit}, field=field_name
        )
    return text


def _require_company(by: User) -> int:
    if by is None or not by.is_authenticated or by.company_id is None:
        raise Forbidden(_("您的账号不属于任何公司，不能办理工单。"), code="no_company")
    return by.company_id


def _local_day(company, at: datetime):
    try:
        tz = ZoneInfo(company.time_zone or "Asia/Shanghai")
    except Exception:
        tz = ZoneInfo("Asia/Shanghai")
    return at.astimezone(tz).date()


def _next_number(company, now: datetime) -> str:
    """GD20261122-0042: the next number of the company's local day.

    The counter row is bumped with a conditional UPDATE; on PostgreSQL the row lock is held until the
    creating transaction commits, so concurrent creates queue on it and never share a number; on
    SQLite writers are serialised anyway. The first create of a day inserts the row in a savepoint and
    falls back to the UPDATE if a concurrent create inserted it first.
    """
    day = _local_day(company, now)
    seq = _bump_counter(company.pk, day)
    if seq is None:
        try:
            with transaction.atomic():
                TicketNumberCounter.objects.create(company=company, day=day, last=1)
            seq = 1
        except IntegrityError:
            seq = _bump_counter(company.pk, day)
    return f"{NUMBER_PREFIX}{day:%Y%m%d}-{seq:04d}"


def _bump_counter(company_id: int, day) -> int | None:
    """UPDATE … RETURNING (PostgreSQL, SQLite ≥ 3.35): one statement takes the lock and the value."""
    table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET last = last + 1 WHERE company_id = %s AND day = %s RETURNING last",
            [company_id, connection.ops.adapt_datefield_value(day)],
        )
        row = cur.fetchone()
    return row[0] if row else None


def _lock(ticket_id: int, by: User) -> Ticket:
    """The work order, locked for update, if `by` may see it and it is in `by`'s own company."""
    company_id = _require_company(by)
    try:
        ticket = (
            tickets_visible_to(by)
            .select_for_update(of=("self",))
            .select_related("kind", "company")
            .get(pk=ticket_id, company_id=company_id)
        )
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("没有找到该工单，或您无权查看。"), code="not_found")
    return ticket


def _check_version(ticket: Ticket, version: int | None) -> None:
    if version is not None and version != ticket.version:
        raise Conflict(
            _("工单 %(n)s 刚被其他人修改过（版本 %(v)d → %(cur)d），请刷新后再操作。")
            % {"n": ticket.number, "v": version, "cur": ticket.version},
            code="stale_version",
        )


def is_handler(user: User, ticket: Ticket) -> bool:
    """Owner, assignee, or a dispatcher / lead of the company: the people who may move a work order."""
    return user.pk in (ticket.owner_id, ticket.assigned_to_id) or role_allows(user, Perm.TICKET_DISPATCH)


def _assert_handler(by: User, ticket: Ticket) -> None:
    assert_perm(by, Perm.TICKET_WORK)
    if not is_handler(by, ticket):
        raise Forbidden(_("只有首问责任人、承办人或调度/班长可以办理此工单。"), code="not_handler")


def _bump(ticket: Ticket, now: datetime, fields: list[str]) -> None:
    ticket.version += 1
    ticket.updated_at = now
    ticket.save(update_fields=[*fields, "version", "updated_at"])


def _colleague(by: User, user_id: int | None, *, field_name: str) -> User:
    try:
        user = User.objects.get(pk=user_id, company_id=by.company_id, is_active=True)
    except (User.DoesNotExist, ValueError, TypeError):
        raise DomainError(_("本公司没有这位在岗员工。"), field=field_name, code="unknown_user")
    return user


#: Active kinds with their active sub-kinds, per company and code (kefu.core.caching; a saved kind or
#: sub-kind clears it in this process, other processes see the change within a minute).
active_kinds: ProcessCache[tuple[TicketKind, dict[str, TicketSubKind]] | None] = ProcessCache(
    "tickets.active_kinds", max_age=60
)


def _active_kind(company_id: int, code: str) -> tuple[TicketKind, dict[str, TicketSubKind]] | None:
    kind = (
        TicketKind.objects.filter(company_id=company_id, code=code, is_active=True)
        .prefetch_related("sub_kinds")
        .first()
    )
    if kind is None:
        return None
    return kind, {s.code: s for s in kind.sub_kinds.all() if s.is_active}


def _is_code(code: str) -> bool:
    """A possible kind code: a slug of at most 40 characters (TicketKind.code)."""
    return 0 < len(code) <= 40 and code.isascii() and all(c.isalnum() or c in "-_" for c in code)


def _resolve_kind(company, code: str, sub_code: str | None) -> tuple[TicketKind, TicketSubKind | None]:
    """The company's active kind `code` and its active sub-kind `sub_code` (a company without kinds
    is seeded with the standard taxonomy first)."""
    code = (code or "").strip()
    if not _is_code(code):  # never sent to the database nor kept in the cache
        raise DomainError(_("未知的工单类型：%(c)s。") % {"c": code[:40]}, field="kind")
    key = (company.pk, code)
    found = active_kinds.get(key, lambda: _active_kind(company.pk, code))
    if found is None:
        active_kinds.forget(key)  # unknown codes are not kept (anyone can send any)
        # A company's first work orders seed the standard set; kinds_for also waits for a seeding
        # running in parallel (the first calls of a new company racing), then the code is read again.
        kinds_for(company)
        found = _active_kind(company.pk, code)
    if found is None:
        raise DomainError(_("未知的工单类型：%(c)s。") % {"c": code}, field="kind")
    kind, sub_kinds = found
    sub = None
    if sub_code:
        sub = sub_kinds.get(sub_code)
        if sub is None:
            raise DomainError(
                _("“%(k)s”没有子类“%(s)s”。") % {"k": kind.name, "s": sub_code}, field="sub_kind"
            )
    return kind, sub


def _link(source: Ticket, target: Ticket, kind: str, by: User) -> TicketLink:
    if source.pk == target.pk:
        raise DomainError(_("工单不能关联自己。"), field="target_id")
    if source.company_id != target.company_id:
        raise DomainError(_("只能关联本公司的工单。"), field="target_id")
    if TicketLink.objects.filter(source=source, target=target, kind=kind).exists():
        raise Conflict(_("这两个工单已经关联过了。"), code="already_linked")
    if kind == TicketLink.Kind.CHILD_OF:
        if TicketLink.objects.filter(source=target, kind=TicketLink.Kind.CHILD_OF).exists():
            raise DomainError(_("父工单本身是子工单，请关联到最上层的父工单。"), field="target_id")
        if TicketLink.objects.filter(target=source, kind=TicketLink.Kind.CHILD_OF).exists():
            raise DomainError(_("该工单已有子工单，不能再作为子工单。"), field="target_id")
        if TicketLink.objects.filter(source=source, kind=TicketLink.Kind.CHILD_OF).exists():
            raise DomainError(_("该工单已有父工单。"), field="target_id")
    link = TicketLink.objects.create(
        company_id=source.company_id, source=source, target=target, kind=kind, created_by=by
    )
    timeline.linked(source, by, kind=kind, other=target)
    timeline.linked(target, by, kind=kind, other=source, inverse=True)
    return link
