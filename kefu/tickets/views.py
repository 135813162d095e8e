"""Web pages of work orders: the agent desk (P1, P2, P5, L1, L3, C15), the list, the work-order page
with its timeline and actions, and the technicians' phone list. Views parse, call one service or
selector, render; refusals become messages in Chinese."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import Department, User
from kefu.accounts.refusals import refused_with_message
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError, Forbidden
from kefu.core.redirects import same_site_path
from kefu.customers.normalize import normalize_phone
from kefu.exports.registry import params_from_query
from kefu.exports.web import export_response
from kefu.telephony.selectors import calls_of_ticket
from kefu.telephony.services import call_link_ticket
from kefu.tickets import services
from kefu.tickets.downloads import attachment_response
from kefu.tickets.events import TimelineEntry, hold_reason_label
from kefu.tickets.exports import may_export_tickets, ticket_filter_from_query
from kefu.tickets.forms import FilterForm, HandOverForm, TicketForm, TransitionForm
from kefu.tickets.models import HandOver, TicketLink
from kefu.tickets.selectors import (
    TicketFilter,
    exact_number_ticket,
    order_by_time_left,
    pending_hand_overs_for,
    ticket_caller,
    ticket_get,
    ticket_list_with_counts,
    ticket_personal_data,
    tickets_for_caller,
    tickets_visible_to,
)
from kefu.tickets.services.timeline import ticket_attachment_open
from kefu.tickets.services.workflow import allowed_actions, may_be_assigned, may_move, may_own
from kefu.tickets.states import (
    AGREED_TIME_HOLD_REASONS,
    FINAL_STATES,
    OPEN_STATES,
    PAUSING_HOLD_REASONS,
    CancelReason,
    HoldReason,
    TicketState,
    field_next_step,
    state_label,
)
from kefu.tickets.taxonomy import kinds_for

try:  # the caller lookup of kefu.customers (P2)
    from kefu.customers.selectors import caller_lookup, customer_card
except ImportError:  # pragma: no cover - only while the lookup is not merged
    caller_lookup = customer_card = None


def _require(request: HttpRequest, perm: str) -> None:
    if not role_allows(request.user, perm):
        raise Forbidden(_("您的角色无权执行此操作。"), code="permission_denied")


def _can_view_tickets(user) -> bool:
    return role_allows(user, Perm.TICKET_VIEW_ALL) or role_allows(user, Perm.TICKET_VIEW_ASSIGNED)


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "tickets/refused.html", {"message": message}, status=403)


# --------------------------------------------------------------------------------------------- desk


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    """The agent desk: phone box (a telephone system opens /tickets/desk/?phone=<caller id>) →
    candidates → customer card with open and recent work orders first → new work-order form."""
    if not role_allows(request.user, Perm.TICKET_CREATE):
        return _forbidden(request, _("您的角色不能受理来电。"))
    kinds = kinds_for(request.user.company)
    phone_raw = (request.GET.get("phone") or "").strip()[:40]
    query = (request.GET.get("q") or phone_raw).strip()[:100]
    customer_id = _int(request.GET.get("customer"))
    started = _parse_started(request.GET.get("started")) or timezone.now()
    area = request.user.company.area_code if request.user.company else ""
    phone = normalize_phone(phone_raw, area) or "" if phone_raw else ""

    candidates = []
    if query and caller_lookup is not None and not customer_id:
        candidates = caller_lookup(user=request.user, query=query, limit=20)
        if len(candidates) == 1 and candidates[0].match in ("phone", "account"):
            customer_id = candidates[0].customer_id
    card = None
    if customer_id and customer_card is not None:
        try:
            card = customer_card(user=request.user, customer_id=customer_id)
        except DomainError as exc:
            refused_with_message(request, exc)
            customer_id = None
    caller_tickets = tickets_for_caller(user=request.user, customer_id=customer_id, phone=phone)

    initial = {
        "kind": "consultation",
        "channel": "hotline",
        "caller_phone": phone_raw,
        "customer_id": customer_id,
        "contact_started_at": started,
        "on_duplicate": "ask",
    }
    quick = bool(request.GET.get("quick"))
    if quick:
        initial["resolved_on_call"] = True
    if card is not None:
        initial["caller_surname"] = (card.name or "").rstrip("*")[:2]
    form = TicketForm(initial=initial, kinds=kinds, quick=quick)
    saved = None
    if saved_id := _int(request.GET.get("saved")):
        try:
            saved = ticket_get(user=request.user, ticket_id=saved_id)
        except DomainError:
            saved = None
    return render(
        request,
        "tickets/desk.html",
        {
            "form": form,
            "kinds": kinds,
            "query": query,
            "phone": phone_raw,
            "candidates": candidates,
            "card": card,
            "caller_tickets": caller_tickets,
            "open_states": OPEN_STATES,
            "final_states": FINAL_STATES,  # "called again" is recorded on any work order not final (P1)
            "started": started.isoformat(),
            "saved": saved,
            "company": request.user.company,
            "quick": quick,
            "call_pk": _int(request.GET.get("call")),  # the screen pop's call (kefu.telephony, P2)
        },
    )


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _parse_started(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(dt) or dt > timezone.now():
        return None
    return dt


@login_required
@require_POST
def desk_create(request: HttpRequest) -> HttpResponse:
    """Save the new work order; on success back to the desk with the L1 closing reminder."""
    if not role_allows(request.user, Perm.TICKET_CREATE):
        return _forbidden(request, _("您的角色不能受理来电。"))
    kinds = kinds_for(request.user.company)
    quick = bool(request.POST.get("quick"))
    form = TicketForm(request.POST, kinds=kinds, quick=quick)
    duplicates = []
    if form.is_valid():
        d = form.cleaned_data
        on_dup = d.get("on_duplicate") or "ask"
        link_to = d.get("link_to_id") if on_dup == "link" else None
        try:
            result = services.ticket_create(
                by=request.user,
                kind=d["kind"],
                sub_kind=d["sub_kind"],
                channel=d["channel"],
                content=d["content"],
                customer_id=d.get("customer_id"),
                caller_surname=d.get("caller_surname") or "",
                caller_title=d.get("caller_title") or "",
                caller_phone=d.get("caller_phone") or "",
                address=d.get("address") or "",
                resolved_on_call=d.get("resolved_on_call") or False,
                answer=d.get("answer") or "",
                contact_started_at=d.get("contact_started_at"),
                on_duplicate="create" if on_dup in ("create", "link") else "ask",
                link_to_id=link_to,
                link_kind=TicketLink.Kind.DUPLICATE_OF,
            )
        except services.DuplicateFound as exc:
            duplicates = exc.duplicates
            form.add_error(None, exc.message)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            t = result.ticket
            if call_pk := _int(request.POST.get("call")):  # made during a call: link it (P2)
                call_link_ticket(user=request.user, call_id=call_pk, ticket_id=t.pk)
            params = {"saved": t.pk, **({"call": call_pk} if call_pk else {})}
            if t.customer_id:
                params["customer"] = t.customer_id
            if t.caller_phone:
                params["phone"] = t.caller_phone
            if quick:
                params["quick"] = 1  # the next call starts in quick mode again
            return redirect(f"{reverse('tickets:desk')}?{urlencode(params)}")
    customer_id = _int(request.POST.get("customer_id"))
    card = None
    if customer_id and customer_card is not None:
        try:
            card = customer_card(user=request.user, customer_id=customer_id)
        except DomainError:
            card = None
    return render(
        request,
        "tickets/desk.html",
        {
            "form": form,
            "kinds": kinds,
            "query": "",
            "phone": request.POST.get("caller_phone", ""),
            "candidates": [],
            "card": card,
            "caller_tickets": tickets_for_caller(user=request.user, customer_id=customer_id),
            "open_states": OPEN_STATES,
            "final_states": FINAL_STATES,  # "called again" is recorded on any work order not final (P1)
            "started": request.POST.get("contact_started_at", ""),
            "duplicates": duplicates,
            "company": request.user.company,
            "quick": quick,
            "call_pk": _int(request.POST.get("call")),
        },
        status=400,
    )


@login_required
@require_POST
def called_again(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """ "来电再次反映": recorded on the open work order instead of a new one (P1)."""
    try:
        t = services.ticket_record_called_again(
            ticket_id=ticket_id,
            by=request.user,
            note=request.POST.get("note", ""),
            channel=request.POST.get("channel") or "hotline",
        )
        messages.success(
            request,
            _("已在工单 %(n)s 上记录客户再次来电（第 %(c)d 次）。您还有其他问题吗？")
            % {"n": t.number, "c": t.called_again_count},
        )
    except DomainError as exc:
        refused_with_message(request, exc)
    return HttpResponseRedirect(
        same_site_path(request.POST.get("next"), reverse("tickets:detail", args=[ticket_id]))
    )


# --------------------------------------------------------------------------------------------- list


def _list_filter(request: HttpRequest) -> tuple[FilterForm, TicketFilter, tuple[str, ...], str]:
    """The list's filter form read from the query string: (form, filter, states, sort) — the same
    reading as the export's (kefu.tickets.exports.ticket_filter_from_query)."""
    form = FilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    f, states, sort = ticket_filter_from_query(request.GET, request.user)
    return form, f, states, sort


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    """Work-order list: filters (state, kind, owner, department, channel, dates), one search box
    (number, phone, address in the caller-lookup forms, sub-kind name or content; an exact number
    opens the work order), counts by state, sort by time left, pagination."""
    if not _can_view_tickets(request.user):
        return _forbidden(request, _("您的角色不能查看工单。"))
    others = any(v for k, v in request.GET.items() if k not in ("q", "page", "sort"))
    if (q := request.GET.get("q")) and not others:  # only the number searched: open it
        if exact := exact_number_ticket(user=request.user, q=q):
            return redirect("tickets:detail", ticket_id=exact.pk)
    form, f, states, sort = _list_filter(request)
    result = ticket_list_with_counts(user=request.user, f=f, states=states)
    if sort == "time_left":
        result = replace(result, rows=order_by_time_left(result.rows))
    paginator = Paginator(result.rows, 20)
    paginator.count = result.total  # counted once by ticket_list_with_counts (capped for a huge text match)
    page = paginator.get_page(request.GET.get("page"))
    start = (page.number - 1) * paginator.per_page
    page.object_list = result.page(
        start,
        start + paginator.per_page,
        "kind",
        "owner",
        "assigned_department",
        "assigned_to",
        "customer",
        "premise",
    )
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "tickets/list.html",
        {
            "form": form,
            "page": page,
            "counts": [
                (s, TicketState(s).label, None if result.by_state is None else result.by_state.get(s, 0))
                for s in TicketState.values
            ],
            "total": result.total,
            "capped": result.capped,
            "cap": result.cap,
            "window": result.window,
            "kinds": kinds_for(request.user.company) if request.user.company else [],
            "departments": Department.objects.filter(company_id=request.user.company_id, is_active=True),
            "querystring": params.urlencode(),
            "rows": _rows_with_clocks(page.object_list),
            "may_export": may_export_tickets(request.user),
        },
    )


