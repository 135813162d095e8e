"""The counter's queue (P11, seed 003 6.2.1 and 6.2.2): numbers by business type, the greeter sending
customers to short queues, call-next per window, the transaction at the window, "还有其他需要办理的吗",
and the customer's rating. Waiting and service times are the rows' own timestamps (C15 on reports).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.roles import Perm
from kefu.core.errors import Conflict, DomainError, NotFound
from kefu.counter.models import (
    BusinessType,
    Hall,
    Outcome,
    QueueStatus,
    QueueTicket,
    Service,
    Window,
)
from kefu.counter.numbering import next_number
from kefu.counter.services.common import audit, local_day, require
from kefu.customers.models import Customer
from kefu.customers.normalize import normalize_phone

ACTIVE = (QueueStatus.CALLED, QueueStatus.SERVING)
RATINGS = range(1, 6)  # 1 非常不满意 … 5 非常满意 (the counter's rating pad)


def _hall(company_id: int, hall_id: int) -> Hall:
    try:
        return Hall.objects.get(pk=hall_id, company_id=company_id, is_active=True)
    except Hall.DoesNotExist:
        raise NotFound(_("没有这个营业厅。")) from None


def _window(company_id: int, window_id: int, *, lock: bool = False) -> Window:
    qs = Window.objects.select_related("hall")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=window_id, hall__company_id=company_id)
    except Window.DoesNotExist:
        raise NotFound(_("没有这个窗口。")) from None


def _ticket(company_id: int, ticket_id: int, *, lock: bool = True) -> QueueTicket:
    qs = QueueTicket.objects.select_related("hall", "business_type", "window")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=ticket_id, hall__company_id=company_id)
    except QueueTicket.DoesNotExist:
        raise NotFound(_("没有这个排队号。")) from None


def _customer_id(company_id: int, customer_id: int | None, account_no: str) -> int | None:
    if customer_id is None and not account_no:
        return None
    qs = Customer.objects.filter(company_id=company_id)
    qs = qs.filter(pk=customer_id) if customer_id is not None else qs.filter(account_no=account_no.strip())
    found = qs.values_list("pk", flat=True).first()
    if found is None:
        raise DomainError(_("没有这个客户（户号）。"), field="account_no")
    return found


def queue_take(
    *,
    by,
    hall_id: int,
    business_type_id: int,
    phone: str = "",
    customer_id: int | None = None,
    account_no: str = "",
    window_id: int | None = None,
) -> QueueTicket:
    """Give the next queue number of a business type in a hall (P11): A001, A002 … gapless per hall,
    local day and type. The greeter (or the kiosk) may send it straight to a window with a short
    queue (`window_id`, 003 6.2.2 步骤3). The number is also shown on the customer's phone through
    the ticket's token (no login, no personal data)."""
    company_id = require(by, Perm.COUNTER_SERVE)
    hall = _hall(company_id, hall_id)
    try:
        btype = BusinessType.objects.get(pk=business_type_id, company_id=company_id, is_active=True)
    except BusinessType.DoesNotExist:
        raise NotFound(_("没有这个业务类型。")) from None
    hint = None
    if window_id is not None:
        hint = _window(company_id, window_id)
        if hint.hall_id != hall.pk or not hint.business_types.filter(pk=btype.pk).exists():
            raise DomainError(_("该窗口不办理此类业务。"), field="window_id")
    if phone:
        phone = normalize_phone(phone) or ""
        if not phone:
            raise DomainError(_("手机号格式不对。"), field="phone")
    cid = _customer_id(company_id, customer_id, account_no)
    now = timezone.now()
    day = local_day(hall.company, now)
    with transaction.atomic():
        seq = next_number(company_id=company_id, series=f"q{hall.pk}-{btype.prefix}", period=day.isoformat())
        t = QueueTicket.objects.create(
            hall=hall,
            business_type=btype,
            day=day,
            seq=seq,
            number=f"{btype.prefix}{seq:03d}",
            window_hint=hint,
            issued_by=by,
            customer_id=cid,
            phone=phone,
            taken_at=now,
        )
        audit("counter.queue_taken", by=by, obj=t, summary=t.number)
    return t


