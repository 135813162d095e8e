from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutagesConfig(AppConfig):
    name = "kefu.outages"
    label = "outages"
    verbose_name = _("停气管理")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.outages import clocks, demo

        register_demo_step(40, "outages", demo.demo_step)  # `kefu demo`: a planned stop run to close
        # The outage subject of the sla engine (C1, C2) and the listeners of this app's facts.
        clocks.register()
