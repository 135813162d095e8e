"""Template tags of data export (S3, S4).

{% load exports %}
{% classification_badge "customers.customer" %}   → 绝密 badge (nothing for 内部)
{% level_badge r.level %}                          → the badge of a stored class
{% export_button "tickets.list" direct_url querystring label %}
    → the direct download link with its class for 机密/内部, or the request link for 绝密
"""

from __future__ import annotations

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from kefu.exports.classification import Level, category_of, level_of, needs_approval
from kefu.exports.registry import params_from_query

register = template.Library()

_CSS = {Level.TOP_SECRET: "level-top_secret", Level.SECRET: "level-secret", Level.INTERNAL: "level-internal"}


def _badge(level: Level, title: str = ""):
    return format_html(
        '<span class="badge classified {}" data-level="{}" title="{}">{}</span>',
        _CSS[level],
        level.value,
        title or _("数据密级：%(level)s") % {"level": level.label},
        level.label,
    )


@register.simple_tag
def classification_badge(model: str):
    """The class of a model's data as a badge (S4); nothing for 内部 data."""
    level = level_of(model)
    if level == Level.INTERNAL:
        return ""
    category = category_of(model)
    title = _("数据密级：%(level)s（%(category)s），严禁擅自复制、外传") % {
        "level": level.label,
        "category": category,
    }
    return _badge(level, title)


@register.simple_tag
def level_badge(level):
    """The badge of a stored class value ("top_secret", "secret", "internal")."""
    try:
        return _badge(Level(level))
    except ValueError:
        return ""


@register.simple_tag(takes_context=True)
def export_button(
    context, kind: str, direct_url: str, querystring: str = "", label: str = "", element_id: str = ""
):
    """A 机密/内部 export: the direct link, with its class. A 绝密 one: a link to the request form with
    the same conditions ("申请导出（绝密，需审批）"). Nothing when the kind is unknown or not allowed."""
    from kefu.exports.registry import _kinds

    user = context.get("user") or getattr(context.get("request"), "user", None)
    k = _kinds.get(kind)
    if k is None or user is None or not k.allowed(user):
        return ""
    query = QueryDict(querystring or "")
    level = k.level(user, params_from_query(query))
    label = label or _("导出")
    if needs_approval(level):
        q = query.copy()
        q["kind"] = kind
        return format_html(
            '<a class="btn secondary export-request" id="{}" href="{}?{}">{}</a> {}',
            element_id or "export-request",
            reverse("exports:new"),
            q.urlencode(),
            _("申请%(label)s（绝密，需审批）") % {"label": label},
            _badge(level),
        )
    sep = "&" if "?" in direct_url else "?"
    href = f"{direct_url}{sep}{querystring}" if querystring else direct_url
    badge = _badge(level) if level != Level.INTERNAL else ""
    return format_html(
        '<a class="btn export-direct" id="{}" href="{}">{}</a> {}',
        element_id or "export-direct",
        href,
        label,
        badge,
    )
