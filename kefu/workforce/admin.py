"""Django admin for workforce master data: roster profiles, shift patterns with their minimum
staffing, penalty rules (W5 configurable). Rosters, requests and records change only through the
services (screens and API)."""

from django.contrib import admin

from kefu.workforce.models import PenaltyRule, ShiftPattern, StaffingNeed, WorkerProfile


class StaffingNeedInline(admin.TabularInline):
    model = StaffingNeed
    extra = 1


@admin.register(ShiftPattern)
class ShiftPatternAdmin(admin.ModelAdmin):
    list_display = ("team", "code", "name", "start", "hours", "is_night", "exemption_reason")
    list_filter = ("company", "team")
    inlines = [StaffingNeedInline]


@admin.register(WorkerProfile)
class WorkerProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "job", "level", "is_active")
    list_filter = ("company", "team", "job")
    search_fields = ("user__username", "user__full_name")
    raw_id_fields = ("user",)


@admin.register(PenaltyRule)
class PenaltyRuleAdmin(admin.ModelAdmin):
    list_display = ("company", "code", "name", "amount", "repeat_factor", "dismissal_at", "manager_factor")
    list_filter = ("company", "is_active")
