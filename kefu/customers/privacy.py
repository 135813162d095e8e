"""Viewing personal data (S2): the one place that decides who may see it in full, shows it masked
otherwise, and logs every full view.

Every screen and endpoint that shows a name, a phone number or an address — the customer page and
the customer API, the work-order pages and the work-order API — asks here: `can_view_unmasked`
for whether to offer the full view, `personal_data_view` when the full view is asked for (refused
and logged without `customer.view_unmasked`; an audit row for every full view), and `show_name`,
`show_phone`, `show_address` for the value itself, masked unless the view was authorised. The
masking rules are kefu.customers.masking (pure functions).
"""

from __future__ import annotations

from typing import Iterable

from django.db import models
from django.utils.translation import gettext as _

from kefu.accounts.audit import Action, audit_record
from kefu.accounts.models import AuditEvent
from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import Forbidden
from kefu.customers.masking import mask_address, mask_name, mask_phone

__all__ = [
    "assigned_data_view",
    "can_view_unmasked",
    "personal_data_view",
    "show_address",
    "show_name",
    "show_phone",
]


def can_view_unmasked(user) -> bool:
    """True when the user's role may see personal data in full (S2: `customer.view_unmasked`)."""
    return role_allows(user, Perm.CUSTOMER_VIEW_UNMASKED)


def personal_data_view(*, user, obj: models.Model, fields: Iterable[str]) -> None:
    """Authorise and log one full view of `obj`'s personal `fields` (S2).

    Without `customer.view_unmasked` the attempt is written to the audit log as a refusal and
    Forbidden (403) is raised; with it, a `privacy.unmasked_view` row names the object and fields.
    Call it before showing anything unmasked; the caller then passes `unmasked=True` to `show_*`.
    """
    if not can_view_unmasked(user):
        audit_record(
            action=Action.PERMISSION_DENIED,
            obj=obj,
            actor=user,
            result=AuditEvent.Result.DENIED,
            detail={"wanted": Perm.CUSTOMER_VIEW_UNMASKED},
        )
        raise Forbidden(_("您的角色无权查看完整的客户信息。"), code="permission_denied")
    audit_record(action=Action.PERSONAL_DATA_VIEWED, obj=obj, actor=user, detail={"fields": list(fields)})


def assigned_data_view(
    *, user, obj: models.Model, fields: Iterable[str], assigned: bool, reference: str
) -> None:
    """Authorise and log one full view of personal data for the person a job is assigned to (S2).

    A role with `customer.view_unmasked` is handled as by `personal_data_view`. Otherwise the role
    must have `field.view_assigned` and the caller must have established `assigned` — the user is
    the assigned technician of a job that is still open (kefu.field decides that and names the job in
    `reference`). The full view is logged with the grant and the job; a refusal is logged too."""
    if can_view_unmasked(user):
        personal_data_view(user=user, obj=obj, fields=fields)
        return
    if not (assigned and role_allows(user, Perm.FIELD_VIEW_ASSIGNED)):
        audit_record(
            action=Action.PERMISSION_DENIED,
            obj=obj,
            actor=user,
            result=AuditEvent.Result.DENIED,
            detail={"wanted": Perm.FIELD_VIEW_ASSIGNED, "reference": reference},
        )
        raise Forbidden(
            _("只有被派的技术员在派工单未完成时才能查看完整的客户信息。"), code="permission_denied"
        )
    audit_record(
        action=Action.PERSONAL_DATA_VIEWED,
        obj=obj,
        actor=user,
        detail={"fields": list(fields), "grant": "assigned_open_job", "reference": reference},
    )


def show_name(name: str, *, unmasked: bool = False) -> str:
    """A person's name as shown: in full after `personal_data_view`, else "张**" (S2)."""
    return name if unmasked else mask_name(name)


def show_phone(number: str, *, unmasked: bool = False) -> str:
    """A phone number as shown: in full after `personal_data_view`, else "138****5678" (S2)."""
    return number if unmasked else mask_phone(number)


def show_address(address: str, room: str = "", *, unmasked: bool = False) -> str:
    """An address as shown: in full after `personal_data_view`, else with the room hidden (S2).

    `room` is the registered premise's room when known; without it the room is read from the
    written address (kefu.customers.masking.mask_address), so no screen leaks a room digit."""
    return (address or "") if unmasked else mask_address(address, room or "")