@login_required
@require_GET
def ticket_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as an Excel file through kefu.exports (S3: permission checked, personal data
    masked unless the role may see it in full; in full it is 绝密 and needs an approved request;
    watermarked; one audit row per export)."""
    return export_response(request, kind="tickets.list", params=params_from_query(request.GET))


def _row(t) -> dict:
    return {"t": t, "caller": ticket_caller(t), **ticket_personal_data(t), "state": state_label(t.state)}


def _rows_with_clocks(tickets) -> list[dict]:
    """List rows with each work order's commitment clocks, fetched in one query for the page."""
    from kefu.tickets.clocks import clocks_by_ticket

    clocks = clocks_by_ticket([t.pk for t in tickets])
    return [{**_row(t), "clocks": clocks[t.pk]} for t in tickets]


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """Technicians' list on a phone screen: open work orders assigned to me, newest first."""
    if not _can_view_tickets(request.user):
        return _forbidden(request, _("您的角色不能查看工单。"))
    qs = (
        tickets_visible_to(request.user)
        .filter(assigned_to=request.user, state__in=OPEN_STATES)
        .select_related("kind", "sub_kind", "owner", "customer", "premise")
        .order_by("-severity", "received_at")
    )
    rows = [{**_row(t), "next": _next_step(t, request.user)} for t in qs[:100]]
    return render(request, "tickets/mine.html", {"rows": rows})