def queue_send(*, by, ticket_id: int, window_id: int | None) -> QueueTicket:
    """The greeter sends a waiting customer to a window with fewer customers (003 6.2.2 步骤3);
    `None` puts the number back in the common queue of its business type."""
    company_id = require(by, Perm.COUNTER_SERVE)
    with transaction.atomic():
        t = _ticket(company_id, ticket_id)
        if t.status != QueueStatus.WAITING:
            raise Conflict(_("%(n)s 已不在等候中。") % {"n": t.number})
        hint = None
        if window_id is not None:
            hint = _window(company_id, window_id)
            if hint.hall_id != t.hall_id or not hint.business_types.filter(pk=t.business_type_id).exists():
                raise DomainError(_("该窗口不办理此类业务。"), field="window_id")
        t.window_hint = hint
        t.save(update_fields=["window_hint"])
        audit("counter.queue_sent", by=by, obj=t, to=str(hint) if hint else "")
    return t


def window_sign_in(*, by, window_id: int, open_: bool = True) -> Window:
    """A clerk takes (or leaves) a window; a window without a clerk calls nobody."""
    company_id = require(by, Perm.COUNTER_SERVE)
    with transaction.atomic():
        w = _window(company_id, window_id, lock=True)
        if open_:
            w.clerk, w.is_open = by, True
        else:
            if QueueTicket.objects.filter(window=w, status__in=ACTIVE).exists():
                raise Conflict(_("窗口还有正在办理的客户，请先办结。"))
            w.clerk, w.is_open = None, False
        w.save(update_fields=["clerk", "is_open"])
        audit("counter.window_opened" if open_ else "counter.window_closed", by=by, obj=w)
    return w


