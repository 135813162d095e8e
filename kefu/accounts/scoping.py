"""Company scoping (S2): which companies' records a user may read and write.

Every selector filters by `readable_company_ids(user)`; every service checks `assert_can_write`.
Nobody sees another company's data unless given group-level read (User.group_reader), which
reads member companies of the same group and writes nothing outside the user's own company.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.accounts.models import Company
from kefu.accounts.roles import role_allows
from kefu.core.errors import Forbidden


def readable_company_ids(user) -> list[int]:
    if user is None or not user.is_authenticated or not user.is_active or user.company_id is None:
        return []
    if user.group_reader and user.company.group_id:
        return list(Company.objects.filter(group_id=user.company.group_id).values_list("id", flat=True))
    return [user.company_id]


def assert_perm(user, perm: str) -> None:
    """Raise Forbidden (HTTP 403, logged by the caller's audit) unless the role grants `perm`."""
    if not role_allows(user, perm):
        raise Forbidden(_("您的角色无权执行此操作。"), code="permission_denied")


def assert_can_write(user, company_id: int | None) -> None:
    """Writes only ever happen in the user's own company."""
    if user is None or company_id is None or user.company_id != company_id:
        raise Forbidden(_("不能修改其他公司的数据。"), code="other_company")
