"""Master data of inspections in the admin site: settings (checklist, ladder, deadlines) and the
hazard catalogue."""

from django.contrib import admin

from kefu.inspections.models import HazardType, InspectionSettings


@admin.register(InspectionSettings)
class InspectionSettingsAdmin(admin.ModelAdmin):
    list_display = ("company", "hotline", "recheck_days", "escalate_days")


@admin.register(HazardType)
class HazardTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "severity", "company")
    list_filter = ("severity",)
