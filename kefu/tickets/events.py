"""The work-order timeline (TicketEvent): one named, typed writer per kind of entry, with what the
entry means and how it reads next to it. Services write the timeline only through these writers;
views read it through `TimelineEntry` (never by payload keys).

The timeline is append-only (database triggers, migration 0004; `TicketEvent.save` refuses
updates): a correction is a new entry. The payload keys written here are also what the API returns
as `payload`, so they do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import Company, User
from kefu.tickets.models import Ticket, TicketEvent
from kefu.tickets.states import PAUSING_HOLD_REASONS, HoldReason, TicketState, state_label

Kind = TicketEvent.Kind

#: kind → one line of text from the payload (filled next to each writer below).
_DESCRIBE: dict[str, Callable[[dict[str, Any]], list[str]]] = {}


def _write(ticket: Ticket, kind: str, by: User | None, payload: dict[str, Any]) -> TicketEvent:
    event = TicketEvent.objects.create(
        company_id=ticket.company_id, ticket=ticket, kind=kind, actor=by, payload=payload
    )
    _audit(ticket, event)
    return event


#: The audit action of each kind of timeline entry (state changes by the state they move to).
_AUDIT_ACTIONS: dict[str, str] = {
    Kind.CREATED: Action.TICKET_CREATED,
    Kind.ASSIGNED: Action.TICKET_ASSIGNED,
    Kind.HANDED_OVER: Action.TICKET_HANDED_OVER,
    Kind.ACCEPTED: Action.TICKET_HAND_OVER_ACCEPTED,
    Kind.DECLINED: Action.TICKET_HAND_OVER_DECLINED,
    Kind.REASSIGNED: Action.TICKET_REASSIGNED,
    Kind.COMMENT: Action.TICKET_COMMENTED,
    Kind.REPLY: Action.TICKET_REPLIED,
    Kind.STATE_CHANGED: Action.TICKET_STATE_CHANGED,
    Kind.ATTACHMENT: Action.TICKET_ATTACHMENT_ADDED,
    Kind.CONTACT_ATTEMPT: Action.TICKET_CONTACT_ATTEMPT,
    Kind.CALLED_AGAIN: Action.TICKET_CALLED_AGAIN,
    Kind.LINKED: Action.TICKET_LINKED,
    Kind.RECLASSIFIED: Action.TICKET_RECLASSIFIED,
    Kind.ESCALATED: Action.TICKET_ESCALATED,
}
_STATE_ACTIONS: dict[str, str] = {
    TicketState.IN_PROGRESS: Action.TICKET_STARTED,
    TicketState.ON_HOLD: Action.TICKET_PUT_ON_HOLD,
    TicketState.RESOLVED: Action.TICKET_RESOLVED,
    TicketState.CLOSED: Action.TICKET_CLOSED,
    TicketState.CANCELLED: Action.TICKET_CANCELLED,
    TicketState.REOPENED: Action.TICKET_REOPENED,
}


def _audit(ticket: Ticket, event: TicketEvent) -> None:
    """The audit row of a timeline entry, in the same transaction (S3): every writer audits here, so
    the audit log answers "who did what to this work order" as the timeline does."""
    p = event.payload or {}
    action = _AUDIT_ACTIONS.get(event.kind, f"ticket.{event.kind}")
    if event.kind == Kind.STATE_CHANGED:
        action = _STATE_ACTIONS.get(p.get("to", ""), action)
    elif event.kind == Kind.DECLINED and p.get("withdrawn"):
        action = Action.TICKET_HAND_OVER_WITHDRAWN
    summary = TimelineEntry(event).text
    if event.kind == Kind.CREATED:
        summary = " · ".join(
            x
            for x in (
                ticket.kind.name if ticket.kind_id else "",
                _("当场办结") if p.get("resolved_on_call") else "",
            )
            if x
        )
    # The company by its id when the ticket was loaded without it: no extra query per action.
    company = ticket.company if Ticket.company.is_cached(ticket) else Company(pk=ticket.company_id)
    audit_record(
        action=action,
        obj=ticket,
        actor=event.actor,
        company=company,
        object_repr=ticket.number,
        detail={
            "ticket_id": ticket.pk,
            "event": event.kind,
            **({"summary": summary[:300]} if summary else {}),
        },
    )


def _describes(kind: str):
    def register(fn: Callable[[dict[str, Any]], list[str]]):
        _DESCRIBE[kind] = fn
        return fn

    return register


def _extra(p: dict[str, Any], *keys: str) -> list[str]:
    return [str(p[k]) for k in keys if p.get(k)]


# ---- created: the work order was recorded (P1: the creator is the owner) -----------------------
def created(
    ticket: Ticket, by: User, *, kind_code: str, channel: str, state: str, resolved_on_call: bool
) -> TicketEvent:
    """The first entry: kind, channel, the state it started in, resolved on the call or not (C15)."""
    return _write(
        ticket,
        Kind.CREATED,
        by,
        {"kind": kind_code, "channel": channel, "state": state, "resolved_on_call": resolved_on_call},
    )


@_describes(Kind.CREATED)
def _describe_created(p):
    return []


# ---- reply: what was told to the customer (C6, C14 stop on it) -----------------------------------
def reply(ticket: Ticket, by: User, *, text: str, via: str) -> TicketEvent:
    """A reply to the customer (by phone, SMS, letter …), or the answer given on the first call."""
    return _write(ticket, Kind.REPLY, by, {"text": text, "via": via})


@_describes(Kind.REPLY)
def _describe_reply(p):
    return _extra(p, "text")


# ---- comment: an internal note ------------------------------------------------------------------
def comment(ticket: Ticket, by: User, *, text: str) -> TicketEvent:
    """An internal note (not shown to the customer)."""
    return _write(ticket, Kind.COMMENT, by, {"text": text})


@_describes(Kind.COMMENT)
def _describe_comment(p):
    return _extra(p, "text")


# ---- contact_attempt: an attempt to reach the customer -------------------------------------------
def contact_attempt(ticket: Ticket, by: User, *, outcome: str, note: str) -> TicketEvent:
    """A call back or visit and its outcome (a key of CONTACT_OUTCOMES)."""
    return _write(ticket, Kind.CONTACT_ATTEMPT, by, {"outcome": outcome, "note": note})


@_describes(Kind.CONTACT_ATTEMPT)
def _describe_contact_attempt(p):
    from kefu.tickets.services.timeline import CONTACT_OUTCOMES

    return [CONTACT_OUTCOMES.get(p.get("outcome", ""), ""), *_extra(p, "note")]


# ---- called_again: the customer called again about this open work order (P1) ---------------------
def called_again(ticket: Ticket, by: User, *, note: str, channel: str) -> TicketEvent:
    """Recorded on the open work order instead of a new one: the customer never starts over."""
    return _write(ticket, Kind.CALLED_AGAIN, by, {"note": note, "channel": channel})


@_describes(Kind.CALLED_AGAIN)
def _describe_called_again(p):
    return _extra(p, "note")


# ---- attachment: a photo or document was added ---------------------------------------------------
def attachment_added(ticket: Ticket, by: User, *, attachment_id: int, name: str, size: int) -> TicketEvent:
    """A file on the work order; the timeline links it for those who may open it."""
    return _write(ticket, Kind.ATTACHMENT, by, {"attachment_id": attachment_id, "name": name, "size": size})


@_describes(Kind.ATTACHMENT)
def _describe_attachment(p):
    return _extra(p, "name")


# ---- linked: this work order was linked to another -----------------------------------------------
def linked(ticket: Ticket, by: User, *, kind: str, other: Ticket, inverse: bool = False) -> TicketEvent:
    """A link (duplicate of, follow-up of, child of): written on both work orders, the target's
    entry marked `inverse` and naming the source."""
    if inverse:
        payload = {"kind": kind, "source_id": other.pk, "source": other.number, "inverse": True}
    else:
        payload = {"kind": kind, "target_id": other.pk, "target": other.number}
    return _write(ticket, Kind.LINKED, by, payload)


@_describes(Kind.LINKED)
def _describe_linked(p):
    return [f"{p.get('kind', '')} {p.get('target') or p.get('source') or ''}"]


# ---- state_changed: a move along the state table (kefu.tickets.states) ---------------------------
def state_changed(
    ticket: Ticket,
    by: User,
    *,
    source: str,
    target: str,
    reason: str = "",
    cancel_reason: str = "",
    hold_reason: str = "",
    agreed_at: datetime | None = None,
    paused_clocks: list[str] | None = None,
    resumed_clocks: list[str] | None = None,
) -> TicketEvent:
    """From → to, with the reason the move needed and the cancel reason of a cancellation. A hold
    also records why (`hold_reason`, HoldReason), the time agreed with the customer (`agreed_at`,
    ISO) and the commitment clocks it paused (`paused_clocks`: "C4 …" lines, C4 "除和客户另有约定外");
    taking the work order up again records the clocks it resumed (`resumed_clocks`)."""
    payload: dict[str, Any] = {"from": source, "to": target}
    if reason:
        payload["reason"] = reason
    if cancel_reason:
        payload["cancel_reason"] = cancel_reason
    if hold_reason:
        payload["hold_reason"] = hold_reason
    if agreed_at is not None:
        payload["agreed_at"] = agreed_at.isoformat()
    if paused_clocks:
        payload["paused_clocks"] = list(paused_clocks)
    if resumed_clocks:
        payload["resumed_clocks"] = list(resumed_clocks)
    return _write(ticket, Kind.STATE_CHANGED, by, payload)


@_describes(Kind.STATE_CHANGED)
def _describe_state_changed(p):
    lines = [f"{state_label(p.get('from', ''))} → {state_label(p.get('to', ''))}", *_extra(p, "reason")]
    if p.get("hold_reason"):
        lines.append(hold_reason_label(p["hold_reason"]))
    if p.get("agreed_at"):
        lines.append(_("约定时间 %(t)s") % {"t": _local(p["agreed_at"])})
    if p.get("paused_clocks"):
        lines.append(_("计时暂停：%(c)s") % {"c": "、".join(p["paused_clocks"])})
    elif p.get("to") == TicketState.ON_HOLD and p.get("hold_reason") in PAUSING_HOLD_REASONS:
        lines.append(_("计时未暂停（没有接受该原因且未超时的计时）"))
    if p.get("resumed_clocks"):
        lines.append(_("计时恢复：%(c)s") % {"c": "、".join(p["resumed_clocks"])})
    return lines


def hold_reason_label(code: str) -> str:
    try:
        return str(HoldReason(code).label)
    except ValueError:
        return code


def _local(iso: str) -> str:
    try:
        return timezone.localtime(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return iso


# ---- assigned: passed to a department, team and/or person (P5) -----------------------------------
def assigned(
    ticket: Ticket, by: User, *, before: dict[str, int | None], department, team, person, note: str
) -> TicketEvent:
    """Who works on it now (names and ids) and who did before; the owner stays the owner (P1)."""
    return _write(
        ticket,
        Kind.ASSIGNED,
        by,
        {
            "before": before,
            "department": department.name if department else "",
            "department_id": department.pk if department else None,
            "team": team.name if team else "",
            "user": person.display_name if person else "",
            "user_id": person.pk if person else None,
            "note": note,
        },
    )


@_describes(Kind.ASSIGNED)
def _describe_assigned(p):
    return [
        " / ".join(x for x in (p.get("department"), p.get("team"), p.get("user")) if x),
        *_extra(p, "note"),
    ]


# ---- reclassified: the kind or sub-kind was corrected --------------------------------------------
def reclassified(
    ticket: Ticket, by: User, *, before: dict[str, str | None], kind: str, sub_kind: str | None, reason: str
) -> TicketEvent:
    """The kind before and after, and why (the clocks restart for the new kind, C17)."""
    return _write(
        ticket,
        Kind.RECLASSIFIED,
        by,
        {"before": before, "kind": kind, "sub_kind": sub_kind, "reason": reason},
    )


@_describes(Kind.RECLASSIFIED)
def _describe_reclassified(p):
    return _extra(p, "reason")


# ---- handed_over / accepted / declined: first-contact ownership moves (P1) -----------------------
def handed_over(ticket: Ticket, by: User, *, hand_over_id: int, to: User, reason: str) -> TicketEvent:
    """The owner proposed a hand-over to a colleague; the owner stays responsible until accepted."""
    return _write(
        ticket,
        Kind.HANDED_OVER,
        by,
        {"hand_over_id": hand_over_id, "to_user_id": to.pk, "to": to.display_name, "reason": reason},
    )


@_describes(Kind.HANDED_OVER)
def _describe_handed_over(p):
    return [*([_("给 %(who)s") % {"who": p["to"]}] if p.get("to") else []), *_extra(p, "reason")]


def hand_over_accepted(
    ticket: Ticket, by: User, *, hand_over_id: int, from_user_id: int | None
) -> TicketEvent:
    """The receiver accepted and is the owner now."""
    return _write(ticket, Kind.ACCEPTED, by, {"hand_over_id": hand_over_id, "from_user_id": from_user_id})


@_describes(Kind.ACCEPTED)
def _describe_accepted(p):
    return []


def hand_over_declined(ticket: Ticket, by: User, *, hand_over_id: int, note: str) -> TicketEvent:
    """The receiver declined, saying why; the owner keeps the work order."""
    return _write(ticket, Kind.DECLINED, by, {"hand_over_id": hand_over_id, "note": note})


def hand_over_withdrawn(ticket: Ticket, by: User, *, hand_over_id: int) -> TicketEvent:
    """The owner took back a hand-over nobody had accepted (a DECLINED entry marked `withdrawn`)."""
    return _write(ticket, Kind.DECLINED, by, {"hand_over_id": hand_over_id, "withdrawn": True})


@_describes(Kind.DECLINED)
def _describe_declined(p):
    return _extra(p, "note")


# ---- reassigned: a supervisor moved ownership (P1) -----------------------------------------------
def reassigned(ticket: Ticket, by: User, *, from_user_id: int | None, to: User, reason: str) -> TicketEvent:
    """Ownership moved without the owner's hand-over, with a reason (also audited)."""
    return _write(
        ticket,
        Kind.REASSIGNED,
        by,
        {"from_user_id": from_user_id, "to_user_id": to.pk, "to": to.display_name, "reason": reason},
    )


