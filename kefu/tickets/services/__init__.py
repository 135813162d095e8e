"""Writes on work orders. Every service is keyword-only, runs in one transaction, checks company and
role, writes its TicketEvent (the timeline) and, where business data changes hands, an audit row.

P1 first-contact responsibility: the creator is the owner; ownership moves only by an accepted
hand-over (`ticket_hand_over` → `ticket_accept_hand_over`) or a supervisor's `ticket_reassign`.
Concurrency: state-changing services lock the row (`select_for_update`) and compare the caller's
`version` with the stored one; a stale version is a `Conflict` (HTTP 409), so nothing is lost.
"""

from __future__ import annotations

from kefu.tickets.services.common import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    BACKDATE_TOLERANCE,
    LEVEL_ROLES,
    MAX_REASON,
    MAX_TEXT,
    NUMBER_PREFIX,
    ROLE_LEVEL,
    CreateResult,
    DuplicateFound,
    is_handler,
)
from kefu.tickets.services.create import ticket_create
from kefu.tickets.services.timeline import (
    CONTACT_OUTCOMES,
    ticket_add_attachment,
    ticket_close_children,
    ticket_comment,
    ticket_link,
    ticket_record_called_again,
    ticket_record_contact_attempt,
    ticket_reply,
)
from kefu.tickets.services.workflow import (
    ticket_accept_hand_over,
    ticket_assign,
    ticket_decline_hand_over,
    ticket_escalate,
    ticket_hand_over,
    ticket_reassign,
    ticket_reclassify,
    ticket_transition,
    ticket_withdraw_hand_over,
)

__all__ = [
    "ATTACHMENT_MAX_BYTES",
    "ATTACHMENT_TYPES",
    "BACKDATE_TOLERANCE",
    "CONTACT_OUTCOMES",
    "CreateResult",
    "DuplicateFound",
    "LEVEL_ROLES",
    "MAX_REASON",
    "MAX_TEXT",
    "NUMBER_PREFIX",
    "ROLE_LEVEL",
    "is_handler",
    "ticket_accept_hand_over",
    "ticket_add_attachment",
    "ticket_assign",
    "ticket_close_children",
    "ticket_comment",
    "ticket_create",
    "ticket_decline_hand_over",
    "ticket_escalate",
    "ticket_hand_over",
    "ticket_link",
    "ticket_reassign",
    "ticket_reclassify",
    "ticket_record_called_again",
    "ticket_record_contact_attempt",
    "ticket_reply",
    "ticket_transition",
    "ticket_withdraw_hand_over",
]
