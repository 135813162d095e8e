"""Timeline entries (notes, replies, contact attempts, called again, attachments), links and mass incidents."""

from __future__ import annotations

import logging
import os
from typing import IO

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import DomainError, Forbidden, NotFound
from kefu.core.events import publish
from kefu.tickets import events as timeline
from kefu.tickets.facts import TicketReplied
from kefu.tickets.models import Attachment, Channel, Ticket, TicketEvent, TicketLink
from kefu.tickets.selectors import tickets_visible_to
from kefu.tickets.services.common import (
    _MAGIC,
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    MAX_REASON,
    _check_version,
    _link,
    _lock,
    _require_company,
    _text,
    is_handler,
)
from kefu.tickets.services.workflow import _apply_state, may_close_or_cancel
from kefu.tickets.states import FINAL_STATES, TicketState, can_move

log = logging.getLogger(__name__)


def _open_for_notes(ticket_id: int, by: User) -> Ticket:
    company_id = _require_company(by)
    assert_perm(by, Perm.TICKET_WORK)
    ticket = tickets_visible_to(by).filter(pk=ticket_id, company_id=company_id).first()
    if ticket is None:
        raise NotFound(_("没有找到该工单，或您无权查看。"), code="not_found")
    return ticket


def ticket_comment(*, ticket_id: int, by: User, text: str) -> TicketEvent:
    """An internal note on the timeline (not shown to the customer). Anyone who may work on and see
    the work order may add one; notes never conflict, so no version is needed."""
    ticket = _open_for_notes(ticket_id, by)
    text = _text(text, field_name="text", label=_("备注"))
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        return timeline.comment(ticket, by, text=text)


def ticket_reply(*, ticket_id: int, by: User, text: str, via: str = Channel.HOTLINE) -> TicketEvent:
    """What was told to the customer (by phone, SMS, letter …), by the owner, assignee or a lead.

    Publishes TicketReplied (kefu.tickets.facts) after the commit: the reply is what
    stops the "answer within N working days" commitments (C6 complaints, C14 consultations)."""
    ticket = _open_for_notes(ticket_id, by)
    if not is_handler(by, ticket):
        raise Forbidden(_("只有首问责任人、承办人或调度/班长可以答复客户。"), code="not_handler")
    if via not in Channel.values and via != "sms":
        raise DomainError(_("未知的答复方式。"), field="via")
    text = _text(text, field_name="text", label=_("答复内容"))
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        event = timeline.reply(ticket, by, text=text, via=via)
        publish(TicketReplied(ticket_id=ticket.pk, at=event.at, event_id=event.pk, via=via))
    return event


CONTACT_OUTCOMES = {
    "reached": "已联系上",
    "no_answer": "无人接听",
    "busy": "占线",
    "wrong_number": "号码错误",
}


def ticket_record_contact_attempt(*, ticket_id: int, by: User, outcome: str, note: str = "") -> TicketEvent:
    """One attempt to reach the customer (call back, visit), with its outcome."""
    ticket = _open_for_notes(ticket_id, by)
    if outcome not in CONTACT_OUTCOMES:
        raise DomainError(_("联系结果无效。"), field="outcome")
    note = _text(note, field_name="note", label=_("说明"), required=False, limit=MAX_REASON)
    return timeline.contact_attempt(ticket, by, outcome=outcome, note=note)


def ticket_record_called_again(
    *, ticket_id: int, by: User, note: str = "", channel: str = Channel.HOTLINE
) -> Ticket:
    """The customer called again about an open work order (P1: the customer never has to start over):
    recorded on that work order instead of opening a new one. The counter is bumped with an atomic
    UPDATE (not the version), so it never conflicts with the people working on it."""
    ticket = _open_for_notes(ticket_id, by)
    if ticket.state in FINAL_STATES:
        raise DomainError(
            _("工单 %(n)s 已关闭，请新建工单并关联为跟进。") % {"n": ticket.number}, code="illegal_transition"
        )
    if channel not in Channel.values:
        raise DomainError(_("未知的受理渠道：%(c)s。") % {"c": channel}, field="channel")
    note = _text(note, field_name="note", label=_("说明"), required=False)
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(
            called_again_count=F("called_again_count") + 1, updated_at=timezone.now()
        )
        timeline.called_again(ticket, by, note=note, channel=channel)
    ticket.refresh_from_db()
    return ticket


def ticket_add_attachment(*, ticket_id: int, by: User, upload) -> Attachment:
    """A photo or document (jpg/png/webp/pdf/docx/xlsx/txt up to 10 MB), checked by extension,
    declared type and leading bytes."""
    ticket = _open_for_notes(ticket_id, by)
    name = os.path.basename(getattr(upload, "name", "") or "")[:200]
    ext = os.path.splitext(name)[1].lower()
    size = getattr(upload, "size", 0) or 0
    if ext not in ATTACHMENT_TYPES:
        raise DomainError(_("不支持的文件类型，请上传图片、PDF、Word、Excel 或文本文件。"), field="file")
    if size <= 0:
        raise DomainError(_("文件是空的。"), field="file")
    if size > ATTACHMENT_MAX_BYTES:
        raise DomainError(_("文件不能超过 10 MB。"), field="file")
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if declared and declared not in ATTACHMENT_TYPES[ext] and declared != "application/octet-stream":
        raise DomainError(_("文件内容类型与扩展名不符。"), field="file")
    head = upload.read(16)
    upload.seek(0)
    if ext in _MAGIC and not any(head.startswith(m) for m in _MAGIC[ext]):
        raise DomainError(_("文件内容与扩展名不符。"), field="file")
    with transaction.atomic():
        att = Attachment(
            company_id=ticket.company_id,
            ticket=ticket,
            original_name=name,
            content_type=ATTACHMENT_TYPES[ext][0],
            size=size,
            uploaded_by=by,
        )
        att.file.save(name, upload, save=False)
        att.save()
        timeline.attachment_added(ticket, by, attachment_id=att.pk, name=name, size=size)
    return att


