"""Helpers shared by the counter's services: the company's local day, permission and scoping."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.accounts.audit import audit_record
from kefu.accounts.scoping import assert_perm
from kefu.core.errors import Forbidden
from kefu.counter.rules import local_day  # noqa: F401 - re-exported for the services


def require(by, perm: str) -> int:
    """The caller's company id, after checking the role grants `perm`."""
    if by is None or getattr(by, "company_id", None) is None:
        raise Forbidden(_("此操作须由本公司用户执行。"), code="no_company")
    assert_perm(by, perm)
    return by.company_id


def audit(action: str, *, by, obj, **detail) -> None:
    """One audit row for a counter action (counter.*)."""
    audit_record(action=action, obj=obj, actor=by, company=by.company, detail=detail or None)
