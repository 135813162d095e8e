"""Master data of telephony in the admin site: the hotlines (number, queue, emergency, ring cycle)
and the seats (which PBX agent id is which person). Calls, chats and transcripts are not here:
they hold personal data, shown masked on the telephony pages."""

from __future__ import annotations

from django.contrib import admin

from kefu.accounts.admin import KefuModelAdmin
from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.telephony.models import AgentProfile, Hotline


@admin.register(Hotline)
class HotlineAdmin(KefuModelAdmin):
    perm = Perm.TELEPHONY_CONFIGURE  # the checked screen is 服务热线 (/telephony/hotlines/)
    list_display = ("number", "name", "queue", "is_emergency", "ring_cycle_ms", "answer_rings", "company")
    list_filter = ("is_emergency",)


@admin.register(AgentProfile)
class AgentProfileAdmin(KefuModelAdmin):
    perm = Perm.TELEPHONY_FEED
    list_display = ("pbx_agent", "user", "state", "since", "queues", "company")
    fields = ("company", "user", "pbx_agent", "queues")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = User.objects.filter(company_id=request.user.company_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
