from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "kefu.inspections"
    label = "inspections"
    verbose_name = _("入户安检")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.inspections import demo
        from kefu.inspections.models import InspectionSettings
        from kefu.inspections.services import settings_cache

        # this process sees its own settings changes at once (others within a minute)
        settings_cache.clear_when_changed(InspectionSettings)
        register_demo_step(45, "inspections", demo.demo_step)  # `kefu demo`: programme, visits, hazards