def _next_step(t, user) -> str | None:
    """The phone list's one button: the table's next step, if the workflow lets this user take it."""
    step = field_next_step(t.state)
    return step if step and may_move(user, t, step) else None


# ------------------------------------------------------------------------------------------- detail


@login_required
def detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """One work order: its facts, the timeline, and the actions the user's role allows."""
    try:
        t = ticket_get(user=request.user, ticket_id=ticket_id)
    except DomainError as exc:
        return render(request, "tickets/refused.html", {"message": exc.message}, status=404)
    user = request.user
    events = list(t.events.select_related("actor").order_by("at", "id"))
    attachments = list(t.attachments.order_by("uploaded_at", "id"))
    # Files open only within one's own company (ticket_attachment_open); a group reader sees the names.
    can_open_files = t.company_id == user.company_id
    openable = {a.pk: a for a in attachments} if can_open_files else {}
    colleagues = (
        User.objects.filter(company_id=user.company_id, is_active=True)
        .exclude(pk=user.pk)
        .order_by("full_name")
    )
    owners = [u for u in colleagues if may_own(u)]
    workers = [u for u in colleagues if may_be_assigned(u)]
    pending = (
        t.hand_overs.filter(status=HandOver.Status.PENDING).select_related("from_user", "to_user").first()
    )
    links = list(t.links_out.select_related("target")) + list(t.links_in.select_related("source"))
    return render(
        request,
        "tickets/detail.html",
        {
            "t": t,
            "caller": ticket_caller(t),
            **ticket_personal_data(t),
            "state": state_label(t.state),
            "events": [
                (entry.event, entry.label, entry.text, openable.get(entry.attachment_id))
                for entry in map(TimelineEntry, events)
            ],
            "attachments": attachments,
            "can_open_files": can_open_files,
            "actions": allowed_actions(t, user),  # the workflow decides what the page offers
            "cancel_reasons": CancelReason.choices,
            "max_reason": services.MAX_REASON,
            "owners": owners,
            "workers": workers,
            "departments": Department.objects.filter(company_id=user.company_id, is_active=True),
            "pending": pending,
            "links": links,
            "hold": _hold(t, events),
            "hold_reasons": HoldReason.choices,
            "pausing_reasons": PAUSING_HOLD_REASONS,
            "agreed_reasons": AGREED_TIME_HOLD_REASONS,
            # The calls it was recorded during (kefu.telephony, P2); recordings play there, role-gated.
            "calls": calls_of_ticket(user, t.pk),
            "may_play": role_allows(user, Perm.RECORDING_PLAY),
        },
    )


