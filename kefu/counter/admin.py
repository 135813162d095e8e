"""Master data of the counter in 系统管理 (company-scoped, audited, never deleted): halls with their
C15 target, business types with their documents, windows with the types they serve. Price lists are
published as versions on the counter's price screen (never edited), so they are not here."""

from __future__ import annotations

from django.contrib import admin

from kefu.accounts.admin import KefuModelAdmin
from kefu.accounts.roles import Perm
from kefu.counter.models import BusinessType, Hall, Window


@admin.register(Hall)
class HallAdmin(KefuModelAdmin):
    perm = Perm.COUNTER_MANAGE
    list_display = ("name", "code", "company", "target_seconds", "is_active")


@admin.register(BusinessType)
class BusinessTypeAdmin(KefuModelAdmin):
    perm = Perm.COUNTER_MANAGE
    list_display = ("prefix", "name", "company", "ticket_kind", "on_spot", "is_active")


@admin.register(Window)
class WindowAdmin(KefuModelAdmin):
    perm = Perm.COUNTER_MANAGE
    list_display = ("hall", "number", "is_open", "clerk")
    filter_horizontal = ("business_types",)

    def _company_id_of(self, obj) -> int | None:
        return obj.hall.company_id

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if request.user.is_superuser else qs.filter(hall__company_id=request.user.company_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and db_field.related_model is Hall:
            kwargs["queryset"] = Hall.objects.filter(company_id=request.user.company_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser and db_field.name == "business_types":
            kwargs["queryset"] = BusinessType.objects.filter(company_id=request.user.company_id)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