#: Types a browser may show in place (Content-Disposition: inline); everything else is a download.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})


def ticket_attachment_open(*, ticket_id: int, attachment_id: int, by: User) -> tuple[Attachment, IO[bytes]]:
    """Open an attachment of a work order for reading, for someone who may see that work order
    (S2): their own company's, through `tickets_visible_to` (technicians: their own work orders).
    Anything else — another company's, a technician's colleague's, an attachment of another work
    order, a wrong id — is the same NotFound, so nobody learns that it exists.

    Attachments hold personal data (photos of homes, copies of ID cards): every opening is written
    to the audit log (Action.ATTACHMENT_VIEWED). The caller streams the returned file and closes it
    (kefu.tickets.downloads.attachment_response)."""
    not_found = NotFound(_("没有找到该附件，或您无权查看。"), code="not_found")
    if by is None or not by.is_authenticated or by.company_id is None:
        raise not_found
    try:
        ticket = (
            tickets_visible_to(by)
            .filter(pk=ticket_id, company_id=by.company_id)
            .only("pk", "number", "company")
            .first()
        )
        att = None
        if ticket is not None:
            att = Attachment.objects.filter(
                pk=attachment_id, ticket_id=ticket.pk, company_id=by.company_id
            ).first()
    except (OverflowError, ValueError, TypeError):  # an id too large for the database is not a crash
        raise not_found
    if att is None:
        raise not_found
    try:
        handle = att.file.storage.open(att.file.name, "rb")
    except OSError:
        log.error(
            "attachment %s of work order %s: file %r missing from storage",
            att.pk,
            ticket.number,
            att.file.name,
        )
        raise NotFound(_("附件文件已丢失，请联系系统管理员。"), code="file_missing")
    try:
        audit_record(
            action=Action.ATTACHMENT_VIEWED,
            obj=att,
            actor=by,
            company=by.company,
            object_repr=f"{ticket.number} / {att.original_name}",
            detail={
                "ticket_id": ticket.pk,
                "ticket": ticket.number,
                "name": att.original_name,
                "content_type": att.content_type,
                "size": att.size,
            },
        )
    except BaseException:  # no audit row, no file
        handle.close()
        raise
    return att, handle


def ticket_link(*, ticket_id: int, by: User, target_id: int, kind: str) -> TicketLink:
    """Record that this work order is a duplicate of / a follow-up of / a child of another."""
    if kind not in TicketLink.Kind.values:
        raise DomainError(_("未知的关联关系。"), field="kind")
    with transaction.atomic():
        source = _lock(ticket_id, by)
        assert_perm(by, Perm.TICKET_WORK)
        target = tickets_visible_to(by).filter(pk=target_id, company_id=source.company_id).first()
        if target is None:
            raise DomainError(_("要关联的工单不存在。"), field="target_id")
        return _link(source, target, kind, by)


def ticket_close_children(
    *, ticket_id: int, by: User, reason: str, version: int | None = None
) -> list[Ticket]:
    """Mass incident (one leak, one outage, many calls): close the parent and every linked child
    together, each through the state table (open → resolved → closed) with its own events.
    Returns the work orders that were closed."""
    with transaction.atomic():
        parent = _lock(ticket_id, by)
        _check_version(parent, version)
        assert_perm(by, Perm.TICKET_WORK)
        if not may_close_or_cancel(by, parent):
            raise Forbidden(_("只有父工单的责任人或调度/班长可以批量关闭。"), code="not_owner")
        reason = _text(reason, field_name="reason", label=_("办结说明"), limit=MAX_REASON)
        child_ids = list(
            TicketLink.objects.filter(target=parent, kind=TicketLink.Kind.CHILD_OF).values_list(
                "source_id", flat=True
            )
        )
        children = list(Ticket.objects.select_for_update().filter(pk__in=child_ids).order_by("pk"))
        closed: list[Ticket] = []
        now = timezone.now()
        for t in [parent, *children]:
            if t.state in FINAL_STATES:
                continue
            note = (
                reason if t is parent else _("随父工单 %(n)s 办结：%(r)s") % {"n": parent.number, "r": reason}
            )
            if t.state != TicketState.RESOLVED:
                if not can_move(t.state, TicketState.RESOLVED):
                    continue
                _apply_state(t, TicketState.RESOLVED, by, reason=note[:MAX_REASON], cancel_reason="", now=now)
            _apply_state(t, TicketState.CLOSED, by, reason=note[:MAX_REASON], cancel_reason="", now=now)
            closed.append(t)
    return closed