@_describes(Kind.REASSIGNED)
def _describe_reassigned(p):
    return [*([_("给 %(who)s") % {"who": p["to"]}] if p.get("to") else []), *_extra(p, "reason")]


# ---- escalated: reported up the hierarchy (P9) ---------------------------------------------------
def escalated(ticket: Ticket, by: User, *, to: User, reason: str, skipped_levels: list[str]) -> TicketEvent:
    """A report to a higher level; in an emergency skipped levels are listed to be told afterwards."""
    return _write(
        ticket,
        Kind.ESCALATED,
        by,
        {
            "to_user_id": to.pk,
            "to": to.display_name,
            "reason": reason,
            "skipped_levels": skipped_levels,
            "report_afterwards": bool(skipped_levels),
        },
    )


@_describes(Kind.ESCALATED)
def _describe_escalated(p):
    return [*([_("给 %(who)s") % {"who": p["to"]}] if p.get("to") else []), *_extra(p, "reason")]


# ---- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelineEntry:
    """One timeline line as the pages show it."""

    event: TicketEvent

    @property
    def label(self) -> str:
        return str(dict(Kind.choices).get(self.event.kind, self.event.kind))

    @property
    def text(self) -> str:
        """One line of text from the entry's facts ("" when there is nothing to add)."""
        describe = _DESCRIBE.get(self.event.kind)
        parts = (
            describe(self.event.payload or {})
            if describe
            else _extra(self.event.payload or {}, "text", "reason", "note")
        )
        return " · ".join(x for x in parts if x)

    @property
    def attachment_id(self) -> int | None:
        """The attachment of an `attachment` entry."""
        if self.event.kind != Kind.ATTACHMENT:
            return None
        return (self.event.payload or {}).get("attachment_id")
