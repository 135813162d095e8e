"""Django admin for sla master data (commitment sets, calendar overrides, business hours)."""

from django.contrib import admin

from kefu.sla.models import BusinessHours, CalendarOverride, CalendarYear, Commitment, CommitmentSet


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    fields = (
        "spec_id",
        "code",
        "name",
        "ticket_kind",
        "ticket_sub_kind",
        "severity",
        "channel",
        "clock_kind",
        "limit_value",
        "limit_unit",
        "ends_at_close_of_business",
        "source",
    )


@admin.register(CommitmentSet)
class CommitmentSetAdmin(admin.ModelAdmin):
    list_display = ("company", "year", "name", "version", "is_published", "published_at", "preset_code")
    list_filter = ("year", "is_published")
    inlines = [CommitmentInline]
    readonly_fields = ("published_at", "published_by", "cloned_from", "created_by")

    def has_change_permission(self, request, obj=None):
        # Published sets are frozen (C17): changes go into a cloned version.
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name", "company", "note", "created_by")
    list_filter = ("is_workday", "company")


admin.site.register(CalendarYear)
admin.site.register(BusinessHours)
