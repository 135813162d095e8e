"""Master data of the field in the admin site (company-scoped, audited, never deleted): the company's
field settings (approval before dispatch, evidence thresholds, speeds by hour, map tile URL) and the
parts and price list. Technicians, crews and the duty schedule are kept on the field pages and API."""

from __future__ import annotations

from django.contrib import admin

from kefu.accounts.admin import KefuModelAdmin
from kefu.accounts.roles import Perm
from kefu.field.models import CatalogueItem, FieldSettings


@admin.register(FieldSettings)
class FieldSettingsAdmin(KefuModelAdmin):
    perm = Perm.MASTER_DATA
    list_display = ("company", "requires_approval", "far_metres", "max_accuracy_metres", "clock_skew_seconds")


@admin.register(CatalogueItem)
class CatalogueItemAdmin(KefuModelAdmin):
    perm = Perm.MASTER_DATA
    list_display = ("code", "name", "kind", "unit", "price", "is_active", "company")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
