from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounterConfig(AppConfig):
    name = "kefu.counter"
    label = "counter"
    verbose_name = _("营业厅")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.counter import demo

        register_demo_step(70, "counter", demo.demo_step)  # `kefu demo`: a hall, a morning's queue, cash
