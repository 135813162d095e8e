"""`{% load kefu_tags %}{{ kind.name|label }}` — a name stored in Chinese (work-order kinds,
commitment names from the presets) shown in the interface's language when the catalogue has it.
A name a company typed itself has no translation and is shown as typed."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def label(value) -> str:
    text = "" if value is None else str(value)
    return gettext(text) if text else text
