"""The notification centre (P9): warnings, escalations and hand-overs addressed to me."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kefu.notify import selectors, services


@login_required
def centre(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(selectors.inbox(user=request.user, unread_only=unread_only), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "notify/centre.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    raw = request.POST.getlist("id")
    ids = [int(i) for i in raw if i.isdigit()] if raw else None
    services.notification_mark_read(user=request.user, ids=ids)
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else "notify:centre")
