"""`{{ n.title|notice_text }}` — a notification in the reader's language.

Notifications are written once by the worker (P9 warnings and escalations), in Chinese, and stored
as text. The texts kefu writes are known: a stored text that matches one of them is read back into
its parts and written again in the reader's language; the commitment name inside is translated
too. Anything else is shown as stored."""

from __future__ import annotations

import re
from functools import lru_cache

from django import template
from django.utils.translation import gettext, gettext_noop

register = template.Library()

#: The notification texts of kefu.sla.sweep (same msgids, so the catalogue has their English).
KNOWN = (
    gettext_noop("%(t)s 将于 %(d)s 到期"),
    gettext_noop("%(t)s 已超时（应于 %(d)s 前完成）"),
    gettext_noop("%(t)s 超时未处理，已升级至经理"),
    gettext_noop("请在到期前处理，超时将通知主管。"),
    gettext_noop("超时已升级至主管；未处理将继续升级至经理。"),
    gettext_noop("应于 %(d)s 前完成，主管已于超时时收到通知。"),
    gettext_noop("工单 %(n)s「%(c)s %(name)s」"),
)
LABEL = KNOWN[-1]


@lru_cache(maxsize=None)
def _pattern(msgid: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", msgid)
    out = []
    for i, part in enumerate(parts):
        out.append(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)")
    return re.compile("".join(out), re.S)


def _translate(text: str, depth: int = 0) -> str:
    for msgid in KNOWN:
        m = _pattern(msgid).fullmatch(text)
        if m is None:
            continue
        values = m.groupdict()
        if msgid == LABEL:
            values["name"] = gettext(values["name"])
        elif depth == 0 and "t" in values:
            values["t"] = _translate(values["t"], depth + 1)
        return gettext(msgid) % values if values else gettext(msgid)
    return text


@register.filter
def notice_text(value) -> str:
    return _translate("" if value is None else str(value))
