"""The work-order list as an Excel file (S2, S3).

Who may export: a role that sees every work order of its company and may read reports
(`ticket.view_all` + `report.view`: team leads, supervisors, managers, quality). Personal data
(caller, phone, address) is masked by kefu.customers.privacy unless the role may see it in full
(`customer.view_unmasked`). Every export — and every refused one — is one audit row naming the
filters, the number of rows and whether the data was unmasked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from io import BytesIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditEvent
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import Forbidden
from kefu.customers.privacy import can_view_unmasked, show_name
from kefu.tickets.selectors import TicketFilter, order_by_time_left, ticket_personal_data, ticket_search
from kefu.tickets.states import state_label

EXPORT_MAX_ROWS = 10_000
"""An export holds at most this many work orders (newest first, or by time left); the audit row
and the file's last line say when the list was longer."""


def may_export_tickets(user) -> bool:
    """True when the user's role may export the work-order list (S3)."""
    return role_allows(user, Perm.TICKET_VIEW_ALL) and role_allows(user, Perm.REPORT_VIEW)


@dataclass(frozen=True)
class TicketExport:
    content: bytes
    filename: str
    rows: int
    unmasked: bool


def _filters(f: TicketFilter, states: tuple[str, ...]) -> dict:
    out = {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in asdict(f).items()
        if v not in ("", None, (), False)
    }
    if states:
        out["states"] = list(states)
    return out


def _local(dt):
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def ticket_export_xlsx(
    *, by, f: TicketFilter, states: tuple[str, ...] = (), time_left: bool = False
) -> TicketExport:
    """Export the filtered work-order list to .xlsx (S3): refused and audited without the
    permission; personal data masked unless `customer.view_unmasked`; one `data.exported` row."""
    if not may_export_tickets(by):
        audit_record(
            action=Action.PERMISSION_DENIED,
            actor=by,
            result=AuditEvent.Result.DENIED,
            object_type="tickets.ticket",
            object_repr=_("导出工单列表"),
            detail={"wanted": "ticket.export"},
        )
        raise Forbidden(_("您的角色无权导出工单列表。"), code="permission_denied")
    from openpyxl import Workbook

    from kefu.tickets.clocks import clocks_by_ticket

    unmasked = can_view_unmasked(by)
    qs = ticket_search(user=by, f=f)
    if states:
        qs = qs.filter(state__in=states)
    if time_left:
        qs = order_by_time_left(qs)
    ids = list(qs.values_list("pk", flat=True)[: EXPORT_MAX_ROWS + 1])
    more = len(ids) > EXPORT_MAX_ROWS
    ids = ids[:EXPORT_MAX_ROWS]
    by_id = qs.model.objects.select_related(
        "kind", "sub_kind", "owner", "assigned_department", "assigned_to", "customer", "premise"
    ).in_bulk(ids)
    clocks = clocks_by_ticket(ids)
    wb = Workbook()
    ws = wb.active
    ws.title = _("工单")
    ws.append(
        [
            _("工单号"),
            _("受理时间"),
            _("类型"),
            _("子类"),
            _("渠道"),
            _("状态"),
            _("最近到期"),
            _("来电人"),
            _("联系电话"),
            _("地址"),
            _("内容"),
            _("首问责任人"),
            _("承办部门"),
            _("承办人"),
        ]
    )
    for pk in ids:
        t = by_id[pk]
        personal = ticket_personal_data(t, unmasked=unmasked)
        caller = t.salutation or (show_name(t.customer.name, unmasked=unmasked) if t.customer_id else "")
        due = min(
            (c.due_at for c in clocks.get(pk, []) if c.due_at and c.state in ("running", "breached")),
            default=None,
        )
        ws.append(
            [
                t.number,
                _local(t.received_at),
                t.kind.name,
                t.sub_kind.name if t.sub_kind_id else "",
                t.get_channel_display(),
                str(state_label(t.state)),
                _local(due),
                caller,
                personal["phone"],
                personal["address"],
                t.content,
                t.owner.display_name,
                t.assigned_department.name if t.assigned_department_id else "",
                t.assigned_to.display_name if t.assigned_to_id else "",
            ]
        )
    if more:
        ws.append([_("只导出了前 %(n)d 张工单，请缩小筛选范围。") % {"n": EXPORT_MAX_ROWS}])
    for col, width in zip(
        "ABCDEFGHIJKLMN", (18, 17, 10, 12, 8, 8, 17, 10, 14, 34, 50, 10, 12, 10), strict=True
    ):
        ws.column_dimensions[col].width = width
    buf = BytesIO()
    wb.save(buf)
    with transaction.atomic():
        audit_record(
            action=Action.EXPORTED,
            actor=by,
            object_type="tickets.ticket",
            object_repr=_("工单列表"),
            detail={
                "filters": _filters(f, states),
                "rows": len(ids),
                "truncated": more,
                "unmasked": unmasked,
            },
        )
    return TicketExport(
        content=buf.getvalue(),
        filename=f"tickets-{timezone.localdate():%Y%m%d}.xlsx",
        rows=len(ids),
        unmasked=unmasked,
    )