def _hold(t, events) -> dict | None:
    """Why a held work order waits, the agreed time and whether its clocks are paused (the hold's
    timeline entry, C4)."""
    if t.state != TicketState.ON_HOLD:
        return None
    entry = next(
        (e for e in reversed(events) if e.kind == "state_changed" and (e.payload or {}).get("to") == t.state),
        None,
    )
    if entry is None:
        return None
    p = entry.payload or {}
    agreed = None
    if p.get("agreed_at"):
        try:
            agreed = datetime.fromisoformat(p["agreed_at"])
        except ValueError:
            agreed = None
    return {
        "label": hold_reason_label(p.get("hold_reason") or HoldReason.OTHER),
        "agreed_at": agreed,
        "paused": bool(p.get("paused_clocks")),
    }


@login_required
@require_GET
def attachment_download(request: HttpRequest, ticket_id: int, attachment_id: int) -> HttpResponse:
    """Open an attachment of a work order the user may see (S2): images and PDF in the browser,
    other files as a download; every opening is in the audit log. 404 for anything else."""
    try:
        att, handle = ticket_attachment_open(
            ticket_id=ticket_id, attachment_id=attachment_id, by=request.user
        )
    except DomainError as exc:
        return render(request, "tickets/refused.html", {"message": exc.message}, status=404)
    return attachment_response(att, handle)


def _back(ticket_id: int) -> HttpResponse:
    return redirect("tickets:detail", ticket_id=ticket_id)