def queue_call_next(*, by, window_id: int) -> QueueTicket | None:
    """Call the next customer to a window (P11 "queue in order"): the oldest waiting number of the
    business types the window serves — across them, first taken first called (FIFO within each
    type) — among numbers not sent to another window. None when nobody waits.

    Only the clerk signed in at the window calls to it. Safe under two clerks at once: the window
    row is locked (one call per window at a time — a double click or a second tab — and a window
    with a customer at it calls nobody); candidates are read with `FOR UPDATE SKIP LOCKED`
    on PostgreSQL, so two windows skip each other's candidate instead of queuing on it, and the
    claim is a conditional UPDATE (`status = waiting`), so a number is called exactly once whatever
    the interleaving (on SQLite writers are serialised)."""
    company_id = require(by, Perm.COUNTER_SERVE)
    with transaction.atomic():
        w = _window(company_id, window_id, lock=True)
        if not w.is_open or w.clerk_id != by.pk:
            raise Conflict(_("您还没有登录这个窗口，请先登录窗口。"))
        busy = (
            QueueTicket.objects.filter(window=w, status__in=ACTIVE).values_list("number", flat=True).first()
        )
        if busy:
            raise Conflict(_("窗口还有正在办理的 %(n)s，请先办结或过号。") % {"n": busy})
        now = timezone.now()
        candidates = (
            QueueTicket.objects.filter(
                hall_id=w.hall_id,
                day=local_day(w.hall.company, now),
                status=QueueStatus.WAITING,
                business_type__in=w.business_types.all(),
            )
            .filter(Q(window_hint__isnull=True) | Q(window_hint=w))
            .order_by("taken_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        for _attempt in range(50):
            pk = candidates.values_list("pk", flat=True).first()
            if pk is None:
                return None
            claimed = QueueTicket.objects.filter(pk=pk, status=QueueStatus.WAITING).update(
                status=QueueStatus.CALLED, window=w, clerk=by, called_at=now
            )
            if claimed:
                t = QueueTicket.objects.select_related("business_type", "window", "hall").get(pk=pk)
                audit("counter.queue_called", by=by, obj=t, summary=f"{t.number} → {w}")
                return t
    raise Conflict(_("叫号冲突，请重试。"))


def _at_window(company_id: int, by, ticket_id: int, allowed: tuple[str, ...]) -> QueueTicket:
    t = _ticket(company_id, ticket_id)
    if t.status not in allowed:
        raise Conflict(
            _("%(n)s 当前状态为“%(s)s”，不能这样操作。") % {"n": t.number, "s": t.get_status_display()}
        )
    return t


def queue_recall(*, by, ticket_id: int) -> QueueTicket:
    """Call the same number again (the display and the voice repeat it)."""
    company_id = require(by, Perm.COUNTER_SERVE)
    with transaction.atomic():
        t = _at_window(company_id, by, ticket_id, (QueueStatus.CALLED,))
        t.recalls += 1
        t.save(update_fields=["recalls"])
        audit("counter.queue_recalled", by=by, obj=t)
    return t


def queue_no_show(*, by, ticket_id: int) -> QueueTicket:
    """The called customer did not come (过号); the window is free for the next number."""
    company_id = require(by, Perm.COUNTER_SERVE)
    with transaction.atomic():
        t = _at_window(company_id, by, ticket_id, (QueueStatus.CALLED,))
        t.status, t.finished_at = QueueStatus.NO_SHOW, timezone.now()
        t.save(update_fields=["status", "finished_at"])
        audit("counter.queue_no_show", by=by, obj=t)
    return t


def queue_cancel(*, by, ticket_id: int) -> QueueTicket:
    """A waiting customer left (the greeter cancels the number)."""
    company_id = require(by, Perm.COUNTER_SERVE)
    with transaction.atomic():
        t = _at_window(company_id, by, ticket_id, (QueueStatus.WAITING,))
        t.status, t.finished_at = QueueStatus.CANCELLED, timezone.now()
        t.save(update_fields=["status", "finished_at"])
        audit("counter.queue_cancelled", by=by, obj=t)
    return t


def queue_start(*, by, ticket_id: int, customer_id: int | None = None, account_no: str = "") -> QueueTicket:
    """The customer is at the window: the service time starts (C15)."""
    company_id = require(by, Perm.COUNTER_SERVE)
    with transaction.atomic():
        t = _at_window(company_id, by, ticket_id, (QueueStatus.CALLED,))
        t.status, t.started_at = QueueStatus.SERVING, timezone.now()
        cid = _customer_id(company_id, customer_id, account_no)
        if cid is not None:
            t.customer_id = cid
        t.save(update_fields=["status", "started_at", "customer_id"])
        audit("counter.queue_started", by=by, obj=t)
    return t


def service_record(
    *,
    by,
    ticket_id: int,
    business_type_id: int,
    documents_checked: list[str],
    outcome: str,
    note: str = "",
    ticket_kind: str = "",
    caller_surname: str = "",
    caller_phone: str = "",
    address: str = "",
) -> Service:
    """Record one business done at the window (003 6.2.1 步骤3): the documents checked (each required
    one of the business type must be ticked), then either completed on the spot or entered as a
    work order (channel 营业厅) owned by the clerk (P1) through tickets.services.ticket_create.
    Several businesses may be recorded for one number ("还有其他需要办理的吗")."""
    from kefu.tickets.models import Channel
    from kefu.tickets.services import ticket_create

    company_id = require(by, Perm.COUNTER_SERVE)
    if outcome not in Outcome.values:
        raise DomainError(_("未知的办理结果。"), field="outcome")
    try:
        btype = BusinessType.objects.get(pk=business_type_id, company_id=company_id)
    except BusinessType.DoesNotExist:
        raise NotFound(_("没有这个业务类型。")) from None
    checked = [str(d) for d in documents_checked]
    missing = [d for d in btype.documents if d not in checked]
    if missing:
        raise DomainError(
            _("还有证件资料未核对：%(d)s。") % {"d": "、".join(missing)}, field="documents_checked"
        )
    note = (note or "").strip()
    if outcome == Outcome.ON_SPOT and not btype.on_spot:
        raise DomainError(_("“%(b)s”不能当场办结，请转工单。") % {"b": btype.name}, field="outcome")
    with transaction.atomic():
        t = _at_window(company_id, by, ticket_id, (QueueStatus.SERVING,))
        number, tid = "", None
        if outcome == Outcome.WORK_ORDER:
            kind = ticket_kind or btype.ticket_kind
            if not kind:
                raise DomainError(_("请选择工单类型。"), field="ticket_kind")
            if not note:
                raise DomainError(_("请填写办理内容。"), field="note")
            result = ticket_create(
                by=by,
                kind=kind,
                content=f"[{t.number} {btype.name}] {note}",
                channel=Channel.COUNTER,
                customer_id=t.customer_id,
                caller_surname=caller_surname,
                caller_phone=caller_phone or t.phone,
                address=address,
                contact_started_at=t.started_at,
                on_duplicate="create",
            )
            number, tid = result.ticket.number, result.ticket.pk
        s = Service.objects.create(
            queue_ticket=t,
            business_type=btype,
            documents_checked=checked,
            outcome=outcome,
            ticket_id=tid,
            ticket_number=number,
            note=note,
            clerk=by,
        )
        audit(
            "counter.service_recorded",
            by=by,
            obj=t,
            summary=f"{btype.name} {s.get_outcome_display()} {number}",
        )
    return s


def queue_finish(*, by, ticket_id: int, anything_else_asked: bool) -> QueueTicket:
    """End the customer's visit (003 6.2.1 步骤4–5). The clerk must have asked "您的业务已经办理完了，
    还需要我为您做些什么吗？" — the visit cannot be closed without it — and at least one business must
    be recorded. The service time stops here (C15)."""
    company_id = require(by, Perm.COUNTER_SERVE)
    if not anything_else_asked:
        raise DomainError(_("请先询问客户：还有其他需要办理的吗？"), field="anything_else_asked")
    with transaction.atomic():
        t = _at_window(company_id, by, ticket_id, (QueueStatus.SERVING,))
        if not t.services.exists():
            raise DomainError(_("请先登记办理的业务。"), field="services")
        t.status, t.finished_at, t.anything_else_asked = QueueStatus.DONE, timezone.now(), True
        t.save(update_fields=["status", "finished_at", "anything_else_asked"])
        audit("counter.queue_finished", by=by, obj=t, summary=f"{t.service_seconds}s")
    return t


def queue_rate(
    *, ticket_id: int | None = None, token: str = "", rating: int, comment: str = "", by=None
) -> QueueTicket:
    """The customer rates the visit (1 非常不满意 … 5 非常满意), once, on the window's rating pad or on
    their phone (token). Rating is the customer's, so it needs no role, only the finished visit."""
    if rating not in RATINGS:
        raise DomainError(_("评价须为 1 到 5 分。"), field="rating")
    with transaction.atomic():
        qs = QueueTicket.objects.select_for_update()
        try:
            if token:
                t = qs.get(token=token)
            else:
                if by is None or by.company_id is None:
                    raise NotFound(_("没有这个排队号。"))
                t = qs.get(pk=ticket_id, hall__company_id=by.company_id)
        except QueueTicket.DoesNotExist:
            raise NotFound(_("没有这个排队号。")) from None
        if t.status != QueueStatus.DONE:
            raise Conflict(_("业务办结后才能评价。"))
        if t.rating is not None:
            raise Conflict(_("已经评价过了，谢谢！"))
        t.rating, t.rating_comment, t.rated_at = rating, (comment or "")[:200], timezone.now()
        t.save(update_fields=["rating", "rating_comment", "rated_at"])
    return t
