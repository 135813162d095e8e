from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = _("服务承诺与时限")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.sla import demo
        from kefu.sla.models import CalendarOverride, CalendarYear, CommitmentSet
        from kefu.sla.selectors import calendar_rows, published_sets

        register_demo_step(20, "sla", demo.demo_step)  # `kefu demo`: this year's commitments

        # This process sees its own changes at once (others within a minute: kefu.core.caching).
        calendar_rows.clear_when_changed(CalendarOverride, CalendarYear)
        published_sets.clear_when_changed(CommitmentSet)
