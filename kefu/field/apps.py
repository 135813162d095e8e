from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "kefu.field"
    label = "field"
    verbose_name = _("外勤")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.field import clocks, demo

        register_demo_step(40, "field", demo.demo_step)  # `kefu demo`: crews, jobs, arrivals
        clocks.register()  # arrivals → on-site clocks; emergencies → the board (docs/events.md)
