"""The portal's rules in one place (pure: no database, no clock inside).

Numbers of the linking policy (S1, S2 applied to customers), the token and code
formats, the leak safety instructions shown before anything else, and what a customer may see of a
work order's timeline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

#: SMS code: 6 digits, valid 10 minutes; five wrong codes lock the challenge and the customer's
#: portal log-in for 30 minutes (as the staff lock-out of settings.KEFU_SECURITY).
CODE_DIGITS = 6
CODE_MINUTES = 10
MAX_FAILURES = 5
LOCK_MINUTES = 30
#: At most this many codes per customer per hour, and per source address per hour (SMS cost, and
#: a stranger must not flood a household's phone).
CODES_PER_CUSTOMER_HOUR = 5
CODES_PER_ADDRESS_HOUR = 20
#: Portal requests per source address per minute: settings.KEFU_PORTAL_REQUESTS_PER_MINUTE (120 by
#: default; Django's cache, per process, as the chat page).
#: A session ends after 30 idle minutes, and after 7 days in any case.
IDLE_MINUTES = 30
MAX_HOURS = 24 * 7
TOKEN_PREFIX = "kp_"
COOKIE = "kefu_portal"


def new_code() -> str:
    """A random numeric SMS code (secrets, not random)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_store(code: str, *, salt: str | None = None) -> str:
    """What the database keeps of a code: "salt$SHA-256(salt:code)" (the code itself never)."""
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256(f'{salt}:{code.strip()}'.encode()).hexdigest()}"


def code_matches(code: str, stored: str) -> bool:
    salt, _sep, _digest = stored.partition("$")
    return hmac.compare_digest(code_store(code, salt=salt), stored)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_alive(*, created_at: datetime, last_seen_at: datetime, ended_at, now: datetime) -> bool:
    """A session is alive until ended, idle for IDLE_MINUTES, or older than MAX_HOURS."""
    return (
        ended_at is None
        and now - last_seen_at < timedelta(minutes=IDLE_MINUTES)
        and now - created_at < timedelta(hours=MAX_HOURS)
    )


def mask_phone(number: str) -> str:
    """138****8000: the portal shows the phone it sent the code to, never the whole number."""
    if len(number) >= 7:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return "*" * len(number)


#: Shown FIRST on the leak path, before the form (seed 000 2.2 safety knowledge; common utility
#: guidance). The emergency number is the company's hotline.
LEAK_STEPS = (
    _("立即关闭燃气表前阀门或灶前阀门。"),
    _("打开门窗通风，不要开关任何电器（包括电灯、排风扇、门铃），不要使用明火。"),
    _("不要在室内拨打电话，迅速离开到室外安全的地方。"),
    _("到室外后立即拨打燃气抢险电话；发生着火或爆炸请拨打 119。"),
)
FIRE_NUMBER = "119"

#: Timeline entries a customer sees (no staff notes, no internal hand-overs): kinds of TicketEvent.
PUBLIC_EVENT_KINDS = frozenset(
    {"created", "assigned", "state_changed", "replied", "resolved", "closed", "reopened", "cancelled"}
)

#: Which faults a customer may report, as (work-order kind, sub-kind, label).
FAULT_KINDS = (
    ("repair", "indoor_facility", _("户内燃气设施故障")),
    ("repair", "meter", _("燃气表故障")),
    ("repair", "appliance", _("燃气具故障")),
    ("meter_card", "read_card", _("IC 卡读卡问题")),
    ("meter_card", "battery", _("燃气表需换电池")),
)
#: Appointments a customer may book, as (purpose code, work-order kind, sub-kind, department kind).
APPOINTMENT_KINDS = {
    "inspection": ("inspection_appointment", None, "inspection"),
    "repair": ("repair", "indoor_facility", "repair"),
}
