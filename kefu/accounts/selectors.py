"""Reading the audit log (S2): the auditor's search, scoped to the companies the auditor may read."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from kefu.accounts.models import AuditEvent, Company
from kefu.accounts.scoping import readable_company_ids


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _parse_ip(value: str | None) -> str:
    """A valid address or "" (an invalid one would make PostgreSQL's inet comparison fail)."""
    try:
        return str(ipaddress.ip_address((value or "").strip())) if value and value.strip() else ""
    except ValueError:
        return ""


@dataclass(frozen=True)
class AuditFilters:
    date_from: date | None = None
    date_to: date | None = None
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    result: str = ""
    source_ip: str = ""
    obj: str = ""  # the object as the auditor knows it: a work-order number, a name, an id

    @classmethod
    def from_query(cls, q) -> "AuditFilters":
        return cls(
            date_from=_parse_date(q.get("date_from")),
            date_to=_parse_date(q.get("date_to")),
            actor=q.get("actor", "").strip(),
            action=q.get("action", "").strip(),
            object_type=q.get("object_type", "").strip(),
            object_id=q.get("object_id", "").strip(),
            result=q.get("result", "").strip(),
            source_ip=_parse_ip(q.get("source_ip")),
            obj=q.get("obj", "").strip()[:100],
        )

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items() if v}


def sees_system_rows(user) -> bool:
    """Rows that belong to no company (failed log-ins with unknown names, rejected unknown tokens,
    operator commands) are shown to group-level auditors, a superuser, and — in an installation
    with a single company — that company's auditor. Never to one member company among several (S2)."""
    if user.is_superuser or user.group_reader:
        return True
    return Company.objects.count() == 1


def audit_events(*, user, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Audit rows of the auditor's companies (S2), newest first, filtered."""
    scope = Q(company_id__in=readable_company_ids(user))
    if sees_system_rows(user):
        scope |= Q(company__isnull=True)
    qs = AuditEvent.objects.filter(scope)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        qs = qs.filter(at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        qs = qs.filter(at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz))
    if filters.actor:  # the login or the person's name (S3: an auditor searches by person)
        qs = qs.filter(Q(actor_label__icontains=filters.actor) | Q(actor__full_name__icontains=filters.actor))
    if filters.obj:
        qs = qs.filter(Q(object_repr__icontains=filters.obj) | Q(object_id=filters.obj))
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.result:
        qs = qs.filter(result=filters.result)
    if filters.source_ip:
        qs = qs.filter(source_ip=filters.source_ip)
    return qs.select_related("actor").order_by("-at", "-id")


# ---- whom a commitment clock tells (P9: level by level) ---------------------------------------
def escalation_levels() -> tuple[str, ...]:
    """The roles told of a commitment clock, level by level (P9 请示报告): the team lead is warned
    before the due time (level 0), the supervisor is told of a breach (level 1), the manager of an
    escalation (level 2)."""
    from kefu.accounts.roles import Role

    return (Role.TEAM_LEAD, Role.SUPERVISOR, Role.MANAGER)


def escalation_recipients(company_id: int, level: int, *, team_id=None, department_id=None) -> list:
    """Active users at escalation `level` (see `escalation_levels`): of the team, else of the
    department, else of the whole company, oldest account first."""
    from kefu.accounts.models import User

    role = escalation_levels()[level]
    base = User.objects.filter(company_id=company_id, role=role, is_active=True).order_by("id")
    found: list = []
    if team_id is not None:
        found = list(base.filter(team_id=team_id))
    if not found and department_id is not None:
        found = list(base.filter(department_id=department_id))
    if not found:
        found = list(base)
    return found


def active_users(ids) -> list:
    """The active users among `ids` (one query)."""
    from kefu.accounts.models import User

    return list(User.objects.filter(pk__in=list(ids), is_active=True))
