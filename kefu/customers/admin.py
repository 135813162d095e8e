"""Master data of the customers app in the admin site: customer categories (C5 inspection frequency).

Customers, phones, premises and the care registry are NOT here on purpose: they are personal data
(S2), shown masked on the customer pages and unmasked only with the role's permission and an audit
row — the admin would show them in full without either.
"""

from __future__ import annotations

from django.contrib import admin

from kefu.accounts.admin import KefuModelAdmin
from kefu.accounts.roles import Perm
from kefu.customers.models import CustomerCategory


@admin.register(CustomerCategory)
class CustomerCategoryAdmin(KefuModelAdmin):
    perm = Perm.MASTER_DATA
    list_display = ("name", "code", "is_residential", "inspections_per_year", "sort_order", "company")
    list_filter = ("is_residential",)
    search_fields = ("name", "code")
    ordering = ("company", "sort_order", "id")
