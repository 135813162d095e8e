from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = _("服务承诺与时限")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from kefu.sla import attach
        from kefu.sla.models import CalendarOverride, CalendarYear, CommitmentSet
        from kefu.sla.selectors import calendar_rows, published_sets

        attach.register()
        # This process sees its own changes at once (others within a minute: kefu.caching).
        for cache, model in ((calendar_rows, CalendarOverride), (calendar_rows, CalendarYear), (published_sets, CommitmentSet)):
            for name, signal in (("saved", post_save), ("deleted", post_delete)):
                signal.connect(cache.clear, sender=model, dispatch_uid=f"sla-cache-{model.__name__}-{name}")
