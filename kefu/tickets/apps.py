from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    verbose_name = _("工单")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kefu.tickets.models import TicketKind, TicketSubKind
        from kefu.tickets.services.common import active_kinds

        # This process sees its own taxonomy changes at once (others within a minute: kefu.caching).
        for model in (TicketKind, TicketSubKind):
            for name, signal in (("saved", post_save), ("deleted", post_delete)):
                signal.connect(active_kinds.clear, sender=model, dispatch_uid=f"tickets-kinds-{model.__name__}-{name}")
