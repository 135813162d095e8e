"""Rules of customer master data, each in one place: the web form, the API and the import ask here.

Field lengths: `MAX_LEN`, the longest value of each field (the database columns; notes: 2000).

Account number (户号): 1–30 characters, letters, digits, `-`, `_` and `.`, beginning with a letter or
a digit ("3800012345", "A-1", "A.123"), unique within the company. The billing systems the import
reads write account numbers this way (docs/import.md), so the form and the API accept exactly
what the import accepts: a customer imported as `A.123` can also be created by hand and found.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from kefu.core.errors import DomainError
from kefu.customers.normalize import fold

#: The longest value of each customer field: the form, the API schemas, the services and the import
#: read this table (a test holds it equal to the columns of kefu.customers.models).
MAX_LEN: dict[str, int] = {
    "account_no": 30,
    "name": 100,
    "district": 30,
    "street": 50,
    "community": 60,
    "building": 20,
    "unit": 10,
    "room": 20,
    "address": 200,
    "supply_zone": 30,
    "meter_serial": 40,
    "notes": 2000,
    "status_reason": 200,
    "phone_label": 30,
    "consent_by": 50,
    "care_note": 200,
    "category": 30,
}
ACCOUNT_NO_MAX = MAX_LEN["account_no"]
ACCOUNT_NO_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_.]{0,%d}$" % (ACCOUNT_NO_MAX - 1))
# What Excel makes of a long numeric account number in a column not set to text: "3.8E+09".
_SCIENTIFIC_RE = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)


def account_no_problem(value: str) -> str | None:
    """Why `value` (already folded: NFKC, trimmed) is not an account number, or None when it is one.

    The message, in the user's language, is what the form, the API (HTTP 400) and the import's line
    report show. Cheap on the good path (one regular expression): the import calls it per line."""
    if ACCOUNT_NO_RE.match(value):
        return None
    if not value:
        return _("户号不能为空。")
    if _SCIENTIFIC_RE.match(value):
        return _("户号“%(v)s”被 Excel 改成了科学计数法，请把该列设为文本后重新导出。") % {"v": value}
    if len(value) > ACCOUNT_NO_MAX:
        return _("户号不能超过 %(n)d 个字符。") % {"n": ACCOUNT_NO_MAX}
    return _("户号“%(v)s”只能包含字母、数字、-、_ 和 .，并以字母或数字开头。") % {"v": value}


def is_account_no(value: str) -> bool:
    """True when `value` (folded) is a well-formed account number; for the caller lookup."""
    return ACCOUNT_NO_RE.match(value) is not None


def clean_account_no(value: str | None) -> str:
    """The account number as stored (full-width folded, trimmed); DomainError (field `account_no`)
    with the reason otherwise. Used by `customer_create` for the form and the API."""
    account_no = fold(value or "")
    problem = account_no_problem(account_no)
    if problem is not None:
        raise DomainError(problem, field="account_no")
    return account_no
