"""Customer pages (P2, C15; issue 2 item 10): the caller search and the customer page.

The search answers `?q=` (what the agent types, live with htmx) and `?phone=` (what a telephone
system opens on an incoming call, e.g. /customers/?phone=13800138000). The customer page is masked;
"显示完整信息" is a POST (never a link a browser could prefetch) and every use is logged (S2).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.accounts.roles import Perm, role_allows
from kefu.core.errors import DomainError, Forbidden
from kefu.customers import selectors, services
from kefu.customers.forms import CustomerForm
from kefu.customers.models import Customer
from kefu.customers.privacy import personal_data_view


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(
        request, "customers/refused.html", {"message": exc.message, "status": exc.status}, status=exc.status
    )


#: What the edit form shows in full (named in the audit row, S2).
FORM_PERSONAL_FIELDS = ("name", "phones", "address")

MATCH_LABELS = {
    "phone": gettext_lazy("电话"),
    "account": gettext_lazy("户号"),
    "meter": gettext_lazy("表号"),
    "address": gettext_lazy("地址"),
    "name": gettext_lazy("姓名"),
}


def _rows(results: list[selectors.CallerCandidate]) -> list[dict]:
    statuses = dict(Customer.Status.choices)
    return [
        {
            "c": r,
            "match_label": MATCH_LABELS.get(r.match, r.match),
            "status_label": statuses.get(r.status, r.status),
        }
        for r in results
    ]


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """One box for phone, account number, meter, address or name (P2). Live results via htmx."""
    if not role_allows(request.user, Perm.CUSTOMER_VIEW):
        return render(request, "403.html", status=403)
    query = (request.GET.get("q") or request.GET.get("phone") or "").strip()[:100]
    results = selectors.caller_lookup(user=request.user, query=query) if query else []
    context = {
        "query": query,
        "results": _rows(results),
        "searched": bool(query),
        "incoming": "phone" in request.GET,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "customers/_results.html", context)
    return render(request, "customers/search.html", context)


def _card_context(request: HttpRequest, card) -> dict:
    """What the customer card shows besides the customer: billing facts (from the billing system,
    with their time), the work-order history (asked of the tickets app: customers sit below tickets,
    so only this view layer calls it), the new-work-order link and the search to go back to."""
    from kefu.customers.billing import billing_for_customer

    history, open_states = [], ()
    if role_allows(request.user, Perm.TICKET_VIEW_ALL) or role_allows(
        request.user, Perm.TICKET_VIEW_ASSIGNED
    ):
        try:
            from kefu.tickets.selectors import tickets_for_caller
            from kefu.tickets.states import OPEN_STATES
        except ImportError:  # pragma: no cover - an installation without work orders
            pass
        else:
            history = tickets_for_caller(user=request.user, customer_id=card.customer_id, limit=20)
            open_states = OPEN_STATES
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()[:100]
    return {
        "card": card,
        "billing": billing_for_customer(customer_id=card.customer_id),
        "history": history,
        "open_states": open_states,
        "can_create_ticket": role_allows(request.user, Perm.TICKET_CREATE),
        "query": query,
        "back_url": f"{reverse('customers:search')}?{urlencode({'q': query})}"
        if query
        else reverse("customers:search"),
    }


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer card, masked (S2)."""
    try:
        card = selectors.customer_card(user=request.user, customer_id=pk)
    except DomainError as exc:
        return _refused(request, exc)
    return render(request, "customers/detail.html", _card_context(request, card))


@login_required
@require_POST
def unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer page in full, for roles allowed to see it; the view is logged (S2)."""
    try:
        card = selectors.customer_card(user=request.user, customer_id=pk, unmasked=True)
    except DomainError as exc:
        return _refused(request, exc)
    return render(request, "customers/detail.html", _card_context(request, card))


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """New customer (counter clerks, supervisors): the service validates and audits."""
    if not role_allows(request.user, Perm.CUSTOMER_EDIT):
        return render(request, "403.html", status=403)
    form = CustomerForm(request.POST or None, company=request.user.company)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(user=request.user, **form.service_kwargs())
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("客户已创建。"))
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a customer with optimistic locking: a stale form says so instead of overwriting."""
    if not role_allows(request.user, Perm.CUSTOMER_EDIT):
        return render(request, "403.html", status=403)
    try:
        customer = selectors.get_visible_customer(user=request.user, customer_id=pk)
    except DomainError as exc:
        return _refused(request, exc)
    if customer.company_id != request.user.company_id:
        return _refused(request, Forbidden(_("不能修改其他公司的数据。")))
    if request.method == "GET":
        # The form shows the full data: allowed only with customer.view_unmasked, and logged (S2).
        try:
            personal_data_view(user=request.user, obj=customer, fields=FORM_PERSONAL_FIELDS)
        except DomainError as exc:
            return _refused(request, exc)
    form = CustomerForm(request.POST or None, company=request.user.company, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_update(
                user=request.user,
                customer_id=pk,
                version=form.cleaned_data["version"],
                changes=form.changes(),
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("customers:detail", pk=pk)
    return render(request, "customers/form.html", {"form": form, "creating": False, "customer": customer})
