from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    verbose_name = _("工单")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.tickets import clocks, demo
        from kefu.tickets.models import TicketKind, TicketSubKind
        from kefu.tickets.services.common import active_kinds

        # This process sees its own taxonomy changes at once (others within a minute: kefu.core.caching).
        active_kinds.clear_when_changed(TicketKind, TicketSubKind)
        register_demo_step(30, "tickets", demo.demo_step)  # `kefu demo`: a few days of work orders
        # The work-order subject of the sla engine and the listeners of this app's facts (docs/events.md).
        clocks.register()
        from kefu.tickets import exports

        exports.register()  # classes of work-order data (S4) and the list's export (S3; kefu.exports)
