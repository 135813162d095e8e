"""The work-order list as an Excel file (S2, S3, S4), through kefu.exports.

Who may export: a role that sees every work order of its company and may read reports
(`ticket.view_all` + `report.view`: team leads, supervisors, managers, quality). Personal data
(caller, phone, address) is masked by kefu.customers.privacy unless the role may see it in full
(`customer.view_unmasked`). Class (S4): work orders are records of calls and visits, 机密 — but a
list with full names, phones and addresses is customer data, 绝密, and leaves only on a
supervisor's approval. kefu.exports writes the file (watermark, row limit, audit rows).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.roles import Perm, role_allows
from kefu.customers.privacy import can_view_unmasked, show_name
from kefu.exports.classification import Level, classify
from kefu.exports.registry import ExportData, ExportKind, Sheet, params_to_query, register_export
from kefu.tickets.selectors import TicketFilter, order_by_time_left, ticket_personal_data, ticket_search
from kefu.tickets.states import state_label

EXPORT_MAX_ROWS = 10_000
"""An export holds at most this many work orders; a longer list is refused (narrow the filters)."""

#: The columns (title, width) of the file.
COLUMNS = (
    (gettext_lazy("工单号"), 18),
    (gettext_lazy("受理时间"), 17),
    (gettext_lazy("类型"), 10),
    (gettext_lazy("子类"), 12),
    (gettext_lazy("渠道"), 8),
    (gettext_lazy("状态"), 8),
    (gettext_lazy("最近到期"), 17),
    (gettext_lazy("来电人"), 10),
    (gettext_lazy("联系电话"), 14),
    (gettext_lazy("地址"), 34),
    (gettext_lazy("内容"), 50),
    (gettext_lazy("首问责任人"), 10),
    (gettext_lazy("承办部门"), 12),
    (gettext_lazy("承办人"), 10),
)

_WORDS = {
    "q": gettext_lazy("搜索"),
    "states": gettext_lazy("状态"),
    "open_only": gettext_lazy("只看未办结"),
    "kind": gettext_lazy("类型"),
    "owner_id": gettext_lazy("首问责任人"),
    "department_id": gettext_lazy("承办部门"),
    "channel": gettext_lazy("渠道"),
    "date_from": gettext_lazy("从"),
    "date_to": gettext_lazy("到"),
    "number": gettext_lazy("工单号"),
    "phone": gettext_lazy("电话"),
    "address": gettext_lazy("地址"),
    "content": gettext_lazy("内容"),
}


def may_export_tickets(user) -> bool:
    """True when the user's role may export the work-order list (S3)."""
    return role_allows(user, Perm.TICKET_VIEW_ALL) and role_allows(user, Perm.REPORT_VIEW)


def ticket_filter_from_query(query, user) -> tuple[TicketFilter, tuple[str, ...], str]:
    """The list's filter form read from a query string: (filter, states, sort). "owner=me" is `user`."""
    from kefu.tickets.forms import FilterForm

    form = FilterForm(query or None)
    if not (form.is_bound and form.is_valid()):
        return TicketFilter(), (), ""
    d = form.cleaned_data
    owner = d.get("owner") or ""
    owner_id = user.pk if owner == "me" else (int(owner) if owner.isdigit() and len(owner) < 10 else None)
    f = TicketFilter(
        open_only=d.get("open_only") or False,
        kind=d.get("kind") or "",
        owner_id=owner_id,
        department_id=d.get("department_id"),
        channel=d.get("channel") or "",
        date_from=d.get("date_from"),
        date_to=d.get("date_to"),
        number=d.get("number") or "",
        phone=d.get("phone") or "",
        address=d.get("address") or "",
        content=d.get("content") or "",
        q=d.get("q") or "",
    )
    return f, tuple(d.get("state") or ()), d.get("sort") or ""


def _filters(f: TicketFilter, states: tuple[str, ...]) -> dict:
    out = {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in asdict(f).items()
        if v not in ("", None, (), False)
    }
    if states:
        out["states"] = list(states)
    return out


def _describe(filters: dict) -> str:
    parts = []
    for k, v in filters.items():
        if k == "states":
            v = "、".join(str(state_label(s)) for s in v)
        elif v is True:
            v = _("是")
        parts.append(f"{_WORDS.get(k, k)}：{v}")
    return "；".join(parts) or _("全部工单")


def _local(dt):
    return timezone.localtime(dt).replace(tzinfo=None) if dt else None


def ticket_export_models(user, params) -> tuple[str, ...]:
    """What the file holds (S4): work orders (机密), and customer data (绝密) when unmasked."""
    return ("tickets.ticket", "customers.customer") if can_view_unmasked(user) else ("tickets.ticket",)


def build_ticket_list(user, params) -> ExportData:
    """The filtered list as `user` sees it: personal data masked unless `customer.view_unmasked`."""
    from kefu.tickets.clocks import clocks_by_ticket

    f, states, sort = ticket_filter_from_query(params_to_query(params), user)
    unmasked = can_view_unmasked(user)
    qs = ticket_search(user=user, f=f)
    if states:
        qs = qs.filter(state__in=states)
    if sort == "time_left":
        qs = order_by_time_left(qs)
    count = qs.count()

    def rows():
        ids = list(qs.values_list("pk", flat=True)[: EXPORT_MAX_ROWS + 1])
        by_id = qs.model.objects.select_related(
            "kind", "sub_kind", "owner", "assigned_department", "assigned_to", "customer", "premise"
        ).in_bulk(ids)
        clocks = clocks_by_ticket(ids)
        for pk in ids:
            t = by_id[pk]
            personal = ticket_personal_data(t, unmasked=unmasked)
            caller = t.salutation or (show_name(t.customer.name, unmasked=unmasked) if t.customer_id else "")
            due = min(
                (c.due_at for c in clocks.get(pk, []) if c.due_at and c.state in ("running", "breached")),
                default=None,
            )
            yield (
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
            )

    filters = _filters(f, states)
    return ExportData(
        sheets=[
            Sheet(
                title=_("工单"),
                header=[str(c) for c, _w in COLUMNS],
                rows=rows(),
                count=count,
                widths=[w for _c, w in COLUMNS],
            )
        ],
        description=_describe(filters),
        detail={"filters": filters, "unmasked": unmasked},
    )


def register() -> None:
    """Declare the classes of the work-order data (S4) and the list's export (S3); TicketsConfig.ready()."""
    calls = gettext_lazy("来电来访记录（工单）")
    for model in ("tickets.ticket", "tickets.ticketevent", "tickets.attachment", "tickets.ticketlink"):
        classify(model, Level.SECRET, category=calls)
    classify("tickets.handover", Level.SECRET, category=gettext_lazy("交接记录（工单移交）"))
    register_export(
        ExportKind(
            code="tickets.list",
            label=gettext_lazy("工单列表"),
            fmt="xlsx",
            filename="tickets",
            allowed=may_export_tickets,
            refusal=gettext_lazy("您的角色无权导出工单列表。"),
            models=ticket_export_models,
            build=build_ticket_list,
            max_rows=EXPORT_MAX_ROWS,
            object_type="tickets.ticket",
        )
    )
