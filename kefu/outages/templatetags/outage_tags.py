"""`{% outage_banner customer_id %}`: the desk and the customer page say "该地址在停气范围内 (#…,
自…起, 预计…恢复)" for a caller whose premise is in a live interruption, with the one-click link
(P2, P13). Loaded by template name, so the tickets and customers apps import nothing of outages."""

from __future__ import annotations

from django import template

from kefu.outages.selectors import outages_for_caller

register = template.Library()


@register.inclusion_tag("outages/_banner.html", takes_context=True)
def outage_banner(context, customer_id=None, premise_id=None, phone=""):
    request = context.get("request")
    user = getattr(request, "user", None)
    rows = []
    if user is not None and user.is_authenticated and (customer_id or premise_id):
        rows = outages_for_caller(user=user, customer_id=customer_id, premise_id=premise_id)
    return {
        "rows": rows,
        "customer_id": customer_id or "",
        "premise_id": premise_id or "",
        "phone": phone or "",
        "csrf_token": context.get("csrf_token"),
    }