@login_required
@require_POST
def act(request: HttpRequest, ticket_id: int, action: str) -> HttpResponse:
    """The work-order page's buttons: each posts here and calls exactly one service."""
    p = request.POST
    user = request.user
    try:
        if action == "transition":
            form = TransitionForm(p)
            if not form.is_valid():
                raise DomainError(_("请求数据有误，请刷新后重试。"))
            d = form.cleaned_data
            services.ticket_transition(
                ticket_id=ticket_id,
                by=user,
                to=d["to"],
                version=d["version"],
                reason=d["reason"],
                cancel_reason=d["cancel_reason"],
                hold_reason=d["hold_reason"],
                agreed_at=d["agreed_at"],
            )
            messages.success(request, _("状态已改为“%(s)s”。") % {"s": state_label(d["to"])})
        elif action == "assign":
            services.ticket_assign(
                ticket_id=ticket_id,
                by=user,
                version=_int(p.get("version")),
                department_id=_int(p.get("department_id")),
                user_id=_int(p.get("user_id")),
                note=p.get("note", ""),
            )
            messages.success(request, _("已派发。"))
        elif action == "comment":
            services.ticket_comment(ticket_id=ticket_id, by=user, text=p.get("text", ""))
            messages.success(request, _("备注已添加。"))
        elif action == "reply":
            services.ticket_reply(
                ticket_id=ticket_id, by=user, text=p.get("text", ""), via=p.get("via") or "hotline"
            )
            messages.success(request, _("答复已记录。"))
        elif action == "hand_over":
            form = HandOverForm(p)
            if not form.is_valid():
                raise DomainError(_("请选择接收人并填写移交原因。"), field="reason")
            d = form.cleaned_data
            services.ticket_hand_over(
                ticket_id=ticket_id,
                by=user,
                to_user_id=d["to_user_id"],
                reason=d["reason"],
                version=d.get("version"),
            )
            messages.success(request, _("已发起移交，对方接收后责任转移。"))
        elif action == "reassign":
            services.ticket_reassign(
                ticket_id=ticket_id,
                by=user,
                to_user_id=_int(p.get("to_user_id")),
                reason=p.get("reason", ""),
                version=_int(p.get("version")),
            )
            messages.success(request, _("已改派首问责任人。"))
        elif action == "link":
            services.ticket_link(
                ticket_id=ticket_id,
                by=user,
                target_id=_ticket_id_from(user, p.get("target", "")),
                kind=p.get("kind", ""),
            )
            messages.success(request, _("已关联。"))
        elif action == "close_children":
            closed = services.ticket_close_children(
                ticket_id=ticket_id, by=user, reason=p.get("reason", ""), version=_int(p.get("version"))
            )
            messages.success(request, _("已批量办结 %(n)d 张工单。") % {"n": len(closed)})
        elif action == "contact":
            services.ticket_record_contact_attempt(
                ticket_id=ticket_id, by=user, outcome=p.get("outcome", ""), note=p.get("note", "")
            )
            messages.success(request, _("联系记录已保存。"))
        elif action == "attach":
            upload = request.FILES.get("file")
            if upload is None:
                raise DomainError(_("请选择文件。"), field="file")
            services.ticket_add_attachment(ticket_id=ticket_id, by=user, upload=upload)
            messages.success(request, _("附件已上传。"))
        else:
            raise DomainError(_("未知的操作。"))
    except DomainError as exc:
        refused_with_message(request, exc)
    if p.get("next", "").startswith("/tickets/"):
        return HttpResponseRedirect(same_site_path(p["next"], reverse("tickets:detail", args=[ticket_id])))
    return _back(ticket_id)


def _ticket_id_from(user, text: str) -> int | None:
    """The link box accepts a work-order number (GD…) or an id."""
    text = (text or "").strip()
    if text.isdigit():
        return int(text)
    t = tickets_visible_to(user).filter(company_id=user.company_id, number=text.upper()).first()
    if t is None:
        raise DomainError(_("没有找到工单 %(n)s。") % {"n": text}, field="target")
    return t.pk


@login_required
def hand_overs(request: HttpRequest) -> HttpResponse:
    """Hand-overs waiting for me."""
    return render(request, "tickets/hand_overs.html", {"pending": pending_hand_overs_for(user=request.user)})


@login_required
@require_POST
def hand_over_decide(request: HttpRequest, hand_over_id: int, decision: str) -> HttpResponse:
    ticket_id = None
    try:
        if decision == "accept":
            t = services.ticket_accept_hand_over(hand_over_id=hand_over_id, by=request.user)
            ticket_id = t.pk
            messages.success(request, _("已接收工单 %(n)s，您现在是首问责任人。") % {"n": t.number})
        elif decision == "decline":
            ho = services.ticket_decline_hand_over(
                hand_over_id=hand_over_id, by=request.user, note=request.POST.get("note", "")
            )
            messages.success(request, _("已拒绝移交。"))
            ticket_id = ho.ticket_id
        elif decision == "withdraw":
            ho = services.ticket_withdraw_hand_over(hand_over_id=hand_over_id, by=request.user)
            messages.success(request, _("已撤回移交。"))
            ticket_id = ho.ticket_id
        else:
            raise DomainError(_("未知的操作。"))
    except DomainError as exc:
        refused_with_message(request, exc)
    if ticket_id:
        return _back(ticket_id)
    return redirect("tickets:hand_overs")


@login_required
@require_GET
def customer_history(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer card's work-order history, open ones first (P1): the card (customers app, a
    lower layer) loads this fragment by URL. Only work orders the user may see (S2)."""
    may_see = role_allows(request.user, Perm.TICKET_VIEW_ALL) or role_allows(
        request.user, Perm.TICKET_VIEW_ASSIGNED
    )
    history = tickets_for_caller(user=request.user, customer_id=customer_id, limit=20) if may_see else []
    return render(request, "tickets/_customer_history.html", {"history": history, "open_states": OPEN_STATES})
