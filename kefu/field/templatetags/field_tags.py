"""Template helpers of the field pages."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template (labels of states and flags)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
