"""`{% load sla_tags %}{% subject_clocks ticket %}` — the commitment clocks of a subject (any
model whose app registered a subject adapter, kefu.sla.subjects, e.g. a work order) as coloured
countdowns: running, due soon, breached, paused, met. `compact=True` gives one line
for a list page.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.sla import selectors
from kefu.sla.codes import Event
from kefu.sla.states import DISPLAY_LABELS, ClockState, clock_display
from kefu.sla.subjects import adapter_for_model

register = template.Library()


def human_span(delta: timedelta) -> str:
    """ "2天3小时", "3小时12分", "8分" — the size of a remaining or overdue span (pure)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes == 0:  # never "已超时 0分"
        return _("不到1分")
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s天%(h)s小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s小时%(m)s分") % {"h": hours, "m": mins}
    return _("%(m)s分") % {"m": mins}


def clock_line(clock, now: datetime) -> dict:
    display = clock_display(state=clock.state, due_at=clock.due_at, warn_at=clock.warn_at, now=now)
    if display in ("running", "due_soon") and clock.due_at:
        text = _("剩余 %(s)s") % {"s": human_span(clock.due_at - now)}
    elif display == "breached" and clock.due_at:
        text = _("已超时 %(s)s") % {"s": human_span(now - clock.due_at)}
    elif display == "paused":
        text = (
            _("暂停于 %(t)s") % {"t": timezone.localtime(clock.paused_at).strftime("%m-%d %H:%M")}
            if clock.paused_at
            else ""
        )
    elif display in ("met", "met_after_breach") and clock.met_at:
        text = _("完成于 %(t)s") % {"t": timezone.localtime(clock.met_at).strftime("%m-%d %H:%M")}
    else:
        text = ""
    try:
        stop = str(Event(clock.commitment.stop_event).label)
    except ValueError:
        stop = clock.commitment.stop_event
    return {
        "clock": clock,
        "stop": stop,  # what stops it ("到达现场", "答复客户" …): the card says it next to the clock
        "display": display,
        "label": DISPLAY_LABELS.get(display, display),
        "text": text,
        "open": display in ("running", "due_soon", "breached"),
    }


@register.inclusion_tag("sla/_ticket_clocks.html")
def subject_clocks(subject, compact: bool = False, clocks=None):
    """The clocks of `subject` (its model's adapter names the subject type) — cancelled clocks are
    left out. A list page passes `clocks` fetched for all its rows at once
    (selectors.clocks_by_subject)."""
    now = timezone.now()
    if clocks in (None, ""):  # "" is what the template passes for a missing variable
        adapter = adapter_for_model(subject)
        clocks = (
            list(
                selectors.subject_clocks(adapter.subject_type, subject.pk).exclude(state=ClockState.CANCELLED)
            )
            if adapter is not None
            else []
        )
    return {"lines": [clock_line(c, now) for c in clocks], "compact": compact, "words": CLOCK_WORDS}


#: The words the browser uses to count the clocks down between refreshes (kefu/static/kefu/kefu.js),
#: as human_span and clock_line say them, in the interface's language.
CLOCK_WORDS = {
    "left": gettext_lazy("剩余 %(s)s"),
    "over": gettext_lazy("已超时 %(s)s"),
    "dh": gettext_lazy("%(d)s天%(h)s小时"),
    "hm": gettext_lazy("%(h)s小时%(m)s分"),
    "m": gettext_lazy("%(m)s分"),
    "lt1": gettext_lazy("不到1分"),
    "due_soon": gettext_lazy("即将到期"),
    "breached": gettext_lazy("已超时"),
}


# Holiday names are stored in Chinese (chinesecalendar's names are mapped to Chinese in
# kefu.sla.calendar; a pasted notice gives Chinese): shown in the interface's language.
HOLIDAY_LABELS = {
    "元旦": gettext_lazy("元旦"),
    "春节": gettext_lazy("春节"),
    "清明节": gettext_lazy("清明节"),
    "劳动节": gettext_lazy("劳动节"),
    "端午节": gettext_lazy("端午节"),
    "中秋节": gettext_lazy("中秋节"),
    "国庆节": gettext_lazy("国庆节"),
}


@register.filter
def holiday_name(value: str) -> str:
    """ "春节调休上班" → "Spring Festival (make-up working day)" in English; other names unchanged."""
    from kefu.sla.calendar import IN_LIEU_SUFFIX, MAKE_UP_SUFFIX

    value = value or ""
    if value in HOLIDAY_LABELS:
        return str(HOLIDAY_LABELS[value])
    for suffix, text in (
        (MAKE_UP_SUFFIX, gettext_lazy("%(h)s调休上班")),
        (IN_LIEU_SUFFIX, gettext_lazy("%(h)s调休")),
    ):
        base = value[: -len(suffix)]
        if value.endswith(suffix) and base in HOLIDAY_LABELS:
            return str(text) % {"h": HOLIDAY_LABELS[base]}
    return value
