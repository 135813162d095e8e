"""Admin for the work-order taxonomy (master data: kinds, sub-kinds, which fields each kind requires)."""

from django.contrib import admin

from kefu.tickets.models import TicketKind, TicketSubKind


class SubKindInline(admin.TabularInline):
    model = TicketSubKind
    extra = 0


@admin.register(TicketKind)
class TicketKindAdmin(admin.ModelAdmin):
    list_display = (
        "company",
        "code",
        "name",
        "requires_name",
        "requires_phone",
        "requires_address",
        "is_active",
    )
    list_filter = ("company", "is_active")
    inlines = [SubKindInline]
