from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "kefu.followups"
    label = "followups"
    verbose_name = _("投诉、咨询、回访与满意度")

    def ready(self) -> None:
        from kefu.core.demo import register_demo_step
        from kefu.followups import clocks, demo, listeners

        register_demo_step(40, "followups", demo.demo_step)  # `kefu demo`: complaints, visits, a survey
        clocks.register()  # the complaint and return-visit subjects of the sla engine (docs/followups.md)
        listeners.register()  # work-order facts → complaints and return visits (docs/events.md)
