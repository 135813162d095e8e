from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpiConfig(AppConfig):
    """The seventeen indicators of seed 004 第十条 and the reports built on them (P15, C17)."""

    name = "kefu.kpi"
    label = "kpi"
    verbose_name = _("量化考核")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.kpi import demo

        register_demo_step(90, "kpi", demo.demo_step)  # `kefu demo`: the year's targets, made public
